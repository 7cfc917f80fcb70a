"""Two nbgrader preprocessors: a guarded executor for autograding, and a filter that keeps
hidden tests out of feedback.

`GuardedExecute` is nbgrader's `Execute` run in a scratch copy of the submission folder,
with a wall-clock limit on the whole notebook and the kernel's process group killed
afterwards (a fork bomb's children die with it). What happened (a cell timed out, the
kernel died, the limit struck) is appended to `EVENTS` for the worker to record. Before
the first cell and before every test cell it runs `guard.py` in the kernel, which undoes
whatever an answer cell monkeypatched; a test cell whose guard did not answer scores 0.
"""

from __future__ import annotations

import ast
import os
import pwd
import re
import secrets
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty

from jupyter_core.utils import ensure_async
from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from autograder import kernel, sandbox

#: What the last executions met: dicts with "kind" ("cell-timeout", "kernel-died",
#: "submission-timeout"), "cell" (index) and "grade_id". The worker clears and reads it.
EVENTS: list[dict] = []

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"
GUARD_SOURCE = Path(__file__).with_name("guard.py")
# Files handed in beside the notebook that would be imported instead of the real thing
# (the kernel's working directory comes first on sys.path): never given to the kernel.
SHADOWS = {"nnlab", "numpy", "IPython", "ipykernel", "ipykernel_launcher", "matplotlib",
           "scipy", "sklearn", "sitecustomize", "usercustomize", "runpy", "site", "autograder",
           "nbgrader", "jupyter_client", "zmq", "traitlets", "pytest"}


def is_test_cell(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


class GuardedExecute(Execute):
    """nbgrader's Execute, confined: scratch folder, wall-clock limit, process-group kill."""

    submission_timeout = Integer(
        600, help="Seconds the whole notebook may run before its kernel is killed."
    ).tag(config=True)
    scratch_root = Unicode("", help="Where scratch folders go (default: the system tmp).").tag(
        config=True)
    guard = Bool(True, help="Run guard.py in the kernel before the first cell and before "
                            "every test cell.").tag(config=True)
    guard_timeout = Integer(15, help="Seconds the guard may take to answer.").tag(config=True)
    checks_in_kernel = Bool(True, help="The kernel's nnlab.checks is the real one (the test "
                                       "cells judge in the kernel); False once the grader "
                                       "judges: the kernel then gets kernel_checks.py's "
                                       "stubs.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        source = Path(resources.get("metadata", {}).get("path") or ".")
        scratch = Path(tempfile.mkdtemp(prefix="nnlab-grade-", dir=self.scratch_root or None))
        self._current = (None, None, "")
        withheld = sorted(p.name for p in source.iterdir() if p.name.split(".")[0] in SHADOWS)
        if withheld:
            self._event("files-withheld", detail=", ".join(withheld)[:300])
        for item in source.iterdir():
            # Links are never followed: copied as root, one could hand the kernel any file.
            if item.name in withheld or item.is_symlink():
                continue
            if item.suffix != ".ipynb" and item.is_file():
                shutil.copy(item, scratch / item.name)
            elif item.is_dir():
                shutil.copytree(item, scratch / item.name, symlinks=True)
        scratch.chmod(0o755)
        entry = None
        if self.kernel_name == kernel.KERNEL_NAME and os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(kernel.user_name())
            except KeyError:
                entry = None
        self._uid = entry.pw_uid if entry else None
        for path in (scratch, *scratch.rglob("*")) if entry else ():
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        resources.setdefault("metadata", {})["path"] = str(scratch)
        self._pgid = None
        self._current = (None, None, "")
        self._nonce, self._snapshot, self._unguarded = secrets.token_hex(16), False, None
        self.on_cell_execute = self._before_cell if self.guard else None
        timer = threading.Timer(self.submission_timeout, self._out_of_time)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception as exc:
            if not any(e["kind"] == "submission-timeout" for e in EVENTS[-1:]):
                kind = "kernel-died" if "died" in str(exc).lower() else "kernel-unresponsive"
                self._event(kind, detail=f"{type(exc).__name__}: {exc}"[:300])
            raise
        finally:
            timer.cancel()
            self._kill_group()
            if getattr(self, "_box", None) is not None:
                self._box.close()
                self._box = None
            resources["metadata"]["path"] = str(source)
            shutil.rmtree(scratch, ignore_errors=True)

    def create_kernel_manager(self):
        """nbclient's kernel manager, pointed at a bubblewrap sandbox when the kernelspec
        asks for one (see autograder.sandbox.box_for)."""
        km = super().create_kernel_manager()
        self._box = sandbox.box_for(km, self.resources, self.checks_in_kernel)
        return km

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        provisioner = getattr(self.km, "provisioner", None)
        self._pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        self._current = (index, grade_id, cell.get("source", ""))
        cell, resources = super().preprocess_cell(cell, resources, index)
        if self._unguarded == index:
            # The guard could not vouch for the kernel: this test's verdict is not trusted.
            cell.outputs = [{"output_type": "error", "ename": "IntegrityError",
                             "evalue": "the grader could not restore a clean kernel before "
                                       "this test (something in the notebook stopped it), "
                                       "so the test scores 0",
                             "traceback": ["IntegrityError: the grader could not restore a "
                                           "clean kernel before this test"]}]
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self._event("cell-timeout")
        return cell, resources

    def _event(self, kind: str, **extra) -> None:
        index, grade_id, source = self._current
        EVENTS.append({"kind": kind, "cell": index, "grade_id": grade_id, "source": source,
                       **extra})

    async def _before_cell(self, cell, cell_index):
        """nbclient hook: guard the kernel before the first code cell and each test cell."""
        if self._snapshot and not is_test_cell(cell):
            return
        answer = await self._run_guard()
        self._snapshot = True
        prefix = self._nonce + ":"
        if not answer.startswith(prefix):
            if is_test_cell(cell):
                self._unguarded = cell_index
                self._event("guard-failed", detail=answer[:300])
        elif answer.startswith(prefix + "restored:") and answer != prefix + "restored:":
            self._event("tampering-undone", detail=summarise(answer[len(prefix + "restored:"):]))

    async def _run_guard(self) -> str:
        """Evaluate guard.py in the kernel as a user expression; its answer or why not."""
        expr = (f"(lambda ns: (exec(compile({GUARD_SOURCE.read_text()!r}, '<nnlab-guard>', "
                f"'exec'), ns), ns['RESULT'])[1])({{'NONCE': {self._nonce!r}, "
                f"'__name__': '_nnlab_guard'}})")
        msg_id = await ensure_async(self.kc.execute("", silent=True, store_history=False,
                                                    user_expressions={"guard": expr}))
        deadline = time.monotonic() + self.guard_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(
                    self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                if not await ensure_async(self.kc.is_alive()):
                    return "no answer: the kernel died"
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            value = msg["content"].get("user_expressions", {}).get("guard", {})
            if value.get("status") != "ok":
                return f"guard raised {value.get('ename')}: {value.get('evalue')}"
            try:
                return str(ast.literal_eval(value["data"]["text/plain"]))
            except (KeyError, ValueError, SyntaxError):
                return "guard answered something that is not its result"
        return f"no answer within {self.guard_timeout} s"

    def _out_of_time(self) -> None:
        self._event("submission-timeout")
        self._kill_group()

    def _kill_group(self) -> None:
        if self._pgid:
            try:
                os.killpg(self._pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._uid:  # the kernel user belongs to this worker alone (kernel.claim_slot)
            kernel.kill_user_processes(self._uid)


def summarise(names: str, shown: int = 3) -> str:
    """'a.x,a.y,b.z' -> 'a: x, y; b: z', at most `shown` names per owner, with a count."""
    owners: dict[str, list[str]] = {}
    for name in filter(None, names.split(",")):
        owner, _, attr = name.rpartition(".") if "." in name else ("", "", name)
        owners.setdefault(owner or name, []).append(attr if owner else "")
    parts = []
    for owner, attrs in owners.items():
        attrs = [a for a in attrs if a]
        more = f" and {len(attrs) - shown} more" if len(attrs) > shown else ""
        parts.append(f"{owner}: {', '.join(attrs[:shown])}{more}" if attrs else owner)
    return "; ".join(parts)


def split_hidden(source: str) -> tuple[str, list[str]]:
    """(the source with hidden-test regions replaced by one comment, the hidden lines)."""
    shown, hidden, inside = [], [], False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            inside = True
            shown.append("# (hidden tests: not shown)")
        elif HIDDEN_END in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            shown.append(line)
    return "\n".join(shown), [h.strip() for h in hidden if h.strip()]


def scrub(text: str, hidden: list[str]) -> str:
    """`text` with every line that quotes hidden test code removed."""
    if not hidden:
        return text
    plain = re.compile(r"\x1b\[[0-9;]*m")
    return "\n".join(line for line in text.split("\n")
                     if not any(h in plain.sub("", line) for h in hidden))


class HideHiddenTests(Preprocessor):
    """Feedback filter: test cells show only their visible part; errors show the diagnosis.

    A failing test's traceback is replaced by its last line, `CheckFailed: check_x found
    bug B1 (...)` and the message, with any line that quotes hidden test code dropped.
    """

    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            return cell, resources
        cell.source, hidden = split_hidden(cell.source)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                evalue = scrub(str(output.get("evalue", "")), hidden)
                output["evalue"] = evalue
                output["traceback"] = [f"{output.get('ename', 'Error')}: {evalue}"]
            elif output.get("output_type") == "stream":
                output["text"] = scrub(output.get("text", ""), hidden)
        return cell, resources

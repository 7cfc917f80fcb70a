"""Two nbgrader preprocessors: a guarded executor for autograding, and a filter that keeps
hidden tests out of feedback.

`GuardedExecute` is nbgrader's `Execute` run in a scratch copy of the submission folder,
with a wall-clock limit on the whole notebook and the kernel's process group killed
afterwards (a fork bomb's children die with it). What happened (a cell timed out, the
kernel died, the limit struck) is appended to `EVENTS` for the worker to record.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from autograder import kernel

#: What the last executions met: dicts with "kind" ("cell-timeout", "kernel-died",
#: "submission-timeout"), "cell" (index) and "grade_id". The worker clears and reads it.
EVENTS: list[dict] = []

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"


class GuardedExecute(Execute):
    """nbgrader's Execute, confined: scratch folder, wall-clock limit, process-group kill."""

    submission_timeout = Integer(
        600, help="Seconds the whole notebook may run before its kernel is killed."
    ).tag(config=True)
    scratch_root = Unicode("", help="Where scratch folders go (default: the system tmp).").tag(
        config=True)

    def preprocess(self, nb, resources=None, km=None):
        source = Path(resources.get("metadata", {}).get("path") or ".")
        scratch = Path(tempfile.mkdtemp(prefix="nnlab-grade-", dir=self.scratch_root or None))
        for item in source.iterdir():
            if item.suffix != ".ipynb" and item.is_file():
                shutil.copy(item, scratch / item.name)
            elif item.is_dir():
                shutil.copytree(item, scratch / item.name)
        scratch.chmod(0o755)
        if self.kernel_name == kernel.KERNEL_NAME and os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(kernel.user_name())
            except KeyError:
                entry = None
            for path in (scratch, *scratch.rglob("*")) if entry else ():
                os.chown(path, entry.pw_uid, entry.pw_gid)
        resources.setdefault("metadata", {})["path"] = str(scratch)
        self._pgid = None
        self._current = (None, None, "")
        timer = threading.Timer(self.submission_timeout, self._out_of_time)
        timer.daemon = True
        timer.start()
        try:
            return super().preprocess(nb, resources, km=km)
        except Exception as exc:
            if not any(e["kind"] == "submission-timeout" for e in EVENTS[-1:]):
                kind = "kernel-died" if "died" in str(exc).lower() else "kernel-unresponsive"
                self._event(kind)
            raise
        finally:
            timer.cancel()
            self._kill_group()
            resources["metadata"]["path"] = str(source)
            shutil.rmtree(scratch, ignore_errors=True)

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        provisioner = getattr(self.km, "provisioner", None)
        self._pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        self._current = (index, grade_id, cell.get("source", ""))
        cell, resources = super().preprocess_cell(cell, resources, index)
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self._event("cell-timeout")
        return cell, resources

    def _event(self, kind: str) -> None:
        index, grade_id, source = self._current
        EVENTS.append({"kind": kind, "cell": index, "grade_id": grade_id, "source": source})

    def _out_of_time(self) -> None:
        self._event("submission-timeout")
        self._kill_group()

    def _kill_group(self) -> None:
        if self._pgid:
            try:
                os.killpg(self._pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


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

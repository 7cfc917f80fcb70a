"""Two nbgrader preprocessors: the judged executor for autograding, and a filter that
keeps hidden tests out of feedback.

`JudgedExecute` is nbgrader's `Execute` run in a scratch copy of the submission folder,
with a wall-clock limit on the whole notebook and the kernel's process group killed
afterwards (a fork bomb's children die with it). It runs every cell in the student's
kernel as nbgrader would, and after each graded test cell asks `judge` for the verdict,
computed in this process against the kernel through `oracle`: the verdict replaces the
cell's outputs, so it is what nbgrader scores; the kernel's own run of the cell is only
compared with it (an integrity flag when they disagree). After each test cell it also asks
the kernel whether the student left it fit to judge (the recursion limit, numpy, the
course's modules). When the kernelspec asks for it, the kernel runs in a bubblewrap
sandbox (`create_kernel_manager`, autograder.sandbox); when the submission's time runs out,
the cells not yet run are marked so and the rest still counts. The demonstrations the
instructor's notebook tags `skip-in-grading` are left out when no later cell reads what
they set (autograder.skipping; `skip_tagged=False` runs them). What happened (a cell timed
out, the kernel died or stopped answering, the limit struck, a disagreement) is appended
to `EVENTS` for the coordinator to record. `HideHiddenTests` also replaces outputs and
attachments over a size limit by a note.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from queue import Empty

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode

from autograder import kernel, sandbox, skipping
from autograder.judge import Instructor, disagreement, is_test_cell, judge
from autograder.oracle import Oracle

#: What the last executions met: dicts with "kind" ("cell-timeout", "kernel-died",
#: "submission-timeout", "judge-disagrees", ...), "cell" (index) and "grade_id". The
#: worker clears and reads it.
EVENTS: list[dict] = []

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"
# Files handed in beside the notebook that would be imported instead of the real thing
# (the kernel's working directory comes first on sys.path): never given to the kernel.
SHADOWS = {"nnlab", "numpy", "IPython", "ipykernel", "ipykernel_launcher", "matplotlib",
           "scipy", "sklearn", "sitecustomize", "usercustomize", "runpy", "site", "autograder",
           "nbgrader", "jupyter_client", "zmq", "traitlets", "pytest"}


class JudgedExecute(Execute):
    """nbgrader's Execute, confined (scratch folder, wall-clock limit, process-group kill),
    with every graded test cell judged in the grader.

    Usable on its own: ``JudgedExecute(config=...).preprocess(nb, resources)``, with the
    instructor's notebook given as the `instructor_notebook` trait or as
    ``resources["nnlab"]["instructor_notebook"]``, else found in the course's source/
    folder, else read from the notebook's own test cells (nbgrader's OverwriteCells has
    put the gradebook's source back in them).
    """

    submission_timeout = Float(
        600, help="Seconds the whole notebook may run before its kernel is killed."
    ).tag(config=True)
    scratch_root = Unicode("", help="Where scratch folders go (default: the system tmp).").tag(
        config=True)
    checks_in_kernel = Bool(False, help="The kernel's nnlab.checks is the real one; by "
                                        "default it gets kernel_checks.py's stubs, since the "
                                        "grader judges.").tag(config=True)
    judged = Bool(True, help="Judge every graded test cell in the grader (the kernel's own "
                             "run of it is only compared).").tag(config=True)
    instructor_notebook = Unicode("", help="The instructor's notebook the test cells are "
                                           "taken from.").tag(config=True)
    skip_tagged = Bool(True, help="Leave out the demonstrations the instructor's notebook "
                                  "tags skip-in-grading, when no later cell reads what they "
                                  "set (see autograder.skipping).").tag(config=True)
    oracle_seconds = Float(10.0, help="Seconds any one request to the kernel may take when "
                                      "the check gives no limit of its own.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
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
        if kernel.is_grader(self.kernel_name) and os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(kernel.user_name())
            except KeyError:
                entry = None
        self._uid = entry.pw_uid if entry else None
        if entry:  # the kernel's orphans come back here to be reaped (kill_user_processes)
            kernel.become_subreaper()
        for path in (scratch, *scratch.rglob("*")) if entry else ():
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        resources.setdefault("metadata", {})["path"] = str(scratch)
        self._pgid = None
        self._current = (None, None, "")
        self._expired, self._unhealthy = False, set()
        self._oracle, self._stopped, self._stub_count = None, None, 0
        self._instructor = (self._read_instructor(nb, resources)
                            if self.judged or self.skip_tagged else None)
        self._skip = self._cells_to_skip(nb) if self.skip_tagged else set()
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
            if self._oracle is not None:
                self._oracle.close()
            self._kill_group()
            if self._uid:
                kernel.become_subreaper(False)
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
        """Start the kernel (the sandbox overrides how its manager is made, see
        nbclient's `kernel_manager_class`/`km`), then note its process group."""
        await super().async_start_new_kernel(**kwargs)
        provisioner = getattr(self.km, "provisioner", None)
        self._pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)

    def preprocess_cell(self, cell, resources, index):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if index in self._skip:  # a demonstration no later cell reads from
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                   text=skipping.NOTE)]
            cell.execution_count = None
            return cell, resources
        if self._expired:  # the submission's time ran out: later cells are not run, and
            return _not_run(cell), resources  # what already ran keeps its points
        self._current = (index, grade_id, cell.get("source", ""))
        if self._stopped:
            # The kernel stopped answering while a test was judged: nothing more runs in
            # it; the tests already judged keep their verdicts, the rest time out.
            if self.judged and is_test_cell(cell):
                cell.outputs = self._judge(cell).outputs()
            return cell, resources
        if self.judged and self._oracle is None and cell.get("cell_type") == "code":
            self._start_oracle()
        if self.judged and is_test_cell(cell) and grade_id in self._instructor.tests:
            cell.source = self._instructor.tests[grade_id]  # as OverwriteCells does
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            if not self._expired:
                raise
            return _not_run(cell), resources
        if any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", [])):
            self._event("cell-timeout")
        if self.judged and is_test_cell(cell):
            kernel_failed = any(o.get("output_type") == "error" for o in cell.outputs)
            with self._oracle.serving():  # one execute cycle serves all its requests
                verdict = self._judge(cell)
                cell.outputs = verdict.outputs()
                self._compare(verdict, kernel_failed)
        return cell, resources

    # ------------------------------------------------------------------ the judge

    def _read_instructor(self, nb, resources) -> Instructor:
        given = (resources.get("nnlab", {}) or {}).get("instructor_notebook") \
            or self.instructor_notebook
        path = Path(given) if given else self._course_source(resources)
        if path is not None and path.is_file():
            return Instructor.read(path)
        # After nbgrader's OverwriteCells, graded and locked cells hold the gradebook's text.
        return Instructor.from_notebook(nb, trusted=lambda c: bool(
            c.get("metadata", {}).get("nbgrader", {}).get("locked") or is_test_cell(c)))

    def _cells_to_skip(self, nb) -> set[int]:
        """The tagged demonstrations this submission lets grading leave out (none when
        the analysis itself fails: every cell then runs, as nbgrader would)."""
        try:
            return skipping.cells_to_skip(nb, self._instructor.skippable,
                                          self._instructor.tests, set(self._instructor.imports))
        except Exception:  # noqa: BLE001 - running everything is always a right answer
            return set()

    def _course_source(self, resources) -> Path | None:
        info = resources.get("nbgrader", {}) or {}
        if not info.get("assignment") or not info.get("notebook"):
            return None
        try:
            from nbgrader.coursedir import CourseDirectory

            course = CourseDirectory(config=self.config)
            folder = course.format_path(course.source_directory, ".", info["assignment"])
        except Exception:  # no course configured: judged from the notebook itself
            return None
        return Path(folder) / f"{info['notebook']}.ipynb"

    def _start_oracle(self) -> None:
        self._oracle = Oracle(self.km.get_connection_info(),
                              interrupt=lambda: run_sync(self.km.interrupt_kernel)(),
                              seconds=self.oracle_seconds)
        try:
            self._oracle.start()
        except BaseException as exc:
            self._oracle.dead = f"the grader could not start its oracle in the kernel ({exc})"

    def _judge(self, cell):
        grade_id = cell.metadata.nbgrader.get("grade_id", "")
        source = self._instructor.tests.get(grade_id, cell.source)
        verdict = judge(grade_id, source, self._oracle, self._instructor)
        if self._oracle.dead and not self._stopped:
            self._stopped = self._oracle.dead
            self._event("kernel-unresponsive", detail=self._oracle.dead[:300])
        return verdict

    def _compare(self, verdict, kernel_failed: bool) -> None:
        """An integrity event when the kernel's own run of the cell disagrees.

        Only the checks this test cell called count: the stubs note each call's execution
        count, and the test cell is the last cell the kernel ran (a demonstration cell's
        calls carry their own)."""
        if self._oracle.dead:
            return
        names = sorted({c[0] for c in verdict.calls})
        try:
            stubs = self._oracle.stubs(names, self._stub_count, last=True)
            self._stub_count = int(stubs["count"])
            why = disagreement(verdict, stubs["calls"], kernel_failed, stubs)
        except BaseException as exc:  # a kernel that cannot say what it ran: flagged too
            why = f"the kernel could not say what the test cell ran ({type(exc).__name__})"
        if why:
            self._event("judge-disagrees", detail=why[:300])

    # ------------------------------------------------------------------ limits

    def _event(self, kind: str, **extra) -> None:
        index, grade_id, source = self._current
        EVENTS.append({"kind": kind, "cell": index, "grade_id": grade_id, "source": source,
                       **extra})

    def _out_of_time(self) -> None:
        self._event("submission-timeout")
        self._expired = True
        self._kill_group()

    def on_cell_executed(self, **kwargs):
        """nbgrader's hook (records a timeout's error), then, after a test cell, ask the
        kernel whether the student left it fit to judge (see HEALTH)."""
        super().on_cell_executed(**kwargs)
        if is_test_cell(kwargs["cell"]) and not self._expired:
            return self._check_health()  # awaited by nbclient's run_hook
        return None

    async def _check_health(self) -> None:
        answers = await self._ask(HEALTH)
        for kind, problem in judge_health(answers):
            if kind not in self._unhealthy:
                self._unhealthy.add(kind)
                self._event(kind, detail=problem[:300])

    async def _ask(self, expressions: dict[str, str], timeout: float = 10.0) -> dict:
        """{name: repr text or None when it raised} of `expressions`, evaluated in the kernel
        as user expressions (no cell runs, nothing is recorded in the notebook)."""
        msg_id = await ensure_async(self.kc.execute("", silent=True, store_history=False,
                                                    user_expressions=expressions))
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(
                    self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["content"].get("status") != "ok":  # the expressions never ran
                return {name: ("raised", msg["content"].get("ename", "?"))
                        for name in expressions}
            values = msg["content"].get("user_expressions", {})
            return {name: (("ok", v["data"]["text/plain"]) if v.get("status") == "ok"
                           else ("raised", f"{v.get('ename')}: {v.get('evalue')}"))
                    for name, v in values.items()}
        return {name: ("raised", "no answer") for name in expressions}

    def _kill_group(self) -> None:
        if self._pgid:
            try:
                os.killpg(self._pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._uid:  # the kernel user belongs to this worker alone (kernel.claim_slot)
            kernel.kill_user_processes(self._uid)


# What a test cell's kernel must still offer for its verdict to mean what it says.
HEALTH = {
    "recursion": "__import__('sys').getrecursionlimit()",
    "numpy": "float(__import__('numpy').ones(3).sum())",
    "modules": "sorted({type(v).__name__ for k, v in __import__('sys').modules.items() "
               "if k in ('numpy', 'nnlab', 'nnlab.checks', 'builtins')})",
}
MIN_RECURSION = 1000  # CPython's default; the checks and numpy's printing need that much


def judge_health(answers: dict) -> list[tuple[str, str]]:
    """[(reason, what was wrong)] from the kernel's answers to HEALTH."""
    found = []
    status, value = answers.get("recursion", ("raised", "no answer"))
    if status != "ok" or not value.isdigit() or int(value) < MIN_RECURSION:
        found.append(("recursion-limit", f"the recursion limit was {value} when a test ran "
                                         f"(Python's default is {MIN_RECURSION})"))
    for name in ("numpy", "modules"):
        status, value = answers.get(name, ("raised", "no answer"))
        wrong = status != "ok" or (name == "numpy" and value != "3.0") or (
            name == "modules" and value != "['module']")
        if wrong and not (status != "ok" and "RecursionError" in value):
            found.append(("environment-broken", f"after a test, `{HEALTH[name]}` gave "
                                                f"{value}"))
    return found


def _not_run(cell):
    """`cell` marked as never run because the submission's time limit struck first."""
    if cell.get("cell_type") == "code":
        why = "not run: the notebook's time limit was reached before this cell"
        cell.outputs = [nbformat.v4.new_output("error", ename="SubmissionTimeout", evalue=why,
                                               traceback=[f"SubmissionTimeout: {why}"])]
    return cell


#: The name earlier configurations use.
GuardedExecute = JudgedExecute


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


# A 1x1 transparent PNG stands in for an attachment removed from the feedback.
PLACEHOLDER_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAA"
                   "ASUVORK5CYII=")
ATTACHMENT = re.compile(r"attachment:([^)\s\"']+)")


class HideHiddenTests(Preprocessor):
    """Feedback filter: test cells show only their visible part; errors show the diagnosis.

    A failing test's traceback is replaced by its last line, `CheckFailed: check_x found
    bug B1 (...)` and the message, with any line that quotes hidden test code dropped. In
    every cell, an output or attachment over `max_output_bytes` (or past `max_total_bytes`
    for the notebook) is replaced by a note saying what was removed.
    """

    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="An output or attachment bigger than this is "
                                             "replaced by a note saying so.").tag(config=True)
    max_total_bytes = Integer(8 << 20, help="Outputs and attachments beyond this much in one "
                                            "notebook are replaced by notes.").tag(config=True)

    _spent = 0  # bytes of outputs and attachments kept so far in this notebook

    def preprocess(self, nb, resources):
        self._spent = 0
        return super().preprocess(nb, resources)

    def _too_big(self, size: int) -> bool:
        if size > self.max_output_bytes or self._spent + size > self.max_total_bytes:
            return True
        self._spent += size
        return False

    def _removed(self, what: str, size: int) -> str:
        return (f"[{what} of {size / 1e6:.1f} MB removed from the feedback: the limit is "
                f"{self.max_output_bytes / 1e6:.1f} MB each, {self.max_total_bytes / 1e6:.1f} "
                "MB per notebook]")

    def bound_size(self, cell) -> None:
        """Replace outputs and attachments over the size limits by a note (in place)."""
        attachments = cell.get("attachments") or {}
        for name in list(attachments):
            size = len(json.dumps(attachments[name]))
            if self._too_big(size):
                attachments[name] = {"image/png": PLACEHOLDER_PNG}
                cell.source += "\n\n" + self._removed(f"attachment `{name}`", size)
        if cell.get("cell_type") == "markdown":
            # nbconvert refuses a notebook whose markdown names an attachment it lacks
            for name in ATTACHMENT.findall(cell.get("source", "")):
                if name not in attachments:
                    cell.setdefault("attachments", attachments)[name] = {
                        "image/png": PLACEHOLDER_PNG}
        outputs = cell.get("outputs", [])
        for i, output in enumerate(outputs):
            size = len(json.dumps(output))
            if self._too_big(size):
                outputs[i] = nbformat.v4.new_output("stream", name="stdout",
                                                    text=self._removed("output", size) + "\n")

    def preprocess_cell(self, cell, resources, index):
        self.bound_size(cell)
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

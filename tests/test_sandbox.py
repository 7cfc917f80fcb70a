"""Real grading kernels in the real bubblewrap sandbox, probed from inside.

A two-notebook class (`00_toy`: sigmoid, `03_layer`: Dense) is graded by the real worker
with real nbgrader and real kernels; one student's answer cell ends with a probe that
looks around from inside the kernel (processes, network, files, environment, /tmp and
/dev/shm, nnlab's references, the checks package) and prints what it found. The grader
runs as root with bubblewrap installed (scripts/ensure-sandbox.sh); elsewhere the module
skips, naming why. Cost: one grade of three submissions, about 15 s on 2 cores.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import grade, kernel, reference, report, sandbox, steps, submission
from autograder.course import Course, lock_down

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading-sandbox")]
# This file's tests share one xdist worker (their module fixtures grade once); other
# grading files may run beside them: each set of limits has its own kernelspec
# (kernel.spec_name) and each worker its own kernel user (kernel.claim_slot).

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
REASON = sandbox.unavailable()
SECRET = "nnlab-test-secret-4d1f"
TMP_CAP, SHM_CAP = sandbox.TMP_MB << 20, sandbox.SHM_MB << 20

PROBE = r'''
import json as _json, os as _os, socket as _socket
_found = {"uid": _os.getuid(), "env": dict(_os.environ), "cwd": _os.getcwd()}
_found["pids"] = sorted(int(p) for p in _os.listdir("/proc") if p.isdigit())
_found["cmdlines"] = []
for _p in _found["pids"]:
    try:
        _line = open(f"/proc/{_p}/cmdline", "rb").read()
        _found["cmdlines"].append(_line.replace(b"\0", b" ").decode()[:200])
    except OSError:
        pass
_found["tcp_table"] = open("/proc/net/tcp").read().splitlines()[1:]
try:
    _socket.create_connection(("127.0.0.1", PORT), timeout=3).close()
    _found["tcp"] = "connected"
except OSError as _e:
    _found["tcp"] = type(_e).__name__
_found["paths"] = {}
for _path in PATHS:
    try:
        if _os.path.isdir(_path):
            _os.listdir(_path)
            _found["paths"][_path] = "listed"
        else:
            open(_path, "rb").close()
            _found["paths"][_path] = "read"
    except OSError as _e:
        _found["paths"][_path] = type(_e).__name__
def _fill(_path):
    _n = 0
    try:
        with open(_path, "wb") as _fh:
            while _n < 4 * CAP:
                _fh.write(b"x" * (1 << 20))
                _fh.flush()
                _n += 1 << 20
    except OSError:
        pass
    return _os.path.getsize(_path) if _os.path.exists(_path) else 0
_found["tmp_written"] = _fill("/tmp/MARK")
_found["shm_written"] = _fill("/dev/shm/MARK")
def _try(_code):
    try:
        return "works: " + repr(eval(_code))[:80]
    except Exception as _e:
        return f"{type(_e).__name__}: {_e}"
import importlib as _il
_found["Dense"] = _try("__import__('nnlab.layers', fromlist=['Dense']).Dense(2, 3).W.shape")
_found["sigmoid"] = _try("float(__import__('nnlab.activations', fromlist=['x']).sigmoid(0.0))")
_found["rung03"] = _try("_il.import_module('nnlab.checks.rung03')")
_found["zoo"] = _try("_il.import_module('nnlab.checks.zoo')")
import nnlab as _nnlab, nnlab.checks as _checks
_found["checks_files"] = sorted(_os.listdir(_os.path.dirname(_checks.__file__)))
_found["hits"] = []
for _top in ["/"]:
    for _where, _dirs, _files in _os.walk(_top):
        _skip = ("/proc", "/sys", "/dev", "/usr")
        _dirs[:] = [d for d in _dirs if _os.path.join(_where, d) not in _skip]
        for _name in _files:
            _full = _os.path.join(_where, _name)
            if not _name.endswith((".py", ".ipynb", ".json", ".txt")):
                continue
            try:
                if MARKER.encode() in open(_full, "rb").read():
                    _found["hits"].append(_full)
            except OSError:
                pass
_found["mounts"] = [l.split()[4] for l in open("/proc/self/mountinfo")]
print("PROBE:" + _json.dumps(_found))
'''


def _dense_marker() -> str:
    """A line of nnlab's reference Dense that only its implementation contains."""
    import nnlab.layers

    source = inspect.getsource(nnlab.layers.Dense)
    lines = [ln.strip() for ln in source.splitlines() if "self.dW" in ln and "=" in ln]
    assert lines, "nnlab.layers.Dense no longer sets self.dW; pick another marker line"
    return lines[0]


def _layer_notebook() -> nbformat.NotebookNode:
    """03_layer: one answer (Dense) and one test cell, built from the toy's cells."""
    nb = nbformat.read(str(FIXTURES / "instructor" / "toy.ipynb"), as_version=4)
    setup = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    setup.source = "import numpy as np\n\nfrom nnlab.activations import sigmoid"
    answer = nbformat.v4.new_code_cell(
        "class Dense:\n    ### BEGIN SOLUTION\n    def __init__(self, n_in, n_out, seed=0):\n"
        "        self.W = np.zeros((n_in, n_out))\n    ### END SOLUTION\n",
        metadata={"nbgrader": {"grade": False, "grade_id": "dense", "locked": False,
                               "schema_version": 3, "solution": True, "task": False}})
    test = nbformat.v4.new_code_cell(
        "assert Dense(2, 3).W.shape == (2, 3)\nassert sigmoid(0.0) == 0.5",
        metadata={"nbgrader": {"grade": True, "grade_id": "test_dense", "locked": True,
                               "points": 2, "schema_version": 3, "solution": False,
                               "task": False}})
    nb.cells = [nb.cells[0], setup, answer, test]
    return nb


def _submit(course: Course, student: str, assignment: str, probe: str | None) -> None:
    released = course.root / "release" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(str(released), as_version=4)
    source = nbformat.read(str(course.source / assignment / f"{assignment}.ipynb"), 4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid].replace("### BEGIN SOLUTION", "").replace(
                "### END SOLUTION", "")
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(probe))
    dest = course.submission(student, assignment)
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(dest))


def _probe_of(course: Course, student: str, assignment: str) -> dict:
    nb = nbformat.read(str(course.autograded / student / assignment / f"{assignment}.ipynb"), 4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if text.startswith("PROBE:"):
                return json.loads(text[len("PROBE:"):])
    raise AssertionError(f"the probe printed nothing: {[c.get('outputs') for c in nb.cells]}")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if REASON:
        pytest.skip(f"no bubblewrap sandbox here: {REASON}")
    work = tmp_path_factory.mktemp("sandbox")
    instructor = work / "instructor"
    instructor.mkdir()
    shutil.copyfile(FIXTURES / "instructor" / "toy.ipynb", instructor / "00_toy.ipynb")
    nbformat.write(_layer_notebook(), str(instructor / "03_layer.ipynb"))
    course = Course(work / "course")
    assert steps.release(course, notebooks=instructor) == {"00_toy": "ok", "03_layer": "ok"}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    marker = _dense_marker()
    other = course.submitted / "other" / "03_layer"
    paths = [str(other), str(other / "03_layer.ipynb"), str(course.source),
             str(course.db), str(course.root), str(Path(sys.prefix)),
             str(Path(kernel.__file__).parent.parent)]
    probe = (PROBE.replace("PORT", str(port)).replace("PATHS", repr(paths))
             .replace("CAP", str(TMP_CAP)).replace("MARKER", repr(marker))
             .replace("MARK", "nnlab-probe-mark"))
    for assignment in ("00_toy", "03_layer"):
        _submit(course, "prober", assignment, probe)
    _submit(course, "other", "03_layer", None)
    lock_down(course)
    boxes_before = set(Path("/tmp").glob("nnlab-k-*"))
    slot, lock = kernel.claim_slot()
    old_env = dict(os.environ)
    os.environ.update(NNLAB_KERNEL_SLOT=str(slot), NNLAB_FAKE_SECRET=SECRET)
    try:
        kernel.kernel_user(slot)
        info = kernel.install(memory_mb=2048, cpu_seconds=120, nproc=64, slots=1)
        assert info["sandbox"] == "bubblewrap", info
        settings = grade.settings_for(60, 120, info["name"])
        records = {(s, a): submission.grade_here(course, s, a, settings)
                   for s, a in (("prober", "03_layer"), ("prober", "00_toy"),
                                ("other", "03_layer"))}
    finally:
        os.environ.clear()
        os.environ.update(old_env)
        lock.close()
        listener.close()
    uid = kernel.kernel_user(slot)[0]
    return {"course": course, "records": records, "uid": uid, "info": info, "port": port,
            "boxes_before": boxes_before,
            "probe": {a: _probe_of(course, "prober", a) for a in ("00_toy", "03_layer")}}


def test_honest_answers_keep_their_points(graded):
    for key, record in graded["records"].items():
        assert record["status"] == "graded", (key, record["reasons"], record["detail"])
    assert graded["records"][("other", "03_layer")]["score"] == 2.0


def test_the_kernel_sees_only_its_own_processes(graded):
    probe = graded["probe"]["03_layer"]
    assert len(probe["pids"]) <= 3, probe["cmdlines"]  # bwrap's init, the kernel, maybe a child
    assert all("pytest" not in c and "autograder" not in c for c in probe["cmdlines"]), \
        probe["cmdlines"]
    assert probe["uid"] == graded["uid"] != 0


def test_the_kernel_reaches_no_network(graded):
    probe = graded["probe"]["03_layer"]
    assert probe["tcp"] == "ConnectionRefusedError", probe["tcp"]  # the listener is outside
    # its own network namespace: the only sockets listed are its own (none of the grader's
    # or another kernel's ports to find and subscribe to)
    owners = {int(line.split()[7]) for line in probe["tcp_table"]}
    assert owners <= {graded["uid"]}, probe["tcp_table"]
    assert f":{graded['port']:04X} " not in " ".join(probe["tcp_table"])


def test_the_kernel_reaches_no_other_file(graded):
    probe = graded["probe"]["03_layer"]
    assert set(probe["paths"].values()) == {"FileNotFoundError"}, probe["paths"]
    mirror = Path(graded["info"]["mirror"])
    exact = {"/", "/usr", "/tmp", str(mirror / "site"), str(mirror / "data")}
    starts = ("/dev", "/proc", str(mirror / "withheld") + "/", "/tmp/nnlab-grade-",
              "/tmp/nnlab-k-")
    assert all(m in exact or m.startswith(starts) for m in probe["mounts"]), probe["mounts"]


def test_the_kernel_sees_none_of_the_graders_environment(graded):
    env = graded["probe"]["03_layer"]["env"]
    assert SECRET not in json.dumps(env)
    allowed = set(sandbox.environment("/x")) | {"PWD", "JPY_SESSION_NAME",
                                                "PYDEVD_USE_FRAME_EVAL", "CLICOLOR",
                                                "FORCE_COLOR", "GIT_PAGER", "PAGER", "TERM",
                                                "CLICOLOR_FORCE"}
    assert set(env) <= allowed, set(env) - allowed


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:  # removed meanwhile
        return None


def test_tmp_and_shm_are_capped_and_gone_with_the_kernel(graded):
    for name in ("00_toy", "03_layer"):
        probe = graded["probe"][name]
        assert 0 < probe["tmp_written"] <= TMP_CAP, probe["tmp_written"]
        assert 0 < probe["shm_written"] <= SHM_CAP, probe["shm_written"]
    for folder in ("/tmp", "/dev/shm"):
        assert not list(Path(folder).glob("nnlab-probe-mark*")), folder
    # every box this run made was removed; other graders on the machine may have theirs,
    # with their own kernel user's socket folder
    left = [box for box in set(Path("/tmp").glob("nnlab-k-*")) - graded["boxes_before"]
            if _owner(box / "s") == graded["uid"]]
    assert not left, left
    assert kernel.kill_user_processes(graded["uid"], wait=0.5) == 0  # no process left


def test_the_graded_notebooks_reference_is_out_of_reach(graded):
    at_03, at_00 = graded["probe"]["03_layer"], graded["probe"]["00_toy"]
    # grading 03: Dense is its own answer, withheld; sigmoid (an earlier rung) works
    assert at_03["Dense"].startswith("RuntimeError: nnlab's reference `Dense` is not "
                                     "available while notebook 03_layer is graded"), at_03
    assert at_03["sigmoid"] == "works: 0.5", at_03
    # grading 00: its own sigmoid and the later notebook's Dense are both withheld
    assert "`sigmoid` is not available while notebook 00_toy" in at_00["sigmoid"], at_00
    assert "graded in the later notebook 03_layer" in at_00["Dense"], at_00
    for probe in (at_00, at_03):
        assert probe["hits"] == [], probe["hits"]  # the reference's code is on no disk it sees
        assert probe["rung03"].startswith("ModuleNotFoundError"), probe["rung03"]
        assert probe["zoo"].startswith("ModuleNotFoundError"), probe["zoo"]
        assert probe["checks_files"] == ["__init__.py", "_core.py", "_student.py", "triage.py"]
    # and the marker line is really the reference's: the full library has it
    assert _dense_marker() in Path(inspect.getsourcefile(kernel)).parent.parent.joinpath(
        "nnlab", "layers.py").read_text()


def test_the_bwrap_command_line_is_what_the_docs_say(graded):
    plan = {"uid": 1000, "gid": 1000, "python": "/usr/bin/python3.11", "prefix": "/usr",
            "sites": ["/m/site", "/m/withheld/03"], "data": "/m/data",
            "libraries": ["/m/site", "/m/withheld/03", "/m/data"], "scratch": "/tmp/g",
            "sockets": "/tmp/k/s", "tmp_mb": 64, "shm_mb": 16, "bwrap": "bwrap"}
    line = sandbox.command_line(plan)
    for part in ("--unshare-all", "--disable-userns", "--die-with-parent", "--new-session",
                 "--clearenv", "--size 67108864 --tmpfs /tmp",
                 "--size 16777216 --tmpfs /dev/shm", "--ro-bind /tmp/g /tmp/g",
                 "--bind /tmp/k/s /tmp/k/s", "--remount-ro /"):
        assert part in line, (part, line)
    assert line.count("--ro-bind /usr /usr") == 1, line


def test_boxes_of_a_killed_grader_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    for name, pid in (("nnlab-k-dead", dead), ("nnlab-k-alive", str(os.getpid()))):
        (tmp_path / name / "s").mkdir(parents=True)
        (tmp_path / name / "plan.json").write_text(json.dumps({"grader": int(pid)}))
    if os.geteuid() != 0:
        pytest.skip("boxes are root's; sweeping checks the owner")
    assert sandbox.sweep(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nnlab-k-alive"]


def test_without_the_sandbox_grading_says_so(tmp_path):
    """The fallback is never silent: install names the reason, the report flags the run."""
    info = kernel.install(prefix=str(tmp_path), sandbox=False)
    assert info["sandbox"] is None and "turned off" in info["sandbox_reason"]
    spec = json.loads((tmp_path / "share/jupyter/kernels" / info["name"] / "kernel.json")
                      .read_text())
    assert "NNLAB_SANDBOX_MIRROR" not in spec["env"] and "interrupt_mode" not in spec
    course = Course(tmp_path / "course")
    course.grader.mkdir(parents=True)
    (course.grader / "kernel.json").write_text(json.dumps(info))
    flags = [r["flag"] for r in report.integrity_rows(course)]
    assert any("kernels ran without the bubblewrap sandbox (turned off" in f for f in flags), \
        flags


def test_every_assignment_library_imports(graded, tmp_path):
    """Each shaped copy of nnlab still imports module by module (stubs broke nothing)."""
    mirror = Path(graded["info"]["mirror"])
    for library in (mirror / "withheld").iterdir():
        if library.name.startswith("."):
            continue
        modules = sorted(p.stem for p in (library / "nnlab").glob("*.py") if p.stem != "__main__")
        code = (f"import importlib, sys; sys.path[:0] = [{str(library)!r}]; "
                f"[importlib.import_module('nnlab.' + m) for m in {modules!r}]")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              cwd=tmp_path)
        assert done.returncode == 0, (library, done.stderr[-1000:])


def test_stub_module_replaces_only_the_named_definitions():
    text = ("import numpy as np\n\n\n@staticmethod\ndef a(x):\n    return x\n\n\n"
            "class B:\n    def f(self):\n        return 1\n\n\nC = a\n")
    out, hits = reference.stub_module(text, {"a": "03", "B": "05"}, "03")
    assert hits == ["a", "B"]
    tree = ast.parse(out)
    assert [type(n).__name__ for n in tree.body] == ["Import", "FunctionDef", "ClassDef",
                                                     "Assign"]
    assert "return x" not in out and "return 1" not in out and "C = a" in out
    namespace: dict = {}
    exec(compile(out, "m", "exec"), namespace)
    with pytest.raises(RuntimeError, match="later notebook 05"):
        namespace["B"]()
    with pytest.raises(RuntimeError, match="what this notebook asks you to write"):
        namespace["C"](1)

"""The class grader's pieces that need no kernel: the static cheat scan, the feedback
filter, the queue, content hashes, slots and the command line's errors."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import nbformat
import pytest

from autograder import __main__ as cli
from autograder import grade, integrity, kernel, preprocessors, report, sample, submission
from autograder.course import Course, hand_back, load_config

FIXTURES = Path(__file__).parent / "fixtures" / "submissions"
SOURCE = FIXTURES / "instructor" / "toy.ipynb"


@pytest.mark.parametrize("cheat, words", [
    ("cheat-monkeypatch", "assigns to `numpy.testing.assert_allclose`"),
    ("cheat-always-equal", "defines `__eq__`"),
    ("cheat-input-transformer", "input_transformers_cleanup"),
    ("cheat-read-source", "names the grader's files"),
])
def test_the_static_scan_flags_every_cheat_fixture(cheat, words):
    flags = integrity.scan_notebook(FIXTURES / f"submitted-{cheat}.ipynb")
    assert any(words in f["flag"] for f in flags), flags


def test_the_static_scan_leaves_honest_answers_alone():
    assert integrity.scan_notebook(FIXTURES / "submitted-perfect.ipynb") == []
    assert integrity.scan_source("def f(x):\n    return np.exp(-x)\n") == []


def test_hidden_regions_and_the_lines_quoting_them_are_removed():
    source = ("check_sigmoid(sigmoid)\n### BEGIN HIDDEN TESTS\n"
              "check_sigmoid(sigmoid, hidden=True)\n### END HIDDEN TESTS")
    shown, hidden = preprocessors.split_hidden(source)
    assert "hidden=True" not in shown and hidden == ["check_sigmoid(sigmoid, hidden=True)"]
    traceback = ("Cell In[4], line 3\n\x1b[0;32m----> 3\x1b[0m check_sigmoid(sigmoid, "
                 "hidden=True)\nCheckFailed: check_sigmoid found bug B17")
    assert preprocessors.scrub(traceback, hidden) == "Cell In[4], line 3\n" \
        "CheckFailed: check_sigmoid found bug B17"


def test_feedback_filter_keeps_only_the_diagnosis():
    cell = nbformat.v4.new_code_cell(
        "check_x(f)\n### BEGIN HIDDEN TESTS\ncheck_x(f, hidden=True)\n### END HIDDEN TESTS",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t"}},
        outputs=[nbformat.v4.new_output("error", ename="CheckFailed",
                                        evalue="check_x found bug B5 (...)\nmessage",
                                        traceback=["----> 3 check_x(f, hidden=True)"])])
    cell, _ = preprocessors.HideHiddenTests().preprocess_cell(cell, {}, 0)
    assert "hidden=True" not in cell.source
    assert cell.outputs[0]["traceback"] == ["CheckFailed: check_x found bug B5 (...)\nmessage"]


def test_the_queue_keeps_each_students_notebooks_together_biggest_first():
    units = [("b", "00"), ("a", "00"), ("b", "01"), ("c", "00"), ("a", "01"), ("b", "02")]
    assert grade.queue(units) == [("b", "00"), ("b", "01"), ("b", "02"),
                                  ("a", "00"), ("a", "01"), ("c", "00")]


def test_two_grade_runs_on_one_course_refuse_to_race(tmp_path):
    course = Course(tmp_path)
    held = grade._lock_course(course)
    with pytest.raises(RuntimeError, match="another `grade` is running"):
        grade._lock_course(course)
    held.close()
    grade._lock_course(course).close()


def test_the_content_hash_follows_files_notebook_and_limits(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "toy.ipynb").write_text("{}")
    first = submission.content_hash(folder, SOURCE, {"Execute.timeout": 5})
    assert first == submission.content_hash(folder, SOURCE, {"Execute.timeout": 5})
    assert first != submission.content_hash(folder, SOURCE, {"Execute.timeout": 6})
    (folder / "toy.ipynb").write_text("{ }")
    assert first != submission.content_hash(folder, SOURCE, {"Execute.timeout": 5})
    # --memory and --nproc reach the hash through the kernelspec's name: a run with other
    # limits grades every submission again
    hashes = {submission.content_hash(folder, SOURCE, grade.settings_for(
        30, 300, kernel.spec_name(memory, 300, nproc))) for memory, nproc in
        ((2048, 64), (1024, 64), (2048, 32))}
    assert len(hashes) == 3


def test_two_graders_never_share_a_kernel_slot(tmp_path):
    slot_a, lock_a = kernel.claim_slot(tmp_path, slots=2)
    slot_b, lock_b = kernel.claim_slot(tmp_path, slots=2)
    assert slot_a != slot_b
    with pytest.raises(RuntimeError, match="all 2 grading slots are taken"):
        kernel.claim_slot(tmp_path, slots=2)
    lock_a.close()
    assert kernel.claim_slot(tmp_path, slots=2)[0] == slot_a
    lock_b.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root grades with a separate kernel user")
def test_install_probes_as_a_kernel_user_whose_slot_it_holds(tmp_path, monkeypatch):
    # Another grader SIGKILLs every process of its own slot's user after each kernel. The
    # probes once ran as slot 0's user whatever the slot: killed, they found no Python,
    # and the kernel ran as root, where a fork bomb meets no process limit.
    seen = []

    def held_by_someone(uid) -> bool:
        slot = pwd.getpwuid(uid).pw_name.removeprefix(kernel.KERNEL_USER)
        lock = kernel.try_lock(Path(f"/tmp/nnlab-kernel-slot-{slot}.lock"))
        if lock is not None:
            lock.close()
        return lock is None

    def probe(uid, gid, sites, modules=("ipykernel",)):
        seen.append((uid, held_by_someone(uid)))
        return None

    monkeypatch.setattr(kernel, "_interpreter_for", probe)
    monkeypatch.setattr(kernel, "mirror", lambda *a: tmp_path)
    monkeypatch.delenv("NNLAB_KERNEL_SLOT", raising=False)
    other, lock = kernel.claim_slot()  # another grader's slot (0 when the machine is idle)
    with lock:
        kernel.install(prefix=str(tmp_path), sandbox=False)
    theirs = kernel.kernel_user(other)[0]
    # each probe ran as the user of a slot held meanwhile, and not the other grader's
    assert seen and all(held and uid != theirs for uid, held in seen), (seen, theirs)
    slot, lock = kernel.claim_slot()
    with lock:
        monkeypatch.setenv("NNLAB_KERNEL_SLOT", str(slot))
        seen.clear()
        kernel.install(prefix=str(tmp_path), sandbox=False)
    assert {uid for uid, _ in seen} == {kernel.kernel_user(slot)[0]}  # the grader's own


@pytest.mark.skipif(os.geteuid() != 0, reason="only root writes files another user owns")
def test_an_instructors_course_is_handed_back_with_its_modes(tmp_path):
    course = Course(tmp_path / "course")
    (course.root / "grader").mkdir(parents=True)
    nobody = pwd.getpwnam("nobody")
    os.chown(course.root, nobody.pw_uid, nobody.pw_gid)
    gradebook = course.root / "gradebook.db"
    gradebook.write_text("")
    gradebook.chmod(0o600)
    course.grader.chmod(0o700)
    outside = tmp_path / "outside"
    outside.write_text("root's")
    (course.root / "link").symlink_to(outside)
    theirs = course.root / "scratch"
    theirs.write_text("")
    os.chown(theirs, 12345, 12345)
    assert hand_back(course) == 3  # the gradebook, grader/ and the link itself
    for path, mode in ((gradebook, 0o600), (course.grader, 0o700)):
        assert (path.stat().st_uid, stat.S_IMODE(path.stat().st_mode)) == (nobody.pw_uid, mode)
    assert os.lstat(course.root / "link").st_uid == nobody.pw_uid
    assert outside.stat().st_uid == 0  # a link is never followed
    assert theirs.stat().st_uid == 12345
    os.chown(course.root, 0, 0)
    assert hand_back(course) == 0  # root's own course: nothing to give back


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs processes as a kernel user")
def test_a_kernel_users_zombie_child_of_the_grader_is_reaped_not_waited_for():
    # An orphaned inner bubblewrap comes back to the grader (become_subreaper); its zombie
    # must be reaped there, not left for a PID 1 that may reap only every second or two.
    slot, lock = kernel.claim_slot()
    with lock:
        uid, gid = kernel.kernel_user(slot)
        pid = os.fork()
        if pid == 0:  # the child: become the kernel user and exit at once
            os.setgid(gid)
            os.setuid(uid)
            os._exit(0)
        status = Path(f"/proc/{pid}/status")
        while "Z (zombie)" not in status.read_text():
            os.sched_yield()
        assert kernel.kill_user_processes(uid, wait=0.0) == 0  # nothing alive to kill
        assert not status.exists()  # and the zombie is gone: reaped by the grader
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_killing_by_user_refuses_the_graders_own_processes():
    with pytest.raises(ValueError, match="grader's own"):
        kernel.kill_user_processes(0)


@pytest.mark.parametrize("kwargs, words", [
    ({"memory_mb": 0}, "memory_mb=0"),
    ({"cpu_seconds": 1.5}, "cpu_seconds=1.5"),
    ({"nproc": True}, "nproc=True"),
])
def test_kernel_limits_must_be_positive_whole_numbers(kwargs, words, tmp_path):
    with pytest.raises(ValueError, match=words):
        kernel.install(prefix=str(tmp_path), **kwargs)


def test_grade_refuses_bad_settings_and_an_empty_course(tmp_path):
    course = Course(tmp_path)
    with pytest.raises(ValueError, match="jobs=0"):
        grade.run(course, jobs=0)
    with pytest.raises(ValueError, match="run `release` first"):
        grade.run(course)


def test_settings_must_name_a_section(tmp_path):
    with pytest.raises(ValueError, match="'timeout' must look like 'Section.trait'"):
        load_config(Course(tmp_path), timeout=3)


def test_release_names_the_notebooks_that_exist(tmp_path):
    with pytest.raises(SystemExit):  # argparse: unknown option
        cli.main(["release", "--course", str(tmp_path), "--bogus"])
    with pytest.raises(ValueError, match=r"no notebook named \['nope'\].*'toy'"):
        cli.main(["release", "nope", "--course", str(tmp_path),
                  "--notebooks", str(FIXTURES / "instructor")])


def test_the_bug_summary_counts_students_not_cells():
    diagnoses = [{"student": "a", "notebook": "00", "bug": "B18"},
                 {"student": "a", "notebook": "01", "bug": "B18"},
                 {"student": "b", "notebook": "00", "bug": "B18"},
                 {"student": "b", "notebook": "00", "bug": "B17"},
                 {"student": "c", "notebook": "00", "bug": ""},
                 {"student": "e", "notebook": "02", "bug": "B5"}]
    # the share is of the students who handed in a notebook the bug was found in: e, who
    # handed in 02 only, counts for B5 and not for B18
    handed_in = {"00": {"a", "b", "c", "d"}, "01": {"a"}, "02": {"a", "e"}}
    summary = report.bug_summary(diagnoses, handed_in)
    assert [(r["bug"], r["students"], r["share"], r["notebooks"]) for r in summary] == [
        ("B18", 2, "50%", "00 01"), ("B5", 1, "50%", "02"), ("B17", 1, "25%", "00")]


def test_every_fixture_scenario_is_one_the_sample_module_makes():
    release = nbformat.read(str(FIXTURES / "submitted-blank.ipynb"), as_version=4)
    source = nbformat.read(str(SOURCE), as_version=4)
    made = set(sample.scenarios(release, source))
    on_disk = {p.stem.removeprefix("submitted-") for p in FIXTURES.glob("submitted-*.ipynb")}
    # fixtures only the e2e test grades: honest bugs and unusual answers, and the attacks
    # on an in-kernel verdict that the sample module (the demo's cheats) does not stage
    bug_fixtures = {"bug-B17", "bug-B18", "passes-public-fails-hidden", "honest-expit",
                    "honest-callable-object", "cheat-shell-class", "cheat-compile",
                    "cheat-swap-code", "cheat-event-callback", "cheat-oracle-server",
                    "cheat-thread-repatch", "cheat-reference-clone"}
    assert on_disk - bug_fixtures == made - {"missing-notebook"} - bug_fixtures


@pytest.mark.skipif(os.geteuid() != 0, reason="only root grades with a separate kernel user")
def test_the_mirror_lets_the_kernel_user_reach_a_venv_behind_a_closed_directory(
        tmp_path, monkeypatch, request):
    # A checkout under /root (mode 700): the kernel user cannot enter it, so install()
    # hands the kernel a mirror of what it imports instead of falling back to root.
    closed = tmp_path / "home"
    site, package, data = closed / "site", closed / "repo" / "nnlab", closed / "repo" / "data"
    for folder in (site / "lesson", package, data):
        folder.mkdir(parents=True)
    (site / "lesson" / "__init__.py").write_text("ANSWER = 42\n")
    (package / "__init__.py").write_text("")
    (data / "subset.npz").write_bytes(b"digits")
    secret = site / "lesson" / "private.py"
    secret.write_text("TOKEN = 'instructor only'\n")
    secret.chmod(0o600)
    (site / "lesson" / "link.py").symlink_to(secret)
    closed.chmod(0o700)
    # pytest's tmp_path is itself behind /tmp/pytest-of-root (700): mirror into the open
    mirrors = Path(tempfile.mkdtemp(prefix="nnlab-mirror-test-")) / "mirrors"
    mirrors.parent.chmod(0o755)
    monkeypatch.setattr(kernel, "MIRRORS", mirrors)
    request.addfinalizer(lambda: shutil.rmtree(mirrors.parent, ignore_errors=True))

    root = kernel.mirror(str(site), package, data)
    slot, lock = kernel.claim_slot()  # a kernel user no other grader kills processes of
    request.addfinalizer(lock.close)
    uid, gid = kernel.kernel_user(slot)

    # the grader's own search for a Python the kernel user can run, told to import `lesson`
    python = kernel._interpreter_for(uid, gid, [str(root / "site")], modules=("lesson",))
    assert python, "the kernel user could not import from the mirror"
    code = (f"import site; site.addsitedir({str(root / 'site')!r}); "
            "import lesson; print(lesson.ANSWER)")
    reached = subprocess.run([python, "-c", code], user=uid, group=gid, extra_groups=[],
                             capture_output=True, text=True, cwd="/")
    assert reached.stdout.strip() == "42", reached
    # read-only for the kernel user: neither a mirrored file nor a mirror folder takes a write
    write = (f"import os\nfor p in [{str(root / 'site' / 'lesson' / '__init__.py')!r}, "
             f"{str(root / 'src' / 'nnlab' / '__init__.py')!r}]:\n"
             "    try:\n        open(p, 'a').close(); print('wrote', p)\n"
             "    except PermissionError:\n        print('refused')\n"
             f"try:\n    open({str(root / 'site' / 'lesson' / 'new.py')!r}, 'x').close()\n"
             "    print('created')\nexcept PermissionError:\n    print('refused')\n")
    tried = subprocess.run([python, "-c", write], user=uid, group=gid, extra_groups=[],
                           capture_output=True, text=True, cwd="/")
    assert tried.stdout.split() == ["refused"] * 3, tried
    direct = kernel._interpreter_for(uid, gid, [str(site)], modules=("lesson",))
    assert direct is None, "the closed directory was reachable after all"
    assert (root / "src" / "nnlab" / "__init__.py").exists()
    assert (root / "data" / "subset.npz").read_bytes() == b"digits"
    # files others may not read, and links, are never handed over
    assert not (root / "site" / "lesson" / "private.py").exists()
    assert not (root / "site" / "lesson" / "link.py").exists()
    assert (root / "site" / "lesson" / "__init__.py").stat().st_ino == \
        (site / "lesson" / "__init__.py").stat().st_ino  # a hard link, not a copy
    assert oct((root / "site").stat().st_mode & 0o777) == "0o755"
    # the same state reuses the mirror; a change builds another
    assert kernel.mirror(str(site), package, data) == root
    (package / "layers.py").write_text("")
    assert kernel.mirror(str(site), package, data) != root

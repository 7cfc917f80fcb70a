"""Grading on a real Dask cluster with a real PostgreSQL gradebook gives the grades of the
local default, cell by cell, and loses or doubles nothing when a worker or the
coordinator is killed mid-run.

One module-scoped set-up (about 2 minutes on 2 cores): a certificate authority made by
`python -m autograder cluster-certs`; a `dask scheduler` and two `dask worker` processes on
127.0.0.1 speaking mutual TLS; Debian's PostgreSQL in a temporary folder; a class of three
students x two real course notebooks released with `python -m autograder release`. The
class is graded once by the local default (SQLite) and once on the cluster (PostgreSQL),
where one worker is SIGKILLed after the first commit and the coordinator after the
second, and `grade` is run again to finish.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import certs, grade, sample
from autograder.course import NOTEBOOKS, Course
from autograder.gradebook import all_grades
from tests.pgserver import postgres

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("grading-cluster")]
# This file's tests share one xdist worker (their module fixtures grade once); other
# grading files may run beside them: each set of limits has its own kernelspec
# (kernel.spec_name) and each worker its own kernel user (kernel.claim_slot).

NOTEBOOKS_USED = ["00_welcome", "01_single_neuron"]
STUDENTS = ["perfect", "blank", "dead-kernel"]  # the last kills its kernel: salvaged
LIMITS = {"timeout_cell": 20, "timeout_submission": 60}
DASK = str(Path(sys.executable).parent / "dask")


def _cli(*args, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _tls(folder: Path, role: str) -> list[str]:
    return ["--tls-ca-file", str(folder / "ca.pem"), "--tls-cert", str(folder / f"{role}.pem"),
            "--tls-key", str(folder / f"{role}-key.pem")]


def _start(argv: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _release_and_hand_in(course: Course, db: str | None = None) -> None:
    _cli("--course", str(course.root), *(["--db", db] if db else []), "release",
         *NOTEBOOKS_USED, "--notebooks", str(NOTEBOOKS))
    for name in NOTEBOOKS_USED:
        release = nbformat.read(str(course.release / name / f"{name}.ipynb"), as_version=4)
        source = nbformat.read(str(course.source / name / f"{name}.ipynb"), as_version=4)
        made = sample.scenarios(release, source, {})
        for student in STUDENTS:
            sample.write(made[student], course.submission(student, name))


def _records(course: Course) -> dict[tuple[str, str], dict]:
    found = {}
    for path in course.status_dir.glob("*/*.json"):
        rec = json.loads(path.read_text())
        found[(rec["student"], rec["assignment"])] = rec
    return found


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Certificates, a TLS scheduler and two TLS workers on 127.0.0.1; stopped after."""
    tmp = tmp_path_factory.mktemp("cluster")
    folder = tmp / "certs"
    made = _cli("cluster-certs", str(folder), "--host", "127.0.0.1")
    assert "ca-key.pem" in made.stdout
    started = []
    try:
        started.append(_start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--protocol", "tls", "--no-dashboard", "--scheduler-file",
                               str(tmp / "scheduler.json"), *_tls(folder, "scheduler")],
                              tmp / "scheduler.log"))
        _wait(lambda: (tmp / "scheduler.json").exists(), 60, "the scheduler")
        address = json.loads((tmp / "scheduler.json").read_text())["address"]
        assert address.startswith("tls://127.0.0.1:"), address
        workers = []
        for i in range(2):
            workers.append(_start([DASK, "worker", address, "--nthreads", "1", "--nworkers",
                                   "1", "--host", "127.0.0.1", "--no-dashboard",
                                   *_tls(folder, "worker")], tmp / f"worker-{i}.log"))
        started += workers
        from distributed import Client

        with Client(address, security=certs.security(folder), timeout=30) as client:
            client.wait_for_workers(2, timeout=90)
        yield {"address": address, "certs": folder, "workers": workers, "tmp": tmp}
    finally:
        for proc in started:
            _stop(proc)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The class graded by the local default: no server, SQLite gradebook."""
    course = Course(tmp_path_factory.mktemp("local") / "course")
    _release_and_hand_in(course)
    done = grade.run(course, jobs=2, **LIMITS, echo=lambda *a: None)
    assert done["graded"] == len(STUDENTS) * len(NOTEBOOKS_USED), done
    return course


@pytest.fixture(scope="module")
def on_cluster(cluster, tmp_path_factory):
    """The class graded on the cluster into PostgreSQL: one worker killed after the first
    commit, the coordinator killed after the second, then `grade` run again."""
    with postgres() as url:
        course = Course(tmp_path_factory.mktemp("cluster-course") / "course", url)
        _release_and_hand_in(course, url)
        log = cluster["tmp"] / "coordinator.log"
        coordinator = _start([sys.executable, "-m", "autograder", "--course",
                              str(course.root), "--db", url, "grade", "--scheduler",
                              cluster["address"], "--certs", str(cluster["certs"]),
                              "--timeout-cell", str(LIMITS["timeout_cell"]),
                              "--timeout-submission", str(LIMITS["timeout_submission"])], log)
        try:
            _wait(lambda: len(_records(course)) >= 1, 300, "the first commit")
            _stop(cluster["workers"][0])  # mid-run: its task goes to the other worker
            _wait(lambda: len(_records(course)) >= 2 or coordinator.poll() is not None, 300,
                  "the second commit")
        finally:
            _stop(coordinator)
        killed_at = len(_records(course))
        resumed = grade.run(course, scheduler=cluster["address"], certs=cluster["certs"],
                            **LIMITS, echo=lambda *a: None)
        again = grade.run(course, scheduler=cluster["address"], certs=cluster["certs"],
                          **LIMITS, echo=lambda *a: None)
        yield {"course": course, "grades": all_grades(url), "killed_at": killed_at,
               "resumed": resumed, "again": again, "log": log.read_text()}


def test_the_cluster_grades_exactly_like_the_local_default(local, on_cluster):
    reference = all_grades(local.url)
    assert reference and len(reference) == len({r[:3] for r in reference})
    assert {r[0] for r in reference} == set(STUDENTS)
    assert on_cluster["grades"] == reference  # cell by cell, each exactly once


def test_status_records_agree_and_none_is_lost(local, on_cluster):
    mine, theirs = _records(on_cluster["course"]), _records(local)
    assert set(mine) == set(theirs) == {(s, n) for s in STUDENTS for n in NOTEBOOKS_USED}
    for unit, rec in theirs.items():
        other = mine[unit]
        assert (other["status"], other["score"], other["cells"]) == \
            (rec["status"], rec["score"], rec["cells"]), unit
    assert ("dead-kernel", "00_welcome") in mine
    assert "kernel-died" in mine[("dead-kernel", "00_welcome")]["reasons"]


def test_killed_worker_and_coordinator_lose_and_repeat_nothing(on_cluster):
    total = len(STUDENTS) * len(NOTEBOOKS_USED)
    assert 1 <= on_cluster["killed_at"] < total, on_cluster["killed_at"]
    resumed = on_cluster["resumed"]
    assert resumed["graded"] + resumed["skipped"] == total
    assert resumed["skipped"] >= on_cluster["killed_at"] and not resumed["failed_workers"]
    assert on_cluster["again"]["graded"] == 0 and on_cluster["again"]["skipped"] == total


def test_progress_prints_one_line_per_submission_when_not_a_terminal(on_cluster):
    lines = [line for line in on_cluster["log"].splitlines() if line.startswith("[")]
    assert lines and lines[0].startswith(f"[1/{len(STUDENTS) * len(NOTEBOOKS_USED)}] "), \
        on_cluster["log"][-2000:]


def test_the_gradebook_never_became_a_sqlite_file(on_cluster):
    assert not on_cluster["course"].db.exists()


def test_a_worker_without_the_clusters_certificate_is_refused(cluster, tmp_path):
    from distributed import Client

    stranger = tmp_path / "stranger"
    certs.make(stranger, hosts=["127.0.0.1"])  # a valid certificate of another authority
    attempts = {"other authority": _tls(stranger, "worker"), "no certificate": []}
    for what, tls in attempts.items():
        proc = subprocess.run([DASK, "worker", cluster["address"], "--nthreads", "1",
                               "--host", "127.0.0.1", "--no-dashboard", "--no-nanny",
                               "--death-timeout", "8", *tls], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode != 0, (what, proc.stdout[-1500:], proc.stderr[-1500:])
    with Client(cluster["address"], security=certs.security(cluster["certs"]),
                timeout=30) as client:
        assert len(client.nthreads()) <= 2  # neither stranger joined
    with pytest.raises((OSError, TimeoutError)):
        Client(cluster["address"], security=certs.security(stranger), timeout=5)

"""What judging from outside costs (issue 9's budget: at most +15% per notebook).

Every notebook's perfect submission is executed by the grader two ways, interleaved in
one run on the same machine:

- **in-kernel**: the checks run in the student's kernel (`checks_in_kernel`, nothing
  judged in the grader) and the kernel has no sandbox (the `-nobox` kernelspec): the
  grader as it was before the verdict moved out of the kernel;
- **judged**: the default: each graded check runs in the grader, the student's code is
  reached through the oracle, the kernel runs in bubblewrap with the per-assignment
  library.

Only the execution is timed (preparing and committing a submission are the same code in
both). NNLAB_BENCH_ROUNDS rounds (default 3), the two ways in alternating order; the
median per notebook is reported with the oracle's request count. Both gradebooks must
hold the same scores.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from autograder import engine, grade, kernel, oracle, submission
from autograder.course import Course
from autograder.gradebook import all_grades
from bench.grading import build, copy_course

STUDENT = "s000"  # build() hands in the perfect notebook as student 0
LIMITS = {"memory_mb": 2048, "cpu_seconds": 600, "nproc": 64}


def rounds() -> int:
    raw = os.environ.get("NNLAB_BENCH_ROUNDS", "3")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"NNLAB_BENCH_ROUNDS={raw!r}; give a whole number of rounds >= 1")
    return int(raw)


def modes() -> dict[str, tuple[dict, dict]]:
    """way -> (grading settings, the kernel host's record), each kernelspec installed."""
    out = {}
    for way, boxed in (("in-kernel", False), ("judged", True)):
        host = kernel.install(**LIMITS, sandbox=boxed)
        settings = grade.settings_for(30, LIMITS["cpu_seconds"], host["name"])
        if not boxed:
            settings.update({"JudgedExecute.checks_in_kernel": True,
                             "JudgedExecute.judged": False})
        out[way] = (settings, host)
    return out


class _Counted:
    """Counts the oracle's requests while installed (one process, no threads)."""

    def __init__(self):
        self.count = 0
        self._original = oracle.Oracle.request

    def __enter__(self):
        counted = self

        def request(self, *args, **kwargs):
            counted.count += 1
            return counted._original(self, *args, **kwargs)

        oracle.Oracle.request = request
        return self

    def __exit__(self, *exc):
        oracle.Oracle.request = self._original


def run(n_rounds: int | None = None):
    n_rounds = rounds() if n_rounds is None else n_rounds
    slot, lock = kernel.claim_slot()
    os.environ["NNLAB_KERNEL_SLOT"] = str(slot)
    kernel.kernel_user(slot)
    try:
        ways = modes()
        if ways["judged"][1]["sandbox"] is None:
            yield (f"(the judged way runs without its sandbox here: "
                   f"{ways['judged'][1]['sandbox_reason']})")
        with tempfile.TemporaryDirectory(prefix="nnlab-bench-judge-") as tmp:
            courses = {"in-kernel": Course(Path(tmp) / "in-kernel")}
            build(courses["in-kernel"], 1)
            courses["judged"] = copy_course(courses["in-kernel"], Course(Path(tmp) / "judged"))
            times: dict[tuple[str, str], list[float]] = {}
            requests: dict[str, int] = {}
            names = courses["judged"].assignments()
            for r in range(n_rounds):
                for name in names:
                    order = list(ways) if (r + names.index(name)) % 2 == 0 else list(ways)[::-1]
                    for way in order:
                        settings, host = ways[way]
                        course = courses[way]
                        record, payload = submission.prepare(course, STUDENT, name, settings)
                        engine.HOST.clear()
                        engine.HOST.update(host)
                        with _Counted() as counted:
                            start = time.perf_counter()
                            outcome = engine.execute(payload)
                            times.setdefault((name, way), []).append(
                                time.perf_counter() - start)
                        if way == "judged":
                            requests[name] = counted.count
                        if r == n_rounds - 1:
                            submission.commit(course, record, payload, outcome, settings)
            yield (f"{n_rounds} round(s), the two ways interleaved; seconds executing the "
                   f"perfect submission, median")
            yield "| notebook | in-kernel | judged | ratio | oracle requests |"
            yield "|---|---|---|---|---|"
            total = {way: 0.0 for way in ways}
            worst = 0.0
            for name in names:
                med = {way: statistics.median(times[(name, way)]) for way in ways}
                for way in ways:
                    total[way] += med[way]
                ratio = med["judged"] / med["in-kernel"]
                worst = max(worst, ratio)
                yield (f"| {name} | {med['in-kernel']:.2f} s | {med['judged']:.2f} s | "
                       f"{ratio:.2f}x | {requests.get(name, 0)} |")
            yield (f"whole course: {total['in-kernel']:.1f} s in-kernel, {total['judged']:.1f} s "
                   f"judged = {total['judged'] / total['in-kernel']:.2f}x; the costliest "
                   f"notebook {worst:.2f}x (goal: at most 1.15x)")
            a, b = (all_grades(courses[way].url) for way in ways)
            differ = sorted(set(a) ^ set(b))
            yield (f"grade cells compared: {len(a)} in-kernel, {len(b)} judged; "
                   + ("identical scores" if not differ else f"{len(differ)} DIFFER: "
                                                             f"{differ[:4]}"))
            if differ:
                raise AssertionError(f"the two ways scored differently: {differ[:8]}")
    finally:
        lock.close()

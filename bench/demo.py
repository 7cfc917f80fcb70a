"""How long `make demo` (the README's first command) takes: `python -m autograder demo`
on the real course in a temp folder, wall and CPU seconds (the grader's and its
kernels'). tests/test_demo.py checks what it prints and writes; the time lives here.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run():
    with tempfile.TemporaryDirectory(prefix="nnlab-bench-demo-") as tmp:
        course = Path(tmp) / "course"
        cpu, wall = _children_cpu(), time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "autograder", "demo", "--course",
                               str(course)], capture_output=True, text=True)
        wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
        if done.returncode != 0:
            raise RuntimeError(f"demo exited {done.returncode}: {done.stderr[-2000:]}")
        students = len([p for p in (course / "submitted").iterdir() if p.is_dir()])
        graded = len(list((course / "grader" / "status").glob("*/*.json")))
    yield (f"make demo (python -m autograder demo): {wall:.0f} s wall, {cpu:.0f} s CPU; "
           f"{students} students, {graded} status records")

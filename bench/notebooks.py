"""Issue 4: how long each course notebook takes to run top to bottom with its solutions.

Every source notebook in `notebooks/` runs in a fresh python3 kernel with one BLAS
thread, the way the test suite and a grader run it; the budget is 20 s per notebook and
90 s for the course, in wall seconds. The kernel's CPU seconds are shown beside them,
since a shared machine stretches wall time. A notebook that raises is reported, the
others are still timed, and the section fails at the end.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
BUDGET = 20.0         # wall seconds per notebook
COURSE_BUDGET = 90.0  # wall seconds for the whole course
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _children_cpu() -> float | None:
    """CPU seconds of this process plus its finished children (None where unknown)."""
    try:
        import resource
    except ImportError:                       # Windows: no getrusage
        return None
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def time_notebook(path: Path, *, timeout: int = 120) -> tuple[float, float | None]:
    """``(wall, cpu)`` seconds to execute the notebook at `path` in a new python3 kernel,
    kernel start and shutdown included; cpu counts the kernel and this process (None
    where the platform cannot tell). Raises nbclient's CellExecutionError when a cell
    fails."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    # The kernel's stderr (ipykernel's warning about TCP without encryption, each time)
    # goes to a file, shown only when the notebook fails.
    with tempfile.TemporaryFile("w+") as stderr:
        cpu0, wall0 = _children_cpu(), time.perf_counter()
        try:
            client.execute(stderr=stderr)
        except Exception as exc:
            stderr.seek(0)
            exc.add_note("kernel stderr:\n" + stderr.read()[-2000:])
            raise
        wall, cpu1 = time.perf_counter() - wall0, _children_cpu()
    return wall, None if cpu0 is None or cpu1 is None else cpu1 - cpu0


def _missing(folder: Path) -> list[str]:
    """Notebooks that `folder`/manifest.json lists but that have no .ipynb file."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return []
    listed = json.loads(manifest.read_text(encoding="utf-8")).get("notebooks", {})
    return sorted(name for name in listed if not (folder / f"{name}.ipynb").is_file())


def _pick(folder: Path, names: list[str] | None) -> list[Path]:
    paths = sorted(folder.glob("*.ipynb"))
    if names is None:
        return paths
    unknown = sorted(set(names) - {p.stem for p in paths})
    if unknown:
        raise ValueError(f"no notebook {unknown} in {folder}; there are "
                         f"{[p.stem for p in paths]}")
    return [p for p in paths if p.stem in names]


def run(names: list[str] | None = None, *, folder: Path = NOTEBOOKS,
        budget: float = BUDGET, course_budget: float = COURSE_BUDGET):
    """Yield one line per notebook (wall and CPU seconds, within budget or OVER) and the
    course total. `names` picks notebooks of `folder` by file stem (default: all)."""
    paths = _pick(Path(folder), names)
    saved = {var: os.environ.get(var) for var in _ONE_THREAD}
    os.environ.update({var: "1" for var in _ONE_THREAD})  # kernels inherit the environment
    failed, total, total_cpu = [], 0.0, 0.0
    try:
        for path in paths:
            try:
                wall, cpu = time_notebook(path)
            except Exception as exc:  # a failing cell: report it, time the others
                failed.append(path.stem)
                last = (str(exc).strip().splitlines() or [""])[-1][:160]
                yield f"{path.stem:28s}  FAILED: {type(exc).__name__}: {last}"
                continue
            total += wall
            total_cpu += cpu or 0.0
            verdict = "ok" if wall <= budget else f"OVER the {budget:g} s budget"
            cpu_text = "   ? " if cpu is None else f"{cpu:5.1f}"
            yield f"{path.stem:28s} {wall:6.1f} s wall {cpu_text} s cpu  {verdict}"
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value
    missing = _missing(Path(folder)) if names is None else []
    for name in missing:
        yield f"{name:28s}  MISSING: listed in manifest.json, no {name}.ipynb to time"
    verdict = "ok" if total <= course_budget else f"OVER the {course_budget:g} s budget"
    timed = len(paths) - len(failed)
    yield (f"{'course total':28s} {total:6.1f} s wall {total_cpu:5.1f} s cpu  {verdict} "
           f"({timed} notebooks timed" + (f", {len(missing)} missing)" if missing else ")"))
    if failed:
        raise RuntimeError("notebooks failed: " + ", ".join(failed))

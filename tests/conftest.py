"""Test-wide settings: one BLAS thread, a headless matplotlib, and the repo's paths."""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
# Subprocesses (nbgrader runs `alembic`, jupyter scripts) must find the .venv's scripts even
# when pytest is started as `.venv/bin/python -m pytest` without activating the venv.
_bin = os.path.dirname(os.path.abspath(__import__("sys").executable))
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT

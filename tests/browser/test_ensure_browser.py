"""No browser, no silent green: scripts/ensure-browser.sh and the browser fixtures.

Locally, a machine that cannot get Chromium skips the browser tests and says why (the
script exits 0, each test is reported skipped with the reason). Under CI (CI=true) the
same machine fails: the script exits 1 and a browser test fails with the reason. Both
paths are run for real here, on a PATH without apt-get so nothing is ever installed.
"""

import os
import shutil
import subprocess
import sys

import pytest
from labdriver import CHROMIUM, ROOT

SCRIPT = ROOT / "scripts" / "ensure-browser.sh"
BASH = shutil.which("bash") or "/bin/bash"
HARNESS = ROOT / "tests" / "browser" / "test_harness.py"


def _no_apt_path(tmp_path) -> str:
    """A PATH holding only `bash` and `id`: no apt-get, no sudo, so no install attempt."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "id"):
        (bindir / tool).symlink_to(shutil.which(tool))
    return str(bindir)


def _run(env_updates: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | env_updates
    return subprocess.run([BASH, str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed here")
@pytest.mark.parametrize("ci", ["", "true"])
def test_present_chromium_is_reported_with_its_version(ci):
    done = _run({"NNLAB_CHROMIUM": str(CHROMIUM), "CI": ci})
    assert done.returncode == 0
    assert f"{CHROMIUM} is present" in done.stdout and "Chromium" in done.stdout, done.stdout


def test_locally_a_missing_chromium_is_explained_and_exits_0(tmp_path):
    done = _run({"NNLAB_CHROMIUM": str(tmp_path / "no-chromium"),
                 "PATH": _no_apt_path(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert "is missing" in done.stdout and "fix:" in done.stdout, done.stdout
    assert "will skip" in done.stdout and "installing" not in done.stdout, done.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_chromium_fails_the_script(tmp_path, ci):
    done = _run({"NNLAB_CHROMIUM": str(tmp_path / "no-chromium"),
                 "PATH": _no_apt_path(tmp_path), "CI": ci})
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "is missing" in done.stdout and "fix:" in done.stdout, done.stdout
    assert f"CI={ci}" in done.stderr and "failing" in done.stderr, done.stderr


def _browser_test(tmp_path, ci: str) -> subprocess.CompletedProcess:
    """A real browser test, run by pytest on a machine without Chromium or apt-get."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(NNLAB_CHROMIUM=str(tmp_path / "no-chromium"), PATH=_no_apt_path(tmp_path),
               CI=ci)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rsf",
                           "-q", str(HARNESS)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_locally_a_browser_test_without_chromium_skips_with_the_reason(tmp_path):
    done = _browser_test(tmp_path, ci="")
    assert done.returncode == 0, done.stdout[-3000:]
    assert "1 skipped" in done.stdout and "SKIPPED" in done.stdout, done.stdout[-3000:]
    assert "no-chromium is missing" in done.stdout, done.stdout[-3000:]


def test_under_ci_a_browser_test_without_chromium_fails_with_the_reason(tmp_path):
    done = _browser_test(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout[-3000:]
    assert "1 error" in done.stdout or "1 failed" in done.stdout, done.stdout[-3000:]
    assert "skipped" not in done.stdout, done.stdout[-3000:]
    assert "browser tests cannot run under CI=true" in done.stdout, done.stdout[-3000:]
    assert "no-chromium is missing" in done.stdout, done.stdout[-3000:]

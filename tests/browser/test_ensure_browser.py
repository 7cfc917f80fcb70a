"""scripts/ensure-browser.sh never fails a build: with Chromium present it says so, and where
it cannot install Chromium it explains why and exits 0 (the browser tests then skip)."""

import os
import shutil
import subprocess

import pytest
from labdriver import CHROMIUM, ROOT

SCRIPT = ROOT / "scripts" / "ensure-browser.sh"
BASH = shutil.which("bash") or "/bin/bash"


def _run(env_updates: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_updates}
    return subprocess.run([BASH, str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed here")
def test_present_chromium_is_reported_with_its_version():
    done = _run({"NNLAB_CHROMIUM": str(CHROMIUM)})
    assert done.returncode == 0
    assert f"{CHROMIUM} is present" in done.stdout and "Chromium" in done.stdout, done.stdout


def test_missing_chromium_without_a_way_to_install_it_explains_and_exits_0(tmp_path):
    # A PATH holding only `id`: no apt-get, no sudo. Whoever runs this gets one of the two
    # "cannot install" explanations (not root, or no apt-get), never an install attempt.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "id").symlink_to(shutil.which("id"))
    done = _run({"NNLAB_CHROMIUM": str(tmp_path / "no-chromium"),
                 "PATH": str(tmp_path / "bin")})
    assert done.returncode == 0, done.stderr
    assert "is missing" in done.stdout and "fix:" in done.stdout, done.stdout
    assert "installing" not in done.stdout, done.stdout

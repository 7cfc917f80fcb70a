"""Fixtures that put the course in a real browser: JupyterLab from the project's .venv on
127.0.0.1 (free port, random token, a tmp root), driven by Playwright with Debian's
Chromium. Playwright never downloads a browser here; when /usr/bin/chromium is missing
and scripts/ensure-browser.sh cannot install it, every browser test skips with the reason,
except under CI (CI=true), where it fails with that reason: CI cannot go green unchecked.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from labdriver import CHROMIUM, CHROMIUM_ARGS, ROOT, SHOTS, LabServer, Notebook, venv_python

#: The notebooks the student scenarios open.
SCENARIO_NOTEBOOKS = ("01_single_neuron", "04_xor")


def in_ci(env=os.environ) -> bool:
    """True under a CI service: they all set CI (GitHub Actions, GitLab: CI=true)."""
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str) -> None:
    """Skip with `reason`, printed; under CI fail with it instead."""
    if in_ci():
        pytest.fail(f"browser tests cannot run under CI={os.environ['CI']}: {reason}",
                    pytrace=False)
    print(f"SKIP browser tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's Chromium, installed by scripts/ensure-browser.sh when we may; else skip
    (locally) or fail (under CI) with the reason."""
    said = ""
    if not CHROMIUM.exists():
        script = ROOT / "scripts" / "ensure-browser.sh"
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True)
        said = (done.stdout + done.stderr).strip()
        print(said)
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing and scripts/ensure-browser.sh could not install "
                    f"it ({' / '.join(said.splitlines()) or 'no message'}); install "
                    "Debian's chromium to run the browser tests")
    return CHROMIUM


@pytest.fixture(scope="session")
def released_course(chromium_executable, tmp_path_factory) -> Path:
    """A course root where `python -m autograder release` (nbgrader's generate_assignment)
    made the student versions of SCENARIO_NOTEBOOKS, once per session. Read-only for tests:
    copy what you change."""
    course = tmp_path_factory.mktemp("released") / "course"
    done = subprocess.run([venv_python(), "-m", "autograder", "release", *SCENARIO_NOTEBOOKS,
                           "--course", str(course)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"autograder release failed:\n{done.stdout}\n{done.stderr}"
    return course


@pytest.fixture
def start_lab(tmp_path_factory):
    """`start_lab(root) -> LabServer`; every server started is stopped at teardown."""
    servers: list[LabServer] = []

    def start(root: Path) -> LabServer:
        server = LabServer(Path(root), tmp_path_factory.mktemp("lab-home"))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --------------------------------------------------------------------------- Chromium


@pytest.fixture
def browser_page(chromium_executable, tmp_path_factory):
    """A Playwright page in a fresh headless Chromium profile (no network but 127.0.0.1)."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(chromium_executable), headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(30_000)
        page = context.pages[0] if context.pages else context.new_page()
        console_errors: list[str] = []
        page.on("pageerror", lambda exc: console_errors.append(str(exc)))
        page.console_errors = console_errors
        try:
            yield page
        finally:
            context.close()


@pytest.fixture
def shot(request):
    """`shot(page, step) -> Path`: a full-page PNG under test-output/browser/."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    test = request.node.name.replace("[", "-").replace("]", "").replace("/", "-")

    def take(page, step: str) -> Path:
        path = SHOTS / f"{test}--{step}.png"
        page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 10_000, f"screenshot {path} is suspiciously small"
        return path

    return take


@pytest.fixture
def open_notebook(browser_page):
    """`open_notebook(server, relpath) -> Notebook` in the test's browser page."""

    def open_(server: LabServer, relpath: str) -> Notebook:
        return Notebook(browser_page, server, relpath)

    return open_

"""Drive JupyterLab like a person: a `LabServer` started from the project's .venv on
127.0.0.1, a `Notebook` open in it (type into cells, run, save, read), and the slider
drag of ipywidgets 8. The fixtures in conftest.py hand these to the tests.
"""


from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("NNLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
#: Screenshots land here (gitignored), one PNG per scenario step, for a person to look at.
SHOTS = ROOT / "test-output" / "browser"
SERVER_START_TIMEOUT = 90.0
#: JupyterLab's own notification (news, update checks) would cover the notebook.
_QUIET_LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def venv_python() -> str:
    candidate = ROOT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


# --------------------------------------------------------------------------- JupyterLab


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """One `jupyter lab` process serving `root`; `url(path)` adds the token."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "jupyter-lab.log"
        config_dir = home / "jupyter-config"
        settings_dir = config_dir / "lab" / "user-settings"
        for name, values in _QUIET_LAB_SETTINGS.items():
            target = settings_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = dict(os.environ)
        # The kernel must behave as a student's: inline matplotlib, not the test suite's Agg.
        env.pop("MPLBACKEND", None)
        env.update(
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
            IPYTHONDIR=str(home / "ipython"),
            OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
        )
        cmd = [
            venv_python(), "-m", "jupyterlab",
            "--no-browser", "--ServerApp.open_browser=False",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={root}",
            f"--LabApp.user_settings_dir={settings_dir}",
            f"--LabApp.workspaces_dir={config_dir / 'lab' / 'workspaces'}",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT:.0f} s:\n"
                           f"{self.log_tail()}")

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{sep}token={self.token}"

    def stop(self) -> None:
        """SIGTERM the server's process group (it shuts its kernels down), then SIGKILL."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        try:  # kernels left in the group, if the server died before stopping them
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._log.close()


# --------------------------------------------------------------------------- notebooks


class Notebook:
    """A notebook open in JupyterLab, driven the way a student drives it."""

    def __init__(self, page, server: LabServer, relpath: str):
        self.page, self.server, self.relpath = page, server, relpath
        self.path = server.root / relpath
        page.goto(server.url(f"lab/tree/{relpath}"))
        self.panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(state="visible",
                                                                   timeout=60_000)
        # JupyterLab 4 attaches cells in batches after the first: wait for all of them, so
        # cells.nth(i) is cell i of the file.
        expected = len(nbformat.read(self.path, as_version=4).cells)
        deadline = time.monotonic() + 30
        while self.cells.count() < expected and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        if self.cells.count() != expected:
            raise AssertionError(f"{relpath}: JupyterLab shows {self.cells.count()} cells, "
                                 f"the file holds {expected}")
        self.wait_kernel_idle(timeout=60.0)

    # -- cells
    @property
    def cells(self):
        return self.panel.locator(".jp-Notebook .jp-Cell")

    def code_cell_index(self, predicate) -> list[int]:
        """Indices of the cells in the saved file for which `predicate(cell)` is true."""
        nb = nbformat.read(self.path, as_version=4)
        return [i for i, cell in enumerate(nb.cells) if predicate(cell)]

    def type_into(self, index: int, source: str) -> None:
        """Replace cell `index`'s text through its CodeMirror editor, as a paste does."""
        cell = self.cells.nth(index)
        cell.scroll_into_view_if_needed()
        editor = cell.locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        self.page.keyboard.insert_text(source)
        self.page.keyboard.press("Escape")  # back to command mode

    def run_all(self, timeout: float = 180.0) -> None:
        """Run > Run All Cells from the menu bar, then wait until every cell has run."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        self.page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
        self.wait_all_run(timeout)

    def run_cell(self, index: int, timeout: float = 60.0) -> None:
        """Select cell `index` and press Ctrl+Enter."""
        cell = self.cells.nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_timeout(300)
        self.wait_all_run(timeout)

    def wait_kernel_idle(self, timeout: float = 60.0) -> None:
        indicator = self.panel.locator(".jp-Notebook-ExecutionIndicator")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if indicator.count() and indicator.first.get_attribute("data-status") == "idle":
                return
            self.page.wait_for_timeout(200)
        raise AssertionError(f"kernel of {self.relpath} not idle after {timeout:.0f} s; "
                             f"server log:\n{self.server.log_tail()}")

    def wait_all_run(self, timeout: float) -> None:
        """Wait until no input prompt shows `[*]` and the kernel is idle."""
        deadline = time.monotonic() + timeout
        self.page.wait_for_timeout(300)
        while time.monotonic() < deadline:
            prompts = self.panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
            if not any("*" in p for p in prompts):
                self.wait_kernel_idle(max(1.0, deadline - time.monotonic()))
                return
            self.page.wait_for_timeout(300)
        raise AssertionError(f"{self.relpath}: cells still running after {timeout:.0f} s")

    # -- what the student sees and what the file holds
    def output_text(self, index: int) -> str:
        return self.cells.nth(index).locator(".jp-OutputArea").inner_text()

    def save(self) -> nbformat.NotebookNode:
        """Ctrl+S, wait for the file to change on disk, and return it as read from disk."""
        before = self.path.stat().st_mtime_ns
        self.panel.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 20
        while self.path.stat().st_mtime_ns == before and time.monotonic() < deadline:
            self.page.wait_for_timeout(200)
        self.page.wait_for_timeout(300)
        return nbformat.read(self.path, as_version=4)

    def assert_no_error_outputs(self) -> nbformat.NotebookNode:
        """Save, then fail on any `error` output in the file or a traceback on screen."""
        nb = self.save()
        errors = [(i, out.get("ename"), out.get("evalue"))
                  for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
                  for out in cell.get("outputs", []) if out.get("output_type") == "error"]
        assert not errors, f"{self.relpath}: cells raised errors: {errors}"
        on_screen = self.panel.locator(".jp-OutputArea-output").all_inner_texts()
        tracebacks = [t[:300] for t in on_screen if "Traceback (most recent call last)" in t]
        assert not tracebacks, f"{self.relpath}: tracebacks on screen: {tracebacks}"
        return nb


def drag_slider(page, slider, fraction: float) -> None:
    """Drag an ipywidgets 8 slider's noUiSlider handle to `fraction` of its track."""
    track = slider.locator(".noUi-target, .ui-slider").first
    handle = slider.locator(".noUi-handle, .ui-slider-handle").first
    handle.scroll_into_view_if_needed()
    box_h, box_t = handle.bounding_box(), track.bounding_box()
    x0, y0 = box_h["x"] + box_h["width"] / 2, box_h["y"] + box_h["height"] / 2
    x1 = box_t["x"] + fraction * box_t["width"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x0 + (x1 - x0) * step / 10, y0)
    page.mouse.up()

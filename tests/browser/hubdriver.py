"""A course hub for the browser tests: system users made for the test, JupyterHub started
on 127.0.0.1 from the shared environment scripts/ensure-hub.sh builds, and a stop that
ends the hub, the proxy and every process of the test's users (by pid), also on failure.
"""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from labdriver import ROOT

HUB_ENV = Path(os.environ.get("NNLAB_HUB_ENV", "/var/lib/nnlab/hub-env"))
CONFIG = ROOT / "autograder" / "hub" / "jupyterhub_config.py"


def ensure_hub() -> str | None:
    """Run scripts/ensure-hub.sh; None when the hub can run here, else why it cannot."""
    if os.geteuid() != 0:
        return "the hub test creates system users and spawns servers as them: it needs root"
    done = subprocess.run(["bash", str(ROOT / "scripts" / "ensure-hub.sh")],
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return f"scripts/ensure-hub.sh failed:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SystemUsers:
    """Local accounts made with useradd (home under /home), removed with userdel -r."""

    def __init__(self, names: list[str]):
        self.names: list[str] = []
        for name in names:
            subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name],
                           check=True, capture_output=True, text=True)
            self.names.append(name)

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def pids(self) -> list[int]:
        uids = {pwd.getpwnam(n).pw_uid for n in self.names}
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid in uids:
                        found.append(int(entry.name))
                except FileNotFoundError:
                    continue
        return found

    def remove(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            time.sleep(1.0)
        for name in self.names:
            subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)


class Hub:
    """`jupyterhub -f autograder/hub/jupyterhub_config.py` on free 127.0.0.1 ports."""

    def __init__(self, state: Path, exchange: Path, course: Path, students: list[str],
                 instructors: list[str], *, make: bool = False):
        """With `make`, the README's `make hub` starts it (releasing every notebook into
        `course` first), with the same settings as make variables."""
        self.state = state
        state.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.password = secrets.token_hex(8)
        env = dict(os.environ, NNLAB_HUB_ENV=str(HUB_ENV), NNLAB_HUB_STATE=str(state),
                   NNLAB_HUB_PORT=str(self.port), NNLAB_HUB_API_PORT=str(free_port()),
                   NNLAB_HUB_PROXY_API_PORT=str(free_port()), NNLAB_EXCHANGE=str(exchange),
                   NNLAB_COURSE=str(course), NNLAB_STUDENTS=",".join(students),
                   NNLAB_INSTRUCTORS=",".join(instructors), NNLAB_HUB_PASSWORD=self.password)
        env.pop("MPLBACKEND", None)
        argv, cwd = [str(HUB_ENV / "bin" / "jupyterhub"), "-f", str(CONFIG)], state
        if make:
            argv = ["make", "--no-print-directory", "hub", f"HUB_ENV={HUB_ENV}",
                    f"HUB_STATE={state}", f"HUB_EXCHANGE={exchange}", f"HUB_COURSE={course}",
                    f"HUB_STUDENTS={','.join(students)}",
                    f"HUB_INSTRUCTORS={','.join(instructors)}", f"HUB_PASSWORD={self.password}"]
            cwd = ROOT
        self.log_path = state / "jupyterhub.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(600.0 if make else 60.0)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/hub/api", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"jupyterhub did not answer within {timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM the hub's process group (it stops the proxy), then SIGKILL what is left."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self._log.close()


class UserServer:
    """What labdriver.Notebook needs of a server, for one user's server behind the hub."""

    def __init__(self, hub: Hub, user: str, home: Path):
        self.hub, self.user, self.root = hub, user, home

    def url(self, path: str) -> str:
        return f"{self.hub.base}/user/{self.user}/{path.lstrip('/')}"

    def log_tail(self, lines: int = 40) -> str:
        return self.hub.log_tail(lines)


def shared_tmp(prefix: str) -> Path:
    """A folder other users can traverse (pytest's own tmp is mode 700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path

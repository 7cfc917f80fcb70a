"""Every grading kernel in its own bubblewrap sandbox, reached only through Unix sockets.

The grader opens a private directory per kernel (`KernelBox`) and tells nbclient's kernel
manager to use Jupyter's `ipc` transport there; the kernel launcher (`autograder.kernel`,
run as root under prlimit) reads the box's plan, becomes the worker's kernel user and
execs `bwrap`, which shows the kernel only /usr, the assignment's library mirror, the one
submission, its socket directory and size-capped /tmp and /dev/shm, in its own PID,
network, IPC and user namespaces, with a cleared environment. When bubblewrap cannot run
(not root, not installed, no user namespaces) `unavailable()` says why and grading falls
back to the plain kernel user, which the grader and the integrity report then say.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

PLAN = "plan.json"
SOCKETS = "s"
TMP_MB = 64      # the kernel's private /tmp (RAM), gone with the kernel
SHM_MB = 16      # its /dev/shm (multiprocessing's semaphores need a little)
PATH = "/usr/local/bin:/usr/bin:/bin"
#: Paths at the root that Debian makes links into /usr (merged /usr); bound as such.
ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

_probe_cache: dict[tuple, str | None] = {}


def bwrap() -> str | None:
    return shutil.which("bwrap")


def unavailable(uid: int | None = None, gid: int | None = None) -> str | None:
    """Why kernels cannot be sandboxed here, or None when they can.

    Runs bubblewrap once as the kernel user (uid, gid) with every namespace the real
    sandbox uses, so a kernel without user namespaces is found before grading starts.
    """
    if os.geteuid() != 0:
        return ("the grader is not root, so it cannot run kernels as another user inside "
                "bubblewrap (grade as root, or accept the plain kernel)")
    path = bwrap()
    if path is None:
        return "bubblewrap is not installed (run scripts/ensure-sandbox.sh, or apt-get " \
               "install bubblewrap)"
    key = (path, uid, gid)
    if key not in _probe_cache:
        argv = [path, "--unshare-all", "--disable-userns", "--unshare-user",
                "--die-with-parent", "--new-session", "--clearenv", *_system_binds(),
                "--proc", "/proc", "--dev", "/dev", "--size", str(1 << 20), "--tmpfs", "/tmp",
                "--", "/usr/bin/env", "true"]
        from autograder.kernel import run_as

        try:
            done = run_as(argv, uid, gid, text=True, timeout=60)
            why = None if done.returncode == 0 else (
                f"bubblewrap cannot create a sandbox here ({done.stderr.strip()[:200]}); "
                "user namespaces may be disabled (sysctl user.max_user_namespaces)")
        except (OSError, subprocess.SubprocessError) as exc:
            why = f"bubblewrap failed to start: {exc}"
        _probe_cache[key] = why
    return _probe_cache[key]


def _system_binds() -> list[str]:
    """/usr read-only, and the root's links into it (or the real folders where not merged)."""
    argv = ["--ro-bind", "/usr", "/usr"]
    for name in ROOT_LINKS:
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    return argv


def environment(data: str, home: str = "/tmp") -> dict[str, str]:
    """The kernel's whole environment: an allow-list, nothing from the grader."""
    return {"PATH": PATH, "LANG": "C.UTF-8", "HOME": home, "USER": "student",
            "LOGNAME": "student", "IPYTHONDIR": f"{home}/.ipython",
            "MPLCONFIGDIR": f"{home}/.matplotlib", "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
            "NNLAB_DATA": data}


def boot_code(sites: list[str], connection_file: str) -> str:
    """What the sandboxed Python runs: the mirror's sites first on sys.path, then ipykernel."""
    return ("import runpy, site, sys; before = list(sys.path); "
            f"[site.addsitedir(p) for p in {sites!r}]; "
            "sys.path[:] = [p for p in sys.path if p not in before] + before; "
            f"sys.argv = ['ipykernel_launcher', '-f', {connection_file!r}]; "
            "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)")


def argv(plan: dict, connection_file: str) -> list[str]:
    """The bwrap command line that runs one kernel as described by `plan`."""
    scratch, sockets, python = plan["scratch"], plan["sockets"], plan["python"]
    line = [plan.get("bwrap") or bwrap() or "bwrap",
            "--unshare-all", "--disable-userns", "--unshare-user",
            "--uid", str(plan["uid"]), "--gid", str(plan["gid"]), "--hostname", "nnlab",
            "--die-with-parent", "--new-session", "--clearenv"]
    for key, value in environment(plan["data"]).items():
        line += ["--setenv", key, value]
    line += _system_binds()
    prefix = plan.get("prefix")
    if prefix and prefix != "/usr" and not prefix.startswith("/usr/"):
        line += ["--ro-bind", prefix, prefix]
    line += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(plan["tmp_mb"] << 20), "--tmpfs", "/tmp",
             "--size", str(plan["shm_mb"] << 20), "--tmpfs", "/dev/shm",
             *[arg for path in plan["libraries"] for arg in ("--ro-bind", path, path)],
             "--ro-bind", scratch, scratch,
             "--bind", sockets, sockets,
             "--remount-ro", "/dev", "--remount-ro", "/",
             "--chdir", scratch,
             "--", python, "-s", "-c",
             boot_code(plan["sites"], connection_file)]
    return line


class KernelBox:
    """One kernel's private directory: its plan (root's, read by the launcher) and `s/`,
    the kernel user's socket directory bound into the sandbox at the same path."""

    def __init__(self, *, uid: int, gid: int, python: str, sites: list[Path], data: Path,
                 scratch: Path, tmp_mb: int = TMP_MB, shm_mb: int = SHM_MB):
        sweep()
        self.root = Path(tempfile.mkdtemp(prefix="nnlab-k-", dir="/tmp"))
        self.root.chmod(0o711)  # the kernel user may pass through to s/, not list or write
        self.sockets = self.root / SOCKETS
        self.sockets.mkdir(mode=0o700)
        os.chown(self.sockets, uid, gid)
        real = os.path.realpath(python)
        plan = {"uid": uid, "gid": gid, "python": real, "prefix": _prefix_of(real),
                "sites": [str(p) for p in sites], "data": str(data),
                "libraries": [str(p) for p in (*sites, data)],
                "scratch": str(scratch), "sockets": str(self.sockets),
                "tmp_mb": tmp_mb, "shm_mb": shm_mb, "bwrap": bwrap(), "grader": os.getpid()}
        fd = os.open(self.root / PLAN, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(plan, fh)

    def configure(self, km) -> None:
        """Point a jupyter_client KernelManager at this box's sockets (before it starts)."""
        km.transport = "ipc"
        km.ip = str(self.sockets / "k")
        km.cache_ports = False

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def sweep(folder: Path = Path("/tmp")) -> int:
    """Remove the boxes of graders that died without closing them (a SIGKILLed grade run);
    returns how many. A box whose grader is alive is left alone."""
    removed = 0
    for plan_file in folder.glob("nnlab-k-*/plan.json"):
        try:
            if plan_file.stat().st_uid != 0:
                continue
            os.kill(int(json.loads(plan_file.read_text())["grader"]), 0)
        except ProcessLookupError:
            shutil.rmtree(plan_file.parent, ignore_errors=True)
            removed += 1
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return removed


def box_for(km, resources: dict, checks_in_kernel: bool) -> KernelBox | None:
    """Configure `km` (a KernelManager not yet started) to run its kernel sandboxed, and
    return the box to close after the kernel; None (km untouched) when its kernelspec does
    not ask for the sandbox (`kernel.install` found it unavailable, or another kernel)."""
    import pwd

    from nbgrader.coursedir import CourseDirectory

    from autograder import kernel, reference

    spec = km.kernel_spec
    mirror = (spec.env or {}).get("NNLAB_SANDBOX_MIRROR") if spec else None
    if not mirror or os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(kernel.user_name())
    assignment = resources.get("nbgrader", {}).get("assignment")
    names = (resources.get("nnlab") or {}).get("withheld")  # a task brings them along
    if names is None:
        course = CourseDirectory(config=km.config)
        source = Path(course.root, course.source_directory)
    else:
        source = None
    library = reference.for_assignment(Path(mirror), source, assignment,
                                       verdict_outside=not checks_in_kernel, names=names)
    box = KernelBox(uid=entry.pw_uid, gid=entry.pw_gid, python=spec.env["NNLAB_KERNEL_PYTHON"],
                    sites=[Path(mirror) / "site", library], data=Path(mirror) / "data",
                    scratch=Path(resources["metadata"]["path"]))
    box.configure(km)
    return box


def _prefix_of(python: str) -> str:
    """The installation a Python binary belongs to (/usr for /usr/bin/python3.11)."""
    return str(Path(python).parent.parent)


def read_plan(connection_file: str) -> tuple[dict, dict] | None:
    """(connection info, plan) when `connection_file` names an ipc kernel of a box the
    grader (root) made; None for any other kernel. A box that is not exactly what
    `KernelBox` makes is refused: the launcher is root and must not be steered."""
    info = json.loads(Path(connection_file).read_text())
    if info.get("transport") != "ipc":
        return None
    sockets = Path(info["ip"]).parent
    root = sockets.parent
    plan_file = root / PLAN
    for path, mode in ((root, 0o711), (plan_file, 0o600)):
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode) or st.st_uid != 0 or stat.S_IMODE(st.st_mode) != mode:
            raise SystemExit(f"refusing to start a sandboxed kernel: {path} is not the "
                             "grader's (owner root, mode {mode:o})")
    plan = json.loads(plan_file.read_text())
    if Path(plan["sockets"]) != sockets:
        raise SystemExit(f"refusing to start a sandboxed kernel: {connection_file} does "
                         f"not name the box's socket directory {plan['sockets']}")
    return info, plan


def launch(connection_file: str, info: dict, plan: dict) -> None:
    """As root: hand the kernel user its connection file inside the box, drop to that
    user and exec bubblewrap (never returns)."""
    uid, gid = plan["uid"], plan["gid"]
    if uid == 0:
        raise SystemExit("refusing to run a sandboxed kernel as root")
    copy = Path(plan["sockets"]) / "kernel.json"
    fd = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.fchown(fd, uid, gid)  # by descriptor: a name in a folder the kernel user owns may move
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh)
    line = argv(plan, str(copy))
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.execv(line[0], line)


def command_line(plan: dict) -> str:
    """The bwrap command as a shell line (for the report and the docs)."""
    import shlex

    return shlex.join(argv(plan, f"{plan['sockets']}/kernel.json"))


if __name__ == "__main__":  # python -m autograder.sandbox: say whether sandboxing works here
    reason = unavailable()
    print("bubblewrap sandbox: " + ("available" if reason is None else f"unavailable: {reason}"))
    sys.exit(0 if reason is None else 1)

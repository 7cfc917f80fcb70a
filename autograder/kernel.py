"""The grading kernel: ipykernel under resource limits, run by an unprivileged user.

`install()` writes a kernelspec whose command is `prlimit --as --cpu --nproc` around
`python -m autograder.kernel`; that launcher, started as root, hands the connection file
to the worker's own user (`nnlab-kernel<slot>`, a slot locked by `claim_slot`, the user
created with useradd when missing), drops to it and execs ipykernel, inside a bubblewrap
sandbox (autograder.sandbox) when the grader set one up for this kernel. As that user the
student's code cannot read source/ or write gradebook.db.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KERNEL_NAME = "nnlab-grader"


def spec_name(memory_mb: int = 2048, cpu_seconds: int = 600, nproc: int = 64,
              sandbox: bool = True) -> str:
    """The kernelspec's name for one set of limits: `nnlab-grader-2048m-600s-64p`
    (`-nobox` without the sandbox). Two graders with different limits on one machine (a
    course's run beside a test's) each keep their own kernelspec, never the other's."""
    return f"{KERNEL_NAME}-{memory_mb}m-{cpu_seconds}s-{nproc}p" + ("" if sandbox else "-nobox")


def is_grader(name: str | None) -> bool:
    """Whether kernelspec `name` is one `install()` wrote."""
    return bool(name) and (name == KERNEL_NAME or name.startswith(KERNEL_NAME + "-"))
KERNEL_USER = "nnlab-kernel"  # one user per worker slot: nnlab-kernel0, nnlab-kernel1, ...
# Single-threaded BLAS and a headless matplotlib inside every graded kernel.
KERNEL_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def user_name(slot: int | str | None = None) -> str:
    """The kernel user of worker `slot` (default: $NNLAB_KERNEL_SLOT, else 0).

    Each worker has its own user, so that the process limit (counted per user) of one
    worker's fork bomb never stops the other worker's kernels from starting.
    """
    if slot is None:
        slot = os.environ.get("NNLAB_KERNEL_SLOT", "0")
    if not str(slot).isdigit():
        raise ValueError(f"kernel slot {slot!r} must be a whole number")
    return f"{KERNEL_USER}{int(slot)}"


def kernel_user(slot: int | str | None = None) -> tuple[int, int] | None:
    """(uid, gid) of worker `slot`'s unprivileged kernel user, created when we are root.

    Returns None when the grader is not root: the kernel then runs as the grader, and
    the integrity report says so.
    """
    if os.geteuid() != 0:
        return None
    name = user_name(slot)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", "--user-group",
                        "--shell", "/usr/sbin/nologin", name],
                       check=True, capture_output=True)
        entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def try_lock(path: Path):
    """An open file holding an exclusive lock on `path`, or None when another process
    holds it. The lock lasts until the file is closed or the process dies."""
    import fcntl

    handle = open(path, "a")  # noqa: SIM115 (returned, held by the caller)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def claim_slot(folder: Path = Path("/tmp"), slots: int = 64):
    """Lock a worker slot no other grader on this machine holds; returns (slot, lock file).

    Each slot has its own kernel user, so two graders running at once (a test and a demo)
    never share a user and its process limit. Keep the file open: the lock is released
    when it is closed or the process dies.
    """
    for slot in range(slots):
        handle = try_lock(folder / f"nnlab-kernel-slot-{slot}.lock")
        if handle is not None:
            return slot, handle
    raise RuntimeError(f"all {slots} grading slots are taken; is a grader stuck? "
                       f"see {folder}/nnlab-kernel-slot-*.lock")


def become_subreaper(on: bool = True) -> bool:
    """Make this process the reaper of its orphaned descendants, or stop being it (Linux's
    PR_SET_CHILD_SUBREAPER). A sandboxed kernel's inner bubblewrap outlives the outer one
    by an instant; orphaned, its zombie waits for PID 1, which on some hosts (a micro-VM's
    init) reaps only every second or two, and kill_user_processes waited for it (1-2 s a
    notebook). Reparented here, it is reaped at once. The grader sets it for a kernel's
    life only, so no other orphan of a long-lived process is left here unreaped. False
    where prctl is not available."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, int(on), 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def kill_user_processes(uid: int, wait: float = 3.0) -> int:
    """SIGKILL every process of `uid` (a slot's kernel user) and wait, up to `wait`
    seconds, until they are reaped too; returns how many were killed.

    A fork bomb's children can leave the kernel's process group; killing by user catches
    them, and waiting for the reaping keeps their zombies from holding the process limit
    against the next student's kernel.
    """
    if uid in (0, os.getuid()):
        raise ValueError(f"uid {uid} is the grader's own; only a kernel user's processes "
                         "may be killed")
    killed, deadline = 0, time.monotonic() + wait
    while True:
        live, dead, ours = [], 0, []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if (fields.get("Uid", "").split() or ["-1"])[0] != str(uid):
                continue
            if fields.get("State", "").strip().startswith("Z"):
                dead += 1  # killed, not yet reaped: it still counts against --nproc
                if fields.get("PPid", "").strip() == str(os.getpid()):
                    ours.append(int(entry.name))
            else:
                live.append(int(entry.name))
        for pid in ours:  # our own zombies (see become_subreaper): reaped at once
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    dead -= 1
            except ChildProcessError:
                pass
        if (not live and not dead) or time.monotonic() > deadline:
            return killed
        for pid in live:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def run_as(argv: list[str], uid: int, gid: int, **kwargs) -> subprocess.CompletedProcess:
    """`subprocess.run(argv)` as uid:gid (no supplementary groups), output captured. A run
    killed by a signal (another grader's clean-up of its kernel user, the OOM killer) says
    nothing about the command: it is run again, three times at most. OSError and
    SubprocessError (a timeout) propagate."""
    for _attempt in range(3):
        done = subprocess.run(argv, user=uid, group=gid, extra_groups=[] if uid else None,
                              capture_output=True, **kwargs)
        if done.returncode >= 0:
            break
    return done


def _runs_as(python: str, code: str, uid: int, gid: int) -> bool:
    """Whether `python -c code` succeeds as uid:gid (see run_as)."""
    try:
        return run_as([python, "-c", code], uid, gid, timeout=60, cwd="/").returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _interpreter_for(uid: int, gid: int, sites: list[str],
                     modules: tuple[str, ...] = ("ipykernel", "numpy", "nnlab")) -> str | None:
    """A Python that the kernel user can run and that imports `modules` (what the kernel
    needs) from `sites` (this venv's site-packages, or its mirror).

    This venv's own Python first; when it lives somewhere that user cannot enter (a
    pyenv under /root), the system Python of the same minor version. None when neither
    works.
    """
    probe = (f"import site; [site.addsitedir(p) for p in {sites!r}]; "
             f"import {', '.join(modules)}")
    minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/{minor}", f"/usr/local/bin/{minor}"):
        if not os.path.exists(candidate):
            continue
        if _runs_as(candidate, probe, uid, gid):
            return candidate
    return None


MIRRORS = Path("/var/lib/nnlab-grader")  # root's own, never a world-writable /tmp
_NOT_NEEDED = ("torch", "functorch", "torchgen", "__editable__")


def _stamp(trees: dict[str, Path]) -> str:
    """Changes whenever a mirrored tree gains, loses or changes a top-level entry or a file
    of nnlab (edited in place by an editable install)."""
    digest = hashlib.sha256()
    for key, root in sorted(trees.items()):
        digest.update(f"{key}={root}".encode())
        entries = (root.iterdir() if key == "site" else root.rglob("*")) if root.is_dir() else []
        for entry in sorted(entries):
            st = entry.lstat()
            digest.update(f"{entry.relative_to(root)}:{st.st_mtime_ns}:{st.st_size}".encode())
    return digest.hexdigest()[:16]


def _link_tree(src: Path, dst: Path, leave_out: tuple[str, ...] = ()) -> None:
    """Hard-link (copy across filesystems) every file of `src` that others may read into
    `dst`, in directories others may enter. Links, unreadable files and folders named in
    `leave_out` are left out; a missing `src` gives an empty `dst`."""
    dst.mkdir(mode=0o755, parents=True, exist_ok=True)
    for folder, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(_NOT_NEEDED) and d not in leave_out]
        here = Path(folder)
        target = dst / here.relative_to(src)
        target.mkdir(mode=0o755, parents=True, exist_ok=True)
        for name in files:
            path = here / name
            if name.startswith(_NOT_NEEDED) or path.is_symlink() \
                    or not path.stat().st_mode & 0o004:
                continue
            try:
                os.link(path, target / name)
            except OSError:
                shutil.copy2(path, target / name)


def mirror(site: str, package: Path, data: Path) -> Path:
    """A copy the kernel user can reach of what the kernel imports and reads, for a venv or
    checkout behind a directory it cannot enter (a clone under /root, mode 700).

    Files are hard links (nothing is copied on one filesystem), owned by root and read-only
    to the kernel user; directories are 755 under root's /var/lib/nnlab-grader. Built once
    per state of the venv and checkout (a stamp names it), atomically, so a grader running
    at the same time keeps the mirror its kernels use. Returns the mirror's root with
    `site/`, `src/nnlab/` and `data/`.
    """
    trees = {"site": Path(site), "nnlab": package, "data": data}
    MIRRORS.mkdir(mode=0o755, parents=True, exist_ok=True)
    MIRRORS.chmod(0o755)
    final = MIRRORS / _stamp(trees)
    if (final / "complete").exists():
        return final
    build = Path(tempfile.mkdtemp(prefix=".building-", dir=MIRRORS))
    try:
        # The site never holds nnlab itself: each assignment gets its own copy of it.
        _link_tree(trees["site"], build / "site", leave_out=("nnlab",))
        _link_tree(package, build / "src" / package.name)
        _link_tree(data, build / "data")
        (build / "complete").write_text(json.dumps({k: str(v) for k, v in trees.items()}))
        build.chmod(0o755)
        try:
            os.rename(build, final)
        except OSError:  # another grader built the same state first
            shutil.rmtree(build, ignore_errors=True)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    for old in MIRRORS.iterdir():  # mirrors of earlier states, unused for a day
        if old != final and time.time() - old.stat().st_mtime > 86400:
            shutil.rmtree(old, ignore_errors=True)
    return final


def install(memory_mb: int = 2048, cpu_seconds: int = 600, nproc: int = 64,
            prefix: str | None = None, slots: int = 1, sandbox: bool = True) -> dict:
    """Write the kernelspec into `prefix`/share/jupyter/kernels (default: this venv).

    memory_mb caps the address space (a bigger allocation raises MemoryError), cpu_seconds
    caps CPU time (the kernel is killed past it) and nproc caps processes and threads of the
    kernel's user (a fork bomb gets BlockingIOError). With `sandbox` (and root, and
    bubblewrap working here) every kernel runs in its own bubblewrap sandbox (see
    autograder.sandbox). Returns {"name", "user", "python", "mirror", "sandbox",
    "sandbox_reason"}: user is None when the kernel runs as the grader (not root, or no
    usable Python); sandbox is "bubblewrap" or None, with the reason in sandbox_reason.
    """
    import sysconfig

    for name, value in (("memory_mb", memory_mb), ("cpu_seconds", cpu_seconds),
                        ("nproc", nproc)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name}={value!r}; give a positive whole number")
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise RuntimeError("prlimit was not found; install util-linux (apt-get install "
                           "util-linux) so the grading kernel can be resource-limited")
    for slot in range(slots):
        kernel_user(slot)
    with _probing_user() as user:
        found = _probe(user, [sysconfig.get_paths()["purelib"]], sandbox)
    env = {**KERNEL_ENV, **found["env"]}
    argv = [prlimit, f"--as={memory_mb * 1024 * 1024}", f"--cpu={cpu_seconds}",
            f"--nproc={nproc}", sys.executable, "-m", "autograder.kernel",
            "-f", "{connection_file}"]
    spec = {
        "argv": argv,
        "display_name": f"nnlab grader (limited: {memory_mb} MB, {cpu_seconds} s CPU)",
        "language": "python",
        "env": env,
        "metadata": {"debugger": False},
    }
    if found["reason"] is None:
        # Signals from the grader cannot enter the sandbox's session: interrupt by message.
        spec["interrupt_mode"] = "message"
    name = spec_name(memory_mb, cpu_seconds, nproc, sandbox)
    base = Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / name
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / f"kernel.json.{os.getpid()}.tmp"  # two hosts' writers never share a file
    tmp.write_text(json.dumps(spec, indent=1))
    os.replace(tmp, base / "kernel.json")
    python, mirrored = found["python"], found["mirror"]
    return {"name": name, "user": user_name(0)[:-1] + "N" if python else None,
            "python": python, "mirror": str(mirrored) if mirrored and python else None,
            "sandbox": "bubblewrap" if found["reason"] is None else None,
            "sandbox_reason": found["reason"]}


@contextlib.contextmanager
def _probing_user():
    """(uid, gid) of a slot user this grader holds, for install()'s probes: its own
    ($NNLAB_KERNEL_SLOT, locked by claim_slot) or one locked here until they are done.
    Another grader kills every process of its own slot's user after each kernel; a probe
    run as that user died with them, and the kernel fell back to root."""
    if "NNLAB_KERNEL_SLOT" in os.environ or os.geteuid() != 0:
        yield kernel_user()
        return
    slot, held = claim_slot()
    try:
        yield kernel_user(slot)
    finally:
        held.close()


def _probe(user, sites: list[str], sandbox: bool) -> dict:
    """What the kernel can run as `user`: {"python", "mirror", "reason" (why there is no
    sandbox, None when there is), "env" (the kernelspec's variables for them)}."""
    from autograder import sandbox as box

    env = {}
    reason = (box.unavailable(*(user or ())) if sandbox
              else "turned off (kernel.install(sandbox=False))")
    python = _interpreter_for(*user, sites) if user and reason else None
    mirrored = None
    if user and not python:
        # The sandbox shows the kernel only the mirror; without it, the venv or checkout
        # may sit behind a directory the kernel user cannot enter.
        import nnlab
        from nnlab.data import data_dir

        mirrored = mirror(sites[0], Path(nnlab.__file__).parent, data_dir())
        sites = [str(mirrored / "site"), str(mirrored / "src")]
        python = _interpreter_for(*user, sites)
        if python:
            env["NNLAB_DATA"] = str(mirrored / "data")
    if reason is None and not (python and mirrored):
        reason = "no Python that the kernel user can run imports ipykernel from the mirror"
    env["NNLAB_KERNEL_SITE"] = os.pathsep.join(sites)
    if python:
        env.update(NNLAB_KERNEL_USER="1", NNLAB_KERNEL_PYTHON=python)
    if reason is None:
        env["NNLAB_SANDBOX_MIRROR"] = str(mirrored)
    return {"python": python, "mirror": mirrored, "reason": reason, "env": env}


def _drop_privileges(connection_file: str) -> str:
    """As root: give the kernel user a copy of the connection file, then become that user."""
    if os.environ.get("NNLAB_KERNEL_USER") != "1" or os.geteuid() != 0:
        return connection_file
    name = user_name()
    entry = pwd.getpwnam(name)
    private = Path.cwd() / ".kernel"
    private.mkdir(mode=0o700, exist_ok=True)
    copy = private / "kernel.json"
    shutil.copyfile(connection_file, copy)
    for path in (private, copy):
        os.chown(path, entry.pw_uid, entry.pw_gid)
    os.environ.update(HOME=str(private), IPYTHONDIR=str(private / "ipython"),
                      MPLCONFIGDIR=str(private / "mpl"), USER=name, LOGNAME=name)
    os.setgroups([])
    os.setgid(entry.pw_gid)
    os.setuid(entry.pw_uid)
    return str(copy)


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] != "-f":
        raise SystemExit("usage: python -m autograder.kernel -f CONNECTION_FILE")
    if os.environ.get("NNLAB_SANDBOX_MIRROR"):
        from autograder import sandbox

        boxed = sandbox.read_plan(argv[1])
        if boxed:
            sandbox.launch(argv[1], *boxed)  # never returns
    connection_file = _drop_privileges(argv[1])
    python = os.environ.get("NNLAB_KERNEL_PYTHON") or sys.executable
    sites = [p for p in os.environ.get("NNLAB_KERNEL_SITE", "").split(os.pathsep) if p]
    boot = (f"import runpy, site, sys; [site.addsitedir(p) for p in {sites!r}]; "
            f"sys.argv = ['ipykernel_launcher', '-f', {connection_file!r}]; "
            "runpy.run_module('ipykernel_launcher', run_name='__main__', alter_sys=True)")
    os.execv(python, [python, "-c", boot])


if __name__ == "__main__":
    main(sys.argv[1:])

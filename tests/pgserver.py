"""A real PostgreSQL server for a test: Debian's, started in a temporary folder as the
unprivileged `postgres` user (PostgreSQL refuses to run as root), listening on a Unix
socket only, stopped and removed afterwards. `make postgres` installs it."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest


def bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def skip_reason() -> str | None:
    if bindir() is None:
        return ("PostgreSQL's initdb is not installed (run `make postgres`, which installs "
                "Debian's postgresql when root)")
    return None


@contextmanager
def postgres(dbname: str = "nnlab"):
    """Yields the SQLAlchemy URL of a new, empty database `dbname` on a fresh server."""
    if skip_reason():
        if os.environ.get("CI") == "true":
            raise RuntimeError(skip_reason())
        pytest.skip(skip_reason())
    bin_ = bindir()
    folder = Path(tempfile.mkdtemp(prefix="nnlab-pg-", dir="/tmp"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # as root: run the server as the `postgres` user
        entry = pwd.getpwnam("postgres")
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, sock = folder / "data", folder
    env = {**os.environ, "LC_ALL": "C"}

    def run(*argv):
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, env=env,
                              cwd=folder, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{argv[0]} exited {done.returncode}: {done.stdout}{done.stderr}")

    port = "5433"
    try:
        # UTF8: with SQL_ASCII, psycopg hands SQLAlchemy bytes and nbgrader cannot connect
        run(str(bin_ / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync")
        run(str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
            "-o", f"-k {sock} -p {port} -c listen_addresses='' -c fsync=off", "start")
        try:
            run(str(bin_ / "createdb"), "-h", str(sock), "-p", port, "-U", "postgres", dbname)
            yield f"postgresql+psycopg://postgres@/{dbname}?host={sock}&port={port}"
        finally:
            run(str(bin_ / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

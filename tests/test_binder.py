"""Binder: postBuild, run for real on a copy of the repository in a fresh environment,
produces the student versions of every notebook and a server that opens on the first one;
README's Binder link points at that same notebook. Nothing remote is built. `make lab`,
run for real on a copy, releases the same student versions and opens JupyterLab on them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest

FIRST = "student/00_welcome.ipynb"
BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/[^/\s)]+/nnlab/HEAD\?urlpath=[^\s)]+")
# What nbgrader must have removed from a student version.
INSTRUCTOR_ONLY = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
                   "### END HIDDEN TESTS")


def _venv_python(root: Path) -> str:
    candidate = root / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def test_postbuild_is_an_executable_bash_script_that_stops_on_errors(repo_root):
    script = repo_root / "postBuild"
    assert os.access(script, os.X_OK), "repo2docker runs postBuild only when it is executable"
    lines = script.read_text().splitlines()
    assert lines[0] == "#!/bin/bash"
    assert "set -euo pipefail" in lines, "without set -e a failing step still builds an image"


def test_readme_links_no_placeholder_and_names_the_link_command(repo_root):
    readme = (repo_root / "README.md").read_text()
    assert not BINDER_LINK.findall(readme), (
        "README.md links a fixed organisation's Binder; it must say how to make the link "
        "for wherever the repository is hosted (python -m nnlab binder-link)")
    assert "python -m nnlab binder-link" in readme
    assert (repo_root / "notebooks" / Path(FIRST).name).exists()


@pytest.mark.parametrize("remote, link", [
    ("https://github.com/someone/nnlab.git",
     "https://mybinder.org/v2/gh/someone/nnlab/HEAD?urlpath=lab/tree/" + FIRST),
    ("git@github.com:someone/nnlab.git",
     "https://mybinder.org/v2/gh/someone/nnlab/HEAD?urlpath=lab/tree/" + FIRST),
    ("https://gitlab.com/group/sub/nnlab",
     "https://mybinder.org/v2/gl/group%2Fsub%2Fnnlab/HEAD?urlpath=lab/tree/" + FIRST),
    ("https://git.example.org/nnlab.git",
     "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.org%2Fnnlab.git/HEAD"
     "?urlpath=lab/tree/" + FIRST),
])
def test_binder_link_from_a_clone_url_opens_the_first_student_notebook(remote, link):
    from nnlab.binder import binder_link

    assert binder_link(remote) == link
    assert parse_qs(urlparse(link).query)["urlpath"] == [f"lab/tree/{FIRST}"]


@pytest.mark.parametrize("remote", ["", "/srv/git/nnlab", "https://github.com/only-owner"])
def test_binder_link_refuses_what_binder_cannot_build(remote):
    from nnlab.binder import binder_link

    with pytest.raises(ValueError, match="URL|empty"):
        binder_link(remote)


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_binder_link_command_reads_the_clones_origin(tmp_path):
    _git(tmp_path, "init", "-q")
    cmd = [sys.executable, "-m", "nnlab", "binder-link"]
    lost = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True)
    assert lost.returncode == 1 and "no remote called origin" in lost.stderr
    _git(tmp_path, "remote", "add", "origin", "https://github.com/someone/nnlab.git")
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ("https://mybinder.org/v2/gh/someone/nnlab/HEAD"
                                   f"?urlpath=lab/tree/{FIRST}")


# --------------------------------------------------------------------------- postBuild, for real


def _copy_repository(src: Path, dst: Path) -> Path:
    """The files a Binder build sees: the repository without .venv, caches or course dirs."""
    skip = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".ruff_cache",
                                  ".pytest_cache", "course", "student", "test-output", "build")
    shutil.copytree(src, dst, ignore=skip)
    return dst


def _fresh_environment(base_python: str, where: Path) -> Path:
    """A new venv (the image's env) that sees the project's pinned packages but not nnlab.

    The parent's packages come through a folder of links that leaves out nnlab's own
    distribution, so pip in the new env never sees (or tries to uninstall) the nnlab the
    project's .venv has installed.
    """
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(where)], check=True)
    parent = Path(subprocess.run([base_python, "-c", "import sysconfig; "
                                  "print(sysconfig.get_paths()['purelib'])"],
                                 check=True, capture_output=True, text=True).stdout.strip())
    view = where / "parent-packages"
    view.mkdir()
    for entry in parent.iterdir():
        if "nnlab" not in entry.name.lower() and entry.suffix != ".pth":
            (view / entry.name).symlink_to(entry)
    purelib = Path(sysconfig.get_paths(vars={"base": str(where)})["purelib"])
    purelib.mkdir(parents=True, exist_ok=True)
    (purelib / "_parent_packages.pth").write_text(f"{view}\n")
    # Installing jupyterlab and nbgrader into the image's env also puts their server-extension
    # switches in <prefix>/etc/jupyter and JupyterLab's application in <prefix>/share/jupyter;
    # without them the server would not serve /lab. The switches are copied (postBuild writes
    # beside them), the read-only application folder is linked.
    prefix = Path(base_python).parents[1]
    switches = prefix / "etc" / "jupyter" / "jupyter_server_config.d"
    if switches.is_dir():
        shutil.copytree(switches, where / "etc" / "jupyter" / "jupyter_server_config.d")
    if (prefix / "share" / "jupyter").is_dir():
        (where / "share").mkdir(exist_ok=True)
        (where / "share" / "jupyter").symlink_to(prefix / "share" / "jupyter")
    return where / "bin"


@pytest.fixture(scope="module")
def built(tmp_path_factory, repo_root):
    """Run postBuild the way repo2docker does, in a copy, with a fresh env first on PATH."""
    tmp = tmp_path_factory.mktemp("binder")
    repo = _copy_repository(repo_root, tmp / "repo")
    bin_dir = _fresh_environment(_venv_python(repo_root), tmp / "env")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL_ENV"))}
    # The env's bin first; the parent's after it for console scripts nbgrader calls (alembic).
    parent_bin = Path(_venv_python(repo_root)).parent
    env.update(PATH=os.pathsep.join([str(bin_dir), str(parent_bin), env["PATH"]]),
               HOME=str(tmp / "home"),
               JUPYTER_CONFIG_DIR=str(tmp / "home" / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    started = time.monotonic()
    done = subprocess.run(["./postBuild"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=600)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"postBuild failed ({done.returncode}):\n{log[-4000:]}"
    print(f"postBuild took {time.monotonic() - started:.1f} s")
    return {"repo": repo, "env": env, "python": str(bin_dir / "python"), "log": log}


@pytest.mark.slow
@pytest.mark.xdist_group("binder")
def test_postbuild_writes_a_student_version_of_every_notebook(built):
    repo = built["repo"]
    sources = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    students = sorted(p.name for p in (repo / "student").glob("*.ipynb"))
    assert sources and students == sources, f"notebooks/ has {sources}, student/ has {students}"
    for name in students:
        source = nbformat.read(repo / "notebooks" / name, as_version=4)
        student = nbformat.read(repo / "student" / name, as_version=4)
        text = "\n".join(cell.source for cell in student.cells)
        leaked = [m for m in INSTRUCTOR_ONLY if m in text]
        assert not leaked, f"student/{name} still holds {leaked}"
        doubled = [i for i, cell in enumerate(student.cells)
                   if cell.source.count("YOUR ANSWER HERE") > 1]
        assert not doubled, (f"student/{name}: cells {doubled} say 'YOUR ANSWER HERE' twice; "
                             "nbgrader writes it, so the source must not hold it too")
        had_solutions = any("### BEGIN SOLUTION" in cell.source for cell in source.cells)
        if had_solutions:
            assert "YOUR CODE HERE" in text, f"student/{name}: solutions not replaced by stubs"
        graded = {c.metadata["nbgrader"]["grade_id"] for c in student.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id")}
        source_ids = {c.metadata["nbgrader"]["grade_id"] for c in source.cells
                      if c.metadata.get("nbgrader", {}).get("grade_id")}
        assert graded == source_ids, f"student/{name} lost graded cells: {source_ids - graded}"
    signpost = (repo / "student" / "README.md").read_text()
    assert "`notebooks/`" in signpost and "try first" in signpost, signpost
    # the notebook Binder opens says it too, in its first cell
    first = nbformat.read(repo / FIRST, as_version=4).cells[0].source
    assert "`notebooks/`" in first and "try first" in first, first


@pytest.mark.slow
@pytest.mark.xdist_group("binder")
def test_postbuild_installs_nnlab_so_a_kernel_in_student_can_import_it(built):
    done = subprocess.run([built["python"], "-c", "import nnlab, nnlab.checks; "
                           "print(nnlab.__file__)"], cwd=built["repo"] / "student",
                          env=built["env"], capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()).is_relative_to(built["repo"]), (
        f"nnlab imported from {done.stdout.strip()}, not from the built repository")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.slow
@pytest.mark.xdist_group("binder")
def test_the_server_postbuild_configured_opens_on_the_first_notebook(built, tmp_path):
    port, token = _free_port(), secrets.token_hex(8)
    cmd = [built["python"], "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={built['repo']}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=built["repo"], env=built["env"], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    opener = urllib.request.build_opener(_NoRedirect)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, location = time.monotonic() + 60, None
        while time.monotonic() < deadline and location is None:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                opener.open(f"{base}/?token={token}", timeout=2)
                pytest.fail("the server answered / without redirecting to the course")
            except urllib.error.HTTPError as redirect:
                location = redirect.headers.get("Location")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        assert location is not None, "the server never answered"
        assert urlparse(location).path == f"/lab/tree/{FIRST}", location
        with urllib.request.urlopen(f"{base}/api/contents/{FIRST}?token={token}") as reply:
            model = json.load(reply)
        assert model["type"] == "notebook" and model["content"]["cells"]
        try:
            with urllib.request.urlopen(f"{base}/lab/tree/{FIRST}?token={token}") as reply:
                assert reply.status == 200 and b"JupyterLab" in reply.read()
        except urllib.error.HTTPError as error:
            log.flush()
            pytest.fail(f"/lab/tree/{FIRST} answered {error.code}; server log:\n"
                        f"{(tmp_path / 'server.log').read_text()[-3000:]}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


# --------------------------------------------------------------------------- make lab, for real


@pytest.mark.slow
@pytest.mark.xdist_group("binder")
def test_make_lab_opens_jupyter_on_the_student_versions_and_keeps_them(repo_root, tmp_path):
    """`make lab` in a copy of the repository, its venv a stand-in: the real python (so
    scripts/student-versions.sh releases every notebook with nbgrader) and a `jupyter` that
    records how it was started. A second `make lab` keeps the student's work."""
    repo = _copy_repository(repo_root, tmp_path / "repo")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    started = tmp_path / "jupyter-args"
    for tool, body in (("python", f'exec {_venv_python(repo_root)} "$@"'),
                       ("jupyter", f'echo "$@" >> {started}')):
        (venv / "bin" / tool).write_text(f"#!/bin/sh\n{body}\n")
        (venv / "bin" / tool).chmod(0o755)
    (venv / ".installed-stamp").touch()  # newer than pyproject.toml: nothing to install
    parent_bin = str(Path(_venv_python(repo_root)).parent)  # alembic, which nbgrader runs
    env = dict(os.environ, PATH=os.pathsep.join([parent_bin, os.environ["PATH"]]))

    def make_lab():
        done = subprocess.run(["make", "lab", f"VENV={venv}"], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    make_lab()
    sources = sorted(p.name for p in (repo / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (repo / "student").glob("*.ipynb")) == sources
    for name in sources:
        text = (repo / "student" / name).read_text()
        assert not [m for m in INSTRUCTOR_ONLY if m in text], f"student/{name}: solutions left"
    first = "\n".join(c.source for c in nbformat.read(repo / FIRST, as_version=4).cells)
    assert "`notebooks/`" in first and "try first" in first, "00 does not signpost the key"
    assert started.read_text().split()[:2] == ["lab", "--notebook-dir=student"]

    work = repo / FIRST
    work.write_text(work.read_text().replace("YOUR CODE HERE", "my own work", 1))
    make_lab()
    assert "my own work" in work.read_text(), "make lab overwrote the student's work"
    assert len(started.read_text().splitlines()) == 2

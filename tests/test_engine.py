"""The grading engine's pieces that need no kernel and no cluster: what a task may write,
what the coordinator checks before committing, the salvage of a killing cell, the
cluster's certificates and the refusals of an insecure cluster."""

from __future__ import annotations

import stat
from pathlib import Path

import nbformat
import pytest

from autograder import certs, cluster, engine, submission

TOY = Path(__file__).parent / "fixtures" / "submissions" / "instructor" / "toy.ipynb"


def test_a_task_writes_files_only_inside_its_folder(tmp_path):
    engine.write_files(tmp_path, {"data/x.csv": b"1,2\n", "helper.py": b"x = 1\n"})
    assert (tmp_path / "data" / "x.csv").read_bytes() == b"1,2\n"
    for bad in ("../escape.py", "/etc/passwd"):
        with pytest.raises(ValueError, match="outside the submission's folder"):
            engine.write_files(tmp_path / "sub", {bad: b""})
    assert not (tmp_path / "escape.py").exists()


def test_the_cell_that_killed_the_kernel_is_replaced_but_never_a_test():
    nb = nbformat.read(str(TOY), as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
                and not c.metadata.nbgrader.get("solution"))
    assert not engine.neutralise(nb, {"kind": "kernel-died", "source": test.source})
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    original = answer.source
    assert engine.neutralise(nb, {"kind": "kernel-died", "source": original})
    assert answer.source.startswith("raise RuntimeError('The grader removed this cell")


def test_the_coordinator_notices_a_test_cell_changed_by_a_task():
    sent = nbformat.read(str(TOY), as_version=4)
    back = nbformat.read(str(TOY), as_version=4)
    answer = next(c for c in back.cells if c.metadata.get("nbgrader", {}).get("solution"))
    answer.source = "def sigmoid(z):\n    return 0"  # an answer may differ (salvage)
    assert submission.structure(back) == submission.structure(sent)
    test = next(c for c in back.cells if c.metadata.get("nbgrader", {}).get("grade")
                and not c.metadata.nbgrader.get("solution"))
    test.source = "pass"
    assert submission.structure(back) != submission.structure(sent)


def test_integrity_events_are_the_same_on_both_sides():
    assert set(submission.INTEGRITY_EVENTS) == engine.INTEGRITY_EVENTS


def test_cluster_certs_keep_keys_private_and_never_overwrite_an_authority(tmp_path):
    made = certs.make(tmp_path / "c", hosts=["127.0.0.1"])
    assert set(made) == {"ca", "scheduler", "worker", "client"}
    for key in (tmp_path / "c").glob("*-key.pem"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700
    with pytest.raises(FileExistsError, match="delete the folder"):
        certs.make(tmp_path / "c")
    with pytest.raises(ValueError, match="days=0"):
        certs.make(tmp_path / "d", days=0)


def test_a_missing_certificate_names_the_command_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="cluster-certs"):
        certs.security(tmp_path, "client")


def test_an_unencrypted_or_unauthenticated_scheduler_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must use mutual TLS"):
        with cluster.connect("tcp://127.0.0.1:8786"):
            pass
    with pytest.raises(ValueError, match="needs --certs"):
        with cluster.connect("tls://127.0.0.1:8786"):
            pass


@pytest.mark.slow
def test_the_local_default_serves_no_information_pages_over_http():
    """Dask's HTTP server runs even without a dashboard, in plain HTTP: the local cluster
    keeps /health only (Dask's default also serves task keys, logs and metrics)."""
    import urllib.error
    import urllib.request

    def status(port, path):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10).status
        except urllib.error.HTTPError as error:
            return error.code

    with cluster.connect(None, 1) as client:
        info = client.scheduler_info()
        ports = [info["services"]["dashboard"],
                 *(w["services"]["dashboard"] for w in info["workers"].values())]
        assert len(ports) == 2
        for port in ports:
            assert status(port, "/health") == 200
            for page in ("/info/main/workers.html", "/metrics", "/json/counts.json"):
                assert status(port, page) == 404, (port, page)


@pytest.mark.slow
def test_the_local_default_refuses_a_client_of_another_authority(tmp_path):
    """Another user of this machine (a kernel's user) cannot submit work to the local
    workers, which run as the grader: they speak TLS with a certificate made in memory."""
    from distributed import Client

    stranger = tmp_path / "stranger"
    certs.make(stranger, hosts=["127.0.0.1"])
    with cluster.connect(None, 1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:"), address
        assert client.submit(len, b"abc", pure=False).result() == 3
        with pytest.raises((OSError, TimeoutError)):
            Client(address, security=certs.security(stranger), timeout=5)

"""Where grading tasks run: worker processes on this machine (the default: a Dask
LocalCluster that `grade` starts and stops itself), or the workers of a Dask cluster the
instructor started on several machines (`grade --scheduler tls://HOST:8786`).

Both are reached the same way, over mutual TLS: the local cluster with a throw-away
certificate made in memory, a real cluster with the certificates of `cluster-certs`.
Each worker host is set up by the `GradingHost` plugin the coordinator registers (a
kernel slot and its unprivileged user, the limited kernelspec), never by hand.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path

import dask
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin

from autograder import certs, engine, kernel

BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"}
PLUGIN = "nnlab-grading-host"
INSTALL_LOCK = Path("/tmp/nnlab-kernel-install.lock")


def worker_command(scheduler: str, certs_dir: str, host: str) -> str:
    """The command that starts one grading worker on a machine of the cluster."""
    return (f"OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "
            f"dask worker {scheduler} --nthreads 1 --nworkers 1 --host {host} "
            f"--no-dashboard --tls-ca-file {certs_dir}/ca.pem "
            f"--tls-cert {certs_dir}/worker.pem --tls-key {certs_dir}/worker-key.pem")


class GradingHost(WorkerPlugin):
    """Sets up a worker for grading: one BLAS thread, and with `limits` (memory_mb,
    cpu_seconds, nproc) a kernel slot of its own (its unprivileged kernel user) and the
    limited kernelspec. Runs on every worker, also those that join later."""

    def __init__(self, limits: dict | None, log_dir: str | None = None):
        self.limits = limits
        self.log_dir = log_dir
        self._slot_lock = None

    def setup(self, worker):
        os.environ.update(BLAS_ENV)
        if self.log_dir:  # a local worker: its kernels' chatter goes to a log, not the bar
            Path(self.log_dir).mkdir(parents=True, exist_ok=True)
            fd = os.open(Path(self.log_dir) / f"worker-{os.getpid()}.out",
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        engine.HOST.clear()
        if self.limits is None:
            engine.HOST.update(name=None, user=None, python=None, mirror=None)
            return
        if self._slot_lock is None:
            slot, self._slot_lock = kernel.claim_slot()
            os.environ["NNLAB_KERNEL_SLOT"] = str(slot)
        with open(INSTALL_LOCK, "a") as lock:  # two workers of one host write one spec
            fcntl.flock(lock, fcntl.LOCK_EX)
            kernel.kernel_user(os.environ["NNLAB_KERNEL_SLOT"])
            engine.HOST.update(kernel.install(**self.limits))

    def teardown(self, worker):
        if self._slot_lock is not None:
            self._slot_lock.close()


HEALTH_ONLY = ["distributed.http.health"]


@contextmanager
def connect(scheduler: str | None = None, jobs: int = 2, certs_dir: Path | None = None,
            limits: dict | None = None, log_dir: Path | None = None):
    """A dask Client whose workers are set up for grading; closed (and the local
    cluster stopped) on exit. Local workers write their output under `log_dir`."""
    from distributed.security import Security

    cluster = None
    if scheduler is None:
        os.environ.update(BLAS_ENV)  # the worker processes inherit it
        security = Security.temporary()
        # Dask serves HTTP routes (information pages, metrics) in plain HTTP even without
        # a dashboard: the local cluster keeps only /health, so no other user of the
        # machine reads its task keys or logs (the workers get this config too).
        with dask.config.set({"distributed.scheduler.http.routes": HEALTH_ONLY,
                              "distributed.worker.http.routes": HEALTH_ONLY}):
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", protocol="tls://", security=security,
                                   dashboard_address=None, worker_dashboard_address=None,
                                   memory_limit=0, silence_logs=logging.ERROR)
        client = Client(cluster, security=security)
    else:
        if not scheduler.startswith("tls://"):
            raise ValueError(f"--scheduler {scheduler!r}: the grading cluster must use "
                             "mutual TLS; give tls://HOST:PORT (see `cluster-certs`)")
        if certs_dir is None:
            raise ValueError("--scheduler needs --certs DIR, the folder made by "
                             "`python -m autograder cluster-certs DIR`")
        client = Client(scheduler, security=certs.security(certs_dir, "client"), timeout=30)
    try:
        logs = str(log_dir) if cluster is not None and log_dir else None
        client.register_plugin(GradingHost(limits, logs), name=PLUGIN)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def threads(client: Client) -> int:
    """How many tasks the cluster runs at once now (0 while no worker has joined)."""
    return sum(client.nthreads().values())

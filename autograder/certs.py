"""Certificates for the grading cluster's mutual TLS: one private certificate authority
and a certificate for each role (scheduler, worker, client = the coordinator).

Dask's scheduler and workers accept pickled tasks from whoever connects, and the workers
run kernels as root: with these certificates every connection must show one signed by
this authority, so a machine without one cannot join, submit or listen. Keep `ca-key.pem`
on the instructor's machine only; copy `ca.pem` and the role's pair to each machine.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path

ROLES = ("scheduler", "worker", "client")


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    path.chmod(0o600)


def _cert(subject: str, key, issuer_name, issuer_key, days: int, ca: bool, hosts=()):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "nnlab grading"),
                      x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer_name or name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if hosts:
        alt = []
        for host in hosts:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                alt.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make(folder: Path, hosts: list[str] | None = None, days: int = 365) -> dict[str, Path]:
    """Write ca.pem, ca-key.pem and <role>.pem / <role>-key.pem for every role into
    `folder` (created mode 700; keys mode 600). Refuses to overwrite an existing
    authority. Returns role -> certificate path."""
    from cryptography.hazmat.primitives import serialization

    if not isinstance(days, int) or days <= 0:
        raise ValueError(f"days={days!r}; give a positive whole number of days")
    folder = Path(folder)
    if (folder / "ca-key.pem").exists():
        raise FileExistsError(f"{folder}/ca-key.pem exists: these certificates were made "
                              "already; delete the folder to make a new authority")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    hosts = list(hosts or []) or [socket.gethostname(), "127.0.0.1", "localhost"]
    ca_key = _key()
    ca = _cert("nnlab grading authority", ca_key, None, None, days, ca=True)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    _write_key(folder / "ca-key.pem", ca_key)
    paths = {"ca": folder / "ca.pem"}
    for role in ROLES:
        key = _key()
        cert = _cert(f"nnlab {role}", key, ca.subject, ca_key, days, ca=False, hosts=hosts)
        (folder / f"{role}.pem").write_bytes(cert.public_bytes(pem))
        _write_key(folder / f"{role}-key.pem", key)
        paths[role] = folder / f"{role}.pem"
    return paths


def security(folder: Path, role: str = "client"):
    """A dask `Security` that shows `role`'s certificate and trusts only this authority."""
    from distributed.security import Security

    folder = Path(folder)
    needed = [folder / "ca.pem", folder / f"{role}.pem", folder / f"{role}-key.pem"]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"missing {missing}; make them with `python -m autograder "
                                f"cluster-certs {folder}` (or copy them from the machine "
                                "that made the cluster's certificates)")
    return Security(tls_ca_file=str(needed[0]), tls_client_cert=str(needed[1]),
                    tls_client_key=str(needed[2]), require_encryption=True)

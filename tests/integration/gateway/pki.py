"""A throw-away PKI for TLS tests, made with the openssl command line."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


RSA = ("-newkey", "rsa:2048")
ECDSA = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")


def _issue(
    cwd: Path, name: str, subject: str, ext: str | None = None, key: tuple[str, ...] = RSA
) -> None:
    _openssl(
        "req",
        *key,
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-subj",
        subject,
        "-out",
        f"{name}.csr",
        cwd=cwd,
    )
    extra = ["-extfile", "ext.cnf"] if ext else []
    if ext:
        (cwd / "ext.cnf").write_text(ext)
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        f"{name}.crt",
        *extra,
        cwd=cwd,
    )


def issue_test_pki(cwd: Path) -> Path:
    """A CA, RSA and ECDSA server certificates for 127.0.0.1, and client certificates for
    CP-MTLS and CP-SOMEONE-ELSE, all signed by the CA."""
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=ChargeGrid Test CA",
        cwd=cwd,
    )
    san = "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
    _issue(cwd, "server", "/CN=127.0.0.1", san)
    _issue(cwd, "server-ecdsa", "/CN=127.0.0.1", san, key=ECDSA)
    _issue(cwd, "station", "/CN=CP-MTLS")
    _issue(cwd, "intruder", "/CN=CP-SOMEONE-ELSE")
    return cwd

"""A throwaway certificate authority and a server certificate for localhost, 127.0.0.1, ::1."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_NAMES = "DNS:localhost,IP:127.0.0.1,IP:::1"


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    other_ca_cert: Path  # a CA that did not sign the server: verify-full must fail with it


def _openssl(openssl: Path, *args: str, cwd: Path) -> None:
    subprocess.run([str(openssl), *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(openssl: Path, folder: Path, stem: str, common_name: str) -> None:
    _openssl(
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f"{stem}.key",
        "-out",
        f"{stem}.crt",
        "-days",
        "3",
        "-subj",
        f"/CN={common_name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )


def make_tls_files(openssl: Path, folder: Path) -> TlsFiles:
    folder.mkdir(parents=True, exist_ok=True)
    _make_ca(openssl, folder, "ca", "Supalink Test CA")
    _make_ca(openssl, folder, "other-ca", "Some Other CA")
    (folder / "server.ext").write_text(
        f"subjectAltName = {SERVER_NAMES}\n"
        "basicConstraints = CA:FALSE\n"
        "keyUsage = digitalSignature, keyEncipherment\n"
        "extendedKeyUsage = serverAuth\n"
    )
    _openssl(
        openssl,
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
        cwd=folder,
    )
    _openssl(
        openssl,
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "3",
        "-extfile",
        "server.ext",
        cwd=folder,
    )
    (folder / "server.key").chmod(0o600)
    return TlsFiles(
        ca_cert=folder / "ca.crt",
        server_cert=folder / "server.crt",
        server_key=folder / "server.key",
        other_ca_cert=folder / "other-ca.crt",
    )

"""A look at the server's certificate, taken only after libpq's TLS step failed.

libpq says "certificate verify failed" or "does not match host name"; to tell the person
which CA signed the certificate and which names it holds, the probe repeats the handshake
with Python's ssl module: PostgreSQL's SSLRequest first, then TLS on the same socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import ssl
import struct
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

# The SSLRequest packet: length 8, then the magic request code 1234.5679.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class TlsVerdict(StrEnum):
    NO_SSL = "no_ssl"  # the server answered 'N' to the SSLRequest
    UNTRUSTED = "untrusted"  # the chain does not lead to the CA file
    NAME_MISMATCH = "name_mismatch"  # trusted, but issued for other names
    VERIFIED = "verified"  # trusted and for this name: libpq failed for another reason
    UNKNOWN = "unknown"  # the look itself failed


@dataclass(frozen=True)
class Certificate:
    subject: str
    issuer: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class TlsFinding:
    verdict: TlsVerdict
    certificate: Certificate | None = None
    reason: str = ""  # OpenSSL's verification message, or why the look failed
    ca_subjects: tuple[str, ...] = field(default=())


def default_root_cert(sslrootcert: str | None) -> str | None:
    """The CA file libpq would use: the parameter, PGSSLROOTCERT, or ~/.postgresql/root.crt."""
    if sslrootcert:
        return sslrootcert
    if from_env := os.environ.get("PGSSLROOTCERT"):
        return from_env
    return str(Path.home() / ".postgresql" / "root.crt")


async def inspect_tls(
    address: str, port: int, host: str, cafile: str | None, timeout: float
) -> TlsFinding:
    """Fetch the certificate without trusting it, then check it against `cafile` and `host`."""
    try:
        async with asyncio.timeout(timeout):
            der = await _handshake(address, port, host, _unverified_context())
            if der is None:
                return TlsFinding(TlsVerdict.NO_SSL)
            certificate = _describe(der)
            ca_subjects = _ca_subjects(cafile)
            try:
                await _handshake(address, port, host, _verifying_context(cafile))
            except ssl.SSLCertVerificationError as error:
                reason = str(error.verify_message or error.reason or error)
                return TlsFinding(TlsVerdict.UNTRUSTED, certificate, reason, ca_subjects)
    except (OSError, TimeoutError, ValueError, ssl.SSLError) as error:
        return TlsFinding(TlsVerdict.UNKNOWN, reason=str(error) or type(error).__name__)
    if not name_matches(host, certificate.names):
        return TlsFinding(TlsVerdict.NAME_MISMATCH, certificate, ca_subjects=ca_subjects)
    return TlsFinding(TlsVerdict.VERIFIED, certificate, ca_subjects=ca_subjects)


async def _handshake(address: str, port: int, host: str, context: ssl.SSLContext) -> bytes | None:
    """The server's certificate (DER) after a TLS handshake; None when it has no TLS."""
    reader, writer = await asyncio.open_connection(address, port)
    try:
        writer.write(SSL_REQUEST)
        await writer.drain()
        answer = await reader.readexactly(1)
        if answer != b"S":
            return None
        await writer.start_tls(context, server_hostname=host)
        tls = writer.get_extra_info("ssl_object")
        der: bytes | None = tls.getpeercert(binary_form=True) if tls else None
        if der is None:
            raise ValueError("the server sent no certificate")
        return der
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


def _unverified_context() -> ssl.SSLContext:
    # Only to read the certificate for the diagnosis; nothing is sent over this connection.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _verifying_context(cafile: str | None) -> ssl.SSLContext:
    if cafile == "system":  # libpq's sslrootcert=system: the OS trust store
        context = ssl.create_default_context()
    else:
        context = ssl.create_default_context(cafile=cafile)
    # The host name is compared separately, to say "wrong CA" and "wrong name" apart.
    context.check_hostname = False
    return context


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _describe(der: bytes) -> Certificate:
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        names: tuple[str, ...] = (_common_name(cert.subject),)
    else:
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        names = (*san.get_values_for_type(x509.DNSName), *ips)
    return Certificate(_common_name(cert.subject), _common_name(cert.issuer), names)


def _ca_subjects(cafile: str | None) -> tuple[str, ...]:
    if not cafile or cafile == "system":
        return ()
    try:
        certs = x509.load_pem_x509_certificates(Path(cafile).read_bytes())
    except (OSError, ValueError):
        return ()
    return tuple(_common_name(cert.subject) for cert in certs)


def name_matches(host: str, names: tuple[str, ...]) -> bool:
    """RFC 6125 matching as libpq does it: exact, or a wildcard for the leftmost label."""
    try:
        wanted_ip = ipaddress.ip_address(host)
    except ValueError:
        wanted_ip = None
    host = host.lower().rstrip(".")
    for name in names:
        if wanted_ip is not None:
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(name) == wanted_ip:
                    return True
            continue
        pattern = name.lower().rstrip(".")
        if pattern == host:
            return True
        wildcard = pattern.startswith("*.") and "." in host
        if wildcard and host.split(".", 1)[1] == pattern[2:]:
            return True
    return False

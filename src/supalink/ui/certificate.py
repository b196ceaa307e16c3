"""What a CA file is: its subject and expiry, read from the certificate's DER encoding.

Not with Qt's QSslCertificate: QtNetwork and its OpenSSL plugin cost the app some 7 MB of
memory for good, to read two fields of the form's CA file. Not with cryptography either
(its Rust library is 7 MB more); the connection test (probe/tlsinfo.py), which reads far
more of a server's certificate, loads it when it runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

SUPABASE_CA_HINT = (
    "Download Supabase's CA certificate (prod-ca-2021.crt) from your project's "
    "Database Settings, SSL Configuration. It is not in your system's trust store."
)
NOT_A_CERTIFICATE = "this file holds no certificate (PEM or DER)"

_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"
_SEQUENCE, _SET, _VERSION = 0x30, 0x31, 0xA0
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
# The subject's attributes a person knows it by, in the order tried: commonName,
# organizationName, organizationalUnitName (Qt's subjectDisplayName's order).
_NAME_OIDS = (b"\x55\x04\x03", b"\x55\x04\x0a", b"\x55\x04\x0b")
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "ascii",  # PrintableString
    0x16: "ascii",  # IA5String
    0x14: "latin-1",  # TeletexString, as everyone reads it
    0x1E: "utf-16-be",  # BMPString
    0x1C: "utf-32-be",  # UniversalString
}


class CertificateInfo:
    """A certificate's subject and expiry. A plain class: a frozen @dataclass costs some
    1.5 ms at import, and the form imports this module for its first frame."""

    __slots__ = ("expired", "expires", "subject")

    def __init__(self, subject: str, expires: datetime, expired: bool) -> None:
        self.subject = subject
        self.expires = expires
        self.expired = expired

    def describe(self) -> str:
        state = "EXPIRED" if self.expired else "valid"
        return f"{self.subject} — {state} until {self.expires:%Y-%m-%d}"


def read_certificate(path: str) -> CertificateInfo | str:
    """The file's first certificate, or a message saying why it is not one."""
    if not path:
        return "no CA file chosen"
    file = Path(path).expanduser()
    if not file.is_file():
        return f"no file at {file}"
    try:
        data = file.read_bytes()
    except OSError as error:
        return f"cannot read {file}: {error.strerror}"
    try:
        return _first_certificate(data)
    except (ValueError, IndexError):  # not DER, or cut short
        return NOT_A_CERTIFICATE


def _first_certificate(data: bytes) -> CertificateInfo:
    """The first PEM certificate in `data`, or `data` itself as one in DER."""
    from datetime import UTC, datetime

    begin = data.find(_PEM_BEGIN)
    if begin >= 0:
        import base64

        end = data.find(_PEM_END, begin)
        if end < 0:
            raise ValueError("no end to the PEM certificate")
        data = base64.b64decode(data[begin + len(_PEM_BEGIN) : end])  # skips the line breaks
    tag, certificate, _ = _element(data, 0)
    tbs_tag, tbs = _children(certificate)[0]
    if tag != _SEQUENCE or tbs_tag != _SEQUENCE:
        raise ValueError("not a certificate")
    fields = _children(tbs)
    if fields[0][0] == _VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity (notBefore, notAfter), subject
    (_, validity), (_, subject) = fields[3], fields[4]
    expires = _time(*_children(validity)[1])
    return CertificateInfo(_display_name(subject), expires, expires < datetime.now(UTC))


def _element(data: bytes, at: int) -> tuple[int, bytes, int]:
    """The tag and contents of the DER element at `at`, and where the next one starts."""
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:  # the long form: the length's own length, then the length
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("not a DER length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise ValueError("cut short")
    return tag, data[at : at + length], at + length


def _children(contents: bytes) -> list[tuple[int, bytes]]:
    children = []
    at = 0
    while at < len(contents):
        tag, value, at = _element(contents, at)
        children.append((tag, value))
    return children


def _display_name(name: bytes) -> str:
    """The subject's common names, else its organizations, else its units."""
    found: dict[bytes, list[str]] = {oid: [] for oid in _NAME_OIDS}
    for set_tag, relative in _children(name):
        if set_tag != _SET:
            raise ValueError("not a name")
        for _, attribute in _children(relative):
            (_, oid), (kind, value) = _children(attribute)[:2]
            if oid in found and kind in _STRING_CODECS:
                found[oid].append(value.decode(_STRING_CODECS[kind]))
    return next((", ".join(values) for values in found.values() if values), "(no subject)")


def _time(tag: int, value: bytes) -> datetime:
    """A UTCTime (two-digit years: 50-99 are 19xx, RFC 5280) or GeneralizedTime, in UTC.
    Not strptime: its module (with calendar and locale) for one date."""
    from datetime import UTC, datetime

    digits = value.decode("ascii").removesuffix("Z")
    if tag == _UTC_TIME:
        digits = ("19" if int(digits[:2]) >= 50 else "20") + digits
    elif tag != _GENERALIZED_TIME:
        raise ValueError("not a time")
    if len(digits) != 14 or not digits.isdigit():  # RFC 5280: seconds, no fractions
        raise ValueError("not a time")
    month, day, hour, minute, second = (int(digits[at : at + 2]) for at in range(4, 14, 2))
    return datetime(int(digits[:4]), month, day, hour, minute, second, tzinfo=UTC)

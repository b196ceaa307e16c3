"""What a CA file is: its subject and expiry, read with Qt's own TLS classes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtCore import QDateTime

SUPABASE_CA_HINT = (
    "Download Supabase's CA certificate (prod-ca-2021.crt) from your project's "
    "Database Settings, SSL Configuration. It is not in your system's trust store."
)


class CertificateInfo:
    """A certificate's subject and expiry. A plain class: a frozen @dataclass costs some
    1.5 ms at import, and the form imports this module for its first frame."""

    __slots__ = ("expired", "expires", "subject")

    def __init__(self, subject: str, expires: QDateTime, expired: bool) -> None:
        self.subject = subject
        self.expires = expires
        self.expired = expired

    def describe(self) -> str:
        when = self.expires.toString("yyyy-MM-dd")
        state = "EXPIRED" if self.expired else "valid"
        return f"{self.subject} — {state} until {when}"


def read_certificate(path: str) -> CertificateInfo | str:
    """The file's first certificate, or a message saying why it is not one."""
    if not path:
        return "no CA file chosen"
    file = Path(path).expanduser()
    if not file.is_file():
        return f"no file at {file}"
    from PySide6.QtCore import QDateTime  # its type is made on first use: not for the first frame
    from PySide6.QtNetwork import QSsl, QSslCertificate  # ~12 ms: not before the window is up

    certificates = QSslCertificate.fromPath(str(file), QSsl.EncodingFormat.Pem)
    if not certificates:
        certificates = QSslCertificate.fromPath(str(file), QSsl.EncodingFormat.Der)
    if not certificates or certificates[0].isNull():
        return "this file holds no certificate (PEM or DER)"
    certificate = certificates[0]
    parts = certificate.subjectInfo(QSslCertificate.SubjectInfo.CommonName)
    parts = parts or certificate.subjectInfo(QSslCertificate.SubjectInfo.Organization)
    subject = ", ".join(parts) or certificate.subjectDisplayName() or "(no subject)"
    expires = certificate.expiryDate()
    return CertificateInfo(subject, expires, expires < QDateTime.currentDateTimeUtc())

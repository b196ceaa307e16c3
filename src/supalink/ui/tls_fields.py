"""The connection form's section on how the server's certificate is checked: the SSL mode, the
CA file with its Browse button, and under them what the chosen file holds (or why it cannot be
read) and where Supabase's CA comes from."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QWidget

from supalink.profiles import SSL_MODES, Profile
from supalink.ui.certificate import SUPABASE_CA_HINT, CertificateInfo, read_certificate
from supalink.ui.form_fields import line_edit
from supalink.ui.theme import Tone, toned

LABELS = {"sslmode": "SSL mode", "sslrootcert": "&CA file"}
VERIFYING = ("verify-ca", "verify-full")


class TlsFields:
    """The section's widgets (the form lays them out and listens to them) and what they say."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent  # the file dialog's
        self.sslmode = QComboBox()
        self.sslmode.setAccessibleName("SSL mode")
        self.sslmode.addItems(list(SSL_MODES))
        self.sslrootcert = line_edit("CA certificate file", "prod-ca-2021.crt")
        self.browse_ca = QPushButton("Browse…")
        self.browse_ca.setAccessibleName("Choose CA certificate file")
        self.ca_hint = toned(QLabel(SUPABASE_CA_HINT), Tone.HINT)
        self.ca_hint.setWordWrap(True)
        self.ca_info = QLabel()
        self.ca_info.setWordWrap(True)
        self.browse_ca.clicked.connect(self._choose_ca)

    @property
    def rows(self) -> dict[str, tuple[QWidget, ...]]:
        """Each row's widgets, in the form's order."""
        return {"sslmode": (self.sslmode,), "sslrootcert": (self.sslrootcert, self.browse_ca)}

    @property
    def watched(self) -> dict[str, QWidget]:
        return {"sslmode": self.sslmode, "sslrootcert": self.sslrootcert}

    def show(self, profile: Profile) -> None:
        self.sslmode.setCurrentText(profile.sslmode)
        self.sslrootcert.setText(profile.sslrootcert or "")

    def checked_with(self, profile: Profile) -> Profile:
        """`profile` with the fields' SSL mode and CA file."""
        return profile.replace(
            sslmode=self.sslmode.currentText(),
            sslrootcert=self.sslrootcert.text().strip() or None,
        )

    def refresh(self, is_supabase: bool, at_it: bool) -> None:
        """What the CA file holds; `at_it`: the person is at these fields (or the form shows
        every error), so a verifying mode without a file is an error, not a hint."""
        self.ca_hint.setVisible(is_supabase)  # where Supabase's CA comes from
        path = self.sslrootcert.text().strip()
        mode = self.sslmode.currentText()
        verifying = mode in VERIFYING
        if not path:
            self.ca_info.setText(f"No CA file: {mode} will fail without one." if verifying else "")
            # An error once the person is at it; on a blank form, what the field is for.
            toned(self.ca_info, Tone.ERROR if verifying and at_it else Tone.HINT)
            return
        info = read_certificate(path)
        if isinstance(info, CertificateInfo):
            self.ca_info.setText(info.describe())
            toned(self.ca_info, Tone.ERROR if info.expired else None)
        else:
            self.ca_info.setText(info)
            toned(self.ca_info, Tone.ERROR)

    def _choose_ca(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # its enums: not before the first paint

        path, _ = QFileDialog.getOpenFileName(
            self.parent,
            "Choose Supabase's CA certificate",
            "",
            "Certificates (*.crt *.pem *.cer);;All files (*)",
        )
        if path:
            self.sslrootcert.setText(path)


__all__ = ["LABELS", "TlsFields"]

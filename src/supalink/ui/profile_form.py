"""The connection form: each field validates as you type, its message beside it once the
field was touched (or the window asks, on Test or Save): a blank form shows no errors.
The password's row, and what becomes of the password, is password_field's."""

from __future__ import annotations

import itertools

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from supalink import profiles  # its URIs load on first use, after the first frame
from supalink.profiles import (
    DEFAULT_APPLICATION_NAME,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_SSLMODE,
    REGIONS,
    SSL_MODES,
    Mode,
    Profile,
)
from supalink.ui.certificate import SUPABASE_CA_HINT, CertificateInfo, read_certificate
from supalink.ui.form_fields import FieldRow, UriPasteBox
from supalink.ui.password_field import PasswordField
from supalink.ui.theme import Tone, toned

MODE_LABELS = {
    Mode.DIRECT: "Direct connection",
    Mode.SESSION: "Session pooler",
    Mode.TRANSACTION: "Transaction pooler",
    Mode.DEDICATED: "Dedicated pooler",
}
NO_INDEX = -1


class ProfileForm(QWidget):
    """Edits one profile. Emits `edited` on every change; never touches the keyring itself."""

    edited = Signal()

    def __init__(
        self, keyring_description: str, keyring_usable: bool, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.password_field = PasswordField(keyring_description, keyring_usable)
        self._loading = False
        # Fields whose errors show: those edited since the profile was shown, or all of them.
        self._touched: set[str] = set()
        self._reveal_all = False
        self._build()
        self._connect_signals()
        self.set_profile(None)

    # ----- building -------------------------------------------------------------------
    def _line(self, accessible: str, placeholder: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setAccessibleName(accessible)
        edit.setPlaceholderText(placeholder)
        return edit

    def _build(self) -> None:
        self.paste = UriPasteBox()
        self.paste.setAccessibleName("Paste a connection string")
        self.paste.setPlaceholderText(
            "Paste a connection string from the Supabase dashboard (postgresql://…)"
        )
        self.name = self._line("Profile name", "e.g. Production")
        self.supabase_kind = QRadioButton("Supabase project")
        self.custom_kind = QRadioButton("Other Postgres host")
        self.kind_group = QButtonGroup(self)
        for button in (self.supabase_kind, self.custom_kind):
            self.kind_group.addButton(button)
        self.ref = self._line("Project ref", "20 lowercase letters and digits")
        self.ref.setMaxLength(20)
        self.mode = QComboBox()
        self.mode.setAccessibleName("Connection mode")
        for mode, mode_label in MODE_LABELS.items():
            self.mode.addItem(mode_label, mode)
        self.mode_summary = toned(QLabel(), Tone.HINT)
        self.mode_summary.setWordWrap(True)
        self.region = QComboBox()
        self.region.setAccessibleName("Region")
        self.region.addItem("Choose the project's region…", None)
        for region in REGIONS:
            self.region.addItem(region, region)
        self.pooler_index = QSpinBox()
        self.pooler_index.setAccessibleName("Pooler index")
        self.pooler_index.setRange(NO_INDEX, 99)
        self.pooler_index.setSpecialValueText("aws-?")
        self.pooler_index.setPrefix("aws-")
        self.pooler_host = self._line("Pooler host", "or the pooler host, as the dashboard shows")
        self.host = self._line("Host", "db.example.com, 127.0.0.1 or ::1")
        self.port = QSpinBox()
        self.port.setAccessibleName("Port")
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.user = self._line("User", "postgres")
        self.database = self._line("Database", "postgres")
        field = self.password_field
        self.password, self.show_password = field.edit, field.show_button
        self.save_password, self.password_status = field.save, field.status
        self.sslmode = QComboBox()
        self.sslmode.setAccessibleName("SSL mode")
        self.sslmode.addItems(list(SSL_MODES))
        self.sslrootcert = self._line("CA certificate file", "prod-ca-2021.crt")
        self.browse_ca = QPushButton("Browse…")
        self.browse_ca.setAccessibleName("Choose CA certificate file")
        self.ca_hint = toned(QLabel(SUPABASE_CA_HINT), Tone.HINT)
        self.ca_hint.setWordWrap(True)
        self.ca_info = QLabel()
        self.ca_info.setWordWrap(True)
        self.connect_timeout = QSpinBox()
        self.connect_timeout.setAccessibleName("Connect timeout")
        self.connect_timeout.setRange(1, 600)
        self.connect_timeout.setSuffix(" s")
        self.application_name = self._line("Application name", DEFAULT_APPLICATION_NAME)
        self.uri = QLineEdit()
        self.uri.setReadOnly(True)
        self.uri.setAccessibleName("Connection URI, password masked")
        self.copy_uri = QPushButton("Copy")
        self.copy_uri.setAccessibleName("Copy connection URI")
        self.copy_uri.setToolTip("Copies the URI without the password")

        # Each row's widgets, in the form's order, which is also the Tab key's.
        fields: dict[str, tuple[QWidget, ...]] = {
            "paste": (self.paste,),
            "name": (self.name,),
            "kind": (self.supabase_kind, self.custom_kind),
            "ref": (self.ref,),
            "mode": (self.mode,),
            "region": (self.region,),
            "pooler_index": (self.pooler_index, self.pooler_host),
            "host": (self.host,),
            "port": (self.port,),
            "user": (self.user,),
            "database": (self.database,),
            "password": field.widgets,
            "sslmode": (self.sslmode,),
            "sslrootcert": (self.sslrootcert, self.browse_ca),
            "connect_timeout": (self.connect_timeout,),
            "application_name": (self.application_name,),
            "uri": (self.uri, self.copy_uri),
        }
        self.rows = {key: FieldRow(*widgets) for key, widgets in fields.items()}
        self.rows["pooler_host"] = self.rows["pooler_index"]
        self.rows["mode"].add_below(self.mode_summary)
        self.rows["password"].add_below(self.password_status)
        self.rows["sslrootcert"].add_below(self.ca_info)
        self.rows["sslrootcert"].add_below(self.ca_hint)

        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        labels = {
            "paste": "&Paste URI",
            "name": "&Name",
            "kind": "Kind",
            "ref": "Project &ref",
            "mode": "&Mode",
            "region": "Re&gion",
            "pooler_index": "Pooler",
            "host": "&Host",
            "port": "P&ort",
            "user": "&User",
            "database": "&Database",
            "password": "Pass&word",
            "sslmode": "SSL mode",
            "sslrootcert": "&CA file",
            "connect_timeout": "Connect timeout",
            "application_name": "Application name",
            "uri": "URI",
        }
        self.labels: dict[str, QLabel] = {}
        for key, caption in labels.items():
            label = QLabel(caption)
            if "&" in caption:  # its shortcut goes to the row's first field
                label.setBuddy(fields[key][0])
            self.labels[key] = label
            form.addRow(label, self.rows[key])
        order = [widget for widgets in fields.values() for widget in widgets]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _connect_signals(self) -> None:
        edits = {
            "name": self.name,
            "ref": self.ref,
            "pooler_host": self.pooler_host,
            "host": self.host,
            "user": self.user,
            "database": self.database,
            "password": self.password,
            "sslrootcert": self.sslrootcert,
            "application_name": self.application_name,
        }
        for key, edit in edits.items():
            edit.textChanged.connect(lambda *_, key=key: self._changed(key))
        combos = {"mode": self.mode, "region": self.region, "sslmode": self.sslmode}
        for key, combo in combos.items():
            combo.currentIndexChanged.connect(lambda *_, key=key: self._changed(key))
        spins = {
            "pooler_index": self.pooler_index,
            "port": self.port,
            "connect_timeout": self.connect_timeout,
        }
        for key, spin in spins.items():
            spin.valueChanged.connect(lambda *_, key=key: self._changed(key))
        self.kind_group.buttonToggled.connect(lambda *_: self._changed("kind"))
        self.save_password.toggled.connect(lambda *_: self._changed("password"))
        self.paste.whole_text.connect(self._fill_from_uri)
        self.paste.partial_text.connect(self._paste_partial)
        self.browse_ca.clicked.connect(self._choose_ca)
        self.copy_uri.clicked.connect(self._copy_uri)

    # ----- reading and writing --------------------------------------------------------
    def set_profile(
        self,
        profile: Profile | None,
        password: str | None = None,
        password_saved: bool = False,
        password_problem: str | None = None,
    ) -> None:
        """Show `profile` (a blank Supabase profile when None, whose errors wait until a
        field is touched or `reveal_problems()`); `password_problem` says why the password
        saved in the keyring is not at hand."""
        self._touched.clear()
        self._reveal_all = profile is not None
        profile = profile or Profile("", Mode.SESSION, ref="")
        self._loading = True
        try:
            self.paste.clear()
            self.rows["paste"].show_message(None)
            self.name.setText(profile.name)
            (self.supabase_kind if profile.is_supabase else self.custom_kind).setChecked(True)
            self.ref.setText(profile.ref or "")
            self.mode.setCurrentIndex(self.mode.findData(profile.mode))
            self.region.setCurrentIndex(max(0, self.region.findData(profile.region)))
            index = profile.pooler_index
            self.pooler_index.setValue(NO_INDEX if index is None else index)
            self.pooler_host.setText(profile.pooler_host or "")
            self.host.setText(profile.host or "")
            self.port.setValue(profile.port or 5432)
            self.user.setText("" if profile.user == "postgres" else profile.user)
            self.database.setText("" if profile.database == "postgres" else profile.database)
            self.password_field.set(
                password, saved=password_saved, problem=password_problem, new=not profile.name
            )
            self.sslmode.setCurrentText(profile.sslmode)
            self.sslrootcert.setText(profile.sslrootcert or "")
            self.connect_timeout.setValue(profile.connect_timeout)
            default_name = profile.application_name == DEFAULT_APPLICATION_NAME
            self.application_name.setText("" if default_name else profile.application_name)
        finally:
            self._loading = False
        self.password.setModified(False)
        self.refresh()

    def profile(self) -> Profile:
        is_supabase = self.supabase_kind.isChecked()
        mode = Mode(self.mode.currentData()) if is_supabase else Mode.DIRECT
        index = self.pooler_index.value()
        return Profile(
            name=self.name.text().strip(),
            mode=mode,
            ref=self.ref.text().strip() if is_supabase else None,
            region=self.region.currentData() if is_supabase and mode.on_shared_pooler else None,
            pooler_index=None if index == NO_INDEX or not is_supabase else index,
            pooler_host=(self.pooler_host.text().strip() or None) if is_supabase else None,
            host=None if is_supabase else self.host.text().strip(),
            port=None if is_supabase else self.port.value(),
            user=self.user.text().strip() or "postgres",
            database=self.database.text().strip() or "postgres",
            sslmode=self.sslmode.currentText(),
            sslrootcert=self.sslrootcert.text().strip() or None,
            connect_timeout=self.connect_timeout.value(),
            application_name=self.application_name.text().strip() or DEFAULT_APPLICATION_NAME,
        )

    def fill(self, profile: Profile) -> None:
        """A new profile's fields from one found elsewhere (a pasted URI, a project picked
        from Supabase): no password yet, and the keyring choice as the person left it on the
        new profile, ticked unless they unticked it."""
        field = self.password_field
        keep_saving, was_saved = field.save.isChecked(), field.saved
        self.set_profile(profile)
        field.save.setChecked(keep_saving and field.keyring_usable)
        field.saved = was_saved
        field.refresh()

    def set_keyring(self, description: str, usable: bool) -> None:
        """The keyring as probed (the app probes it after its window is up)."""
        self._loading = True  # not an edit of the profile
        try:
            self.password_field.set_keyring(description, usable)
        finally:
            self._loading = False

    @property
    def keyring_usable(self) -> bool:
        return self.password_field.keyring_usable

    def show_held_password(self, password: str) -> None:
        """A password just asked for and held for this session: in the field, not an edit."""
        self._loading = True
        try:
            self.password.setText(password)
        finally:
            self._loading = False
        self.password.setModified(False)
        self.refresh()

    def password_text(self) -> str | None:
        return self.password_field.text()

    def password_edited(self) -> bool:
        return self.password_field.edited()

    def wants_password_saved(self) -> bool:
        return self.password_field.wants_saved()

    def problems(self) -> dict[str, str]:
        return self.profile().problems()

    def reveal_problems(self) -> dict[str, str]:
        """Show every field's error (the person pressed Test or Save); the problems."""
        self._reveal_all = True
        self.refresh()
        return self.problems()

    def field_label(self, key: str) -> str:
        """A field's name as the form shows it ("Project ref"), for messages elsewhere."""
        label = self.labels.get(key) or self.labels["pooler_index"]
        return label.text().replace("&", "")

    # ----- reacting -------------------------------------------------------------------
    def _changed(self, key: str) -> None:
        if self._loading:
            return
        self._touched.add(key)
        self.refresh()
        self.edited.emit()

    def refresh(self) -> None:
        """Show or hide fields for the kind and mode, then every message and the URI."""
        is_supabase = self.supabase_kind.isChecked()
        mode = Mode(self.mode.currentData())
        pooled = is_supabase and mode.on_shared_pooler  # the dedicated one is on db.<ref>
        for key in ("ref", "mode"):
            self._show_row(key, is_supabase)
        for key in ("region", "pooler_index"):
            self._show_row(key, pooled)
        for key in ("host", "port"):
            self._show_row(key, not is_supabase)
        self.mode_summary.setText(mode.summary)
        self.pooler_index.setEnabled(not self.pooler_host.text().strip())
        self.region.setEnabled(not self.pooler_host.text().strip())
        profile = self.profile()
        problems = profile.problems()
        shown = {
            key: message
            for key, message in problems.items()
            if self._reveal_all or key in self._touched
        }
        for key, row in self.rows.items():
            if key not in ("paste", "uri", "password", "kind", "pooler_host"):
                row.show_message(shown.get(key))
        pooler_message = shown.get("pooler_index") or shown.get("pooler_host")
        self.rows["pooler_index"].show_message(pooler_message)
        self.password_field.refresh()
        self._refresh_ca(is_supabase)
        if problems:
            self.uri.setText("")
            self.uri.setPlaceholderText("Fill in the fields above to see the URI")
        else:
            self.uri.setText(profiles.build_uri(profile, self.password_text(), masked=True))

    def _show_row(self, key: str, visible: bool) -> None:
        self.rows[key].setVisible(visible)
        self.labels[key].setVisible(visible)

    def _refresh_ca(self, is_supabase: bool) -> None:
        self.ca_hint.setVisible(is_supabase)  # where Supabase's CA comes from
        path = self.sslrootcert.text().strip()
        verifying = self.sslmode.currentText() in ("verify-ca", "verify-full")
        if not path:
            mode = self.sslmode.currentText()
            self.ca_info.setText(f"No CA file: {mode} will fail without one." if verifying else "")
            # An error once the person is at it; on a blank form, what the field is for.
            at_it = self._reveal_all or {"sslmode", "sslrootcert"} & self._touched
            toned(self.ca_info, Tone.ERROR if verifying and at_it else Tone.HINT)
            return
        info = read_certificate(path)
        if isinstance(info, CertificateInfo):
            self.ca_info.setText(info.describe())
            toned(self.ca_info, Tone.ERROR if info.expired else None)
        else:
            self.ca_info.setText(info)
            toned(self.ca_info, Tone.ERROR)

    def _paste_partial(self, typed: bool) -> None:
        self.rows["paste"].show_message(
            "Press Enter to fill in the form from this connection string." if typed else None,
            Tone.HINT,
        )

    def _fill_from_uri(self, text: str) -> None:
        if self._loading or not text.strip():
            return
        try:
            parsed = profiles.parse_uri(text, name=self.name.text().strip() or "imported")
        except (profiles.UriError, profiles.ProfileError) as error:
            self.rows["paste"].show_message(str(error))
            return
        name = self.name.text()
        self.fill(parsed.profile.replace(name=name or parsed.profile.name))
        if parsed.password is not None:
            self.password.setText(parsed.password)
            self.password.setModified(True)
        hint = "Form filled from the URI."
        if parsed.password is None:
            hint += " Type the database password below."
        if parsed.ignored_parameters:
            hint += f" Ignored: {', '.join(parsed.ignored_parameters)}."
        self.rows["paste"].show_message(None)
        self.paste.setPlaceholderText(hint)
        self._changed("paste")

    def _choose_ca(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # its enums: not before the first paint

        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose Supabase's CA certificate",
            "",
            "Certificates (*.crt *.pem *.cer);;All files (*)",
        )
        if path:
            self.sslrootcert.setText(path)

    def _copy_uri(self) -> None:
        profile = self.profile()
        if not profile.problems():
            QGuiApplication.clipboard().setText(profiles.build_uri(profile))


__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_SSLMODE", "ProfileForm"]

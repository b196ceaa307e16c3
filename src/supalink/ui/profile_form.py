"""The connection form: each field validates as you type, its message beside it once the
field was touched (or the window asks, on Test or Save): a blank form shows no errors.
Its sections: the profile (paste a URI, name it, mark its environment: the band on top
shows it), where the database is (server_fields), the
login (user, database, and the password's row: password_field), how the certificate is
checked (tls_fields), the connection's options, and the URI they make."""

from __future__ import annotations

import itertools

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from supalink import profiles  # its URIs load on first use, after the first frame
from supalink.profiles import (
    DEFAULT_APPLICATION_NAME,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_SSLMODE,
    ENVIRONMENTS,
    Mode,
    Profile,
)
from supalink.ui import server_fields, tls_fields
from supalink.ui.environment import EnvironmentBand, environment_word
from supalink.ui.form_fields import FieldRow, UriPasteBox, line_edit, notify_changes
from supalink.ui.password_field import PasswordField
from supalink.ui.server_fields import ServerFields
from supalink.ui.theme import Tone
from supalink.ui.tls_fields import TlsFields

PASTE_PROMPT = "Paste a connection string from the Supabase dashboard (postgresql://…)"
# Each Alt letter is one field's in the main window, never a menu's (File, Profile, View, Help)
# or a button's (Save, Test, Write config, Monitor): tests/ui/test_lists_quit_keys.py.
LABELS = {
    "paste": "Paste UR&I",
    "name": "&Name",
    "environment": "Environment",  # E, the first choice, is Mode's
    **server_fields.LABELS,
    "user": "&User",
    "database": "Data&base",
    "password": "Passwor&d",
    **tls_fields.LABELS,
    "connect_timeout": "Connect timeout",
    "application_name": "Application name",
    "uri": "URI",
}


class ProfileForm(QWidget):
    """Edits one profile. Emits `edited` on every change; never touches the keyring itself."""

    edited = Signal()

    def __init__(
        self, keyring_description: str, keyring_usable: bool, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.server = ServerFields(self)
        self.password_field = PasswordField(keyring_description, keyring_usable)
        self.tls = TlsFields(self)
        self._loading = False
        # Fields whose errors show: those edited since the profile was shown, or all of them.
        self._touched: set[str] = set()
        self._reveal_all = False
        self._build()
        self._lay_out()
        self._connect_signals()
        self.set_profile(None)

    # ----- building -------------------------------------------------------------------
    def _build(self) -> None:
        self.paste = UriPasteBox()
        self.paste.setAccessibleName("Paste a connection string")
        self.paste.setPlaceholderText(PASTE_PROMPT)
        self.name = line_edit("Profile name", "e.g. Production")
        self.header = EnvironmentBand()
        self.environment = QComboBox()
        self.environment.setAccessibleName("Environment")
        self.environment.setToolTip(
            "Shown in its colour wherever this profile is; letting an agent write to a "
            "production profile is asked twice"
        )
        # Words only: the band above shows the colour, and an icon here would build QIcon's
        # enums before the first paint (tests/ui/test_deferred_start.py).
        self.environment.addItem("None", "")
        for environment in ENVIRONMENTS:
            self.environment.addItem(environment_word(environment), environment)
        self.user = line_edit("User", "postgres")
        self.database = line_edit("Database", "postgres")
        field = self.password_field
        self.password, self.show_password = field.edit, field.show_button
        self.save_password, self.password_status = field.save, field.status
        self.connect_timeout = QSpinBox()
        self.connect_timeout.setAccessibleName("Connect timeout")
        self.connect_timeout.setRange(1, 600)
        self.connect_timeout.setSuffix(" s")
        self.application_name = line_edit("Application name", DEFAULT_APPLICATION_NAME)
        self.uri = QLineEdit()
        self.uri.setReadOnly(True)
        self.uri.setAccessibleName("Connection URI, password masked")
        self.copy_uri = QPushButton("Copy")
        self.copy_uri.setAccessibleName("Copy connection URI")
        self.copy_uri.setToolTip("Copies the URI without the password")

    def _fields(self) -> dict[str, tuple[QWidget, ...]]:
        """Each row's widgets, section by section, in the form's order, which is also the
        Tab key's."""
        return {
            "paste": (self.paste,),
            "name": (self.name,),
            "environment": (self.environment,),
            **self.server.rows,
            "user": (self.user,),
            "database": (self.database,),
            "password": self.password_field.widgets,
            **self.tls.rows,
            "connect_timeout": (self.connect_timeout,),
            "application_name": (self.application_name,),
            "uri": (self.uri, self.copy_uri),
        }

    def _lay_out(self) -> None:
        fields = self._fields()
        self.rows = {key: FieldRow(*widgets) for key, widgets in fields.items()}
        self.rows["pooler_host"] = self.rows["pooler_index"]
        self.rows["mode"].add_below(self.server.mode_summary)
        self.rows["password"].add_below(self.password_status)
        self.rows["sslrootcert"].add_below(self.tls.ca_info)
        self.rows["sslrootcert"].add_below(self.tls.ca_hint)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # A label above its field only when both do not fit side by side (1024x768 at 200 %):
        # the form then needs no horizontal scrolling.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow(self.header)
        self.labels: dict[str, QLabel] = {}
        for key, caption in LABELS.items():
            label = QLabel(caption)
            if "&" in caption:  # its shortcut goes to the row's first field
                label.setBuddy(fields[key][0])
            self.labels[key] = label
            form.addRow(label, self.rows[key])
        order = [widget for widgets in fields.values() for widget in widgets]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)

    def _connect_signals(self) -> None:
        watched = {
            "name": self.name,
            "environment": self.environment,
            **self.server.watched,
            "user": self.user,
            "database": self.database,
            "password": self.password,
            **self.tls.watched,
            "connect_timeout": self.connect_timeout,
            "application_name": self.application_name,
        }
        notify_changes(watched, self._changed)
        self.save_password.toggled.connect(lambda *_: self._changed("password"))
        self.paste.whole_text.connect(self._fill_from_uri)
        self.paste.partial_text.connect(self._paste_partial)
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
        self._reveal_all = opened = profile is not None
        profile = profile or Profile("", Mode.SESSION, ref="")
        self._loading = True
        try:
            self.paste.clear()
            # The last paste's "Form filled from the URI..." was about the form it filled.
            self.paste.setPlaceholderText(PASTE_PROMPT)
            self.rows["paste"].show_message(None)
            self.name.setText(profile.name)
            self.environment.setCurrentIndex(self.environment.findData(profile.environment or ""))
            self.server.show(profile)
            # A blank new profile shows the default user greyed as a placeholder; a
            # profile's own user is shown as text, `postgres` too: it is who logs in.
            self.user.setText(profile.user if opened else "")
            self.database.setText("" if profile.database == "postgres" else profile.database)
            self.password_field.set(
                password, saved=password_saved, problem=password_problem, new=not profile.name
            )
            self.tls.show(profile)
            self.connect_timeout.setValue(profile.connect_timeout)
            default_name = profile.application_name == DEFAULT_APPLICATION_NAME
            self.application_name.setText("" if default_name else profile.application_name)
        finally:
            self._loading = False
        self.password.setModified(False)
        self.refresh()

    def profile(self) -> Profile:
        profile = Profile(
            name=self.name.text().strip(),
            user=self.user.text().strip() or "postgres",
            database=self.database.text().strip() or "postgres",
            connect_timeout=self.connect_timeout.value(),
            application_name=self.application_name.text().strip() or DEFAULT_APPLICATION_NAME,
            environment=self.environment.currentData() or None,
        )
        return self.tls.checked_with(self.server.placed(profile))

    def fill(self, profile: Profile) -> None:
        """A new profile's fields from one found elsewhere (a pasted URI, a project picked
        from Supabase): no password yet, and the keyring choice as the person left it on the
        new profile, ticked unless they unticked it."""
        field = self.password_field
        keep_saving, was_saved = field.save.isChecked(), field.saved
        # The environment as marked, unless what was found says one.
        chosen = profile.environment or self.environment.currentData() or None
        self.set_profile(profile.replace(environment=chosen))
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
        for key, visible in self.server.refresh().items():
            self.rows[key].setVisible(visible)
            self.labels[key].setVisible(visible)
        profile = self.profile()
        self.header.show_environment(profile.environment)
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
        at_tls = self._reveal_all or bool({"sslmode", "sslrootcert"} & self._touched)
        self.tls.refresh(self.server.is_supabase(), at_tls)
        if problems:
            self.uri.setText("")
            self.uri.setPlaceholderText("Fill in the fields above to see the URI")
        else:
            self.uri.setText(profiles.build_uri(profile, self.password_text(), masked=True))

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

    def _copy_uri(self) -> None:
        profile = self.profile()
        if not profile.problems():
            QGuiApplication.clipboard().setText(profiles.build_uri(profile))


__all__ = ["DEFAULT_CONNECT_TIMEOUT", "DEFAULT_SSLMODE", "ProfileForm"]

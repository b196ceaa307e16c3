"""Write config: pick a client and a template, read the masked diff, write, then verify.
Where the entry's password goes is entry_password's to say; the login's check and the offer
of a role of the agent's own are role_offer's; Verify is config_verify's."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from supalink.errors import SupalinkError
from supalink.mcp import (
    CLIENTS,
    DEFAULT_LAUNCHED_SERVER,
    DEFAULT_SERVER_NAME,
    DEFAULT_TEMPLATE,
    KEYRING_TEMPLATE,
    SUPALINK_TEMPLATE,
    TEMPLATES,
    URI_SERVERS,
    BadServerName,
    ConfigChanged,
    ConfigWriter,
    EntryMissing,
    EntryWarning,
    Host,
    McpClient,
    MissingCaFile,
    PasswordNotSaved,
    Plan,
    PlannedEntry,
    ServerEntry,
    VerifyReport,
    check_server_name,
    entry_for_profile,
    read_entry,
)
from supalink.profiles import ProfileRepository, Target
from supalink.ui.backup_purge import PurgeBackupsButton
from supalink.ui.config_verify import LogPlace, VerifyStep
from supalink.ui.entry_password import PasswordChoice, confirm_password_in_file, label_templates
from supalink.ui.role_dialog import RoleDialog
from supalink.ui.role_offer import RoleOffer
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import Tone, toned

# The password in the file is the password row's to say (entry_password), not a warning's.
WARNINGS = {
    EntryWarning.NO_CA: "the profile has no CA certificate file, so the server will fail to "
    "verify the database's certificate (verify-full): choose it in the profile's CA file",
    EntryWarning.ESCAPABLE_READ_ONLY: "this server is archived, and its read-only mode can be "
    "escaped: an agent that sends COMMIT and then a statement can change or drop anything the "
    "login may. Supalink's own server is read-only in depth.",
    EntryWarning.WRITES_ALLOWED: "writes are allowed: the agent can change and delete data. "
    "Untick Allow writes for a read-only agent.",
}


def error_text(error: SupalinkError) -> str:
    """An error of the MCP package in this dialog's words (the CLI names its flags)."""
    if isinstance(error, PasswordNotSaved) and not error.for_launcher:
        return f"{error}: type it into the password field, or save it in the keyring"
    if isinstance(error, MissingCaFile):
        return f"{error}: choose the right one in the profile's CA file"
    return str(error)


def clients_found_first(host: Host) -> list[tuple[McpClient, Path, bool]]:
    """Every client with its config path; those present on this machine first."""
    rows = []
    for client in CLIENTS.values():
        pure = client.config_path(host)
        # The file, or a folder of the client's own (not the home folder itself).
        folder = pure.parent
        found = host.exists(pure) or (folder != host.path(str(host.home)) and host.exists(folder))
        rows.append((client, Path(pure), found))
    return sorted(rows, key=lambda row: not row[2])


class ConfigDialog(QDialog):
    def __init__(
        self,
        tasks: TaskRunner,
        backup_dir: Path,
        target: Target,
        *,
        password_in_keyring: bool,
        host: Host | None = None,
        repository: ProfileRepository | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`target`: a profile's, with the password at hand (the keyring's or this session's).
        With `repository`, a login that bypasses row level security is found out (in the
        background) and a read-only role for the agent is offered in its place."""
        super().__init__(parent)
        assert target.profile is not None, "the dialog writes a profile's entry"
        self.tasks = tasks
        self.repository = repository
        self.writer = ConfigWriter(backup_dir)
        self.target = target
        self.profile = target.profile
        self.password_in_keyring = password_in_keyring
        self.plan: Plan | None = None
        self.planned: PlannedEntry | None = None
        self.replaced: str | None = None  # in words: whom the entry of that name connects now
        self.own_name: str | None = None
        self.written = False
        self.saved_password = False  # saved in the keyring from here: the form shows it
        self.setWindowTitle(f"Write MCP client config for {self.profile.name}")
        self.resize(860, 640)

        self.client = QComboBox()
        self.client.setAccessibleName("MCP client")
        # Its items name whole paths: the dialog must still fit a 1024-pixel screen.
        self.client.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.client.setMinimumContentsLength(40)
        self.host = host or Host.current()
        for client, path, found in clients_found_first(self.host):
            note = "" if found else "  (not found on this machine)"
            self.client.addItem(f"{client.name} — {path}{note}", (client.id, str(path)))
        self.path = QLineEdit()
        self.path.setAccessibleName("Config file")
        browse = QPushButton("Browse…")
        self.template = QComboBox()
        self.template.setAccessibleName("Server template")
        self.template.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.template.setMinimumContentsLength(40)
        for template in TEMPLATES:
            self.template.addItem(template, template)
        self._label_templates()
        self.template.setCurrentIndex(self.template.findData(DEFAULT_TEMPLATE))
        self.server = QComboBox()
        self.server.setAccessibleName("Server behind the launcher")
        for template in URI_SERVERS:
            self.server.addItem(template, template)
        self.server.setCurrentIndex(self.server.findData(DEFAULT_LAUNCHED_SERVER))
        self.allow_writes = QCheckBox("&Allow writes (the agent can change data)")
        self.allow_writes.setToolTip(
            "Supalink's server refuses every write unless this is ticked: leave it off for an "
            "agent that only reads"
        )
        self.server_name = QLineEdit(DEFAULT_SERVER_NAME)
        self.server_name.setAccessibleName("Server name")
        self.role_row = RoleOffer(tasks, repository)
        self.role_warning, self.role_button = self.role_row.warning, self.role_row.button
        self.password_choice = PasswordChoice(repository)
        self.repoint_row = QWidget()
        self.repoint_note = toned(QLabel(), Tone.ERROR)
        self.repoint_note.setWordWrap(True)
        self.use_own_name = QPushButton()
        repoint_layout = QHBoxLayout(self.repoint_row)
        repoint_layout.setContentsMargins(0, 0, 0, 0)
        repoint_layout.addWidget(self.repoint_note, 1)
        repoint_layout.addWidget(self.use_own_name)
        self.repoint_row.hide()
        self.notes = toned(QLabel(), Tone.ERROR)
        self.notes.setWordWrap(True)
        self.diff = QTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setAccessibleName("Changes to the config file, passwords masked")
        self.diff.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.verifier = VerifyStep(tasks, self.status)
        self.client_log = self.verifier.client_log
        self.write_button = QPushButton("&Write")
        self.verify_button, self.cancel_verify = self.verifier.button, self.verifier.cancel
        close = QPushButton("Close")

        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        self.purge_backups = PurgeBackupsButton(backup_dir, self._config_file)
        path_row.addWidget(self.purge_backups)
        form = QFormLayout()
        form.addRow("&Client", self.client)
        path_label = QLabel("Config &file")
        path_label.setBuddy(self.path)
        form.addRow(path_label, path_row)
        form.addRow("&Template", self.template)
        form.addRow("Server behind the launcher", self.server)
        form.addRow("", self.allow_writes)
        form.addRow("Server &name", self.server_name)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.write_button, self.verify_button, self.cancel_verify, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.role_row)
        layout.addWidget(self.password_choice)
        layout.addWidget(self.repoint_row)
        layout.addWidget(self.notes)
        layout.addWidget(QLabel("Changes (passwords masked):"))
        layout.addWidget(self.diff, 1)
        layout.addWidget(self.client_log)
        layout.addLayout(buttons)

        self.client.currentIndexChanged.connect(self._client_changed)
        self.path.editingFinished.connect(self.replan)
        browse.clicked.connect(self._browse)
        self.template.currentIndexChanged.connect(self.replan)
        self.server.currentIndexChanged.connect(self.replan)
        self.allow_writes.toggled.connect(self.replan)
        self.server_name.editingFinished.connect(self.replan)
        self.server_name.textChanged.connect(self._check_name)
        self.write_button.clicked.connect(self.write)
        self.verify_button.clicked.connect(self.verify)
        close.clicked.connect(self.reject)
        self.role_row.made.connect(self.use_agent_profile)
        self.password_choice.saved.connect(self._password_saved)
        self.use_own_name.clicked.connect(self.take_own_name)
        self._client_changed()
        if repository is not None:
            self.role_row.check(self.target)

    # ----- planning -------------------------------------------------------------------
    def selected_client(self) -> McpClient:
        client_id, _ = self.client.currentData()
        return CLIENTS[client_id]

    def _client_changed(self, *_: object) -> None:
        self.path.setText(self.client.currentData()[1])
        self.replan()

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Config file",
            self.path.text(),
            "JSON (*.json);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.path.setText(path)
            self.replan()

    def replan(self, *_: object) -> None:
        template = str(self.template.currentData())
        self.server.setEnabled(template == KEYRING_TEMPLATE)
        # Only Supalink's own server has a guard to turn off.
        self.allow_writes.setEnabled(template == SUPALINK_TEMPLATE)
        self.plan = None
        self.replaced = self.own_name = None
        self.repoint_row.hide()
        self.write_button.setEnabled(False)
        self.planned = None
        try:
            self.planned = entry_for_profile(
                self.target,
                password_in_keyring=self.password_in_keyring,
                template=template,
                server=str(self.server.currentData()) if template == KEYRING_TEMPLATE else None,
                allow_writes=self.allow_writes.isEnabled() and self.allow_writes.isChecked(),
            )
            planned_entry = self.writer.plan_entry(
                self.selected_client(),
                Path(self.path.text()).expanduser(),
                self.planned,
                self.entry_name(),
                self.target,
            )
        except SupalinkError as error:
            self.password_choice.show_for(
                self.target, None, password_in_keyring=self.password_in_keyring, error=error
            )
            self.notes.setText(error_text(error))
            self.diff.setPlainText("")
            return
        self.password_choice.show_for(
            self.target, self.planned, password_in_keyring=self.password_in_keyring
        )
        self.plan = planned_entry.plan
        if (owner := planned_entry.replaces) is not None:
            self._show_repoint(owner.profile, owner.database, planned_entry.own_name)
        warnings = [w for w in self.planned.warnings if w is not EntryWarning.CREDENTIALS_IN_FILE]
        self.notes.setText("\n".join(f"Warning: {WARNINGS[w]}" for w in warnings))
        self._show_diff(self.plan)
        self.write_button.setEnabled(self.plan.changes)
        if not self.plan.changes:
            self.status.setText("The file already holds this entry: nothing to write.")

    def _show_repoint(self, profile: str | None, database: str | None, own: str | None) -> None:
        """The entry of that name connects another profile: say it in words, offer a name
        of this profile's own."""
        self.replaced = f"the profile {profile!r}" if profile is not None else database
        self.own_name = own
        self.repoint_note.setText(
            f"The {self.entry_name()!r} entry in this file connects {self.replaced} now: "
            f"writing it makes the agent use {self.profile.name!r} instead."
            + (f" Keep both with an entry named {own!r}." if own else "")
        )
        self.use_own_name.setText(f"Name it {own!r}" if own else "")
        self.use_own_name.setVisible(own is not None)
        self.repoint_row.show()

    def take_own_name(self) -> None:
        if self.own_name is not None:
            self.server_name.setText(self.own_name)
            self.replan()

    def _show_diff(self, plan: Plan) -> None:
        preview = plan.preview() or "(no changes)"
        lines = []
        for line in preview.splitlines():
            color = ""
            if line.startswith("+") and not line.startswith("+++"):
                color = "#2f9e6f"
            elif line.startswith("-") and not line.startswith("---"):
                color = "#d9534f"
            text = html.escape(line) or "&nbsp;"
            lines.append(f"<span style='color:{color}'>{text}</span>" if color else text)
        self.diff.setHtml("<pre>" + "<br>".join(lines) + "</pre>")

    # ----- the password, the login ------------------------------------------------------
    def _label_templates(self) -> None:
        label_templates(self.template, self.target, password_in_keyring=self.password_in_keyring)

    def _password_saved(self) -> None:
        self.password_in_keyring = self.saved_password = True
        self._label_templates()
        self.replan()
        self.status.setText(f"Saved the password of {self.profile.name!r} in the keyring.")

    @property
    def role_dialog(self) -> RoleDialog | None:
        return self.role_row.dialog

    def use_agent_profile(self, dialog: RoleDialog) -> None:
        assert self.repository is not None
        assert dialog.link is not None
        name = dialog.link.profile
        profile = self.repository.load(name).profile
        # A keyring that stops answering now leaves the entry to be planned without it.
        password = self.repository.password(name, keyring_may_fail=True)
        self.target = Target.from_profile(profile, password.value if password else None)
        self.profile = profile
        self.password_in_keyring = password is not None and password.in_keyring
        self.setWindowTitle(f"Write MCP client config for {name}")
        self.role_row.settle()
        self._label_templates()
        self.replan()
        self.status.setText(
            f"Created the role {dialog.link.role!r}: the entry below is for its profile "
            f"{name!r}. Press Write to write it."
        )

    def done(self, result: int) -> None:
        # The background work is this window's: it must not outlive the widgets it fills in.
        self.role_row.stop()
        super().done(result)

    # ----- writing --------------------------------------------------------------------
    def write(self) -> bool:
        if self.plan is None:
            return False
        plan = self.plan
        confirmed = True
        if plan.needs_confirmation:
            now = f", which connects {self.replaced}" if self.replaced else ""
            answer = QMessageBox.question(
                self,
                "Replace entry",
                f"{plan.path} already has a different {plan.server_name!r} entry{now} "
                "(shown in red above). Replace it?",
            )
            confirmed = answer == QMessageBox.StandardButton.Yes
            if not confirmed:
                return False
        secret = self.planned is not None and bool(self.planned.secrets)
        if secret and not confirm_password_in_file(self, plan.path, self.profile.name):
            self.status.setText("Not written: the password stays out of the file.")
            return False
        try:
            written = self.writer.apply(plan, confirmed=confirmed)
        except ConfigChanged:
            QMessageBox.warning(
                self,
                "The file changed",
                f"{plan.path} changed since this preview (another program wrote it). "
                "The preview now shows the change against the file as it is.",
            )
            self.replan()
            return False
        except (SupalinkError, OSError) as error:
            QMessageBox.warning(self, "Could not write the config", str(error))
            return False
        self.written = True
        client = plan.client
        lines = [f"Written: {written.written}."]
        if written.backup is not None:
            lines.append(f"Backup: {written.backup}.")
        lines.append(f"Quit {client.name} fully and start it again to load the change.")
        if written.running:
            lines.append(f"{client.name} is running now: it may write its own copy back.")
        self.replan()
        self.status.setText(" ".join(lines))
        return True

    def _config_file(self) -> Path | None:
        text = self.path.text().strip()
        return Path(text).expanduser() if text else None

    # ----- verifying ------------------------------------------------------------------
    def _check_name(self) -> None:
        """A name no client's file should hold is refused as it is typed (the plan is made
        again when the field is left)."""
        try:
            check_server_name(self.entry_name())
        except BadServerName as error:
            self.notes.setText(f"Server name: {error.problem}.")
            self.diff.setPlainText("")
            self.write_button.setEnabled(False)
            self.verify_button.setEnabled(False)
            return
        self.verify_button.setEnabled(True)

    def entry_name(self) -> str:
        return self.server_name.text().strip() or DEFAULT_SERVER_NAME

    def written_entry(self) -> ServerEntry | None:
        """The entry as the file holds it now: what the client will start."""
        path = Path(self.path.text()).expanduser()
        try:
            return read_entry(self.selected_client(), path, self.entry_name())
        except EntryMissing:
            return None

    def verify(self) -> None:
        try:
            entry = self.written_entry()
        except SupalinkError as error:
            self.status.setText(f"✗ {error}")
            return
        if entry is None:
            self.status.setText("Write the entry first: verify starts what the file holds.")
            return
        self.verifier.start(entry, self._secrets(), self._log_place())

    def show_report(self, report: VerifyReport) -> None:
        self.verifier.show_report(report, self._secrets(), self._log_place())

    @property
    def last_report(self) -> VerifyReport | None:
        return self.verifier.last_report

    def _secrets(self) -> tuple[str, ...]:
        return self.planned.secrets if self.planned else ()

    def _log_place(self) -> LogPlace:
        return LogPlace(self.selected_client(), self.host, self.entry_name())


__all__ = ["ConfigDialog"]

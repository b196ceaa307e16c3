"""Write config: the choices (config_choices), the preview of the change (config_preview),
then Write, then Verify (config_verify). Where the entry's password goes is entry_password's
to say; the login's check and the offer of a role of the agent's own are role_offer's. A band
on top names the profile's environment; writes allowed to a production one are asked twice."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from supalink.errors import SupalinkError
from supalink.mcp import (
    BadServerName,
    ConfigChanged,
    ConfigWriter,
    EntryMissing,
    Host,
    Plan,
    PlannedEntry,
    ServerEntry,
    VerifyReport,
    check_server_name,
    entry_for_profile,
    for_client,
    read_entry,
)
from supalink.profiles import ProfileRepository, Target
from supalink.ui.config_choices import EntryChoices
from supalink.ui.config_extension import ExtensionSave
from supalink.ui.config_preview import DiffView, RepointRow, error_text, warnings_text
from supalink.ui.config_verify import LogPlace, VerifyStep
from supalink.ui.entry_password import PasswordChoice, confirm_password_in_file, label_templates
from supalink.ui.environment import EnvironmentBand, environment_word
from supalink.ui.questions import said_yes
from supalink.ui.role_dialog import RoleDialog
from supalink.ui.role_offer import RoleOffer
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import Tone, toned
from supalink.ui.wrapping_row import WrappingRow


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
        self.host = host or Host.current()
        self.target = target
        self.profile = target.profile
        self.password_in_keyring = password_in_keyring
        self.plan: Plan | None = None
        self.planned: PlannedEntry | None = None
        self.written = False
        self.saved_password = False  # saved in the keyring from here: the form shows it
        self.setWindowTitle(f"Write MCP client config for {self.profile.name}")
        self.resize(860, 640)
        self._build(backup_dir)
        self._connect()
        self.choices.start()
        if repository is not None:
            self.role_row.check(self.target)

    def _build(self, backup_dir: Path) -> None:
        self.environment_band = EnvironmentBand()
        self._show_environment()
        self.choices = EntryChoices(self.host, backup_dir)
        self._label_templates()
        self.role_row = RoleOffer(self.tasks, self.repository)
        self.role_warning, self.role_button = self.role_row.message, self.role_row.button
        self.password_choice = PasswordChoice(self.repository)
        self.repoint = RepointRow()
        self.notes = toned(QLabel(), Tone.ERROR)
        self.notes.setWordWrap(True)
        self.diff = DiffView()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.verifier = VerifyStep(self.tasks, self.status)
        self.client_log = self.verifier.client_log
        self.write_button = QPushButton("&Write")
        self.extension = ExtensionSave(self, self.status)  # Claude Desktop's other way in
        self.verify_button, self.cancel_verify = self.verifier.button, self.verifier.cancel
        self.close_button = QPushButton("Close")
        self._lay_out()

    def _lay_out(self) -> None:
        """The steps top to bottom: the choices, what the preview has to say, the diff, then
        the status line with the buttons."""
        # The buttons go under the status line when one line would be wider than the screen.
        buttons = WrappingRow(
            [self.status],
            [
                self.write_button,
                self.extension.button,
                self.verify_button,
                self.cancel_verify,
                self.close_button,
            ],
            stretch=self.status,
        )
        # Everything above the buttons scrolls: with every row showing it is higher than a
        # small screen (1366x768 at 200 %: 683x364 px); the buttons stay in sight.
        steps = QWidget()
        steps_layout = QVBoxLayout(steps)
        steps_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.choices, self.role_row, self.password_choice, self.repoint):
            steps_layout.addWidget(widget)
        steps_layout.addWidget(self.notes)
        steps_layout.addWidget(QLabel("Changes (passwords masked):"))
        steps_layout.addWidget(self.diff, 1)
        steps_layout.addWidget(self.client_log)
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(steps)
        layout = QVBoxLayout(self)
        layout.addWidget(self.environment_band)  # in sight, however far the steps scroll
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)

    def _connect(self) -> None:
        self.choices.changed.connect(self.replan)
        self.choices.name_edited.connect(self._check_name)
        self.write_button.clicked.connect(self.write)
        self.verify_button.clicked.connect(self.verify)
        self.close_button.clicked.connect(self.reject)
        self.role_row.made.connect(self.use_agent_profile)
        self.password_choice.saved.connect(self._password_saved)
        self.repoint.take_name.connect(self.take_own_name)

    # ----- planning -------------------------------------------------------------------
    def replan(self, *_: object) -> None:
        choices = self.choices
        choices.fit_template()
        self.plan = None
        self.repoint.clear()
        self.write_button.setEnabled(False)
        self.planned = None
        self.extension.show_for(self.profile.name, password_in_keyring=self.password_in_keyring)
        try:
            self.planned = entry_for_profile(
                self.target,
                password_in_keyring=self.password_in_keyring,
                template=choices.template_name(),
                server=choices.launched_server(),
                allow_writes=choices.writes_allowed(),
            )
            # As the client will hold it: VS Code asks for the password (`inputs`), so its
            # entry holds none, and the password row and question say so.
            self.planned = for_client(self.planned, choices.selected_client(), choices.entry_name())
            planned_entry = self.writer.plan_entry(
                choices.selected_client(),
                choices.config_path(),
                self.planned,
                choices.entry_name(),
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
            name, own = choices.entry_name(), planned_entry.own_name
            self.repoint.show_for(name, owner.profile, owner.database, own, self.profile.name)
        self.notes.setText(warnings_text(self.planned))
        self.diff.show_plan(self.plan)
        self.write_button.setEnabled(self.plan.changes)
        if not self.plan.changes:
            self.status.setText("The file already holds this entry: nothing to write.")

    def take_own_name(self, name: str) -> None:
        self.choices.server_name.setText(name)
        self.replan()

    # ----- the password, the login ------------------------------------------------------
    def _label_templates(self) -> None:
        label_templates(
            self.choices.template, self.target, password_in_keyring=self.password_in_keyring
        )

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
        self._show_environment()
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

    def _show_environment(self) -> None:
        environment = self.profile.environment
        if environment is not None:
            text = f"{environment_word(environment)}: the profile {self.profile.name!r} is "
            text += f"marked {environment}"
            self.environment_band.show_environment(environment, text)
        else:
            self.environment_band.show_environment(None)

    # ----- writing --------------------------------------------------------------------
    def _confirm_production_writes(self) -> bool:
        """Writes allowed to a production database: asked twice, the second time by the
        profile's name and with No as the default, so that a reflex Enter does not say yes."""
        name = self.profile.name
        if not said_yes(
            self,
            "Allow writes to production",
            f"The profile {name!r} is marked production. With writes allowed, its agent can "
            "change and delete data in that database. Write this entry?",
        ):
            return False
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        answer = QMessageBox.question(
            self,
            "Allow writes to production",
            f"Are you sure? The agent will be able to change the production database of {name!r}.",
            yes | no,
            no,
        )
        return answer == yes

    def _confirmed(self, plan: Plan) -> bool:
        """What the write needs asked first: writes to production, an entry replaced, a
        password in the file. False, the status saying why when a question does not, as
        soon as one is not answered Yes."""
        production = self.profile.is_production and self.choices.writes_allowed()
        if production and not self._confirm_production_writes():
            self.status.setText("Not written: writes to production were not confirmed.")
            return False
        if plan.needs_confirmation:
            replaced = self.repoint.replaced
            now = f", which connects {replaced}" if replaced else ""
            question = (
                f"{plan.path} already has a different {plan.server_name!r} entry{now} "
                "(shown in red above). Replace it?"
            )
            if not said_yes(self, "Replace entry", question):
                return False
        secret = self.planned is not None and bool(self.planned.secrets)
        if secret and not confirm_password_in_file(self, plan.path, self.profile.name):
            self.status.setText("Not written: the password stays out of the file.")
            return False
        return True

    def write(self) -> bool:
        if self.plan is None:
            return False
        plan = self.plan
        if not self._confirmed(plan):
            return False
        try:
            written = self.writer.apply(plan, confirmed=True)  # asked above if need be
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

    # ----- verifying ------------------------------------------------------------------
    def _check_name(self) -> None:
        """A name no client's file should hold is refused as it is typed (the plan is made
        again when the field is left)."""
        try:
            check_server_name(self.choices.entry_name())
        except BadServerName as error:
            self.notes.setText(f"Server name: {error.problem}.")
            self.diff.setPlainText("")
            self.write_button.setEnabled(False)
            self.verify_button.setEnabled(False)
            return
        self.verify_button.setEnabled(True)

    def written_entry(self) -> ServerEntry | None:
        """The entry as the file holds it now: what the client will start."""
        choices = self.choices
        try:
            return read_entry(
                choices.selected_client(), choices.config_path(), choices.entry_name()
            )
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
        return LogPlace(self.choices.selected_client(), self.host, self.choices.entry_name())


__all__ = ["ConfigDialog"]

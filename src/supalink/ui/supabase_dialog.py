"""Sign in to Supabase… : a personal access token (checked, then kept in the keyring), the
projects it sees, and a profile filled from the one picked, with the exact pooler host the
Management API gives. supabase_api decides and does; this module only asks and says.

`profile` is the filled profile once accepted, not saved: the main window puts it in the
form, where the password is typed and Save keeps it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from supalink import supabase_api
from supalink.errors import SupalinkError
from supalink.profiles import Mode, Profile, SecretKind, SecretStore
from supalink.ui.server_fields import MODE_LABELS
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import Tone, toned

LIST_TASK = "supabase-projects"
FILL_TASK = "supabase-fill-profile"
# The pooler first: it works on every network (the form lists the modes in its own order).
MODE_ORDER = (Mode.SESSION, Mode.TRANSACTION, Mode.DIRECT, Mode.DEDICATED)
# The Management API's project statuses (SUPABASE-API.md) in the dashboard's kind of words.
STATUS_WORDS = {
    "ACTIVE_HEALTHY": "Active",
    "ACTIVE_UNHEALTHY": "Active, unhealthy",
    "INACTIVE": "Paused",
    "PAUSING": "Pausing",
    "GOING_DOWN": "Pausing",
    "PAUSE_FAILED": "Pause failed",
    "COMING_UP": "Coming up",
    "RESTARTING": "Restarting",
    "RESTORING": "Restoring",
    "RESTORE_FAILED": "Restore failed",
    "UPGRADING": "Upgrading",
    "RESIZING": "Resizing",
    "INIT_FAILED": "Failed to start",
    "REMOVED": "Removed",
    "UNKNOWN": "Status unknown",
}


def status_words(status: str) -> str:
    """A status for a person; one the table does not know yet, made readable as it is."""
    return STATUS_WORDS.get(status) or status.replace("_", " ").capitalize()


def error_text(error: SupalinkError, *, saved_token: bool) -> str:
    """An error of supabase_api in this window's words."""
    if isinstance(error, supabase_api.TokenRejected) and saved_token:
        return f"{error}: sign out, then sign in with a new token"
    return str(error)


class SupabaseDialog(QDialog):
    def __init__(
        self,
        tasks: TaskRunner,
        keyring: SecretStore,
        parent: QWidget | None = None,
        *,
        api_url: str | None = None,
        api_timeout: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.keyring = keyring  # the OS keyring only: a token is never held in memory alone
        self.api_url = api_url
        self.api_timeout = api_timeout  # None: ManagementApi's own
        self._retry_new_token = False  # what Retry asks again: the typed token or the saved
        self.profile: Profile | None = None
        self.setWindowTitle("Sign in to Supabase")
        self.resize(640, 480)

        page = supabase_api.TOKEN_PAGE
        self.about = QLabel(
            f'Make a personal access token at <a href="{page}">{page}</a> (read access to '
            f"the projects you need is enough) and paste it here. It is kept in "
            f"{keyring.description}."
        )
        self.about.setWordWrap(True)
        self.about.setOpenExternalLinks(True)
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Access token")
        self.token_label = QLabel("Access &token")
        self.token_label.setBuddy(self.token)
        self.sign_in_button = QPushButton("Sign &in")
        self.sign_out_button = QPushButton("Sign &out")
        self.projects = QListWidget()
        self.projects.setAccessibleName("Projects")
        # Shown from the moment the list is asked for: the API may take its whole timeout.
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # no known end: Qt draws it moving
        self.busy.setMaximumWidth(120)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Loading projects")
        self.loading = QLabel("Loading projects…")
        self.retry_button = QPushButton("&Retry")
        self.retry_button.setAccessibleName("Retry loading projects")
        self.mode = QComboBox()
        self.mode.setAccessibleName("Connection mode")
        for mode in MODE_ORDER:
            self.mode.addItem(MODE_LABELS[mode], mode)
        self.mode_summary = toned(QLabel(Mode.SESSION.summary), Tone.HINT)
        self.mode_summary.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setAccessibleName("Profile name")
        self.status = toned(QLabel(), Tone.ERROR)
        self.status.setWordWrap(True)
        self.fill_button = QPushButton("&Fill profile")
        self.fill_button.setEnabled(False)
        cancel = QPushButton("Cancel")

        token_row = QHBoxLayout()
        token_row.addWidget(self.token_label)
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.sign_in_button)
        token_row.addWidget(self.sign_out_button)
        form = QFormLayout()
        form.addRow("&Mode", self.mode)
        form.addRow("", self.mode_summary)
        form.addRow("Profile &name", self.name)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.fill_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.about)
        layout.addLayout(token_row)
        list_row = QHBoxLayout()
        list_row.addWidget(QLabel("Projects the token sees:"), 1)
        list_row.addWidget(self.loading)
        list_row.addWidget(self.busy)
        list_row.addWidget(self.retry_button)
        layout.addLayout(list_row)
        layout.addWidget(self.projects, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)

        self.sign_in_button.clicked.connect(self.sign_in)
        self.token.returnPressed.connect(self.sign_in)
        self.sign_out_button.clicked.connect(self.sign_out)
        self.retry_button.clicked.connect(self.retry)
        self.projects.currentItemChanged.connect(self._picked)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.fill_button.clicked.connect(self.fill)
        cancel.clicked.connect(self.reject)
        self._show_loading(False)
        self.retry_button.hide()
        self._show_signed_in(self._saved_token() is not None)
        if self._saved_token() is not None:
            self._list(None)

    def _saved_token(self) -> str | None:
        try:
            return self.keyring.get(supabase_api.TOKEN_ACCOUNT, SecretKind.ACCESS_TOKEN)
        except SupalinkError as error:
            self.status.setText(str(error))
            return None

    def _show_signed_in(self, signed_in: bool) -> None:
        self.token.setVisible(not signed_in)
        self.token_label.setVisible(not signed_in)
        self.sign_in_button.setVisible(not signed_in)
        self.sign_out_button.setVisible(signed_in)

    def sign_in(self) -> None:
        token = self.token.text().strip()
        if problem := supabase_api.token_problem(token):
            self.status.setText(problem[:1].upper() + problem[1:])
            return
        self._list(token)

    def sign_out(self) -> None:
        self.tasks.cancel(LIST_TASK)
        try:
            supabase_api.forget_token(self.keyring)
        except SupalinkError as error:
            self.status.setText(str(error))
            return
        self.projects.clear()
        self.status.setText("")
        self.retry_button.hide()
        self._show_signed_in(False)

    def retry(self) -> None:
        """Ask for the list again, with the token the failed try used."""
        if self._retry_new_token:
            self.sign_in()
        else:
            self._list(None)

    def _show_loading(self, loading: bool) -> None:
        self.busy.setVisible(loading)
        self.loading.setVisible(loading)

    def _list(self, new_token: str | None) -> None:
        self.status.setText("")
        self.sign_in_button.setEnabled(False)
        self.retry_button.hide()
        self._retry_new_token = new_token is not None
        self._show_loading(True)
        self.tasks.run(LIST_TASK, self._load_projects(new_token))

    async def _load_projects(self, new_token: str | None) -> None:
        token = new_token or self._saved_token()
        try:
            if token is None:
                return
            async with self._api(token) as api:
                projects = await api.projects()
            if new_token is not None:
                supabase_api.save_token(self.keyring, new_token)
        except SupalinkError as error:
            self.status.setText(error_text(error, saved_token=new_token is None))
            # A stall, a refusal or an odd answer may pass; a rejected token will not.
            self.retry_button.setVisible(not isinstance(error, supabase_api.TokenRejected))
            return
        finally:
            self.sign_in_button.setEnabled(True)
            self._show_loading(False)
        self.token.clear()
        self._show_signed_in(True)
        self.projects.clear()
        for project in projects:
            text = (
                f"{project.name} — {project.ref} ({project.region}, {status_words(project.status)})"
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, project)
            self.projects.addItem(item)
        if not projects:
            self.status.setText("The token sees no projects.")

    def _picked(self, item: QListWidgetItem | None) -> None:
        project = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.fill_button.setEnabled(project is not None)
        if project is not None:
            self.name.setText(project.name)

    def _mode_changed(self) -> None:
        self.mode_summary.setText(Mode(self.mode.currentData()).summary)

    def fill(self) -> None:
        item = self.projects.currentItem()
        token = self._saved_token()
        if item is None or token is None:
            return
        project = item.data(Qt.ItemDataRole.UserRole)
        self.fill_button.setEnabled(False)
        self.status.setText("")
        mode = Mode(self.mode.currentData())
        name = self.name.text().strip() or project.name
        self.tasks.run(FILL_TASK, self._fill(token, project.ref, name, mode))

    async def _fill(self, token: str, ref: str, name: str, mode: Mode) -> None:
        try:
            async with self._api(token) as api:
                profile = await supabase_api.profile_from_project(api, name, ref, mode)
        except SupalinkError as error:
            self.status.setText(error_text(error, saved_token=True))
            self.fill_button.setEnabled(True)
            return
        self.profile = profile
        self.accept()

    def _api(self, token: str) -> supabase_api.ManagementApi:
        if self.api_timeout is None:
            return supabase_api.ManagementApi(token, self.api_url)
        return supabase_api.ManagementApi(token, self.api_url, timeout=self.api_timeout)

    def done(self, result: int) -> None:
        if self.profile is None:  # closed while asking: nothing more is asked
            self.tasks.cancel(LIST_TASK)
            self.tasks.cancel(FILL_TASK)
        super().done(result)


__all__ = ["SupabaseDialog"]

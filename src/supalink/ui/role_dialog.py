"""Create a read-only role for the agent, from the Write config dialog: whether the profile's
login holds too much for an agent, the SQL that makes a role of its own (its password
masked), and the role made in one step; the config dialog then writes the new profile's
entry. The roles package decides and does; this module only asks and says."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from supalink import roles
from supalink.errors import SupalinkError
from supalink.profiles import ProfileExists, ProfileRepository, Target
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import Tone, toned

PLAN_TASK = "plan-agent-role"
CREATE_TASK = "create-agent-role"
OFFER = "Create a read-only role for the agent (recommended)"


def warning_text(login: str, changes_everything: bool) -> str:
    power = "and can change everything" if changes_everything else "(it reads every row)"
    return (
        f"This profile logs in as {login!r}, which bypasses row level security {power}. "
        "An agent that reads untrusted text should not hold it: give it a read-only role "
        "of its own."
    )


def role_error_text(error: SupalinkError) -> str:
    """An error of the roles package in this window's words: its fields (the CLI names
    its flags)."""
    message = str(error)
    if isinstance(error, roles.InvalidRoleName):
        message = f"Role name: {error.reason}"
    elif isinstance(error, roles.InvalidSpec) and error.field == "profile_name":
        message = f"New profile: {error.reason}"
    elif isinstance(error, ProfileExists):
        message += ": choose another name for the new profile"
    elif isinstance(error, roles.RoleExists) and error.made_by_supalink:
        message += ": choose another role name, or drop that one first"
    elif isinstance(error, roles.RoleExists):
        message += " and Supalink did not make it, so it will not change it: choose another"
    elif isinstance(error, roles.CannotCreateRoles):
        message += ": agent roles are made through an admin login (on Supabase, postgres)"
    return message


class RoleDialog(QDialog):
    """The SQL that makes the agent's role, shown first; Create runs it. `link` is the new
    agent profile once accepted."""

    def __init__(
        self,
        tasks: TaskRunner,
        repository: ProfileRepository,
        admin: Target,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        assert admin.profile is not None, "a role is made through a saved profile"
        self.tasks = tasks
        self.repository = repository
        self.admin = admin
        self.plan: roles.RolePlan | None = None
        self.planned_names: tuple[str, str] | None = None
        self.link: roles.AgentLink | None = None
        name = admin.profile.name
        self.setWindowTitle(f"A read-only role for the agent, made through {name}")
        self.resize(780, 520)

        self.role_name = QLineEdit(roles.default_role_name(name))
        self.role_name.setAccessibleName("Role name")
        self.profile_name = QLineEdit(f"{name}-agent")
        self.profile_name.setAccessibleName("New profile")
        self.about = QLabel()
        self.about.setWordWrap(True)
        self.notes = toned(QLabel(), Tone.ERROR)
        self.notes.setWordWrap(True)
        self.preview = QTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setAccessibleName("SQL to run, password masked")
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.create_button = QPushButton("&Create")
        self.create_button.setEnabled(False)
        cancel = QPushButton("Cancel")

        form = QFormLayout()
        form.addRow("&Role name", self.role_name)
        form.addRow("New &profile", self.profile_name)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.create_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.about)
        layout.addWidget(self.notes)
        layout.addWidget(QLabel("SQL to run in one transaction (the password masked):"))
        layout.addWidget(self.preview, 1)
        layout.addLayout(buttons)

        self.role_name.editingFinished.connect(self.replan)
        self.profile_name.editingFinished.connect(self.replan)
        self.create_button.clicked.connect(self.create_role)
        cancel.clicked.connect(self.reject)
        self.replan()

    def replan(self, *_: object) -> None:
        names = (self.role_name.text().strip(), self.profile_name.text().strip())
        # Leaving a field unchanged (to press Create, say) keeps the plan made for it.
        if names == self.planned_names and (self.plan or self.tasks.is_running(PLAN_TASK)):
            return
        self.planned_names = names
        self.plan = None
        self.create_button.setEnabled(False)
        self.notes.setText("")
        try:
            spec = roles.RoleSpec(name=names[0], profile_name=names[1])
        except SupalinkError as error:
            self.notes.setText(role_error_text(error))
            return
        self.status.setText("Reading the database's schemas and tables…")
        self.tasks.run(PLAN_TASK, self._plan(spec))

    async def _plan(self, spec: roles.RoleSpec) -> None:
        try:
            plan = await roles.plan_create(self.admin, spec, self.repository)
        except SupalinkError as error:
            self.status.setText("")
            self.preview.setPlainText("")
            self.notes.setText(role_error_text(error))
            return
        self.plan = plan
        self.preview.setPlainText(plan.preview(masked=True))
        self.about.setText(
            f"Supalink will run this as {plan.admin_login!r}. The role {spec.name!r} logs in "
            "with a random password kept in "
            f"{self.repository.secrets.description} (never shown), reads the tables shown, "
            "and writes nothing; row level security applies to it. The profile "
            f"{spec.profile_name!r} logs in as it."
        )
        if plan.not_granted:
            shown = ", ".join(str(table) for table in plan.not_granted)
            self.notes.setText(f"{plan.admin_login} cannot grant reading {shown}: not included.")
        self.status.setText("")
        self.create_button.setEnabled(True)

    def create_role(self) -> None:
        if self.plan is None:
            return
        self.create_button.setEnabled(False)
        self.status.setText("Creating the role…")
        self.tasks.run(CREATE_TASK, self._create(self.plan))

    async def _create(self, plan: roles.RolePlan) -> None:
        try:
            link = await roles.apply(plan, self.repository)
        except SupalinkError as error:
            self.status.setText("")
            self.notes.setText(f"Nothing was created: {role_error_text(error)}")
            self.create_button.setEnabled(True)
            return
        self.link = link
        self.accept()

    def done(self, result: int) -> None:
        if self.link is None:  # closed while working: a creation cancelled is rolled back
            self.tasks.cancel(PLAN_TASK)
            self.tasks.cancel(CREATE_TASK)
        super().done(result)


__all__ = ["OFFER", "RoleDialog", "warning_text"]

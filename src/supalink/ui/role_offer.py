"""Write config's row about the login: a login that bypasses row level security (Supabase's
`postgres`, found by its name at once; any other, found out in the background) is said to be
too powerful for an agent that reads untrusted text, and a read-only role of the agent's own
is offered. The role dialog makes the role and its profile; the Write config dialog then
writes that profile's entry instead (it is told through `made`)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from supalink import roles
from supalink.profiles import ProfileRepository, Target
from supalink.ui.action_row import ActionRow
from supalink.ui.role_dialog import OFFER, RoleDialog, warning_text
from supalink.ui.tasks import TaskRunner

RIGHTS_TASK = "check-login-rights"


class RoleOffer(ActionRow):
    """The warning and its button; hidden until the login is found too powerful."""

    made = Signal(object)  # the RoleDialog, accepted: its link names the new profile

    def __init__(
        self, tasks: TaskRunner, repository: ProfileRepository | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(OFFER, parent)
        self.tasks = tasks
        self.repository = repository
        self.target: Target | None = None  # the login checked; None once another is written
        self.dialog: RoleDialog | None = None
        self.button.clicked.connect(self.offer)

    def check(self, target: Target) -> None:
        self.target = target
        if (found := roles.known_by_name(target)) is not None:
            self._warn(found)
        else:
            self.tasks.run(RIGHTS_TASK, self._check_rights(target))

    async def _check_rights(self, target: Target) -> None:
        found = await roles.too_powerful(target)
        if found is not None and target is self.target:
            self._warn(found)

    def _warn(self, found: roles.TooPowerful) -> None:
        self.message.setText(f"Warning: {warning_text(found.login, found.changes_everything)}")
        self.show()

    def offer(self) -> None:
        """The SQL that makes the agent's role, in a dialog of its own."""
        assert self.repository is not None
        assert self.target is not None
        dialog = RoleDialog(self.tasks, self.repository, self.target, parent=self.window())
        dialog.accepted.connect(lambda: self.made.emit(dialog))
        self.dialog = dialog
        dialog.open()

    def settle(self) -> None:
        """Another profile's entry is written now: nothing more to say about this login."""
        self.target = None
        self.hide()

    def stop(self) -> None:
        """The window closes: the background check and the role dialog go with it."""
        self.tasks.cancel(RIGHTS_TASK)
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.reject()


__all__ = ["RIGHTS_TASK", "RoleOffer"]

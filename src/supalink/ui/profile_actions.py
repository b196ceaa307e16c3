"""What the profile list's buttons do to a saved profile: duplicate, rename and delete it,
asking first where the person must choose, and the name a new or copied profile gets. A
failure is said in a message box; a change done is announced (`duplicated`, `renamed`,
`deleted`) for the window to show."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from supalink import roles
from supalink.errors import SupalinkError
from supalink.profiles import ProfileRepository
from supalink.ui.profile_list import unique_name
from supalink.ui.questions import said_yes


class ProfileActions(QObject):
    duplicated = Signal(str)  # the copy's name
    renamed = Signal(str, str)  # the old name, the new one
    deleted = Signal(str)

    def __init__(self, repository: ProfileRepository, window: QWidget) -> None:
        super().__init__(window)
        self.repository = repository
        self.window = window  # the questions' and the warnings' parent

    def duplicate(self, name: str) -> None:
        new_name = self.unique_name(f"{name} copy")
        try:
            self.repository.duplicate(name, new_name)
        except SupalinkError as error:
            self._warn("Could not duplicate the profile", error)
            return
        self.duplicated.emit(new_name)

    def rename(self, name: str) -> None:
        from PySide6.QtWidgets import QInputDialog  # its enums: not before the first paint

        new_name, accepted = QInputDialog.getText(
            self.window, "Rename profile", "New name:", text=name
        )
        if not accepted or not new_name.strip() or new_name == name:
            return
        try:
            # An agent's link, and the links of the agents an admin made, follow the profile.
            links = roles.with_links_renamed(name, new_name.strip())
            self.repository.rename(name, new_name.strip(), also=links)
        except SupalinkError as error:
            self._warn("Could not rename the profile", error)
            return
        self.renamed.emit(name, new_name.strip())

    def delete(self, name: str | None) -> None:
        """Delete `name`, the profile the form shows; None, a new one, has nothing saved."""
        if name is None:
            return
        question = f"Delete {name!r}? Its project ref and password are removed from the keyring."
        try:
            roles.check_removal(self.repository, name, keep_role=False)
        except roles.AgentProfileHasRole as error:
            # The role stays in the database unless dropped first (Write config's role step
            # made it; `supalink role drop` drops both).
            question = f"{error}. Delete the profile and keep the role?"
        if not said_yes(self.window, "Delete profile", question, no_by_default=True):
            return
        try:
            self.repository.remove(name, also=roles.with_link_removed(name))
        except SupalinkError as error:
            self._warn("Could not delete the profile", error)
            return
        self.deleted.emit(name)

    def unique_name(self, base: str) -> str:
        try:
            return unique_name(base, self.repository.names())
        except SupalinkError:  # settings it may not read: saving will say why
            return base

    def _warn(self, title: str, error: SupalinkError) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(self.window, title, str(error))


__all__ = ["ProfileActions"]

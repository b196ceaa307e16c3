"""The profile list's own actions (duplicate, rename, delete) and the name a new or copied
profile gets: what the main window does with the list's requests; and the Profile menu's
two dialogs on the form's profile (code snippets, pool sizing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink import roles
from supalink.errors import SupalinkError
from supalink.ui.profile_list import unique_name

if TYPE_CHECKING:
    from supalink.ui.main_window import MainWindow


class ProfileActions:
    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def duplicate(self, name: str) -> None:
        new_name = self.unique_name(f"{name} copy")
        try:
            self.window.context.repository.duplicate(name, new_name)
        except SupalinkError as error:
            self.window._error("Could not duplicate the profile", error)
            return
        self.window.reload_profiles(select=new_name)

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
            self.window.context.repository.rename(name, new_name.strip(), also=links)
        except SupalinkError as error:
            self.window._error("Could not rename the profile", error)
            return
        if self.window.current_name == name:
            self.window.current_name = None
        self.window.reload_profiles(select=new_name.strip())

    def delete(self, name: str) -> None:
        from PySide6.QtWidgets import QMessageBox  # its enums: not before the first paint

        repository = self.window.context.repository
        question = f"Delete {name!r}? Its project ref and password are removed from the keyring."
        try:
            roles.check_removal(repository, name, keep_role=False)
        except roles.AgentProfileHasRole as error:
            # The role stays in the database unless dropped first (Write config's role step
            # made it; `supalink role drop` drops both).
            question = f"{error}. Delete the profile and keep the role?"
        answer = QMessageBox.question(self.window, "Delete profile", question)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            repository.remove(name, also=roles.with_link_removed(name))
        except SupalinkError as error:
            self.window._error("Could not delete the profile", error)
            return
        if self.window.current_name == name:
            self.window.current_name = None
            self.window._forget_test()
            self.window._set_dirty(False)
        self.window.reload_profiles()

    def show_snippets(self) -> None:
        from supalink.ui.snippets_dialog import SnippetsDialog

        profile = self.window._valid_profile("show snippets")
        if profile is not None:
            SnippetsDialog(profile, self.window).exec()

    def show_pool_sizing(self) -> None:
        from supalink.ui.sizing_dialog import SizingDialog

        SizingDialog(self.window.form.profile().mode, self.window).exec()

    def unique_name(self, base: str) -> str:
        try:
            return unique_name(base, self.window.context.repository.names())
        except SupalinkError:  # settings it may not read: saving will say why
            return base

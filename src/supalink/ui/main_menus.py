"""The main window's menu bar: File, Profile, View and Help, their actions and keys.

The menus are made with the window and filled once it has painted (`fill`): no menu is open
in the first frame, and a key builds the Qt namespace's enums, which the first paint need
not wait for (tests/benchmarks/startup.py). What each action does is the window's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtWidgets import QMainWindow, QMenu

from supalink.ui.theme import Theme

if TYPE_CHECKING:
    from PySide6.QtGui import QAction, QActionGroup, QKeySequence

    from supalink.ui.context import AppContext


class MenuCommands(Protocol):
    """What the menus' actions call: the main window's commands."""

    def new_profile(self) -> None: ...
    def save_profile(self) -> bool: ...
    def sign_in_to_supabase(self) -> None: ...
    def quit_app(self) -> None: ...
    def test(self) -> None: ...
    def write_config(self) -> None: ...
    def open_monitor(self) -> None: ...
    def show_snippets(self) -> None: ...
    def show_pool_sizing(self) -> None: ...
    def set_theme(self, theme: Theme) -> None: ...
    def reload_profiles(self, select: str | None = None) -> None: ...
    @property
    def context(self) -> AppContext: ...


class MainMenus:
    """The four menus on `window`'s menu bar, empty until `fill`."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window  # the actions' parent: their keys work anywhere in it
        bar = window.menuBar()
        self.file_menu, self.profile_menu = bar.addMenu("&File"), bar.addMenu("&Profile")
        self.view_menu, self.help_menu = bar.addMenu("&View"), bar.addMenu("&Help")

    @property
    def filled(self) -> bool:
        return not self.file_menu.isEmpty()

    def fill(self, commands: MenuCommands, theme: Theme) -> None:
        """The actions and their keys, `theme` ticked in View ▸ Theme (once)."""
        from PySide6.QtGui import QKeySequence

        if self.filled:
            return
        keys = QKeySequence.StandardKey
        file_menu, profile_menu = self.file_menu, self.profile_menu
        self._action(file_menu, "&New profile", keys.New, commands.new_profile)
        self._action(file_menu, "&Save profile", keys.Save, commands.save_profile)
        file_menu.addSeparator()
        self._action(file_menu, "Sign in to Supa&base…", None, commands.sign_in_to_supabase)
        file_menu.addSeparator()
        self._commands = commands
        self.export_action = self._action(
            file_menu, "&Export profiles…", None, self.export_profiles
        )
        self.import_action = self._action(
            file_menu, "&Import profiles…", None, self.import_profiles
        )
        file_menu.addSeparator()
        # Ctrl+Q (Cmd+Q on macOS) everywhere: the standard key has none on Windows.
        self.quit_action = self._action(file_menu, "&Quit", "Ctrl+Q", commands.quit_app)
        self.test_action = self._action(profile_menu, "&Test connection", "Ctrl+T", commands.test)
        self.config_action = self._action(
            profile_menu, "&Write MCP client config…", "Ctrl+Shift+C", commands.write_config
        )
        self.monitor_action = self._action(
            profile_menu, "Open &monitor", "Ctrl+M", commands.open_monitor
        )
        profile_menu.addSeparator()
        self._action(profile_menu, "Code &snippets…", "Ctrl+Shift+E", commands.show_snippets)
        self._action(profile_menu, "&Pool sizing…", "Ctrl+Shift+P", commands.show_pool_sizing)
        self.theme_group = self._themes(commands, theme)
        self._action(self.help_menu, "&About Supalink", None, self._about)

    def export_profiles(self) -> None:
        """File ▸ Export profiles…: every profile, to a file the person picks."""
        from supalink.ui.profile_exchange import export_all

        export_all(self.window, self._commands.context.repository)

    def import_profiles(self) -> None:
        """File ▸ Import profiles…: the list shows them, the first one imported selected."""
        from supalink.ui.profile_exchange import import_file

        context = self._commands.context
        names = import_file(self.window, context.repository, ask_passwords=context.keyring_usable)
        if names:
            self._commands.reload_profiles(select=names[0])

    def _themes(self, commands: MenuCommands, current: Theme) -> QActionGroup:
        from PySide6.QtGui import QAction, QActionGroup

        theme_menu = self.view_menu.addMenu("&Theme")
        group = QActionGroup(self.window)
        for theme in Theme:
            action = QAction(theme.value.title(), self.window, checkable=True)
            action.setChecked(theme is current)
            action.triggered.connect(lambda _=False, chosen=theme: commands.set_theme(chosen))
            group.addAction(action)
            theme_menu.addAction(action)
        return group

    def _about(self) -> None:
        from supalink.ui.welcome import show_about  # with the window it shows, when asked

        show_about(self.window)

    def _action(
        self,
        menu: QMenu,
        text: str,
        shortcut: QKeySequence.StandardKey | str | None,
        slot: Callable[[], object],
    ) -> QAction:
        from PySide6.QtGui import QAction

        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action


__all__ = ["MainMenus", "MenuCommands"]

"""The main window: profiles on the left, the connection form and its actions on the right."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from supalink import profiles, roles  # their modules load on first use, after the first frame
from supalink.errors import SupalinkError
from supalink.ui.context import AppContext
from supalink.ui.form_area import FormArea
from supalink.ui.main_menus import MainMenus
from supalink.ui.profile_list import ProfileList
from supalink.ui.theme import Theme, apply_theme, theme_named
from supalink.ui.wrapping_row import WrappingRow

# QMessageBox, the password prompt (QInputDialog), the Qt namespace and what acts after the
# first frame (the profiles actions, the quit questions, the welcome) are imported where
# used: PySide builds a class's enums as it is first imported; the first paint need not wait
# (tests/benchmarks/startup.py).
if TYPE_CHECKING:
    from supalink.profiles import Profile
    from supalink.ui.leaving import Unsaved
    from supalink.ui.probe_panel import ProbePanel
    from supalink.ui.profile_actions import ProfileActions
    from supalink.ui.profile_form import ProfileForm
    from supalink.ui.supabase_dialog import SupabaseDialog
    from supalink.ui.welcome import Welcome

PROBE_TASK = "connection-test"


class MainWindow(QMainWindow):
    def __init__(
        self,
        context: AppContext,
        parent: QWidget | None = None,
        *,
        load_profiles: bool = True,
        fill_menus: bool = True,
    ) -> None:
        """Without `load_profiles` the window starts empty, for `load_profiles()` once it
        is shown: the first profile's secrets come from the keyring, whose first use
        probes its backends (about 0.3 s). Without `fill_menus` the menus are empty until
        `fill_menus()`: no menu is open in the first frame, and a key builds the Qt namespace."""
        super().__init__(parent)
        self.context = context
        self.current_name: str | None = None  # the saved profile the form shows
        self.dirty = False
        self.quitting = False  # every answer given (or a signal): closing asks nothing more
        self.keyring_problem: str | None = None  # why the keyring does not answer, if not
        self.setWindowTitle("Supalink")
        self.resize(1100, 760)
        self._build()
        self.menus = MainMenus(self)
        if fill_menus:
            self.fill_menus()
        if load_profiles:
            self.load_profiles()

    def load_profiles(self) -> None:
        """Show the keyring in use and the saved profiles, the first one that opens selected."""
        try:
            self.reload_profiles()
            notice = self.context.repository.notice
        except SupalinkError as error:  # a settings file it may not read: the window still opens
            self.profiles.set_records([], None)
            self.new_profile()
            notice = str(error)
        if notice:
            self._error("Settings file", notice)
        from supalink.ui.startup_repairs import offer_repairs

        offer_repairs(self, self.context, self.reload_profiles)

    # ----- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        self.profiles = ProfileList()
        self.form_area = FormArea(self.context)  # the form, and a test's panel below
        self.save_button = QPushButton("&Save")
        self.test_button = QPushButton("&Test")
        self.config_button = QPushButton("&Write config…")
        self.monitor_button = QPushButton("&Monitor")
        self.save_button.setAccessibleName("Save profile")
        self.test_button.setAccessibleName("Test connection")
        self.config_button.setAccessibleName("Write MCP client config")
        self.monitor_button.setAccessibleName("Open monitor")
        actions = (self.test_button, self.config_button, self.monitor_button)
        for button in (self.save_button, *actions):
            button.setEnabled(False)  # until there is a form to act on (form)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.form_area, 1)
        right_layout.addWidget(WrappingRow([self.save_button], actions))  # 2 lines if narrow
        splitter = QSplitter()  # horizontal: Qt.Orientation would load the Qt namespace
        splitter.addWidget(self.profiles)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 840])
        self.setCentralWidget(splitter)
        self.keyring_label = QLabel(f"Keyring: {self.context.keyring_description}")
        self.statusBar().addPermanentWidget(self.keyring_label)

        self.profiles.selected.connect(self._select)
        self.profiles.add_requested.connect(self.new_profile)
        # Lambdas, not bound methods: the actions are built as one is first asked for.
        duplicate, rename = self.profiles.duplicate_requested, self.profiles.rename_requested
        duplicate.connect(lambda name: self.profile_actions.duplicate(name))  # noqa: PLW0108
        rename.connect(lambda name: self.profile_actions.rename(name))  # noqa: PLW0108
        # The profile the form shows, which the list shows selected (none for a new one).
        self.profiles.delete_requested.connect(
            lambda _: self.profile_actions.delete(self.current_name)
        )
        self.save_button.clicked.connect(self.save_profile)
        self.test_button.clicked.connect(self.test)
        self.config_button.clicked.connect(self.write_config)
        self.monitor_button.clicked.connect(self.open_monitor)

    @cached_property
    def form(self) -> ProfileForm:
        """Built with the profiles (load_profiles), after the first frame: until then the form
        area says the profiles are being opened, rather than show a blank form that the first
        profile replaces a moment later, with whatever was typed into it. It loads the form's
        modules and builds its hundred widgets, which the first paint need not wait for."""
        from supalink.ui.profile_form import ProfileForm

        form = ProfileForm(self.context.keyring_description, self.context.keyring_usable)
        self.form_area.add_form(form)
        form.edited.connect(self._edited)
        for button in (self.save_button, self.test_button, self.config_button, self.monitor_button):
            button.setEnabled(True)
        return form

    @cached_property
    def profile_actions(self) -> ProfileActions:
        """Duplicate, rename and delete: built on first use, after the first frame."""
        from supalink.ui.profile_actions import ProfileActions

        actions = ProfileActions(self.context.repository, self)
        actions.duplicated.connect(lambda name: self.reload_profiles(select=name))
        actions.renamed.connect(self._renamed)
        actions.deleted.connect(self._deleted)
        return actions

    @cached_property
    def welcome(self) -> Welcome:  # built once there are no profiles to show
        from supalink.ui.welcome import Welcome

        self.form_area.add_welcome(welcome := Welcome())
        return welcome

    @cached_property
    def test_panel(self) -> ProbePanel:
        """Built on first use: it loads the probe (ssl, the diagnoses), which the window's
        first paint need not wait for."""
        from supalink.ui.probe_panel import ProbePanel

        panel = ProbePanel()
        panel.hide()
        panel.cancel_requested.connect(lambda: self.context.tasks.cancel(PROBE_TASK))
        self.form_area.add_panel(panel)
        return panel

    def fill_menus(self) -> None:
        """The menus' actions and their keys (once)."""
        try:
            theme = theme_named(self.context.repository.preference("theme"))
        except SupalinkError:  # settings it may not read: load_profiles says why
            theme = theme_named(None)
        self.menus.fill(self, theme)

    # ----- profiles -------------------------------------------------------------------
    def reload_profiles(self, select: str | None = None) -> None:
        """The profiles, those whose ref is in a keyring that does not answer as locked."""
        repository = self.context.repository
        records = repository.records()
        self.keyring_problem = repository.keyring_problem()
        locked = repository.locked() if self.keyring_problem else {}
        usable = self.context.keyring_usable and self.keyring_problem is None
        self.form.set_keyring(self.context.keyring_description, usable)
        where = self.context.keyring_description
        if self.keyring_problem:  # its reason names the store, or says there is none
            where = (
                where + ", did not answer" if self.context.keyring_usable else self.keyring_problem
            )
        self.keyring_label.setText(f"Keyring: {where}")
        self.profiles.set_records(records, select, locked)
        if not records or "welcome" in self.__dict__:
            self.welcome.setVisible(not records)
        if not self.profiles.current() and self.current_name is None:
            self.new_profile()  # none, or every one locked: a new one can still be saved

    def _select(self, name: str) -> None:
        if not name or name == self.current_name:
            return
        if not self._settle_unsaved():
            self.profiles.select(self.current_name)
            return
        try:
            saved = self.context.repository.load(name)
        except profiles.ProfileLocked:  # listed as locked, its tooltip and the keyring line say why
            self.profiles.select(self.current_name)
            self.statusBar().showMessage(
                f"{name} is locked: its project ref is only in the keyring, which did not answer"
            )
            return
        except SupalinkError as error:
            self.profiles.select(self.current_name)  # the list shows what the form shows
            self._error("Could not open the profile", error)
            return
        self.current_name = name
        self._forget_test()
        self._show_saved(saved.profile)
        self._set_dirty(False)

    def _show_saved(self, profile: Profile) -> None:
        """A saved profile in the form, its password if at hand, else why not if it should be."""
        from supalink.ui.password_prompt import password_problem

        repository = self.context.repository
        name = profile.name
        password = repository.password_value(name, keyring_may_fail=True)
        problem = password_problem(repository, name, self.keyring_problem)
        self.form.set_profile(profile, password, repository.record(name).password_saved, problem)
        if problem:  # the list's "password saved in the keyring" is what the file says
            self.profiles.describe(name, problem)

    def _renamed(self, old: str, new: str) -> None:
        if self.current_name == old:
            self.current_name = None  # the form shows it again under its new name
        self.reload_profiles(select=new)

    def _deleted(self, name: str) -> None:
        if self.current_name == name:
            self.current_name = None
            self._forget_test()
            self._set_dirty(False)
        self.reload_profiles()

    def new_profile(self) -> None:
        if not self._settle_unsaved():
            return
        self.current_name = None
        self._forget_test()
        self.profiles.select(None)  # no current row: clicking a saved profile goes back to it
        self.form.set_profile(None)
        self.form.name.setText(self.profile_actions.unique_name("New profile"))
        self.form.name.setFocus()
        self._set_dirty(False)

    def sign_in_to_supabase(self) -> None:
        """Pick a project from the Management API; the form is filled for a new profile,
        which the person saves once the password is typed."""
        from supalink.ui.supabase_dialog import SupabaseDialog

        dialog = SupabaseDialog(self.context.tasks, self.context.repository.secrets, self)
        dialog.accepted.connect(lambda: self._fill_from_project(dialog))
        self.supabase_dialog = dialog
        dialog.open()

    def _fill_from_project(self, dialog: SupabaseDialog) -> None:
        if dialog.profile is None or not self._settle_unsaved():
            return
        self.new_profile()
        self.form.fill(dialog.profile)  # a new profile's: its password for the keyring
        self._set_dirty(True)
        self.form.password.setFocus()
        self.statusBar().showMessage("Type the database password, then Save.", 8000)

    def save_profile(self) -> bool:
        profile = self.form.profile()
        if self._tell_problems("Not saved"):
            return False
        password = self.form.password_text() if self.form.password_edited() else None
        save_password = self.form.wants_password_saved()
        repository = self.context.repository
        keyring_down = not self.form.keyring_usable
        if keyring_down and self.current_name is not None:
            # The keyring as it is: a saved password keeps its place, one typed is held.
            password, save_password = None, repository.record(self.current_name).password_saved
        try:
            renaming = self.current_name is not None and self.current_name != profile.name
            if renaming:  # refused, in the repository's words, when the name is taken
                assert self.current_name is not None
                links = roles.with_links_renamed(self.current_name, profile.name)
                repository.rename(self.current_name, profile.name, also=links)
            replace = profile.name in repository.names()
            repository.save(profile, password, save_password=save_password, replace=replace)
        except SupalinkError as error:
            self._error("Could not save the profile", error)
            return False
        typed = self.form.password_text()
        if typed and (not save_password or keyring_down):
            repository.hold_password(profile.name, typed)
        self.current_name = profile.name
        self._set_dirty(False)
        self.reload_profiles(select=profile.name)
        self._show_saved(profile)
        self.statusBar().showMessage(f"Saved {profile.name}", 5000)
        return True

    # ----- actions --------------------------------------------------------------------
    def _valid_profile(self, action: str) -> Profile | None:
        """The form's profile, or None after telling the user what is missing."""
        if self._tell_problems(f"Cannot {action}"):
            return None
        return self.form.profile()

    def _tell_problems(self, lead: str) -> bool:
        """Show every field's error and the first in the status bar, in the form's words;
        False when there is none."""
        problems = self.form.reveal_problems()
        if not problems:
            return False
        field, message = next(iter(problems.items()))
        self.statusBar().showMessage(f"{lead}: {self.form.field_label(field)}: {message}", 8000)
        return True

    def test(self) -> None:
        from supalink.ui.password_prompt import ask_password, password_problem

        profile = self._valid_profile("test")
        if profile is None:
            return
        password, name, repository = (
            self.form.password_text(),
            self.current_name,
            self.context.repository,
        )
        if password is None and name and password_problem(repository, name, self.keyring_problem):
            if (password := ask_password(self, repository, name)) is None:
                return
            self.form.show_held_password(password)  # asked once: held for this session
        self.form_area.show_panel(self.test_panel)
        target = profiles.Target.from_profile(profile, password)
        self.context.tasks.run(PROBE_TASK, self.test_panel.run(target))

    def show_snippets(self) -> None:
        from supalink.ui.snippets_dialog import SnippetsDialog

        profile = self._valid_profile("show snippets")
        if profile is not None:
            SnippetsDialog(profile, self).exec()

    def show_pool_sizing(self) -> None:
        from supalink.ui.sizing_dialog import SizingDialog

        profile = self.form.profile()
        SizingDialog(
            profile.mode, self, max_connections=self._read_max_connections(profile.name)
        ).exec()

    def _read_max_connections(self, name: str) -> int | None:
        """The server's max_connections as this profile's open monitor last read it."""
        monitors = self.context.monitors
        window = monitors.windows.get(name) if monitors is not None and name else None
        snapshot = window.engine.server if window is not None else None
        return snapshot.max_connections if snapshot is not None else None

    def _forget_test(self) -> None:
        """A test's result belongs to its profile: another profile or a new form starts
        without it, and a test still running for the last one stops."""
        self.context.tasks.cancel(PROBE_TASK)
        self.statusBar().clearMessage()  # "Cannot test: …" was about the last one too
        if "test_panel" in self.__dict__:  # built by the first test
            self.test_panel.clear()

    def _saved_profile(self, action: str) -> Profile | None:
        """The form's profile once saved: configs and monitors name a saved profile."""
        if self._valid_profile(action) is None:
            return None
        if (self.dirty or self.current_name is None) and not self.save_profile():
            return None
        return self.form.profile()

    def write_config(self) -> None:
        from supalink.ui.config_dialog import ConfigDialog

        profile = self._saved_profile("write the config")
        if profile is None:
            return
        try:
            password = self.context.repository.password(profile.name, keyring_may_fail=True)
        except SupalinkError as error:
            self._error("Could not read the profile", error)
            return
        dialog = ConfigDialog(
            self.context.tasks,
            self.context.backup_dir,
            profiles.Target.from_profile(profile, password.value if password else None),
            password_in_keyring=password is not None and password.in_keyring,
            repository=self.context.repository,  # checks the login; offers the agent a role
            parent=self,
        )
        dialog.password_choice.saved.connect(lambda: self._show_saved(profile))  # the form too
        # The role step's new agent profile is listed at once; the form keeps its profile.
        dialog.role_row.made.connect(lambda _: self.reload_profiles(select=self.current_name))
        dialog.exec()

    def open_monitor(self) -> None:
        from supalink.ui.password_prompt import ask_password

        profile = self._saved_profile("open the monitor")
        if profile is None:
            return
        if self.context.monitors is None:
            self.statusBar().showMessage("The monitor is not available in this mode", 5000)
            return
        repository = self.context.repository
        try:
            held = repository.password(profile.name, keyring_may_fail=True)
        except SupalinkError as error:
            self._error("Could not read the password", error)
            return
        password = held.value if held else ask_password(self, repository, profile.name)
        if password is None:
            return

        from supalink.ui.monitors import with_saved_password  # psycopg: after the first paint

        target = profiles.Target.from_profile(profile, password)
        current_target = with_saved_password(repository, profile.name, target)
        self.context.monitors.open(profile.name, target, current_target=current_target)

    def set_theme(self, theme: Theme) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        try:
            self.context.repository.set_preference("theme", str(theme))
        except SupalinkError as error:
            self._error("Could not save the theme", error)

    # ----- state ----------------------------------------------------------------------
    def _edited(self) -> None:
        self._set_dirty(True)

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        title = self.current_name or "new profile"
        self.setWindowTitle(f"{'• ' if dirty else ''}{title} — Supalink")

    def _settle_unsaved(self) -> bool:
        """Ask what to do with unsaved edits; False means stay where we are."""
        from supalink.ui.leaving import ask_unsaved

        return not self.dirty or self._settle(ask_unsaved(self))

    def _settle(self, answer: Unsaved) -> bool:
        from supalink.ui.leaving import Unsaved

        if answer is Unsaved.SAVE:
            return self.save_profile()
        if answer is Unsaved.DISCARD:
            self._set_dirty(False)
        return answer is not Unsaved.STAY

    def _error(self, title: str, error: BaseException | str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(self, title, str(error))

    def quit_app(self) -> None:
        """File ▸ Quit, Ctrl+Q and the tray's Quit: the whole app, its monitors (and a demo's
        server) with it, where closing this window leaves the monitors running. The edits are
        asked about first, then the monitors; only then is anything saved or stopped."""
        from supalink.ui.leaving import Unsaved, agrees_to_stop_monitors, ask_unsaved

        unsaved = ask_unsaved(self) if self.dirty else None
        monitors = self.context.monitors
        open_count = monitors.open_count if monitors is not None else 0
        if unsaved is Unsaved.STAY or not agrees_to_stop_monitors(self, open_count):
            return
        if unsaved is None or self._settle(unsaved):  # a failed save says why, and stays
            self.quit_without_questions()

    def quit_without_questions(self) -> None:
        """Quit now (every answer given, or SIGINT/SIGTERM): Qt 6 closes every window on quit,
        and a window that refuses (this one, asking) would stop it half done."""
        self.quitting = True
        QApplication.quit()  # the app's quit path (app.run_windows): windows, monitors, tasks

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.quitting or self._settle_unsaved():
            event.accept()
        else:
            event.ignore()

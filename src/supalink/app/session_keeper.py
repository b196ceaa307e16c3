"""The remembered session (session.py) on the windows: the main window and each monitor put
back where they were, fitted to the screen they open on; the monitors reopened with their
channels and tab; and the session saved as it changes, so that a crash loses at most a
second of it.

    session = remembered_session(repository)     # before the main window is shown
    place_window(window, session.main)
    keeper = SessionKeeper(repository, window, monitors)   # once the profiles are loaded
    keeper.reopen(session.monitors)
    keeper.finish()                              # as the app quits, before windows close
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from supalink.app.session import SESSION_KEY, MonitorState, Place, Session, fitted, session_from
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    from supalink.profiles import ProfileRepository, Target
    from supalink.ui import Monitors, MonitorWindow, Preferences

log = logging.getLogger(__name__)

# A window moved or resized, a channel or a tab changed: saved this long after the first
# change (not the last: a window dragged about for a minute is still saved each second).
SAVE_DELAY_MS = 1000
# What a window does that the session remembers.
WATCHED_EVENTS = frozenset({QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.WindowStateChange})


def remembered_session(preferences: Preferences) -> Session:
    try:
        return session_from(preferences.preference(SESSION_KEY))
    except SupalinkError:  # a settings file it cannot read: the main window says why
        return Session()


def screen_named(name: str) -> QScreen:
    """The screen called `name`, or the primary one when it is gone."""
    for screen in QGuiApplication.screens():
        if screen.name() == name:
            return screen
    return QGuiApplication.primaryScreen()


def place_window(window: QWidget, place: Place | None) -> None:
    """Put `window` where `place` says, fitted to the available part of its screen. Being
    maximized is the caller's to show (`showMaximized`, or `maximize` before a first show):
    the main window's first paint must not wait for the Qt namespace's enums."""
    if place is None:
        return
    screen = screen_named(place.screen)
    origin, area = screen.geometry().topLeft(), screen.availableGeometry()
    x, y, width, height = place.rect
    window.setGeometry(
        *fitted(
            (origin.x() + x, origin.y() + y, width, height),
            (area.x(), area.y(), area.width(), area.height()),
        )
    )


def maximize(window: QWidget) -> None:
    from PySide6.QtCore import Qt

    window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


def place_of(window: QWidget) -> Place:
    """Where `window` is: its screen, and the rect on it (when maximized, the rect it goes
    back to)."""
    screen = window.screen()
    rect = window.normalGeometry() if window.isMaximized() else window.geometry()
    origin = screen.geometry().topLeft()
    x, y = rect.x() - origin.x(), rect.y() - origin.y()
    return Place(screen.name(), (x, y, rect.width(), rect.height()), window.isMaximized())


class SessionKeeper(QObject):
    """Follows the main window and every monitor window as it opens, and saves the session
    within SAVE_DELAY_MS of a window moved, resized or closed, or a channel or tab changed.
    A session that did not change since the start is not written: `supalink --no-restore`
    loses nothing by merely running.

    A monitor closed by the person leaves the session; one closed by the quit stays. Qt
    closes every window as it quits, before the app's own end (`finish`), and nothing in
    the close tells the two apart: a closed window leaves at the next delayed save, which
    the quit (aboutToQuit, at once after those closes) comes before."""

    def __init__(
        self,
        repository: ProfileRepository,
        main: QWidget,
        monitors: Monitors | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.repository = repository
        self.main = main
        self.monitors = monitors
        self.windows: dict[str, MonitorWindow] = {}  # the open monitors, as they opened
        self._places: dict[str, Place] = {}  # where the monitors being reopened go
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        self._written: dict[str, Any] | None = None
        self._last_problem: str | None = None
        self._quitting = False
        self._finished = False
        main.installEventFilter(self)
        if monitors is not None:
            monitors.opened.connect(self._opened)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._quit_seen)

    # ----- the session as it is -----------------------------------------------------------
    def current(self) -> Session:
        monitors = tuple(
            MonitorState(name, window.channels(), window.current_tab_name(), place_of(window))
            for name, window in self.windows.items()
        )
        return Session(place_of(self.main), monitors)

    def _let_closed_ones_go(self) -> None:
        for name, window in list(self.windows.items()):
            if window.stopping:  # closed (a hidden or minimized one is still open)
                del self.windows[name]
                window.removeEventFilter(self)

    def settle(self, written: Session | None = None) -> None:
        """Take `written` as what the settings file holds, or the session as it is now: it
        is written once the session differs. After a restore, the session read (a monitor
        that was not reopened then leaves it); after a clean start, the session as it is,
        so the last one stays in the file until this run changes something."""
        self._written = (written or self.current()).to_preference()

    def save(self) -> None:
        """Write the session if it changed; the monitors closed since the last save leave
        it, unless the app is quitting (`finish` saves then)."""
        self._timer.stop()
        if self._finished or self._quitting:
            return
        self._let_closed_ones_go()
        self._write()

    def _write(self) -> None:
        value = self.current().to_preference()
        if value == self._written:
            return
        try:
            self.repository.set_preference(SESSION_KEY, value)
        except SupalinkError as error:  # a read-only or full disk: said once in the log
            if str(error) != self._last_problem:
                log.warning("session not saved: %s", error)
            self._last_problem = str(error)
            return
        self._written, self._last_problem = value, None

    def finish(self) -> None:
        """Save with every monitor still open, or closed by the quit; then follow nothing
        more: the app is quitting."""
        self._timer.stop()
        if self._finished:
            return
        self._write()
        self._finished = True
        self.main.removeEventFilter(self)
        for window in self.windows.values():
            window.removeEventFilter(self)
        if self.monitors is not None:
            self.monitors.opened.disconnect(self._opened)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.disconnect(self._quit_seen)

    # ----- reopening ----------------------------------------------------------------------
    def reopen(self, monitors: Iterable[MonitorState]) -> None:
        """Open the remembered monitors. One whose profile is gone, cannot be read, or has
        no password at hand is left closed, with a line in the log: no window asks."""
        if self.monitors is None:
            return
        from supalink.ui import with_saved_password

        for state in monitors:
            target = self._target_of(state.profile)
            if target is None:
                continue
            if state.place is not None:
                self._places[state.profile] = state.place
            window = self.monitors.open(
                state.profile,
                target,
                channels=_valid_channels(state),
                current_target=with_saved_password(self.repository, state.profile, target),
            )
            self._places.pop(state.profile, None)
            if state.tab is not None:
                window.show_tab(state.tab)

    def _target_of(self, name: str) -> Target | None:
        from supalink.profiles import Target

        skipped = "session: the monitor of %r is not reopened: %s"
        if name not in self.repository.names():
            log.warning(skipped, name, "no profile has that name now")
            return None
        try:
            profile = self.repository.load(name).profile
            password = self.repository.password_value(name, keyring_may_fail=True)
        except SupalinkError as error:
            log.warning(skipped, name, error)
            return None
        if password is None:
            log.warning(skipped, name, "its password is not at hand (open it from the window)")
            return None
        return Target.from_profile(profile, password)

    # ----- following the windows ---------------------------------------------------------
    def _opened(self, name: str, window: MonitorWindow) -> None:
        """A new monitor window, not shown yet: put where it was, and followed."""
        place = self._places.get(name)
        if place is not None:
            place_window(window, place)
            if place.maximized:
                maximize(window)
        self.windows.pop(name, None)
        self.windows[name] = window
        window.installEventFilter(self)
        window.tabs.currentChanged.connect(self._changed)
        window.notifications.channels_changed.connect(self._changed)
        self._changed()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in WATCHED_EVENTS:
            self._changed()
        elif kind == QEvent.Type.Close and watched is not self.main:
            self._changed()  # it may refuse, or be closed by the quit: the save looks
        return False

    def _quit_seen(self) -> None:
        self._quitting = True

    def _changed(self, *_: object) -> None:
        if not self._finished and not self._timer.isActive():
            self._timer.start()


def _valid_channels(state: MonitorState) -> list[str]:
    """The remembered channels that can be listened on (a hand-edited file may hold others)."""
    from supalink.monitor import check_channel

    valid = []
    for channel in state.channels:
        try:
            valid.append(check_channel(channel))
        except SupalinkError as error:
            log.warning("session: channel %r of %r left out: %s", channel, state.profile, error)
    return valid

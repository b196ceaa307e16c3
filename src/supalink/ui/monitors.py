"""The open monitor windows, one per profile, and the tray light over all of them.

The app owns one of these: the main window asks it to open a monitor, the tray follows
the monitors' health, the desktop alerts tell their downs and comings back, and before the
app quits every engine is stopped (within 5 s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from supalink.monitor import STOP_TIMEOUT, MonitorEngine
from supalink.profiles import ProfileRepository, Target
from supalink.ui.monitor_alerts import MonitorAlerts
from supalink.ui.monitor_window import MonitorWindow
from supalink.ui.tray import HealthTray


class Monitors(QObject):
    # A new window (the profile's name, the MonitorWindow), just before it is first shown:
    # the app's session places it and follows it.
    opened = Signal(str, object)

    def __init__(
        self,
        tray: HealthTray | None = None,
        parent: QObject | None = None,
        *,
        audit_file: Path | None = None,
        alerts: MonitorAlerts | None = None,
    ) -> None:
        """`audit_file`: where the agents' servers record their calls, for each window's
        Agent tab; `alerts`: the desktop alerts, told of each window (None: none)."""
        super().__init__(parent)
        self.tray = tray
        self.alerts = alerts
        self.audit_file = audit_file
        self.windows: dict[str, MonitorWindow] = {}
        self._stopping: set[MonitorWindow] = set()

    def open(
        self,
        name: str,
        target: Target,
        *,
        channels: Iterable[str] = (),
        current_target: Callable[[], Target | None] | None = None,
    ) -> MonitorWindow:
        """Show profile `name`'s monitor, starting it when it is not open yet.
        `current_target`: the target as it is now, for Retry after the person changed
        something (saved a new password after "password authentication failed", say)."""
        existing = self.windows.get(name)
        if existing is not None and not existing.stopping:
            existing.showNormal()
            existing.raise_()
            existing.activateWindow()
            return existing
        window = MonitorWindow(
            MonitorEngine(target, channels=channels),
            name,
            retry_target=current_target,
            audit_file=self.audit_file,
        )
        self.windows[name] = window
        window.stopped.connect(lambda: self._forget(name, window))
        if self.tray is not None:
            self.tray.watch(window)
        if self.alerts is not None:
            self.alerts.watch(window)
        self.opened.emit(name, window)
        window.show()
        window.start_soon()
        return window

    def _forget(self, name: str, window: MonitorWindow) -> None:
        if self.windows.get(name) is window:
            del self.windows[name]
        self._stopping.discard(window)

    @property
    def open_count(self) -> int:
        return len(self.windows)

    async def stop_all(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop every engine; used before the app quits."""
        windows = list(self.windows.values())
        for window in windows:
            window.close()
        stops = [asyncio.ensure_future(window.stop()) for window in windows]
        if stops:
            await asyncio.wait(stops, timeout=timeout)


def with_saved_password(
    repository: ProfileRepository, name: str, target: Target
) -> Callable[[], Target]:
    """`target` with the password profile `name` has saved now, for a monitor's Retry: after
    "password authentication failed" the person may have saved a new one."""

    def current() -> Target:
        return target.with_password(repository.password_value(name, keyring_may_fail=True))

    return current

"""The tray icon: one light for every open monitor (the worst of them), with a menu.

Desktops without a system tray (and the offscreen platform) get no icon; the object still
keeps the state and the menu, so the app behaves the same and tests can read both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from supalink.monitor import Health, worst
from supalink.ui.alerts import down_since_text
from supalink.ui.environment import environment_icon, environment_word
from supalink.ui.status_light import HEALTH_LABELS, light_icon

if TYPE_CHECKING:
    from supalink.ui.monitor_window import MonitorWindow


class HealthTray(QObject):
    show_monitor_requested = Signal()  # asked with no monitor open: the app opens one
    show_main_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None, *, tray_available: bool | None = None):
        super().__init__(parent)
        if tray_available is None:
            tray_available = QSystemTrayIcon.isSystemTrayAvailable()
        self.available = tray_available
        # display name -> status, detail, since when down (None: not down)
        self._sources: dict[str, tuple[Health, str, float | None]] = {}
        self._windows: list[MonitorWindow] = []
        self._closed = False
        self.menu = QMenu()
        self.show_monitor_action = self.menu.addAction("Show &monitor")
        self.show_main_action = self.menu.addAction("Show main &window")
        self.menu.addSeparator()
        self.quit_action = self.menu.addAction("&Quit")
        self.show_monitor_action.triggered.connect(self.show_monitor)
        self.show_main_action.triggered.connect(self.show_main_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon: QSystemTrayIcon | None = None
        if tray_available:
            self.icon = QSystemTrayIcon(self)
            self.icon.setContextMenu(self.menu)
            self.icon.activated.connect(self._activated)
        self._refresh()
        if self.icon is not None:
            self.icon.show()

    @property
    def status(self) -> Health:
        return worst(status for status, _, _ in self._sources.values())

    def current_icon(self) -> QIcon:
        return light_icon(self.status)

    def tool_tip(self) -> str:
        if not self._sources:
            return "Supalink: no monitor open"
        lines = ["Supalink"]
        for name, (status, detail, down_since) in sorted(self._sources.items()):
            label = HEALTH_LABELS[status] if down_since is None else down_since_text(down_since)
            lines.append(f"{name}: {label}" + (f" ({detail})" if detail else ""))
        return "\n".join(lines)

    def update_source(
        self, name: str, status: Health, detail: str = "", down_since: float | None = None
    ) -> None:
        self._sources[name] = (status, detail, down_since)
        self._refresh()

    def forget(self, name: str) -> None:
        self._sources.pop(name, None)
        self._refresh()

    def watch(self, window: MonitorWindow) -> None:
        """Follow a monitor window's health until its engine stops."""
        name = window.display_name
        self._windows.append(window)

        def changed(status: str, detail: str) -> None:
            self.update_source(name, Health(status), detail, window.down_since)

        def stopped() -> None:
            if window in self._windows:
                self._windows.remove(window)
            self.forget(name)
            self._label_show_monitor()

        window.health_changed.connect(changed)
        window.stopped.connect(stopped)
        self.update_source(name, window.health_status, window.health_detail, window.down_since)
        self._label_show_monitor()

    def show_monitor(self) -> None:
        if not self._windows:
            self.show_monitor_requested.emit()
            return
        window = self._windows[-1]
        window.showNormal()
        window.raise_()
        window.activateWindow()

    def _label_show_monitor(self) -> None:
        """The entry names the monitor it shows (the last opened) and its environment."""
        if self._closed:  # monitors still stopping after the app closed the tray
            return
        if not self._windows:
            self.show_monitor_action.setText("Show &monitor")
            self.show_monitor_action.setIcon(QIcon())
            return
        window = self._windows[-1]
        environment = window.environment
        label = f" ({environment_word(environment)})" if environment else ""
        name = window.display_name.replace("&", "&&")  # a name's & is not a shortcut
        self.show_monitor_action.setText(f"Show &monitor: {name}{label}")
        self.show_monitor_action.setIcon(environment_icon(environment) if environment else QIcon())

    def close(self) -> None:
        self._closed = True
        if self.icon is not None:
            self.icon.hide()
        self.menu.deleteLater()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason is QSystemTrayIcon.ActivationReason.Trigger:
            self.show_monitor()

    def _refresh(self) -> None:
        if self.icon is not None:
            self.icon.setIcon(self.current_icon())
            self.icon.setToolTip(self.tool_tip())

"""Where a desktop alert is shown: the tray icon's message when there is a tray; else the
desktop's notification service (org.freedesktop.Notifications over D-Bus, through QtDBus
when this PySide6 has it); else a line in the log. `desktop_sink` picks the tray or the
service at start; the service's sink connects to the bus at its first alert.

The D-Bus call goes through a QDBusInterface's own methods, which read the service's
introspection and marshal each argument as the service declares it: Notify takes a uint32
`replaces_id`, which a Python int given to QDBusMessage would send as an int32 (and a
GDBus service refuses the call for its signature).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QSystemTrayIcon

from supalink.ui.alerts import AlertSink, Urgency

if TYPE_CHECKING:
    from supalink.ui.tray import HealthTray

log = logging.getLogger(__name__)

APP_NAME = "Supalink"
SHOWN_MS = 10_000  # how long the tray's message stays, where the desktop lets it choose
NOTIFICATIONS = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
DBUS_TIMEOUT_MS = 2_000  # a notification service that hangs must not hold the window long


class TraySink:
    """The tray icon's message (a desktop notification on most desktops)."""

    def __init__(self, icon: QSystemTrayIcon) -> None:
        self.icon = icon

    def show(self, title: str, body: str, urgency: Urgency) -> None:
        kind = QSystemTrayIcon.MessageIcon
        icon = kind.Critical if urgency is Urgency.CRITICAL else kind.Information
        self.icon.showMessage(title, body, icon, SHOWN_MS)


class LogSink:
    """No tray and no notification service: the log keeps it."""

    def show(self, title: str, body: str, urgency: Urgency) -> None:
        log.warning("alert (%s): %s: %s", urgency.name.lower(), title, body)


class DBusSink:
    """org.freedesktop.Notifications' Notify, on the session bus; the log when it fails."""

    def __init__(self, bus: Any = None) -> None:
        """`bus`: a connected QDBusConnection; by default the session bus, connected at the
        first alert: QtDBus, its libraries and its thread are some 1.3 MB the app need not
        hold from its start for an alert that may never come."""
        self.bus = bus
        self._interface: Any = None

    def show(self, title: str, body: str, urgency: Urgency) -> None:
        from PySide6.QtCore import Q_ARG, QMetaObject, Qt

        interface = self._service()
        sent = interface is not None and QMetaObject.invokeMethod(
            interface,
            "Notify",
            Qt.ConnectionType.DirectConnection,
            Q_ARG(str, APP_NAME),
            Q_ARG("uint", 0),  # replaces no earlier notification
            Q_ARG(str, ""),
            Q_ARG(str, title),
            Q_ARG(str, body),
            Q_ARG("QStringList", []),
            Q_ARG("QVariantMap", {"urgency": int(urgency)}),
            Q_ARG(int, -1),  # the service's own timeout
        )
        if not sent:
            LogSink().show(title, body, urgency)

    def _service(self) -> Any:
        """The service's interface, read once (its introspection is a call on the bus)."""
        if self._interface is None:
            self.bus = self.bus if self.bus is not None else session_bus()
            if self.bus is None:
                return None
            from PySide6.QtDBus import QDBusInterface

            interface = QDBusInterface(NOTIFICATIONS, NOTIFICATIONS_PATH, NOTIFICATIONS, self.bus)
            if not interface.isValid():
                log.warning("no desktop notification service: %s", interface.lastError().message())
                return None
            interface.setTimeout(DBUS_TIMEOUT_MS)
            self._interface = interface
        return self._interface


def session_bus() -> Any:
    """The session bus when QtDBus is there and connected, else None."""
    try:
        from PySide6.QtDBus import QDBusConnection
    except ImportError:  # a PySide6 built without QtDBus (Windows, macOS wheels)
        return None
    bus = QDBusConnection.sessionBus()
    return bus if bus.isConnected() else None


def desktop_sink(tray: HealthTray | None) -> AlertSink:
    """The tray when there is one that shows messages, else the notification service (the
    log when there is no session bus, or no service on it)."""
    if tray is not None and tray.icon is not None and QSystemTrayIcon.supportsMessages():
        return TraySink(tray.icon)
    return DBusSink()

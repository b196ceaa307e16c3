"""The tray wired to the app: its menu brings up the main window, opens a monitor or quits,
and it says when a client removed or changed an entry Supalink wrote (the main window shows
a banner for it too)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from supalink.mcp import Host
    from supalink.ui import AppContext, EntryBanner, HealthTray, MainWindow


def connect_tray(window: MainWindow, tray: HealthTray) -> None:
    tray.show_main_requested.connect(lambda: _bring_up(window))
    tray.show_monitor_requested.connect(window.open_monitor)
    tray.quit_requested.connect(window.quit_app)  # File ▸ Quit's questions, in its order


def watch_entries(
    context: AppContext, window: MainWindow, tray: HealthTray, host: Host | None = None
) -> EntryBanner:
    """Notice when a client removes or changes an entry Supalink wrote: a banner in the
    main window (Write it again) and a tray message."""
    from supalink.mcp import ConfigWriter, McpClient, WatchEvent
    from supalink.ui import EntryBanner, EntryWatcher, attach_banner, described

    watcher = EntryWatcher(window)
    banner = EntryBanner(watcher, ConfigWriter(context.backup_dir))
    attach_banner(window, banner)

    def tell(event: WatchEvent, client: McpClient, _path: object) -> None:
        if event.event in ("removed", "changed") and tray.icon is not None:
            tray.icon.showMessage(
                "Supalink", f"{described(event, client.name)}: Write it again in Supalink."
            )

    watcher.happened.connect(tell)
    watcher.watch_found(host)
    return banner


def _bring_up(window: QWidget) -> None:
    window.showNormal()
    window.raise_()
    window.activateWindow()

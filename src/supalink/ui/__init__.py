"""The windows and dialogs (PySide6), driven by the composition root in `app/`: what it
uses is named here. Each module loads on first use, as the windows are opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.ui.alert_sinks import desktop_sink
    from supalink.ui.context import AppContext
    from supalink.ui.entry_banner import EntryBanner, attach_banner
    from supalink.ui.entry_watcher import EntryWatcher, described
    from supalink.ui.event_loop import collect_garbage_on_the_main_thread, selector_loop_class
    from supalink.ui.main_window import MainWindow
    from supalink.ui.monitor_alerts import MonitorAlerts
    from supalink.ui.monitor_window import MonitorWindow
    from supalink.ui.monitors import Monitors, with_saved_password
    from supalink.ui.preferences import Preferences
    from supalink.ui.tasks import TaskRunner
    from supalink.ui.theme import (
        Theme,
        apply_theme,
        follow_system_color_scheme,
        fusion_application,
        remember_system_dark,
        remembered_system_dark,
        settle_system_scheme,
        theme_named,
    )
    from supalink.ui.tray import HealthTray

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "desktop_sink": "alert_sinks",
        "AppContext": "context",
        "EntryBanner": "entry_banner",
        "attach_banner": "entry_banner",
        "EntryWatcher": "entry_watcher",
        "described": "entry_watcher",
        "collect_garbage_on_the_main_thread": "event_loop",
        "selector_loop_class": "event_loop",
        "MainWindow": "main_window",
        "MonitorAlerts": "monitor_alerts",
        "MonitorWindow": "monitor_window",
        "Monitors": "monitors",
        "with_saved_password": "monitors",
        "Preferences": "preferences",
        "TaskRunner": "tasks",
        "Theme": "theme",
        "apply_theme": "theme",
        "follow_system_color_scheme": "theme",
        "fusion_application": "theme",
        "remember_system_dark": "theme",
        "remembered_system_dark": "theme",
        "settle_system_scheme": "theme",
        "theme_named": "theme",
        "HealthTray": "tray",
    },
)
__all__ = [
    "AppContext",
    "EntryBanner",
    "EntryWatcher",
    "HealthTray",
    "MainWindow",
    "MonitorAlerts",
    "MonitorWindow",
    "Monitors",
    "Preferences",
    "TaskRunner",
    "Theme",
    "apply_theme",
    "attach_banner",
    "collect_garbage_on_the_main_thread",
    "described",
    "desktop_sink",
    "follow_system_color_scheme",
    "fusion_application",
    "remember_system_dark",
    "remembered_system_dark",
    "selector_loop_class",
    "settle_system_scheme",
    "theme_named",
    "with_saved_password",
]

"""The tray icon's light follows the worst health of the open monitors; without a system
tray (the offscreen platform has none) it keeps its state and menu and shows nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor

from supalink.monitor.health import Health
from supalink.ui.status_light import HEALTH_COLORS
from supalink.ui.tray import HealthTray
from tests.ui.monitor_support import center_color


def test_the_light_shows_the_worst_health_of_all_monitors(qapp: Any) -> None:
    tray = HealthTray()  # detects the tray: offscreen has none
    assert not tray.available
    assert tray.icon is None
    assert tray.status is Health.UNKNOWN
    assert tray.tool_tip() == "Supalink: no monitor open"
    steps = [
        ("prod", Health.HEALTHY, Health.HEALTHY),
        ("staging", Health.UNKNOWN, Health.UNKNOWN),  # still connecting: worse than healthy
        ("staging", Health.DEGRADED, Health.DEGRADED),
        ("prod", Health.DOWN, Health.DOWN),
        ("prod", Health.UNKNOWN, Health.DEGRADED),  # connecting again: better than degraded
        ("prod", Health.HEALTHY, Health.DEGRADED),
        ("staging", Health.HEALTHY, Health.HEALTHY),
    ]
    for name, status, shown in steps:
        tray.update_source(name, status, f"{name} detail")
        assert tray.status is shown
        assert center_color(tray.current_icon()) == QColor(HEALTH_COLORS[shown])
    assert (
        tray.tool_tip()
        == "Supalink\nprod: Healthy (prod detail)\nstaging: Healthy (staging detail)"
    )
    tray.forget("prod")
    tray.forget("staging")
    assert tray.status is Health.UNKNOWN
    tray.close()


def test_the_menu_asks_for_what_it_says(qapp: Any) -> None:
    tray = HealthTray(tray_available=False)
    asked: list[str] = []
    tray.show_monitor_requested.connect(lambda: asked.append("monitor"))
    tray.show_main_requested.connect(lambda: asked.append("main"))
    tray.quit_requested.connect(lambda: asked.append("quit"))
    texts = [action.text() for action in tray.menu.actions() if not action.isSeparator()]
    assert texts == ["Show &monitor", "Show main &window", "&Quit"]
    for action in (tray.show_monitor_action, tray.show_main_action, tray.quit_action):
        action.trigger()
    assert asked == ["monitor", "main", "quit"]  # no monitor open: the app is asked for one
    tray.close()


def test_with_a_system_tray_the_icon_carries_the_light_and_the_tooltip(qapp: Any) -> None:
    tray = HealthTray(tray_available=True)
    assert tray.icon is not None
    tray.update_source("prod", Health.DOWN, "no answer to SELECT 1 within 2 s")
    assert center_color(tray.icon.icon()) == QColor(HEALTH_COLORS[Health.DOWN])
    assert tray.icon.toolTip() == "Supalink\nprod: Down (no answer to SELECT 1 within 2 s)"
    assert tray.icon.contextMenu() is tray.menu
    tray.close()

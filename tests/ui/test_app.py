"""The composition root's Qt set-up."""

from __future__ import annotations

import asyncio
from typing import Any

from supalink.app.qt import (
    DESKTOP_FILE_NAME,
    WINDOW_ICON_SIZES,
    build_event_loop,
    configure_application,
)
from supalink.paths import resources_dir


def test_the_app_has_its_icon_and_desktop_entry(qapp: Any) -> None:
    from PySide6.QtCore import QSize

    configure_application(qapp)
    assert (resources_dir() / "icons" / "supalink.svg").is_file()
    icon = qapp.windowIcon()
    assert not icon.isNull()
    assert icon.availableSizes() == [QSize(size, size) for size in WINDOW_ICON_SIZES]
    assert icon.pixmap(48, 48).toImage().pixelColor(24, 24).alpha() == 255  # drawn, not blank
    assert qapp.desktopFileName() == DESKTOP_FILE_NAME
    assert qapp.applicationName() == "Supalink"


def test_the_loop_is_selector_based(qapp: Any) -> None:
    loop = build_event_loop(qapp)
    try:
        assert isinstance(loop, asyncio.SelectorEventLoop)
    finally:
        loop.close()

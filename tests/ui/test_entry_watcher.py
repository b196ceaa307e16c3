"""The app's watch of the entries it wrote, on real files that another process rewrites as
Claude Desktop does, through the OS's own file notifications (no poll)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from supalink.mcp import CLIENTS, Host
from supalink.ui.entry_watcher import EntryWatcher, described

CLAUDE = CLIENTS["claude"]
ENTRY = {"command": "/usr/bin/supalink", "args": ["mcp-serve", "--profile", "prod"]}
REPLACE = (
    "import os, sys; p = sys.argv[1]; open(p + '.tmp', 'w').write(sys.argv[2]); "
    "os.replace(p + '.tmp', p)"
)


def config(**servers: Any) -> str:
    return json.dumps({"globalShortcut": "Ctrl+Space", "mcpServers": servers})


def replace_file(path: Path, text: str) -> None:
    subprocess.run([sys.executable, "-c", REPLACE, str(path), text], check=True)


def watched(tmp_path: Path) -> tuple[Path, EntryWatcher]:
    """A Claude Desktop config holding the entry, and a watcher of it."""
    path = tmp_path / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir()
    path.write_text(config(supabase=ENTRY))
    watcher = EntryWatcher()
    watcher.watch(CLAUDE, path, "supabase")
    return path, watcher


def test_a_removal_and_a_restore_by_another_process_are_seen_and_worded(
    qtbot: Any, tmp_path: Path
) -> None:
    path, watcher = watched(tmp_path)
    seen: list[tuple[str, str]] = []
    watcher.happened.connect(lambda event, client, _: seen.append((event.event, client.name)))

    replace_file(path, config())
    qtbot.waitUntil(lambda: ("removed", "Claude Desktop") in seen, timeout=5000)
    replace_file(path, config(supabase=ENTRY))  # the same file name, a new file again
    qtbot.waitUntil(lambda: ("restored", "Claude Desktop") in seen, timeout=5000)
    assert [event for event, _ in seen if event != "replaced"] == ["removed", "restored"]


def test_the_entries_that_start_supalink_are_found_in_the_clients_files(tmp_path: Path) -> None:
    host = Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")
    path = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    path.write_text(config(supabase=ENTRY, other={"command": "npx"}))
    watcher = EntryWatcher()
    watcher.watch_found(host)
    assert watcher.watched == [("claude", path, "supabase")]


def test_the_banners_words(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from supalink.mcp import WatchEvent

    at = datetime(2026, 12, 1, 10, 42, tzinfo=UTC)
    event = WatchEvent("removed", "supabase", at)
    local = f"{at.astimezone():%H:%M}"
    assert described(event, "Claude Desktop") == (
        f"Claude Desktop removed the supabase entry at {local}"
    )


def test_the_banner_says_the_removal_and_writes_the_entry_back_as_it_was(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from supalink.mcp import ConfigWriter
    from supalink.ui.entry_banner import EntryBanner

    path, watcher = watched(tmp_path)
    banner = EntryBanner(watcher, ConfigWriter(tmp_path / "backups"))
    qtbot.addWidget(banner)
    asked: list[str] = []

    def yes(_parent: Any, _title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    replace_file(path, config())
    qtbot.waitUntil(lambda: not banner.isHidden(), timeout=5000)
    assert banner.message.text().startswith("Claude Desktop removed the supabase entry at ")
    banner.write_again.click()
    assert "as Supalink wrote it" in asked[0]
    assert json.loads(path.read_text())["mcpServers"]["supabase"] == ENTRY
    assert banner.isHidden()


def test_an_entry_written_later_is_watched_from_then_on(qtbot: Any, tmp_path: Path) -> None:
    host = Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")
    path = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    path.write_text(config())
    watcher = EntryWatcher()
    watcher.watch_found(host)
    assert watcher.watched == []
    seen: list[str] = []
    watcher.happened.connect(lambda event, *_: seen.append(event.event))
    replace_file(path, config(supabase=ENTRY))  # written by the dialog, say
    qtbot.waitUntil(lambda: watcher.watched == [("claude", path, "supabase")], timeout=5000)
    replace_file(path, config())
    qtbot.waitUntil(lambda: "removed" in seen, timeout=5000)


def test_the_app_shows_the_banner_above_its_main_window(
    qtbot: Any, tmp_path: Path, app_context: Any
) -> None:
    from supalink.app.tray import watch_entries
    from supalink.ui.main_window import MainWindow
    from supalink.ui.tray import HealthTray

    host = Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")
    path = tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"
    path.parent.mkdir(parents=True)
    path.write_text(config(supabase=ENTRY))
    window = MainWindow(app_context, load_profiles=False)
    qtbot.addWidget(window)
    tray = HealthTray(tray_available=False)
    banner = watch_entries(app_context, window, tray, host)
    window.show()
    assert window.findChild(type(window.welcome)) is window.welcome  # the window is whole
    assert banner.isHidden()
    replace_file(path, config())
    qtbot.waitUntil(banner.isVisible, timeout=5000)
    assert banner.message.text().startswith("Claude Desktop removed the supabase entry")
    tray.close()

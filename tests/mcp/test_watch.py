"""A watch of the entry Supalink wrote, on a real file that other processes rewrite as
clients do: atomically (a new file renamed over it) and in place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from supalink.mcp.clients import CLIENTS
from supalink.mcp.watch import EntryWatch, WatchEvent

CLAUDE = CLIENTS["claude"]
ENTRY = {"command": "/usr/bin/supalink", "args": ["mcp-serve", "--profile", "prod"]}

# Another process, as the client is: `atomic` writes a temporary file and renames it over.
WRITER = """
import json, os, sys
path, atomic, text = sys.argv[1], sys.argv[2] == "atomic", sys.argv[3]
if atomic:
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)
else:
    with open(path, "r+") as f:
        f.seek(0)
        f.write(text)
        f.truncate()
"""


def config(**servers: Any) -> str:
    return json.dumps({"globalShortcut": "Ctrl+Space", "mcpServers": servers}, indent=2)


def rewrite(path: Path, text: str, *, atomic: bool = True) -> None:
    subprocess.run(
        [sys.executable, "-c", WRITER, str(path), "atomic" if atomic else "in-place", text],
        check=True,
    )


def events(found: list[WatchEvent]) -> list[str]:
    return [event.event for event in found]


def started(tmp_path: Path, text: str) -> tuple[Path, EntryWatch]:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(text)
    return path, EntryWatch(CLAUDE, path, "supabase")


def test_removed_changed_and_restored_as_another_process_rewrites_the_file(
    tmp_path: Path,
) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    assert watch.present
    assert watch.check() == []  # nothing happened

    rewrite(path, config())  # the client dropped its mcpServers' entry
    assert events(watch.check()) == ["replaced", "removed"]
    assert not watch.present
    rewrite(path, config(supabase={**ENTRY, "args": ["mcp-serve", "--profile", "dev"]}))
    assert events(watch.check()) == ["replaced", "changed"]
    rewrite(path, config(supabase=ENTRY), atomic=False)
    assert events(watch.check()) == ["restored"]
    assert watch.present
    rewrite(path, config(supabase=ENTRY, other={"command": "npx"}))
    assert events(watch.check()) == ["replaced"]  # the entry is as it was
    assert watch.check() == []


def test_an_event_says_when_it_was_seen_as_json(tmp_path: Path) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    before = time.time()
    path.unlink()
    deleted, removed = watch.check()
    assert deleted.as_json()["event"] == "deleted"
    assert "detail" not in deleted.as_json()
    shown = removed.as_json()
    assert (shown["event"], shown["server"]) == ("removed", "supabase")
    assert shown["at"].endswith("Z")
    assert abs(removed.at.timestamp() - before) < 60


def test_a_file_that_is_not_json_for_a_moment_is_looked_at_again(tmp_path: Path) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    rewrite(path, '{"mcpServers": {', atomic=False)  # half-way through a plain write
    assert watch.check() == []
    rewrite(path, config(), atomic=False)
    assert events(watch.check()) == ["removed"]


def test_the_file_a_symlink_points_at_is_watched(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_text(config(supabase=ENTRY))
    link = tmp_path / "claude_desktop_config.json"
    link.symlink_to(real)
    watch = EntryWatch(CLAUDE, link, "supabase")
    rewrite(real, config(), atomic=False)
    assert events(watch.check()) == ["removed"]


def test_a_watch_begun_before_the_entry_was_written_takes_the_first_one_for_it(
    tmp_path: Path,
) -> None:
    path, watch = started(tmp_path, config())
    assert not watch.present
    rewrite(path, config(supabase=ENTRY))
    assert events(watch.check()) == ["replaced", "restored"]
    assert watch.present
    rewrite(path, config(supabase={"command": "npx"}), atomic=False)
    assert events(watch.check()) == ["changed"]


def test_the_entries_that_start_supalink_are_the_ones_to_watch(tmp_path: Path) -> None:
    from supalink.mcp.watch import supalink_entries

    path = tmp_path / "c.json"
    launcher = {"command": "/opt/supalink", "args": ["mcp-run", "--profile", "p", "--", "uvx"]}
    path.write_text(config(supabase=ENTRY, staging=launcher, other={"command": "npx"}))
    assert supalink_entries(CLAUDE, path) == ["supabase", "staging"]
    path.write_text("{ not json")
    assert supalink_entries(CLAUDE, path) == []
    assert supalink_entries(CLAUDE, tmp_path / "missing.json") == []


def test_the_newest_backup_that_held_the_entry_is_found(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from supalink.mcp.backups import write_backup
    from supalink.mcp.watch import last_backup_holding

    path = tmp_path / "claude_desktop_config.json"
    root = tmp_path / "backups"
    start = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    older = {**ENTRY, "args": ["mcp-serve", "--profile", "old"]}
    write_backup(path, config(supabase=older).encode(), root, start)
    write_backup(path, config(supabase=ENTRY).encode(), root, start + timedelta(minutes=1))
    write_backup(path, config().encode(), root, start + timedelta(minutes=2))  # removed
    found = last_backup_holding(CLAUDE, path, "supabase", root)
    assert found is not None
    backup, entry = found
    assert entry == ENTRY
    assert "20261201T100100" in backup.name
    assert last_backup_holding(CLAUDE, path, "nothing", root) is None


def test_an_entry_the_client_removed_is_written_back_as_it_was_kept(tmp_path: Path) -> None:
    from supalink.mcp import ConfigWriter

    path = tmp_path / "claude_desktop_config.json"
    kept = {"command": "/opt/supalink", "args": ["mcp-serve", "--uri-env", "U"],
            "env": {"U": "postgresql://u:hunter2-secret@db/postgres"}}  # fmt: skip
    path.write_text(config(supabase=kept))
    watch = EntryWatch(CLAUDE, path, "supabase")
    rewrite(path, config())
    assert events(watch.check()) == ["replaced", "removed"]
    writer = ConfigWriter(tmp_path / "backups")
    plan = writer.plan_restore(CLAUDE, path, "supabase", watch.expected)
    assert "hunter2-secret" not in plan.preview()
    writer.apply(plan, confirmed=True)
    assert json.loads(path.read_text())["mcpServers"]["supabase"] == kept
    assert json.loads(path.read_text())["globalShortcut"] == "Ctrl+Space"
    assert events(watch.check()) == ["replaced", "restored"]


def told(found: list[WatchEvent]) -> list[tuple[str, str | None]]:
    return [(event.event, event.detail) for event in found]


def test_a_file_left_not_json_is_told_at_the_next_look_and_then_its_recovery(
    tmp_path: Path,
) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    rewrite(path, '{"mcpServers": {', atomic=False)
    assert watch.check() == []  # maybe a writer half-way through
    assert watch.pending
    assert not watch.present
    said = f"{path} is not valid JSON: Expecting property name enclosed in double quotes"
    assert told(watch.check()) == [("invalid", f"{said} at line 1, column 17")]
    assert not watch.pending
    assert watch.check() == []
    rewrite(path, "{,", atomic=False)  # still not JSON, another way: nothing new to tell
    assert watch.check() == []
    assert watch.check() == []
    rewrite(path, config(supabase=ENTRY))
    assert events(watch.check()) == ["replaced", "recovered"]  # the entry is as it was
    assert watch.present


def test_json_nested_10000_deep_is_told_as_not_valid_without_a_traceback(tmp_path: Path) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    rewrite(path, '{"mcpServers": ' + "[" * 10_000 + "]" * 10_000 + "}", atomic=False)
    assert watch.check() == []
    assert told(watch.check()) == [
        (
            "invalid",
            f"{path} is nested deeper than 256 levels, which no config file needs;"
            " fix the file by hand",
        )
    ]


def test_servers_that_are_not_an_object_are_told_at_once(tmp_path: Path) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    rewrite(path, json.dumps({"mcpServers": [ENTRY]}))
    assert told(watch.check()) == [
        ("replaced", None),
        (
            "wrong-shape",
            f"{path}: 'mcpServers' at line 1, column 16 is not an object; fix the file by hand",
        ),
    ]
    assert not watch.present
    rewrite(path, config(supabase=ENTRY), atomic=False)
    assert events(watch.check()) == ["recovered"]


def test_a_folder_or_a_fifo_in_the_files_place_is_told_and_never_waited_on(
    tmp_path: Path,
) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    path.unlink()
    path.mkdir()
    assert told(watch.check()) == [
        ("not-a-file", f"cannot read {path}: it is a folder, not a file")
    ]
    assert watch.check() == []
    path.rmdir()
    os.mkfifo(path)
    assert told(watch.check()) == [
        ("not-a-file", f"cannot read {path}: it is a named pipe (FIFO), not a plain file")
    ]
    assert watch.problem == f"cannot read {path}: it is a named pipe (FIFO), not a plain file"
    path.unlink()
    path.write_text(config(supabase=ENTRY))
    assert events(watch.check()) == ["recovered"]
    assert watch.present


def test_a_deleted_file_and_its_return_and_a_symlink_loop(tmp_path: Path) -> None:
    path, watch = started(tmp_path, config(supabase=ENTRY))
    path.unlink()
    assert events(watch.check()) == ["deleted", "removed"]
    assert watch.problem == f"{path} is not there"
    assert watch.check() == []
    path.write_text(config(supabase=ENTRY))
    assert events(watch.check()) == ["recovered", "restored"]
    path.unlink()
    other = tmp_path / "other.json"
    other.symlink_to(path.name)
    path.symlink_to(other.name)
    loop = f"cannot read {path}: too many levels of symbolic links (a symlink loop)"
    assert told(watch.check()) == [("unreadable", loop)]  # its entry is not known to be gone
    assert watch.check() == []


def test_a_watch_begun_on_a_file_that_cannot_be_read_says_so_and_tells_its_recovery(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    os.mkfifo(path)
    watch = EntryWatch(CLAUDE, path, "supabase")
    assert watch.problem == f"cannot read {path}: it is a named pipe (FIFO), not a plain file"
    assert watch.check() == []
    path.unlink()
    path.write_text(config(supabase=ENTRY))
    assert events(watch.check()) == ["recovered", "restored"]

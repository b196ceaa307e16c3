"""Backups of a client's config file: the last 10 in the order they were made, whatever the
clock says (set back to 2020, or ahead when older copies were made); which hold a password,
and removing those (`supalink config backups [--purge]`); the lock of the file kept in
Supalink's folder, not the client's. Real files and real `supalink` processes."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supalink.mcp import list_backups, purge_backups
from supalink.mcp.backups import BACKUPS_KEPT, LOCKS_FOLDER, backup_folder, write_backup
from supalink.mcp.clients import CLIENTS
from supalink.mcp.editor import apply, plan_write
from supalink.mcp.watch import last_backup_holding
from tests.support.cli import run_cli

CLAUDE = CLIENTS["claude"]
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SET_BACK = datetime(2020, 1, 1, tzinfo=UTC)
SECRET = "backup-secret-pw 42"
WITH_URI = {
    "command": "/opt/supalink",
    "args": ["mcp-serve", "--uri-env", "U"],
    "env": {"U": "postgresql://u:backup-secret-pw%2042@db.example.com/postgres"},
}
WITH_ENV = {"command": "npx", "args": ["server"], "env": {"PGPASSWORD": SECRET}}
KEYRING_ONLY = {"command": "/opt/supalink", "args": ["mcp-serve", "--profile", "prod"]}


def config(**servers: object) -> bytes:
    return json.dumps({"globalShortcut": "Ctrl+Space", "mcpServers": servers}, indent=2).encode()


def write_entry(path: Path, root: Path, index: int, when: datetime) -> Path | None:
    entry = {"command": "npx", "args": [str(index)]}
    plan = plan_write(path, CLAUDE, "supabase", entry)
    return apply(plan, backup_root=root, confirmed=True, now=lambda: when).backup


def test_with_the_clock_set_back_each_new_backup_is_kept_and_the_oldest_go(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_bytes(config())
    root = tmp_path / "backups"
    made, versions = [], []
    for index in range(BACKUPS_KEPT + 5):
        # Five at the right time, then the clock is set back, and goes on going back.
        when = NOW + timedelta(minutes=index) if index < 5 else SET_BACK - timedelta(days=index)
        versions.append(path.read_bytes())
        backup = write_entry(path, root, index, when)
        assert backup is not None
        assert backup.exists()  # never pruned as it is made
        made.append(backup)
    kept = [backup.path for backup in list_backups(root, path)[0].backups]
    assert kept == made[-BACKUPS_KEPT:]
    assert [backup.read_bytes() for backup in kept] == versions[-BACKUPS_KEPT:]
    assert made[5].name == "claude_desktop_config.json.000006-20191227T000000000000Z.bak"


def test_backups_made_before_they_were_numbered_count_as_the_oldest(tmp_path: Path) -> None:
    """Copies named by the clock alone, some of them by a clock that ran ahead."""
    path = tmp_path / "claude_desktop_config.json"
    path.write_bytes(config())
    root = tmp_path / "backups"
    folder = backup_folder(root, path)
    folder.mkdir(parents=True)
    for year in range(2030, 2030 + BACKUPS_KEPT):
        (folder / f"{path.name}.{year}0101T000000000000Z.bak").write_bytes(config())
    backup = write_entry(path, root, 0, SET_BACK)
    assert backup is not None
    assert backup.exists()
    names = [item.path.name for item in list_backups(root, path)[0].backups]
    assert len(names) == BACKUPS_KEPT
    assert names[0] == f"{path.name}.20310101T000000000000Z.bak"  # 2030's was the oldest
    assert names[-1] == backup.name


def test_the_backup_that_last_held_an_entry_is_the_newest_made_not_by_the_clock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "claude_desktop_config.json"
    root = tmp_path / "backups"
    write_backup(path, config(supabase=WITH_ENV), root, NOW)
    write_backup(path, config(supabase=KEYRING_ONLY), root, SET_BACK)  # newer, clock behind
    write_backup(path, config(), root, SET_BACK - timedelta(days=1))
    found = last_backup_holding(CLAUDE, path, "supabase", root)
    assert found is not None
    assert found[1] == KEYRING_ONLY
    assert found[0].name.startswith(f"{path.name}.000002-2020")


def test_backups_holding_a_password_are_told_and_purged(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    root = tmp_path / "backups"
    contents = [
        config(supabase=WITH_URI),
        config(supabase=WITH_ENV),
        config(supabase=KEYRING_ONLY),
        # Not an entry Supalink knows: a conninfo string with its password somewhere.
        json.dumps({"notes": "host=db password='two words' dbname=x"}).encode(),
        config(),
    ]
    for index, data in enumerate(contents):
        write_backup(path, data, root, NOW + timedelta(seconds=index))
    (group,) = list_backups(root, path)
    holds = [backup.holds_password() for backup in group.backups]
    assert holds == [True, True, False, True, False]
    purged = purge_backups(root, path)
    assert [item.error for item in purged] == [None, None, None]
    assert [item.path for item in purged] == [group.backups[index].path for index in (0, 1, 3)]
    left = [backup.path.read_bytes() for backup in list_backups(root, path)[0].backups]
    assert left == [contents[2], contents[4]]
    assert purge_backups(root, path) == []


def test_a_backup_whose_entries_cannot_be_read_is_never_said_to_hold_no_password(
    tmp_path: Path,
) -> None:
    """Two commas: a password in a variable is found only by reading the entry, so whether
    it holds one cannot be told; one the masker sees anyway (a URI's) is told. A trailing
    comma alone is read (as JSONC), and its password found."""
    path = tmp_path / "claude_desktop_config.json"
    root = tmp_path / "backups"
    for index, (entry, end) in enumerate(
        ((WITH_ENV, b",,}"), (WITH_URI, b",,}"), (WITH_ENV, b",}"))
    ):
        broken = config(supabase=entry).removesuffix(b"}") + end
        write_backup(path, broken, root, NOW + timedelta(seconds=index))
    (group,) = list_backups(root, path)
    assert [backup.holds_password() for backup in group.backups] == [None, True, True]
    purged = [item.path for item in purge_backups(root, path)]
    assert purged == [group.backups[1].path, group.backups[2].path]
    assert group.backups[0].path.exists()


def test_a_fifo_among_the_backups_is_neither_read_nor_removed(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    root = tmp_path / "backups"
    write_backup(path, config(supabase=WITH_ENV), root, NOW)
    fifo = backup_folder(root, path) / f"{path.name}.000002-20261201T100000000000Z.bak"
    os.mkfifo(fifo)
    (group,) = list_backups(root, path)
    assert [backup.holds_password() for backup in group.backups] == [True, None]
    assert len(purge_backups(root, path)) == 1
    assert fifo.exists()
    assert last_backup_holding(CLAUDE, path, "supabase", root) is None


def supalink(*argv: str, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*argv, home=home, stdin=stdin, text=True)


def test_config_write_says_a_backup_that_exists_and_keeps_no_lock_in_the_clients_folder(
    tmp_path: Path,
) -> None:
    """The clock was ahead when the older copies were made: the new one is still kept."""
    home = tmp_path / "home"
    folder = tmp_path / "Claude"
    folder.mkdir()
    path = folder / "claude_desktop_config.json"
    path.write_bytes(config(other={"command": "x"}))
    (folder / f"{path.name}.lock").write_bytes(b"")  # left by an older Supalink
    backups = backup_folder(home / "data" / "backups", path)
    backups.mkdir(parents=True)
    for year in range(2090, 2090 + BACKUPS_KEPT):
        (backups / f"{path.name}.{year}0101T000000000000Z.bak").write_bytes(b"{}")
    argv = ["config", "write", "--client", "claude", "--config", str(path), "--uri", "-"]
    result = supalink(*argv, "--template", "supalink", home=home, stdin="postgresql://u@h/d\n")
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stdout.splitlines() if line.startswith("backup: ")]
    assert len(said) == 1
    backup = Path(said[0].removeprefix("backup: "))
    assert backup.read_bytes() == config(other={"command": "x"})
    assert sorted(entry.name for entry in folder.iterdir()) == [path.name]
    locks = list((home / "data" / "backups" / LOCKS_FOLDER).iterdir())
    assert [lock.name.startswith(f"{path.name}-") for lock in locks] == [True]


def test_config_backups_lists_them_and_purge_removes_those_with_a_password(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    root = home / "data" / "backups"
    path = tmp_path / "claude_desktop_config.json"
    other = tmp_path / "cursor" / "mcp.json"
    write_backup(path, config(supabase=WITH_URI), root, NOW)
    write_backup(path, config(supabase=KEYRING_ONLY), root, SET_BACK)
    write_backup(other, config(s=WITH_ENV), root, NOW)
    target = ["--client", "claude", "--config", str(path)]
    listed = supalink("config", "backups", *target, home=home)
    assert (listed.returncode, listed.stderr) == (0, "")
    (first, second) = list_backups(root, path)[0].backups
    lines = listed.stdout.splitlines()
    assert lines[0] == f"backups of {path}, oldest first:"
    assert lines[1].endswith(f"  holds a password  {first.path}")
    assert lines[2].endswith(f"  no password       {second.path}")
    assert lines[2].startswith(f"  {SET_BACK.astimezone():%Y-%m-%d %H:%M:%S}")
    every = supalink("config", "backups", home=home)
    assert every.stdout.count("oldest first:") == 2
    assert "backups of a file named mcp.json, oldest first:" in every.stdout

    (cursor_copy,) = list_backups(root, other)[0].backups
    purged = supalink("config", "backups", "--purge", home=home)
    assert (purged.returncode, purged.stderr) == (0, "")
    assert purged.stdout.splitlines() == [
        f"removed {first.path} (it held a password)",
        f"removed {cursor_copy.path} (it held a password)",
    ]
    assert not first.path.exists()
    assert not cursor_copy.path.exists()
    assert second.path.exists()
    again = supalink("config", "backups", "--purge", *target, home=home)
    assert (again.returncode, again.stdout) == (
        0,
        f"no backup of {path} holds a password: nothing removed\n",
    )


@pytest.mark.parametrize("argv", [["--config", "x.json"], ["--client", "nobody"]])
def test_config_backups_bad_input_exits_2(tmp_path: Path, argv: list[str]) -> None:
    result = supalink("config", "backups", *argv, home=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_the_backups_of_a_file_named_through_a_symlink_are_the_files_own(tmp_path: Path) -> None:
    """What the Write config dialog passes for its purge button: the path it writes."""
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_bytes(config(supabase=WITH_ENV))
    link = tmp_path / "claude_desktop_config.json"
    link.symlink_to(real)
    root = tmp_path / "backups"
    plan = plan_write(link, CLAUDE, "supabase", KEYRING_ONLY)
    backup = apply(plan, backup_root=root, confirmed=True).backup
    assert [group.backups[0].path for group in list_backups(root, link)] == [backup]
    assert [item.path for item in purge_backups(root, link)] == [backup]
    assert list_backups(root, real) == []

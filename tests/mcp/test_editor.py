"""The safe editor: atomic, backed up, permission- and link-preserving, change-aware."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.mcp import ConfigChanged, ConfirmationRequired
from supalink.mcp.backups import BACKUPS_KEPT, backup_folder
from supalink.mcp.clients import CLIENTS
from supalink.mcp.editor import Plan, apply, plan_remove, plan_write
from supalink.mcp.file_secrets import file_secrets
from supalink.mcp.jsonedit import MISSING, MalformedConfig
from tests.support.postgres import SPECIAL_PASSWORD

CLAUDE = CLIENTS["claude"]
NAME = "supabase"
ENCODED = quote(SPECIAL_PASSWORD, safe="")
URI = f"postgresql://supalink_app:{ENCODED}@127.0.0.1:5432/postgres?sslmode=verify-full"
ENTRY = {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-postgres", URI]}
OTHER = b'{\n  "globalShortcut": "Ctrl+Space",\n  "preferences": {"x": 1}\n}\n'


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def at(moment: datetime) -> Callable[[], datetime]:
    """A clock stopped at `moment`."""
    return lambda: moment


def write(path: Path, backups: Path, entry: object = ENTRY, **options: object) -> Path | None:
    secrets = (SPECIAL_PASSWORD, ENCODED) if entry == ENTRY else ()
    plan = plan_write(path, CLAUDE, NAME, entry, secrets=secrets)  # type: ignore[arg-type]
    return apply(plan, backup_root=backups, **options).backup  # type: ignore[arg-type]


def test_a_missing_file_and_folder_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "Claude" / "claude_desktop_config.json"
    assert write(path, tmp_path / "backups") is None  # nothing to back up
    assert json.loads(path.read_text()) == {"mcpServers": {NAME: ENTRY}}
    assert mode(path) == 0o600
    assert list((tmp_path / "backups").rglob("*.bak")) == []


def test_permission_bits_are_kept_without_a_password_and_0600_with_one(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_bytes(OTHER)
    path.chmod(0o640)
    write(path, tmp_path / "b", {"command": "supalink-launcher", "args": []})
    assert mode(path) == 0o640
    write(path, tmp_path / "b", confirmed=True)
    assert mode(path) == 0o600


def test_through_a_symlink_the_link_stays_and_its_target_is_written(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "claude.json"
    real.parent.mkdir()
    real.write_bytes(OTHER)
    link = tmp_path / "claude_desktop_config.json"
    link.symlink_to(real)
    backup = write(link, tmp_path / "b")
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert json.loads(real.read_text())["mcpServers"] == {NAME: ENTRY}
    assert backup is not None
    assert backup.read_bytes() == OTHER
    assert backup.parent == backup_folder(tmp_path / "b", real)


def test_backups_are_private_timestamped_and_only_the_last_ten_kept(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_bytes(OTHER)
    backups = tmp_path / "backups"
    start = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)
    versions, made = [], []
    for index in range(BACKUPS_KEPT + 3):
        versions.append(path.read_bytes())
        entry = {"command": "npx", "args": [str(index)]}
        plan = plan_write(path, CLAUDE, NAME, entry)
        applied = apply(
            plan,
            backup_root=backups,
            confirmed=True,
            now=at(start + timedelta(seconds=index)),
        )
        assert applied.backup is not None
        made.append(applied.backup)
    kept = sorted(made[0].parent.iterdir())
    assert kept == made[-BACKUPS_KEPT:]
    assert [backup.read_bytes() for backup in kept] == versions[-BACKUPS_KEPT:]
    assert made[0].name == "claude_desktop_config.json.000001-20261105T100000000000Z.bak"
    assert all(mode(backup) == 0o600 for backup in kept)
    assert mode(made[0].parent) == 0o700


def test_two_backups_in_the_same_microsecond_are_both_kept_in_order(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(OTHER)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    first = write(path, tmp_path / "b", {"command": "a"}, now=lambda: moment)
    second = write(path, tmp_path / "b", {"command": "b"}, now=lambda: moment, confirmed=True)
    assert first is not None
    assert second is not None
    assert sorted([second.name, first.name]) == [first.name, second.name]
    assert second.read_bytes() != first.read_bytes()


def test_a_change_between_preview_and_write_is_refused_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(OTHER)
    plan = plan_write(path, CLAUDE, NAME, ENTRY)
    # Claude Desktop writes its own copy meanwhile.
    theirs = b'{\n  "globalShortcut": "Alt+Space"\n}\n'
    path.write_bytes(theirs)
    with pytest.raises(ConfigChanged, match="changed since the preview"):
        apply(plan, backup_root=tmp_path / "b")
    assert path.read_bytes() == theirs
    applied = apply(plan, backup_root=tmp_path / "b", force=True)
    assert applied.replanned
    assert json.loads(path.read_text()) == {
        "globalShortcut": "Alt+Space",
        "mcpServers": {NAME: ENTRY},
    }
    assert applied.backup is not None
    assert applied.backup.read_bytes() == theirs


def test_a_file_that_appeared_since_the_preview_counts_as_a_change(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    plan = plan_write(path, CLAUDE, NAME, ENTRY)
    path.write_bytes(OTHER)
    with pytest.raises(ConfigChanged):
        apply(plan, backup_root=tmp_path / "b")


def test_a_different_entry_is_replaced_only_when_confirmed(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    mine = {"command": "my-own-server"}
    path.write_text(json.dumps({"mcpServers": {NAME: mine}}))
    before = path.read_bytes()
    plan = plan_write(path, CLAUDE, NAME, ENTRY)
    assert plan.action == "replace"
    assert plan.old_entry == mine
    with pytest.raises(ConfirmationRequired, match="already has a different 'supabase'") as caught:
        apply(plan, backup_root=tmp_path / "b")
    # What needs confirming, as data: the CLI words it as --yes, the dialog asks.
    assert (caught.value.action, caught.value.server_name) == ("replace", NAME)
    assert "--yes" not in str(caught.value)
    assert path.read_bytes() == before
    apply(plan, backup_root=tmp_path / "b", confirmed=True)
    assert json.loads(path.read_text())["mcpServers"][NAME] == ENTRY


def test_the_same_entry_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    write(path, tmp_path / "b")
    stat = path.stat()
    plan = plan_write(path, CLAUDE, NAME, dict(ENTRY))
    assert plan.action == "unchanged"
    assert plan.preview() == ""
    applied = apply(plan, backup_root=tmp_path / "b")
    assert (applied.written, applied.backup) == (None, None)
    assert path.stat().st_mtime_ns == stat.st_mtime_ns


def test_remove_needs_confirmation_and_leaves_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(OTHER)
    write(path, tmp_path / "b")
    plan = plan_remove(path, CLAUDE, NAME)
    assert plan.action == "remove"
    with pytest.raises(ConfirmationRequired, match="removing 'supabase'") as caught:
        apply(plan, backup_root=tmp_path / "b")
    assert (caught.value.action, caught.value.server_name) == ("remove", NAME)
    apply(plan, backup_root=tmp_path / "b", confirmed=True)
    assert json.loads(path.read_text()) == {**json.loads(OTHER), "mcpServers": {}}
    assert plan_remove(path, CLAUDE, NAME).action == "absent"


@pytest.mark.parametrize(
    "content", [b'{"mcpServers": {', b"\xef\xbb\xbf{,}", b"[]", b'{"a": 1}}', b"\x00\xff"]
)
def test_a_malformed_file_is_never_written(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(content)
    path.chmod(0o644)
    before = path.stat()
    with pytest.raises(MalformedConfig, match=r"line \d+, column \d+"):
        plan_write(path, CLAUDE, NAME, ENTRY)
    with pytest.raises(MalformedConfig):
        plan_remove(path, CLAUDE, NAME)
    assert path.read_bytes() == content
    assert (path.stat().st_mtime_ns, mode(path)) == (before.st_mtime_ns, 0o644)
    assert sorted(tmp_path.iterdir()) == [path]


def test_the_preview_is_a_diff_with_every_password_masked(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    other_password = "an0ther-Secret!"
    path.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "old": {
                        "command": "uvx",
                        "env": {"DATABASE_URI": f"postgres://u:{other_password}@h/d"},
                    },
                    NAME: {"command": "x", "env": {"PGPASSWORD": "plain-Secret-9"}},
                }
            },
            indent=2,
        )
    )
    plan = plan_write(path, CLAUDE, NAME, ENTRY, secrets=(SPECIAL_PASSWORD, ENCODED))
    preview = plan.preview()
    assert preview.startswith(f"--- {path} (now)\n+++ {path} (after)\n@@")
    assert '+      "command": "npx",' in preview
    assert '-      "command": "x",' in preview
    assert "postgresql://supalink_app:****@127.0.0.1" in preview
    for secret in (SPECIAL_PASSWORD, ENCODED, other_password, "plain-Secret-9", "p%40ss"):
        assert secret not in preview


# Another entry's password, where the masker finds it only by reading the entry: a
# secret-named variable, not a URI or a `password=`.
OTHERS_PASSWORD = "plain-Secret-9"
OTHERS = '"other": {"command": "uvx", "env": {"PGPASSWORD": "plain-Secret-9"}}'
UNPARSEABLE = {
    "two commas": f'{{\n  "mcpServers": {{\n    {OTHERS},,\n  }}\n}}\n',
    "a comment never closed": f'{{\n  /* mine\n  "mcpServers": {{\n    {OTHERS}\n  }}\n}}\n',
    "NaN": f'{{\n  "n": NaN,\n  "mcpServers": {{\n    {OTHERS}\n  }}\n}}\n',
}


@pytest.mark.parametrize("text", UNPARSEABLE.values(), ids=UNPARSEABLE.keys())
def test_a_side_of_the_diff_that_cannot_be_parsed_is_not_shown(tmp_path: Path, text: str) -> None:
    """Its passwords cannot be found to mask them: a line says so in place of its text."""
    path = tmp_path / "c.json"
    old = text.encode()
    new = old.replace(b'"uvx"', b'"npx"')
    plan = Plan(path, CLAUDE, NAME, "replace", old, new, MISSING, ENTRY)
    preview = plan.preview()
    assert OTHERS_PASSWORD not in preview
    assert preview.startswith(f"--- {path} (now)\n+++ {path} (after)\n@@ -1 +1 @@\n")
    said = "not shown, as the passwords in it could not all be found)"
    (before, after) = preview.splitlines()[3:]
    assert before.startswith(f"-({path} (now) is not valid JSON: ")
    assert before.endswith(said)
    assert after.startswith(f"+({path} (after) is not valid JSON: ")
    assert after.endswith(said)
    # The side that can be read is shown, its passwords masked.
    readable = f'{{"mcpServers": {{{OTHERS}}}}}\n'.encode()
    shown = Plan(path, CLAUDE, NAME, "replace", old, readable, MISSING, ENTRY).preview()
    assert shown.splitlines()[3:] == [
        before,
        '+{"mcpServers": {"other": {"command": "uvx", "env": {"PGPASSWORD": "****"}}}}',
    ]


def test_a_key_held_twice_hides_the_file_from_the_diff(tmp_path: Path) -> None:
    """json keeps the last of two values of a key: the first one's password is in the text
    but not in what is parsed, so the masker could not find it."""
    path = tmp_path / "c.json"
    twice = f'{{"mcpServers": {{{OTHERS}, "other": {{"command": "uvx"}}}}}}\n'
    path.write_text(twice)
    plan = plan_write(path, CLAUDE, NAME, ENTRY, secrets=(SPECIAL_PASSWORD, ENCODED))
    assert plan.action == "add"  # the entry can still be written
    preview = plan.preview()
    assert OTHERS_PASSWORD not in preview
    assert preview.splitlines()[3:] == [
        f"-({path} (now) holds a key twice in one object: not shown, as the passwords in it "
        "could not all be found)",
        f"+({path} (after) holds a key twice in one object: not shown, as the passwords in it "
        "could not all be found)",
    ]


def test_file_secrets_fail_closed() -> None:
    with pytest.raises(MalformedConfig):
        file_secrets(UNPARSEABLE["two commas"].encode())
    assert file_secrets(None) == file_secrets(b"  \n") == []
    assert OTHERS_PASSWORD in file_secrets(f'{{"mcpServers": {{{OTHERS}}}}}'.encode())


@pytest.mark.slow
def test_a_process_killed_during_writes_leaves_a_whole_file(tmp_path: Path) -> None:
    """SIGKILL at random moments of a write loop: the file is always the old or a new one."""
    path = tmp_path / "claude_desktop_config.json"
    # Big enough that a kill often lands inside a write.
    original = json.dumps({"preferences": {"blob": "x" * 400_000}}, indent=2).encode()
    path.write_bytes(original)
    entries = [{"command": "npx", "args": [str(n) * 50_000]} for n in range(2)]
    first = plan_write(path, CLAUDE, NAME, entries[0]).new
    assert first is not None
    second = plan_write(path, CLAUDE, NAME, entries[1], current=first).new
    whole = {original: "original", first: "first", second: "second"}
    child = (
        "import itertools, json, sys\n"
        "from pathlib import Path\n"
        "from supalink.mcp.clients import CLIENTS\n"
        "from supalink.mcp.editor import apply, plan_write\n"
        "path, backups, entries = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])\n"
        "print('ready', flush=True)\n"
        "for n in itertools.count():\n"
        "    plan = plan_write(path, CLIENTS['claude'], 'supabase', entries[n % 2])\n"
        "    apply(plan, backup_root=backups, confirmed=True)\n"
    )
    seen = set()
    rng = random.Random(5)
    for _ in range(12):
        process = subprocess.Popen(
            [sys.executable, "-c", child, str(path), str(tmp_path / "b"), json.dumps(entries)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        state = whole.get(path.read_bytes())
        assert state is not None, "a partial file was left behind"
        seen.add(state)
    assert {"first", "second"} <= seen  # the writes really ran when the kills landed

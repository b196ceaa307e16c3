"""Several writers of one MCP config file at once: every change lands, or its writer says not.

Real processes, as a user's shell loop or two open dialogs would run them: each `config
write` reads, changes and writes the file back under its lock, so none writes back a copy
made before another's entry went in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from supalink.mcp import ConfigChanged
from supalink.mcp.clients import CLIENTS
from supalink.mcp.editor import apply, plan_remove, plan_write

SUPALINK = str(Path(sys.executable).with_name("supalink"))
# Nothing listens on port 1: nothing here connects, and nothing must.
URI = "postgresql://u:pw@127.0.0.1:1/postgres"
OTHER = {"globalShortcut": "Ctrl+Space", "preferences": {"x": 1}}
CURSOR = CLIENTS["cursor"]
WRITERS = 20


@pytest.mark.slow
def test_twenty_parallel_config_writes_all_land_and_keep_the_other_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "mcp.json"
    cfg.write_text(json.dumps({**OTHER, "mcpServers": {"mine": {"command": "x"}}}, indent=2))
    env = {**os.environ, "SUPALINK_HOME": str(tmp_path / "home")}
    processes = [
        subprocess.Popen(
            [
                SUPALINK,
                "config",
                "write",
                "--client",
                "cursor",
                "--config",
                str(cfg),
                "--uri",
                "-",
                "--server-name",
                f"s{number}",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for number in range(WRITERS)
    ]
    # All are started, then all get their URIs, then all are waited for: they overlap.
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(URI + "\n")
        process.stdin.close()
    results = [finished(process) for process in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
        assert "wrote " in out
    document = json.loads(cfg.read_text())
    assert {key: document[key] for key in OTHER} == OTHER
    servers = document["mcpServers"]
    assert set(servers) == {"mine", *(f"s{number}" for number in range(WRITERS))}
    assert servers["mine"] == {"command": "x"}
    # Their lock is Supalink's, in its own folder: nothing of it in the client's.
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["home", "mcp.json"]
    assert list((tmp_path / "home").rglob("mcp.json-*.lock")) != []


def entry(name: str) -> dict[str, object]:
    return {"command": "supalink", "args": ["mcp-serve", name]}


def test_another_writers_entry_since_the_preview_is_kept_and_the_change_replanned(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(OTHER))
    plan = plan_write(path, CURSOR, "a", entry("a"))
    apply(plan_write(path, CURSOR, "b", entry("b")), backup_root=tmp_path / "backups")
    applied = apply(plan, backup_root=tmp_path / "backups")
    assert applied.replanned
    assert json.loads(path.read_text()) == {
        **OTHER,
        "mcpServers": {"b": entry("b"), "a": entry("a")},
    }
    # A removal previewed before another entry came in removes only its own.
    removal = plan_remove(path, CURSOR, "a")
    apply(plan_write(path, CURSOR, "c", entry("c")), backup_root=tmp_path / "backups")
    assert apply(removal, backup_root=tmp_path / "backups", confirmed=True).replanned
    assert json.loads(path.read_text())["mcpServers"] == {"b": entry("b"), "c": entry("c")}


def test_a_change_to_the_previewed_entry_or_to_other_keys_is_still_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({**OTHER, "mcpServers": {"a": entry("old")}}))
    plan = plan_write(path, CURSOR, "a", entry("a"))
    theirs = json.dumps({**OTHER, "mcpServers": {"a": entry("theirs")}})
    path.write_text(theirs)
    with pytest.raises(ConfigChanged):
        apply(plan, backup_root=tmp_path / "backups", confirmed=True)
    assert path.read_text() == theirs
    plan = plan_write(path, CURSOR, "b", entry("b"))
    theirs = json.dumps({**OTHER, "globalShortcut": "Alt+Space", "mcpServers": {}})
    path.write_text(theirs)
    with pytest.raises(ConfigChanged):
        apply(plan, backup_root=tmp_path / "backups")
    assert path.read_text() == theirs


def test_a_client_that_reindents_its_file_meanwhile_changes_nothing_to_refuse(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(OTHER))
    plan = plan_write(path, CURSOR, "a", entry("a"))
    path.write_text(json.dumps(OTHER, indent=4))
    assert apply(plan, backup_root=tmp_path / "backups").replanned
    assert json.loads(path.read_text()) == {**OTHER, "mcpServers": {"a": entry("a")}}


def finished(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Its stdout and stderr once it exited (a few lines each: no pipe fills up)."""
    assert process.stdout is not None
    assert process.stderr is not None
    process.wait(timeout=120)
    with process.stdout, process.stderr:
        return process.stdout.read(), process.stderr.read()


def test_a_write_the_file_does_not_hold_afterwards_is_not_reported_as_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that ignores the lock (Claude Desktop) replacing the file right after ours."""
    from supalink.files import atomic_write_bytes
    from supalink.mcp import editor

    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(OTHER))
    theirs = json.dumps(OTHER, indent=1)
    written = atomic_write_bytes  # what editor calls: it imports it from supalink.files

    def then_theirs(target: Path, data: bytes, *, mode: int | None = None) -> Path:
        result = written(target, data, mode=mode)
        if target == path:
            path.write_text(theirs)
        return result

    monkeypatch.setattr(editor, "atomic_write_bytes", then_theirs)
    with pytest.raises(ConfigChanged):
        apply(plan_write(path, CURSOR, "a", entry("a")), backup_root=tmp_path / "backups")
    assert path.read_text() == theirs

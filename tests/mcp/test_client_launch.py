"""Entries as the client will start them: config verify in the launch environment a desktop
client gives servers, and config write naming every server command by an absolute path."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from supalink.mcp.clients import Host
from supalink.mcp.launch_env import Finder, absolute_entry
from supalink.mcp.templates import ServerEntry
from tests.support.cli import spawn_cli
from tests.support.postgres import PostgresServer
from tests.support.reference_server import ReferenceServer


def supalink(*args: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A process: config verify's --timeout counts from its process's start.
    return spawn_cli(*args, home=home, environ=env, timeout=120, text=True)


def write_for_claude(
    cfg: Path, *extra: str, home: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """`config write` of an example URI into `cfg` as Claude Desktop's file."""
    uri = "postgresql://u:p@db.example.com/postgres"
    return supalink(
        "config",
        "write",
        "--client",
        "claude",
        "--config",
        str(cfg),
        "--uri",
        uri,
        *extra,
        home=home,
        env=env,
    )


@pytest.mark.slow
def test_verify_says_a_command_found_only_in_the_shell_and_passes_once_it_is_absolute(
    tmp_path: Path, pg: PostgresServer, reference_server: ReferenceServer
) -> None:
    cfg = tmp_path / "claude_desktop_config.json"
    shell = reference_server.environment()  # its bin folder on this shell's PATH only
    found = reference_server.bin_dir / "mcp-server-postgres"
    cfg.write_text(
        json.dumps({"mcpServers": {"pg": {"command": "mcp-server-postgres", "args": [pg.uri()]}}})
    )
    target = ("config", "verify", "--client", "claude", "--config", str(cfg), "--server-name", "pg")
    refused = supalink(*target, home=tmp_path / "home", env=shell)
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        f"supalink config: command found only in your shell: mcp-server-postgres is {found}, "
        "but the PATH a desktop client gives the servers it starts ("
    )
    assert refused.stderr.rstrip().endswith(
        f"does not have it; write the command as {found} (supalink config write does)"
    )
    # In this shell's own environment it starts.
    assert supalink(*target, "--env", "shell", home=tmp_path / "home", env=shell).returncode == 0
    cfg.write_text(json.dumps({"mcpServers": {"pg": {"command": str(found), "args": [pg.uri()]}}}))
    passed = supalink(*target, home=tmp_path / "home", env=shell)
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout.startswith("pg: the server answered query 'select 1' in ")


def program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("template", "name"),
    [("reference", "npx"), ("postgres-mcp", "uvx"), ("guide", "mcp-server-postgres")],
)
def test_config_write_names_every_servers_command_by_the_path_where_it_was_found(
    tmp_path: Path, template: str, name: str
) -> None:
    home = tmp_path / "home"
    installed = program(tmp_path / "tools" / "bin" / name)
    env = {**os.environ, "PATH": f"{installed.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    cfg = tmp_path / "c.json"
    written = write_for_claude(cfg, "--template", template, home=home, env=env)
    assert written.returncode == 0, written.stderr
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert entry["command"] == str(installed)
    assert f"server command: {installed} (written in full: Claude Desktop" in written.stdout
    node = name != "uvx"
    assert ("PATH" in entry.get("env", {})) is node
    if node:
        assert entry["env"]["PATH"].split(":")[0] == str(installed.parent)


def test_config_write_warns_when_the_command_is_nowhere_and_of_claudes_built_in_node(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"isUsingBuiltInNodeForMcp": True}))
    env = {**os.environ, "PATH": str(tmp_path / "empty"), "HOME": str(tmp_path)}
    written = write_for_claude(cfg, "--template", "guide", home=tmp_path / "home", env=env)
    assert written.returncode == 0, written.stderr
    assert json.loads(cfg.read_text())["mcpServers"]["supabase"]["command"] == (
        "mcp-server-postgres"
    )
    assert (
        "warning: mcp-server-postgres was not found on this machine (PATH, uv, nvm, fnm, "
        "Volta, mise, asdf, Homebrew): install Node.js" in written.stderr
    )
    assert "built-in Node.js (isUsingBuiltInNodeForMcp in the file)" in written.stderr


def test_supalinks_own_server_is_already_absolute_and_needs_no_node(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    written = write_for_claude(cfg, home=tmp_path / "home", env=env)
    assert written.returncode == 0, written.stderr
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert Path(entry["command"]).is_absolute()
    assert "server command:" not in written.stdout
    assert "PATH" not in entry["env"]


def test_on_windows_npx_is_started_through_cmd() -> None:
    appdata = PureWindowsPath(r"C:\Users\ada\AppData\Roaming")
    npx = appdata / "npm" / "npx.cmd"
    finder = Finder(
        Host("win32", {"APPDATA": str(appdata)}, PureWindowsPath(r"C:\Users\ada")),
        is_program=lambda path: path == npx,
    )
    entry = ServerEntry("npx", ("-y", "@modelcontextprotocol/server-postgres", "postgresql://x"))
    rebuilt, found = absolute_entry(entry, finder, r"C:\Windows")
    assert rebuilt == ServerEntry(
        "cmd", ("/c", str(npx), "-y", "@modelcontextprotocol/server-postgres", "postgresql://x")
    )
    assert found is not None
    assert (found.name, found.found, found.node) == ("npx", npx, True)
    missing, nowhere = absolute_entry(entry, Finder(finder.host, is_program=lambda _: False), "")
    assert missing.command == "cmd"
    assert missing.args[:2] == ("/c", "npx")
    assert nowhere is not None
    assert nowhere.found is None


def test_the_keyring_launchers_server_command_is_the_one_made_absolute(tmp_path: Path) -> None:
    uvx = program(tmp_path / "bin" / "uvx")
    entry = ServerEntry("/opt/supalink", ("mcp-run", "--profile", "p", "--", "uvx", "postgres-mcp"))
    rebuilt, found = absolute_entry(entry, Finder(Host("linux", {}, tmp_path)), str(uvx.parent))
    assert rebuilt.command == "/opt/supalink"
    assert rebuilt.args == ("mcp-run", "--profile", "p", "--", str(uvx), "postgres-mcp")
    assert found is not None
    assert found.found == uvx
    # An entry that is not the launcher keeps a "--" of its own as it is.
    other = ServerEntry("/usr/bin/tool", ("--", "uvx"))
    assert absolute_entry(other, Finder(Host("linux", {}, tmp_path)), "") == (other, None)


def test_a_node_script_without_node_on_the_path_says_to_install_node(tmp_path: Path) -> None:
    import asyncio

    from supalink.mcp.verify import NODE_MISSING_HINT, verify_entry

    script = tmp_path / "npx"
    script.write_text("#!/usr/bin/env node\nconsole.log('never')\n")
    script.chmod(0o755)
    env = {"PATH": str(tmp_path / "no-node-here"), "HOME": str(tmp_path)}
    report = asyncio.run(
        verify_entry(ServerEntry(str(script), ("-y", "x")), base_env=env, timeout=30)
    )
    assert not report.ok
    assert report.summary.endswith(NODE_MISSING_HINT)
    assert "node" in report.stderr


def test_a_node_scripts_folder_already_on_the_gui_path_is_not_named_twice() -> None:
    from supalink.mcp.launch_env import LINUX_GUI_PATH

    finder = Finder(
        Host("linux", {}, PurePosixPath("/")), is_program=lambda p: str(p) == "/usr/bin/npx"
    )
    rebuilt, _ = absolute_entry(ServerEntry("npx", ("-y", "x")), finder, "/usr/bin")
    assert rebuilt.env["PATH"] == "/usr/bin:" + ":".join(
        part for part in LINUX_GUI_PATH.split(":") if part != "/usr/bin"
    )

"""Zed, VS Code and Copilot's portable format as they are: their files' places, JSONC kept
byte for byte outside the entry, a password VS Code asks for instead of holding it, and the
commands and folders where a password in an entry is shown."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote

import pytest

from supalink.files import parse_json
from supalink.mcp.clients import CLIENTS
from tests.mcp.test_clients import LINUX_HOME, MAC_HOME, WIN_ENV, WIN_HOME, host
from tests.support.claude_code import claude, install_claude_code
from tests.support.cli import run_cli, spawn_cli
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.reference_server import ReferenceServer
from tests.support.tls import TlsFiles

ENCODED = quote(SPECIAL_PASSWORD, safe="")
URI = f"postgresql://supalink_app:{ENCODED}@127.0.0.1:5432/postgres"
# Every form of the password a file could hold: as typed, percent-encoded, JSON-escaped.
FORMS = (SPECIAL_PASSWORD, ENCODED, json.dumps(SPECIAL_PASSWORD, ensure_ascii=False)[1:-1])

ZED_SETTINGS = """\
// Zed settings
//
// For information on how to configure Zed, see the Zed
// documentation: https://zed.dev/docs/configuring-zed
{
  "ui_font_size": 16, // bigger on the laptop
  "theme": {
    "mode": "system",
    "dark": "One Dark",
  },
  /* MCP servers */
  "context_servers": {
    "time": {
      "command": "uvx",
      "args": ["mcp-server-time"], // keep
    },
  },
}
"""

VSCODE_MCP = """\
{
\t// My servers. VS Code reads this file as JSONC.
\t"servers": {
\t\t"memory": {
\t\t\t"type": "stdio",
\t\t\t"command": "npx",
\t\t\t"args": ["-y", "@modelcontextprotocol/server-memory"], /* pinned later */
\t\t},
\t},
\t"inputs": [
\t\t// the GitHub token
\t\t{"type": "promptString", "id": "gh", "description": "GitHub token", "password": true},
\t],
}
"""


def config(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    run = spawn_cli if args[:1] == ("verify",) else run_cli
    return run("config", *args, home=home, env=env, timeout=120, text=True)


def assert_no_password(*texts: str | bytes) -> None:
    for text in texts:
        shown = text.decode() if isinstance(text, bytes) else text
        for form in FORMS:
            assert form not in shown


# ----- where the files are ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "env", "home", "expected"),
    [
        ("linux", {}, LINUX_HOME, PurePosixPath("/home/ada/.config/zed/settings.json")),
        ("linux", {"XDG_CONFIG_HOME": "/x"}, LINUX_HOME, PurePosixPath("/x/zed/settings.json")),
        ("darwin", {}, MAC_HOME, PurePosixPath("/Users/ada/.config/zed/settings.json")),
        (
            "win32",
            WIN_ENV,
            WIN_HOME,
            PureWindowsPath(r"C:\Users\ada\AppData\Roaming\Zed\settings.json"),
        ),
    ],
)
def test_zeds_settings_file(
    platform: str, env: dict[str, str], home: PurePosixPath, expected: object
) -> None:
    assert CLIENTS["zed"].config_path(host(platform, env, home)) == expected


def test_copilots_file_and_the_project_files() -> None:
    copilot = CLIENTS["copilot"]
    assert copilot.config_path(host("linux", {}, LINUX_HOME)) == PurePosixPath(
        "/home/ada/.copilot/mcp-config.json"
    )
    moved = host("linux", {"COPILOT_HOME": "/c"}, LINUX_HOME)
    assert copilot.config_path(moved) == PurePosixPath("/c/mcp-config.json")
    project = PurePosixPath("/src/app")
    assert {client.id: client.workspace_path(project) for client in CLIENTS.values()} == {
        "claude": None,
        "claude-code": project / ".mcp.json",
        "cursor": None,
        "windsurf": None,
        "vscode": project / ".vscode" / "mcp.json",
        "copilot": project / ".mcp.json",
        "zed": project / ".zed" / "settings.json",
    }
    assert {client.id for client in CLIENTS.values() if client.jsonc} == {"vscode", "zed"}


# ----- Zed ----------------------------------------------------------------------------------


def test_zed_write_show_remove_keeps_its_jsonc_byte_for_byte(tmp_path: Path) -> None:
    home, settings = tmp_path / "home", tmp_path / "zed" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(ZED_SETTINGS)
    target = ("--client", "zed", "--config", str(settings))
    written = config("write", *target, "--uri", URI, home=home)
    assert written.returncode == 0, written.stderr
    text = settings.read_text()
    entry = parse_json(text, jsonc=True)["context_servers"]["supabase"]
    # Zed's shape: {command, args, env}, no `type`, no `source`.
    assert set(entry) == {"command", "args", "env"}
    assert entry["args"][-3:] == ["mcp-serve", "--uri-env", "SUPALINK_DATABASE_URI"]
    # Everything before the entry is as it was, and everything after it.
    before = ZED_SETTINGS.removesuffix("  },\n}\n")
    assert text.startswith(before + '    "supabase": {\n')
    assert text.endswith("    },\n  },\n}\n")
    shown = config("show", *target, home=home)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["supabase"]["command"] == entry["command"]
    assert_no_password(shown.stdout, written.stdout)
    removed = config("remove", *target, "--yes", home=home)
    assert removed.returncode == 0, removed.stderr
    assert settings.read_text() == ZED_SETTINGS


def test_an_old_zed_entry_with_source_is_migrated_when_rewritten(tmp_path: Path) -> None:
    home, settings = tmp_path / "home", tmp_path / "settings.json"
    old = ZED_SETTINGS.replace(
        '"time": {',
        '"supabase": {"source": "custom", "command": "old", "args": []}, // by hand\n    "time": {',
    )
    settings.write_text(old)
    written = config(
        "write", "--client", "zed", "--config", str(settings), "--uri", URI, "--yes", home=home
    )
    assert written.returncode == 0, written.stderr
    text = settings.read_text()
    assert "source" not in parse_json(text, jsonc=True)["context_servers"]["supabase"]
    assert "}, // by hand\n" in text
    assert text.replace(text[text.index('"supabase": {') : text.index(", // by hand")], "") == (
        old.replace('"supabase": {"source": "custom", "command": "old", "args": []}', "")
    )


@pytest.mark.slow
def test_a_zed_entry_verifies_as_zed_will_start_it(
    tmp_path: Path, pg: PostgresServer, tls_files: TlsFiles
) -> None:
    home, settings = tmp_path / "home", tmp_path / "settings.json"
    settings.write_text(ZED_SETTINGS)
    target = ("--client", "zed", "--config", str(settings))
    uri = pg.uri(sslmode=None)
    ca = str(tls_files.ca_cert)
    written = config("write", *target, "--uri", uri, "--sslrootcert", ca, home=home)
    assert written.returncode == 0, written.stderr
    verified = config("verify", *target, home=home)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("supabase: ")
    removed = config("remove", *target, "--yes", home=home)
    assert removed.returncode == 0, removed.stderr
    assert settings.read_text() == ZED_SETTINGS


# ----- VS Code ------------------------------------------------------------------------------


def test_vscode_asks_for_the_password_instead_of_holding_it(tmp_path: Path) -> None:
    home, mcp = tmp_path / "home", tmp_path / "Code" / "User" / "mcp.json"
    mcp.parent.mkdir(parents=True)
    mcp.write_text(VSCODE_MCP)
    target = ("--client", "vscode", "--config", str(mcp))
    written = config("write", *target, "--uri", URI, "--template", "postgres-mcp", home=home)
    assert written.returncode == 0, written.stderr
    raw = mcp.read_bytes()
    assert_no_password(raw, written.stdout, written.stderr)
    document = parse_json(raw.decode(), jsonc=True)
    entry = document["servers"]["supabase"]
    assert entry["type"] == "stdio"
    assert entry["env"]["PGPASSWORD"] == "${input:supalink-supabase-password}"
    assert entry["env"]["DATABASE_URI"] == (
        "postgresql://supalink_app@127.0.0.1:5432/postgres?sslmode=verify-full"
    )
    assert document["inputs"] == [
        {"type": "promptString", "id": "gh", "description": "GitHub token", "password": True},
        {
            "type": "promptString",
            "id": "supalink-supabase-password",
            "description": "Database password for the MCP server 'supabase' "
            "(supalink_app@127.0.0.1:5432)",
            "password": True,
        },
    ]
    # The user's comments and trailing commas are all there.
    text = raw.decode()
    for kept in (
        "\t// My servers. VS Code reads this file as JSONC.\n",
        '/server-memory"], /* pinned later */\n\t\t},\n',
        "\t\t// the GitHub token\n",
    ):
        assert kept in text
    assert "note: the file holds no password: VS Code asks for it" in written.stderr
    assert "written into the config file" not in written.stderr
    # Written again: nothing to change, the input is not added twice.
    again = config("write", *target, "--uri", URI, "--template", "postgres-mcp", home=home)
    assert again.returncode == 0, again.stderr
    assert "is already up to date" in again.stdout
    assert mcp.read_bytes() == raw
    # Only VS Code can fill the input in: verify says so rather than failing to log in.
    verified = config("verify", *target, home=home)
    assert (verified.returncode, verified.stderr) == (
        1,
        "supalink config: 'supabase' takes ${input:supalink-supabase-password} from VS Code, "
        "which asks for it when it starts the server: start it there (MCP: List Servers)\n",
    )
    # Removed, its prompt goes with it: the file is as it was, byte for byte.
    removed = config("remove", *target, "--yes", home=home)
    assert removed.returncode == 0, removed.stderr
    assert mcp.read_text() == VSCODE_MCP


def test_a_vscode_workspace_file_is_made_in_the_project(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "app"
    project.mkdir()
    written = config(
        "write",
        "--client",
        "vscode",
        "--workspace",
        str(project),
        "--uri",
        URI,
        "--template",
        "reference",
        home=home,
    )
    assert written.returncode == 0, written.stderr
    mcp = project / ".vscode" / "mcp.json"
    assert f"wrote {mcp}" in written.stdout
    document = json.loads(mcp.read_text())
    assert document["servers"]["supabase"]["env"]["PGPASSWORD"].startswith("${input:")
    assert_no_password(mcp.read_text())
    # Nothing secret is in it, so nothing about version control either.
    assert "project folder" not in written.stderr
    missing = config(
        "write", "--client", "vscode", "--workspace", str(tmp_path / "no"), "--uri", URI, home=home
    )
    assert (missing.returncode, missing.stderr.count("\n")) == (2, 1)
    assert "is not a folder" in missing.stderr


# ----- Copilot's portable format ------------------------------------------------------------


def test_the_portable_format_says_it_cannot_ask_for_a_password(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "app"
    project.mkdir()
    written = config(
        "write",
        "--client",
        "copilot",
        "--workspace",
        str(project),
        "--uri",
        URI,
        "--template",
        "postgres-mcp",
        home=home,
    )
    assert written.returncode == 0, written.stderr
    entry = json.loads((project / ".mcp.json").read_text())["mcpServers"]["supabase"]
    assert entry["type"] == "stdio"
    assert "${input:" not in json.dumps(entry)
    assert (
        "warning: this format cannot ask for the password (Copilot skips entries that use "
        "${input:...}): it is in the file; a saved profile (--profile) with its password in "
        "the keyring keeps it out"
    ) in written.stderr
    assert "warning: the file is in a project folder: keep it out of version control" in (
        written.stderr
    )
    assert_no_password(written.stdout, written.stderr)


def test_claude_code_says_which_of_its_commands_prints_the_password(tmp_path: Path) -> None:
    home, cfg = tmp_path / "home", tmp_path / ".claude.json"
    written = config(
        "write",
        "--client",
        "claude-code",
        "--config",
        str(cfg),
        "--uri",
        URI,
        "--template",
        "postgres-mcp",
        "--server-name",
        "my db",
        "--dry-run",
        home=home,
    )
    assert written.returncode == 0, written.stderr
    assert (
        "warning: `claude mcp get 'my db'` prints this entry with the password in clear"
        in written.stderr
    )
    # Nothing is said where the entry holds no password.
    quiet = config(
        "write", "--client", "vscode", "--config", str(tmp_path / "m.json"), "--uri", URI, home=home
    )
    assert "prints this entry" not in quiet.stderr


# ----- Claude Code itself -------------------------------------------------------------------


@pytest.fixture(scope="module")
def claude_program() -> Path:
    return install_claude_code()


@pytest.mark.slow
def test_claude_code_reads_what_supalink_wrote_and_get_prints_the_password(
    tmp_path: Path, claude_program: Path
) -> None:
    """The note is true: `claude mcp get` prints the entry's Environment as the file holds
    it, `claude mcp list` its command and args only (which never hold the password)."""
    home, project, state = tmp_path / "home", tmp_path / "app", tmp_path / "supalink"
    home.mkdir()
    project.mkdir()
    user = ("--client", "claude-code", "--config", str(home / ".claude.json"))
    written = config("write", *user, "--uri", URI, "--template", "postgres-mcp", home=state)
    assert written.returncode == 0, written.stderr
    assert "`claude mcp get supabase` prints this entry with the password in clear" in (
        written.stderr
    )
    got = claude(claude_program, "mcp", "get", "supabase", home=home, cwd=project)
    assert got.returncode == 0, got.stderr
    assert "Scope: User config" in got.stdout
    assert "Type: stdio" in got.stdout
    assert f"DATABASE_URI=postgresql://supalink_app:{ENCODED}@127.0.0.1" in got.stdout
    listed = claude(claude_program, "mcp", "list", home=home, cwd=project)
    assert listed.returncode == 0, listed.stderr
    assert "supabase: " in listed.stdout
    assert_no_password(listed.stdout)
    # A project's .mcp.json (--workspace), which Claude Code says is shared.
    shared = ("--client", "claude-code", "--workspace", str(project), "--server-name", "proj")
    written = config("write", *shared, "--uri", URI, "--template", "reference", home=state)
    assert written.returncode == 0, written.stderr
    assert "warning: the file is in a project folder" in written.stderr
    got = claude(claude_program, "mcp", "get", "proj", home=home, cwd=project)
    assert got.returncode == 0, got.stderr
    assert "Scope: Project config (shared via .mcp.json)" in got.stdout
    assert "PGPASSWORD=" in got.stdout


@pytest.mark.slow
@pytest.mark.parametrize("template", ["supalink", "reference"])
def test_a_vscode_entry_connects_once_vscode_fills_in_the_password(
    tmp_path: Path,
    pg: PostgresServer,
    tls_files: TlsFiles,
    reference_server: ReferenceServer,
    template: str,
) -> None:
    """What VS Code does at the server's first start, done here: `${input:…}` replaced by
    the password typed. The URI without its password and PGPASSWORD then log in."""
    import asyncio

    from supalink.mcp import ServerEntry, verify_entry

    home, mcp = tmp_path / "home", tmp_path / "mcp.json"
    uri = pg.uri(sslmode=None)
    target = ("--client", "vscode", "--config", str(mcp))
    ca = ("--sslrootcert", str(tls_files.ca_cert))
    written = config("write", *target, "--uri", uri, *ca, "--template", template, home=home)
    assert written.returncode == 0, written.stderr
    assert pg.password not in mcp.read_text()
    entry = ServerEntry.from_json(json.loads(mcp.read_text())["servers"]["supabase"], "entry")
    filled = {
        name: pg.password if value == "${input:supalink-supabase-password}" else value
        for name, value in entry.env.items()
    }
    started = ServerEntry(entry.command, entry.args, filled)
    report = asyncio.run(verify_entry(started, base_env=reference_server.environment(), timeout=60))
    assert report.ok, report.describe()

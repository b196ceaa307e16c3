"""The client's own log of a server, read from planted files as Claude Desktop writes them."""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote

import pytest

from supalink.files import NotAPlainFile
from supalink.logs import MASK, SecretMasker
from supalink.mcp.client_logs import TAIL_BYTES, log_folder, password_forms, server_logs
from supalink.mcp.clients import CLIENTS, Host
from supalink.paths import AppPaths
from supalink.profiles import Profile
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore
from supalink.profiles.settings import SettingsFile
from tests.support.cli import run_cli
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.secret_service import SecretService

CLAUDE = CLIENTS["claude"]


def linux_host(home: Path) -> Host:
    return Host("linux", {}, home)


def plant(home: Path, name: str, text: str) -> Path:
    path = home / ".config" / "Claude" / "logs" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_claude_desktops_log_folder_on_each_os() -> None:
    mac = Host("darwin", {}, PurePosixPath("/Users/ada"))
    windows = Host("win32", {"APPDATA": r"C:\Users\ada\AppData\Roaming"}, PureWindowsPath("C:/"))
    msix = PureWindowsPath(r"C:\L\Packages\Claude_pzs8sxrjxfjjc")
    packaged = Host(
        "win32",
        {"LOCALAPPDATA": r"C:\L"},
        PureWindowsPath("C:/"),
        exists=lambda path: path == msix,
    )
    linux = Host("linux", {"XDG_CONFIG_HOME": "/cfg"}, PurePosixPath("/home/ada"))
    assert log_folder(CLAUDE, mac) == PurePosixPath("/Users/ada/Library/Logs/Claude")
    assert log_folder(CLAUDE, windows) == PureWindowsPath(
        r"C:\Users\ada\AppData\Roaming\Claude\logs"
    )
    assert log_folder(CLAUDE, packaged) == msix / "LocalCache" / "Roaming" / "Claude" / "logs"
    assert log_folder(CLAUDE, linux) == PurePosixPath("/cfg/Claude/logs")
    assert log_folder(CLIENTS["cursor"], linux) is None


def test_the_servers_own_log_and_its_lines_of_the_shared_one_masked(tmp_path: Path) -> None:
    password = "s3cret-Pa55word"
    plant(
        tmp_path,
        "mcp-server-supabase.log",
        "starting\n"
        f"error: connection to postgresql://agent:{password}@db.example.com:5432/postgres failed\n"
        "Server transport closed unexpectedly\n",
    )
    plant(
        tmp_path,
        "mcp.log",
        "2026-12-01T10:00:00.000Z [info] [other] Initializing server...\n"
        "2026-12-01T10:00:01.000Z [info] [supabase] Initializing server...\n"
        "2026-12-01T10:00:02.000Z [error] [supabase] Server disconnected.\n",
    )
    own, shared = server_logs(CLAUDE, linux_host(tmp_path), "supabase", lines=2)
    assert (own.exists, shared.exists) == (True, True)
    assert own.lines == (
        f"error: connection to postgresql://agent:{MASK}@db.example.com:5432/postgres failed",
        "Server transport closed unexpectedly",
    )
    assert shared.lines == (
        "2026-12-01T10:00:01.000Z [info] [supabase] Initializing server...",
        "2026-12-01T10:00:02.000Z [error] [supabase] Server disconnected.",
    )
    assert password not in repr((own, shared))


def test_a_profiles_password_anywhere_in_a_line_is_masked(tmp_path: Path) -> None:
    password = "plain-text-pw-4242"
    plant(tmp_path, "mcp-server-supabase.log", f"PGPASSWORD was {password}\n")
    masker = SecretMasker()
    masker.add_secret(password)
    (own, _) = server_logs(CLAUDE, linux_host(tmp_path), "supabase", masker=masker)
    assert own.lines == (f"PGPASSWORD was {MASK}",)


def test_a_log_that_does_not_exist_yet_is_no_error(tmp_path: Path) -> None:
    own, shared = server_logs(CLAUDE, linux_host(tmp_path), "supabase")
    assert (own.exists, own.lines, shared.exists, shared.lines) == (False, (), False, ())
    assert own.path == tmp_path / ".config" / "Claude" / "logs" / "mcp-server-supabase.log"


def test_only_the_end_of_a_huge_log_is_read_and_no_cut_line_is_shown(tmp_path: Path) -> None:
    line = "x" * 99 + "\n"
    plant(tmp_path, "mcp-server-supabase.log", "first-line\n" + line * (3 * TAIL_BYTES // 100))
    with (tmp_path / ".config/Claude/logs/mcp-server-supabase.log").open("a") as file:
        file.write("the last line\n")
    (own, _) = server_logs(CLAUDE, linux_host(tmp_path), "supabase", lines=3)
    assert own.lines == ("x" * 99, "x" * 99, "the last line")
    (everything, _) = server_logs(CLAUDE, linux_host(tmp_path), "supabase", lines=10**9)
    assert all(len(found) in (99, len("the last line")) for found in everything.lines)
    assert len(everything.lines) < 3 * TAIL_BYTES // 100


def test_a_client_without_a_known_log_has_none(tmp_path: Path) -> None:
    assert server_logs(CLIENTS["vscode"], linux_host(tmp_path), "supabase") == []


SPACED = "two words 'and' \"quotes\""
WHOLE_VALUE_LINES = {
    # What a server or a shell may print, with the password's whole value masked.
    f"env: PGPASSWORD={SPACED}": f"env: PGPASSWORD={MASK}",
    "PGPASSWORD='my secret pass' psql -h db": f"PGPASSWORD='{MASK}' psql -h db",
    'export PGPASSWORD="my secret pass"; next': f'export PGPASSWORD="{MASK}"; next',
    "dsn: host=db password=my secret pass dbname=x": f"dsn: host=db password={MASK}",
    "host=db password='a b c' dbname=x": f"host=db password='{MASK}' dbname=x",
    "PGPASSWORD='unclosed rest": f"PGPASSWORD='{MASK}",
    '{"PGPASSWORD": "a b \\" c", "x": 1}': f'{{"PGPASSWORD": "{MASK}", "x": 1}}',
    "connect ?sslmode=require&password=a b c failed": f"connect ?sslmode=require&password={MASK}",
    "--password=s p a c e": f"--password={MASK}",
    "FATAL:  password authentication failed for user": "FATAL:  password authentication failed "
    "for user",
}


def test_a_password_s_whole_value_is_masked_quoted_or_not_spaces_and_all(tmp_path: Path) -> None:
    plant(tmp_path, "mcp-server-supabase.log", "\n".join(WHOLE_VALUE_LINES) + "\n")
    (own, _) = server_logs(CLAUDE, linux_host(tmp_path), "supabase", lines=100)
    assert own.lines == tuple(WHOLE_VALUE_LINES.values())


def test_the_profiles_own_password_is_masked_raw_percent_encoded_and_json_escaped(
    tmp_path: Path,
) -> None:
    password = SPECIAL_PASSWORD  # p@ss:w/rd%#?& é"'
    encoded = quote(password, safe="")
    lines = [
        f"auth with {password} failed",
        f"postgresql://agent@db/postgres?password={encoded}&x=1 (query form, masked whole)",
        f"uri=postgres://db/postgres?sslmode=require user {quote(password)} tail",
        f'{{"message": "bad password {json.dumps(password)[1:-1]}"}}',
    ]
    plant(tmp_path, "mcp-server-supabase.log", "\n".join(lines) + "\n")
    masker = SecretMasker()
    masker.add_secrets(password_forms(password))
    (own, _) = server_logs(CLAUDE, linux_host(tmp_path), "supabase", masker=masker)
    shown = "\n".join(own.lines)
    for form in (password, encoded, quote(password), json.dumps(password)[1:-1], "w/rd"):
        assert form not in shown
    assert own.lines[0] == f"auth with {MASK} failed"
    assert own.lines[2] == f"uri=postgres://db/postgres?sslmode=require user {MASK} tail"


def test_a_fifo_for_a_log_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / ".config" / "Claude" / "logs"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "mcp-server-supabase.log")
    with pytest.raises(NotAPlainFile):
        server_logs(CLAUDE, linux_host(tmp_path), "supabase")


def test_config_logs_masks_the_saved_profiles_password_from_the_keyring(
    tmp_path: Path, secret_service: SecretService
) -> None:
    from keyring.backends.SecretService import Keyring

    home = tmp_path / "home"
    sl_home = tmp_path / "sl"
    password = "keyring pw with spaces %/é"
    repository = ProfileRepository(
        SettingsFile(AppPaths.under(sl_home).settings_file), KeyringSecretStore(Keyring())
    )
    name = "logs-profile"
    repository.save(Profile(name, host="127.0.0.1", user="u"), password, save_password=True)
    config = tmp_path / "claude_desktop_config.json"
    entry = {"command": "/opt/supalink", "args": ["mcp-serve", "--profile", name]}
    config.write_text(json.dumps({"mcpServers": {"supabase": entry}}))
    plant(
        home,
        "mcp-server-supabase.log",
        f"error: {password}\nuri ?user=u&pw={quote(password, safe='')}\nfine\n",
    )
    env = {key: value for key, value in os.environ.items() if key != "XDG_CONFIG_HOME"}
    argv = ["config", "logs", "--client", "claude", "--config", str(config)]
    shown = run_cli(*argv, home=sl_home, environ={**env, "HOME": str(home)}, text=True)
    assert (shown.returncode, shown.stderr) == (0, "")
    assert shown.stdout.splitlines()[1:4] == [f"error: {MASK}", f"uri ?user=u&pw={MASK}", "fine"]

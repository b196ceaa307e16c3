"""The client's own log of a server, read from planted files as Claude Desktop writes them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from supalink.logs import MASK, SecretMasker
from supalink.mcp.client_logs import TAIL_BYTES, log_folder, server_logs
from supalink.mcp.clients import CLIENTS, Host

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

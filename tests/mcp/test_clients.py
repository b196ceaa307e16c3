"""Where each client keeps its config, computed for every OS from an injected host."""

from __future__ import annotations

from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

import pytest

from supalink.errors import UsageError
from supalink.mcp.clients import CLIENTS, Host, get_client

MAC_HOME = PurePosixPath("/Users/ada")
LINUX_HOME = PurePosixPath("/home/ada")
WIN_HOME = PureWindowsPath(r"C:\Users\ada")
WIN_ENV = {
    "APPDATA": r"C:\Users\ada\AppData\Roaming",
    "LOCALAPPDATA": r"C:\Users\ada\AppData\Local",
}
MSIX = PureWindowsPath(r"C:\Users\ada\AppData\Local\Packages\Claude_pzs8sxrjxfjjc")


def host(platform: str, env: dict[str, str], home: PurePath, *existing: PurePath) -> Host:
    def folders(path: PurePath) -> list[str]:
        return [found.name for found in existing if found.parent == path]

    return Host(platform, env, home, exists=lambda path: path in existing, folders=folders)


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("claude", "/Users/ada/Library/Application Support/Claude/claude_desktop_config.json"),
        ("claude-code", "/Users/ada/.claude.json"),
        ("cursor", "/Users/ada/.cursor/mcp.json"),
        ("windsurf", "/Users/ada/.codeium/windsurf/mcp_config.json"),
        ("vscode", "/Users/ada/Library/Application Support/Code/User/mcp.json"),
    ],
)
def test_macos_paths(client: str, expected: str) -> None:
    path = CLIENTS[client].config_path(host("darwin", {}, MAC_HOME))
    assert path == PurePosixPath(expected)


@pytest.mark.parametrize(
    ("client", "env", "expected"),
    [
        ("claude", {}, "/home/ada/.config/Claude/claude_desktop_config.json"),
        ("claude", {"XDG_CONFIG_HOME": "/xdg"}, "/xdg/Claude/claude_desktop_config.json"),
        # A relative XDG_CONFIG_HOME is invalid by the spec and ignored.
        (
            "claude",
            {"XDG_CONFIG_HOME": "rel"},
            "/home/ada/.config/Claude/claude_desktop_config.json",
        ),
        ("vscode", {}, "/home/ada/.config/Code/User/mcp.json"),
        ("vscode", {"XDG_CONFIG_HOME": "/xdg"}, "/xdg/Code/User/mcp.json"),
        ("claude-code", {}, "/home/ada/.claude.json"),
        ("cursor", {}, "/home/ada/.cursor/mcp.json"),
        ("windsurf", {}, "/home/ada/.codeium/windsurf/mcp_config.json"),
    ],
)
def test_linux_paths(client: str, env: dict[str, str], expected: str) -> None:
    assert CLIENTS[client].config_path(host("linux", env, LINUX_HOME)) == PurePosixPath(expected)


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("claude", r"C:\Users\ada\AppData\Roaming\Claude\claude_desktop_config.json"),
        ("vscode", r"C:\Users\ada\AppData\Roaming\Code\User\mcp.json"),
        ("claude-code", r"C:\Users\ada\.claude.json"),
        ("cursor", r"C:\Users\ada\.cursor\mcp.json"),
        ("windsurf", r"C:\Users\ada\.codeium\windsurf\mcp_config.json"),
    ],
)
def test_windows_paths(client: str, expected: str) -> None:
    path = CLIENTS[client].config_path(host("win32", WIN_ENV, WIN_HOME))
    assert path == PureWindowsPath(expected)
    assert isinstance(path, PureWindowsPath)


def test_windows_msix_install_uses_its_redirected_folder() -> None:
    path = CLIENTS["claude"].config_path(host("win32", WIN_ENV, WIN_HOME, MSIX))
    assert path == MSIX / "LocalCache" / "Roaming" / "Claude" / "claude_desktop_config.json"


def test_windows_msix_install_under_another_publisher_id_is_found_by_its_prefix() -> None:
    packages = MSIX.parent
    other = packages / "Claude_1a2b3c4d5e6f7"
    found = host("win32", WIN_ENV, WIN_HOME, packages / "ClaudeHelper", other, packages / "Zoom_1")
    path = CLIENTS["claude"].config_path(found)
    assert path == other / "LocalCache" / "Roaming" / "Claude" / "claude_desktop_config.json"


def test_windows_msix_prefers_the_known_package_over_others() -> None:
    others = (MSIX.parent / "Claude_0000", MSIX.parent / "Claude_zzzz")
    path = CLIENTS["claude"].config_path(host("win32", WIN_ENV, WIN_HOME, *others, MSIX))
    assert path.parent.parent.parent.parent == MSIX


def test_the_real_lister_names_folders_only_and_none_of_a_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "Claude_1a2b").mkdir()
    (tmp_path / "Claude_file").write_text("not a package")
    assert Host.current().folders(PurePath(tmp_path)) == ["Claude_1a2b"]
    assert Host.current().folders(PurePath(tmp_path / "missing")) == []


def test_windows_without_appdata_variables_falls_back_to_the_profile_folders() -> None:
    path = CLIENTS["claude"].config_path(host("win32", {}, WIN_HOME))
    assert path == WIN_HOME / "AppData" / "Roaming" / "Claude" / "claude_desktop_config.json"


def test_root_keys_and_entry_types() -> None:
    shapes = {c.id: (c.root_key, c.entry_type) for c in CLIENTS.values()}
    assert shapes == {
        "claude": ("mcpServers", None),
        "claude-code": ("mcpServers", "stdio"),
        "cursor": ("mcpServers", None),
        "windsurf": ("mcpServers", None),
        "vscode": ("servers", "stdio"),
        "copilot": ("mcpServers", "stdio"),
        "zed": ("context_servers", None),
    }


def test_the_current_host_is_this_machine(tmp_path: Path) -> None:
    current = Host.current()
    assert current.home == Path.home()
    assert current.exists(PurePosixPath(tmp_path))
    assert not current.exists(PurePosixPath(tmp_path / "absent"))


def test_unknown_client_is_bad_input() -> None:
    with pytest.raises(UsageError, match="unknown MCP client 'vim' \\(known: claude, claude-code"):
        get_client("vim")
    assert get_client("cursor").name == "Cursor"

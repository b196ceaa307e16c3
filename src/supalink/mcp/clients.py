"""The MCP clients whose config files Supalink edits, and where each keeps its file.

Paths are computed from a `Host` (platform name, environment, home folder) that
callers pass in, so every OS's paths are computed and tested on any OS.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from supalink.errors import UsageError

# Claude Desktop's MSIX package family name (Claude_<publisher id>); its files live under
# LocalCache. Another publisher id (a test build, a re-signed package) is found by its prefix.
CLAUDE_MSIX_FAMILY = "Claude_pzs8sxrjxfjjc"
CLAUDE_MSIX_PREFIX = "Claude_"
# VS Code's list of prompted values at its file's root, beside `servers`.
INPUTS_KEY = "inputs"


def _path_exists(path: PurePath) -> bool:
    return Path(path).exists()


def _folder_names(path: PurePath) -> list[str]:
    """The names of the folders in `path`; none when it cannot be listed."""
    try:
        return [entry.name for entry in os.scandir(path) if entry.is_dir()]
    except OSError:
        return []


@dataclass(frozen=True)
class Host:
    """The facts about the machine that decide where a client keeps its config."""

    platform: str  # sys.platform: "linux", "darwin", "win32"
    environ: Mapping[str, str]
    home: PurePath
    exists: Callable[[PurePath], bool] = field(default=_path_exists, compare=False)
    folders: Callable[[PurePath], list[str]] = field(default=_folder_names, compare=False)

    @classmethod
    def current(cls) -> Host:
        return cls(sys.platform, dict(os.environ), Path.home())

    @property
    def is_windows(self) -> bool:
        return self.platform == "win32"

    @property
    def is_macos(self) -> bool:
        return self.platform == "darwin"

    def path(self, text: str) -> PurePath:
        return PureWindowsPath(text) if self.is_windows else PurePosixPath(text)

    def under_home(self, *parts: str) -> PurePath:
        return self.path(str(self.home)).joinpath(*parts)

    def xdg_config_home(self) -> PurePath:
        value = self.environ.get("XDG_CONFIG_HOME", "")
        # The XDG spec says a relative value is invalid and must be ignored.
        if value and self.path(value).is_absolute():
            return self.path(value)
        return self.under_home(".config")

    def appdata(self) -> PurePath:
        value = self.environ.get("APPDATA")
        return self.path(value) if value else self.under_home("AppData", "Roaming")

    def local_appdata(self) -> PurePath:
        value = self.environ.get("LOCALAPPDATA")
        return self.path(value) if value else self.under_home("AppData", "Local")

    def application_support(self) -> PurePath:
        return self.under_home("Library", "Application Support")


@dataclass(frozen=True)
class McpClient:
    """One MCP client: its config file(s), the key its servers live under, its processes."""

    id: str
    name: str
    root_key: str
    locate: Callable[[Host], PurePath]
    # Some clients require `"type": "stdio"` in every server entry.
    entry_type: str | None = None
    # Executable names (basename of argv[0] or the process name) when the client runs.
    process_names: tuple[str, ...] = ()
    # The client reads its file as JSONC (comments, trailing commas): VS Code, Zed. A strict
    # client's file with a comment is refused, as the client itself would fail on it.
    jsonc: bool = False
    # The file in a project folder that the client also reads (`--workspace DIR`).
    workspace_file: tuple[str, ...] = ()
    # VS Code: a password goes in an `inputs` promptString (`password: true`), which VS Code
    # asks for once and keeps in its secret storage; the entry names it `${input:id}`.
    secret_inputs: bool = False
    # Copilot's portable format: sessions skip an entry that names `${input:...}`, so a
    # password cannot be kept out of this file.
    skips_inputs: bool = False
    # Commands of the client that print an entry's env and args as the file holds them
    # (`{name}`: the entry's name): where a password in the entry is shown in clear.
    shows_entry: tuple[str, ...] = ()

    def config_path(self, host: Host) -> PurePath:
        return self.locate(host)

    def workspace_path(self, folder: PurePath) -> PurePath | None:
        """The client's file in the project `folder`; None when it reads none there."""
        return folder.joinpath(*self.workspace_file) if self.workspace_file else None


def _claude_desktop(host: Host) -> PurePath:
    name = "claude_desktop_config.json"
    if host.is_macos:
        return host.application_support() / "Claude" / name
    if host.is_windows:
        # An MSIX install (the default since February 2026) redirects the app's %APPDATA%
        # into its package folder, so once the package is installed that file is the one
        # it reads, even before it has written it.
        msix = claude_package(host)
        if msix is not None:
            return msix / "LocalCache" / "Roaming" / "Claude" / name
        return host.appdata() / "Claude" / name
    return host.xdg_config_home() / "Claude" / name


def claude_package(host: Host) -> PurePath | None:
    """Claude Desktop's MSIX package folder: the known family first, else the one Claude_*
    folder there is (sorted, so the same one every time when there are several)."""
    packages = host.local_appdata() / "Packages"
    if host.exists(packages / CLAUDE_MSIX_FAMILY):
        return packages / CLAUDE_MSIX_FAMILY
    found = sorted(name for name in host.folders(packages) if name.startswith(CLAUDE_MSIX_PREFIX))
    return packages / found[0] if found else None


def _vscode(host: Host) -> PurePath:
    if host.is_macos:
        return host.application_support() / "Code" / "User" / "mcp.json"
    if host.is_windows:
        return host.appdata() / "Code" / "User" / "mcp.json"
    return host.xdg_config_home() / "Code" / "User" / "mcp.json"


def _zed(host: Host) -> PurePath:
    # Zed keeps ~/.config/zed on macOS too (not Application Support), and honours
    # XDG_CONFIG_HOME on Linux; on Windows its folder is %APPDATA%\Zed.
    if host.is_windows:
        return host.appdata() / "Zed" / "settings.json"
    if host.is_macos:
        return host.under_home(".config", "zed", "settings.json")
    return host.xdg_config_home() / "zed" / "settings.json"


def _copilot(host: Host) -> PurePath:
    # $COPILOT_HOME when set, else ~/.copilot (VS Code's MCP configuration reference).
    value = host.environ.get("COPILOT_HOME", "")
    folder = host.path(value) if value and host.path(value).is_absolute() else None
    return (folder or host.under_home(".copilot")) / "mcp-config.json"


CLIENTS: dict[str, McpClient] = {
    client.id: client
    for client in (
        McpClient(
            "claude",
            "Claude Desktop",
            "mcpServers",
            _claude_desktop,
            process_names=("Claude", "claude-desktop", "Claude.exe", "claude.exe"),
        ),
        McpClient(
            "claude-code",
            "Claude Code",
            "mcpServers",
            lambda host: host.under_home(".claude.json"),
            entry_type="stdio",
            process_names=("claude",),
            workspace_file=(".mcp.json",),
            # `claude mcp get` prints the entry's args and Environment as they are.
            shows_entry=("claude mcp get {name}",),
        ),
        McpClient(
            "cursor",
            "Cursor",
            "mcpServers",
            lambda host: host.under_home(".cursor", "mcp.json"),
            process_names=("cursor", "Cursor", "Cursor.exe"),
        ),
        McpClient(
            "windsurf",
            "Windsurf",
            "mcpServers",
            lambda host: host.under_home(".codeium", "windsurf", "mcp_config.json"),
            process_names=("windsurf", "Windsurf", "Windsurf.exe"),
        ),
        McpClient(
            "vscode",
            "VS Code",
            "servers",
            _vscode,
            entry_type="stdio",
            process_names=("code", "Code", "Code.exe"),
            jsonc=True,
            workspace_file=(".vscode", "mcp.json"),
            secret_inputs=True,
        ),
        McpClient(
            "copilot",
            "Copilot (portable format)",
            "mcpServers",
            _copilot,
            entry_type="stdio",
            process_names=("copilot",),
            workspace_file=(".mcp.json",),
            skips_inputs=True,
        ),
        McpClient(
            "zed",
            "Zed",
            "context_servers",
            _zed,
            process_names=("zed", "zed-editor", "Zed", "zed.exe", "Zed.exe"),
            jsonc=True,
            workspace_file=(".zed", "settings.json"),
        ),
    )
}


def get_client(client_id: str) -> McpClient:
    try:
        return CLIENTS[client_id]
    except KeyError:
        known = ", ".join(CLIENTS)
        raise UsageError(f"unknown MCP client {client_id!r} (known: {known})") from None

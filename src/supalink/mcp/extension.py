"""A Claude Desktop Extension (`.mcpb`): a zip with a `manifest.json` (manifest 0.3, the
schema in anthropics/mcpb `src/schemas/0.3.ts`) that starts Supalink's own read-only server
for a saved profile, whose name is the extension's only setting (`user_config.profile`).

The server type is `binary`, pointing at the installed Supalink rather than at a copy in the
bundle: the bundle stays a few kB, the server is the very program that saved the profile (a
macOS Keychain entry's access list names the program that made it), and nothing needs Node
or a Python of the system. `uv` (manifest 0.4) is experimental and would install a
second Supalink from a package index at install time. The cost: the bundle is only as good as
the path it names, so a bundle for this machine names this install, and the release bundle
names where each OS's package installs the app.

Nothing secret goes in: the password stays in the profile's keyring entry, where the server
reads it, so no `user_config` field is `sensitive`.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from supalink import __version__
from supalink.errors import SupalinkError, file_faults
from supalink.files import atomic_write_bytes
from supalink.mcp.templates import SERVE_COMMAND, home_override, supalink_command
from supalink.paths import resources_dir
from supalink.sentences import extension_needs_keyring

MANIFEST_VERSION: Final = "0.3"
PROFILE_KEY: Final = "profile"
PROFILE_ARGUMENT: Final = "${user_config." + PROFILE_KEY + "}"
ICON: Final = "icon.png"
# Our own key under the manifest's `_meta` (reverse-DNS, as the spec asks): the manifest's
# `tools` entries may hold a name and a description only, so the titles and annotations
# that the server's tools/list carries are repeated here for a reader of the bundle.
META_KEY: Final = "io.github.supalink"
# Where each OS's package puts the frozen app (packaging/*.md). The host replaces ${HOME}.
# The Windows command names its .exe, as the spec's own platform_overrides example does
# (hosts add .exe to a binary's command only where it has none).
RELEASE_PROGRAMS: Final = {
    "darwin": "/Applications/Supalink.app/Contents/MacOS/supalink",
    "win32": "${HOME}\\AppData\\Local\\Programs\\Supalink\\supalink-cli.exe",
    "linux": "/opt/supalink/supalink",
}
PLATFORMS: Final = tuple(RELEASE_PROGRAMS)
# A zip's entries carry a date: a fixed one makes the same manifest the same bytes.
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)


class ExtensionNeedsKeyring(SupalinkError):
    def __init__(self, profile: str) -> None:
        super().__init__(extension_needs_keyring(profile))
        self.profile = profile


class ListedTool(Protocol):
    """A tool as the server's tools/list gives it (agent's ToolSpec): the manifest lists
    what the server will."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def annotations(self) -> Mapping[str, bool]: ...


def extension_file_name(profile: str | None) -> str:
    """`Supalink-NAME.mcpb` for a profile (characters a file name cannot hold on some OS
    become `-`), `supalink.mcpb` for the release bundle."""
    if profile is None:
        return "supalink.mcpb"
    return f"Supalink-{_slug(profile)}.mcpb"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "profile"


def extension_manifest(
    tools: Sequence[ListedTool],
    *,
    profile: str | None = None,
    release: bool = False,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The manifest of a bundle that runs `supalink mcp-serve --profile <the setting>`,
    read-only (no setting allows writes): `tools` are the tools it lists then.

    `profile`: the setting's default, and the extension's name, so that each profile's
    extension installs beside the others (None: the person names it at install). `release`:
    the command is where each OS's package installs Supalink; otherwise this install's
    program, by absolute path, for this OS only."""
    prefix: tuple[str, ...] = ()
    if release:
        command = RELEASE_PROGRAMS["linux"]
        env: dict[str, str] = {}
        platforms = list(PLATFORMS)
    else:
        command, prefix = supalink_command()
        # A portable install's settings folder: the server must read the same profiles.
        env = home_override(environ)
        platforms = [_platform()]
    config: dict[str, Any] = {
        "command": command,
        "args": [*prefix, SERVE_COMMAND, "--profile", PROFILE_ARGUMENT],
    }
    if env:
        config["env"] = env
    if release:
        config["platform_overrides"] = {
            name: {"command": program} for name, program in RELEASE_PROGRAMS.items()
        }
    setting: dict[str, Any] = {
        "type": "string",
        "title": "Supalink profile",
        "description": "The name of a profile saved in Supalink, with its password in the "
        "keyring (the app's profile list shows them). The server reads the password there.",
        "required": True,
    }
    if profile is not None:
        # Not required then: the reference host (@anthropic-ai/mcpb's getMcpConfigForManifest)
        # skips a server whose required setting is missing from what the person saved, even
        # when it has a default; an optional one falls back to the default.
        setting.update(required=False, default=profile)
    name = "supalink" if profile is None else f"supalink-{_slug(profile).lower()}"
    shown = "Supalink" if profile is None else f"Supalink ({profile})"
    return {
        "manifest_version": MANIFEST_VERSION,
        "name": name,
        "display_name": shown,
        "version": __version__,
        "description": "Read-only SQL for an AI agent on a Supabase Postgres database, "
        "through a profile saved in Supalink.",
        "long_description": "Starts Supalink's own MCP server for one saved profile. Each "
        "call runs in a read-only transaction that is rolled back, and the database itself "
        "refuses writes. The password never leaves the OS keyring: Supalink reads it there "
        "when Claude starts the server.",
        "author": {"name": "Supalink developers"},
        "icon": ICON,
        "license": "MIT",
        "keywords": ["supabase", "postgres", "sql", "read-only"],
        "server": {"type": "binary", "entry_point": command, "mcp_config": config},
        "tools": [{"name": tool.name, "description": tool.description} for tool in tools],
        "tools_generated": False,
        "compatibility": {"platforms": platforms},
        "user_config": {PROFILE_KEY: setting},
        "_meta": {
            META_KEY: {
                "tools": [
                    {"name": tool.name, "title": tool.title, "annotations": dict(tool.annotations)}
                    for tool in tools
                ]
            }
        },
    }


def _platform() -> str:
    """This OS as the manifest names it (Node's `process.platform`)."""
    if sys.platform.startswith("linux"):
        return "linux"
    return sys.platform


def extension_bundle(manifest_data: Mapping[str, Any]) -> bytes:
    """The `.mcpb` bytes: the manifest and the icon, in a fixed order with fixed dates, so
    the same manifest always gives the same file."""
    icon = (
        resources_dir() / "icons" / "hicolor" / "512x512" / "apps" / "supalink.png"
    ).read_bytes()
    members = {
        "manifest.json": (json.dumps(manifest_data, indent=2, ensure_ascii=False) + "\n").encode(),
        ICON: icon,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, so the mode above is read
            archive.writestr(info, members[name])
    return buffer.getvalue()


def write_extension(path: Path, data: bytes) -> Path:
    """Write the bundle atomically, readable by all (it holds no secret: Claude Desktop
    copies it); FileFault names the file and the cause."""
    with file_faults("write", path):
        # A file where a folder of the path should be: said as such, not as the "file
        # exists" that creating the missing folders would answer.
        for folder in path.parents:
            if folder.exists():
                if not folder.is_dir():
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path))
                break
        return atomic_write_bytes(path, data, mode=0o644)

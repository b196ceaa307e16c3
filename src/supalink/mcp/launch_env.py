"""What a desktop MCP client gives the servers it starts, and where their commands are.

Claude Desktop is a GUI app: on macOS launchd starts it with `PATH=/usr/bin:/bin:/usr/sbin:
/sbin` and no shell profile, so nothing nvm, fnm, mise, asdf, Volta or Homebrew put on a
terminal's PATH is there (`spawn npx ENOENT` is the most reported failure of its MCP users).
A Linux desktop session starts apps with the system's PATH and the session's D-Bus; Windows
gives GUI apps the user's and the system's PATH from the registry, as a new terminal has.

`client_environment` is that environment (a documented minimal set, the entry's `env` goes
on top), for verifying an entry as the client will start it. `Finder` looks for a
command as a person's shell would have found it (PATH, then the usual Node and uv folders),
so the entry can name it by an absolute path the client finds whatever its PATH.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Final

from supalink.mcp.clients import Host
from supalink.mcp.templates import LAUNCH_COMMAND, REFERENCE_BINARY, ServerEntry

MACOS_GUI_PATH: Final = "/usr/bin:/bin:/usr/sbin:/sbin"
LINUX_GUI_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Passed through from the caller where it has them: who and where the user is, the language,
# and on Linux the desktop session's bus and runtime folder (the keyring answers there).
_KEPT: Final[tuple[str, ...]] = ("HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TMPDIR")
_KEPT_LINUX: Final[tuple[str, ...]] = ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")
_KEPT_WINDOWS: Final[tuple[str, ...]] = (
    "PATH",
    "PATHEXT",
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "USERPROFILE",
    "USERNAME",
    "APPDATA",
    "LOCALAPPDATA",
    "PROGRAMDATA",
    "PROGRAMFILES",
    "TEMP",
    "TMP",
)


def gui_path(host: Host) -> str:
    """The PATH a GUI app gets on macOS or Linux (Windows': the registry's, the caller's)."""
    return MACOS_GUI_PATH if host.is_macos else LINUX_GUI_PATH


def client_environment(
    host: Host, caller: Mapping[str, str], entry_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a desktop client starts a server with, on `host`, for a user whose
    own environment is `caller`; the entry's `env` on top, as clients do."""
    if host.is_windows:
        upper = {key.upper(): value for key, value in caller.items()}
        env = {key: upper[key] for key in _KEPT_WINDOWS if key in upper}
    else:
        env = {key: caller[key] for key in _KEPT if key in caller}
        env["PATH"] = gui_path(host)
        if not host.is_macos:
            env.update({key: caller[key] for key in _KEPT_LINUX if key in caller})
    env.update(entry_env or {})
    return env


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name))


def _is_program(path: PurePath) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def _read_text(path: PurePath) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class Finder:
    """Where to look on `host` (whose `folders` lists a folder); `is_program` and `read_text`
    stand in for the rest of the file system."""

    host: Host
    is_program: Callable[[PurePath], bool] = field(default=_is_program)
    read_text: Callable[[PurePath], str | None] = field(default=_read_text)

    def usual_folders(self) -> Iterator[PurePath]:
        """Where Node.js and uv installers put their commands, beyond the system's PATH."""
        host = self.host
        home = host.under_home
        if host.is_windows:
            yield host.appdata() / "npm"
            yield host.local_appdata() / "Volta" / "bin"
            yield home(".local", "bin")
            yield home(".cargo", "bin")
            yield host.path(host.environ.get("PROGRAMFILES", r"C:\Program Files")) / "nodejs"
            return
        yield home(".local", "bin")  # uv, pipx
        yield home(".cargo", "bin")  # uv's older default
        yield home(".volta", "bin")
        nvm = self._nvm_default()
        if nvm is not None:
            yield nvm
        data = host.application_support() if host.is_macos else self._xdg_data_home()
        yield data / "fnm" / "aliases" / "default" / "bin"
        yield home(".fnm", "aliases", "default", "bin")
        yield self._xdg_data_home() / "mise" / "shims"
        yield home(".asdf", "shims")
        yield host.path("/opt/homebrew/bin")
        yield host.path("/usr/local/bin")

    def _xdg_data_home(self) -> PurePath:
        value = self.host.environ.get("XDG_DATA_HOME", "")
        if value and self.host.path(value).is_absolute():
            return self.host.path(value)
        return self.host.under_home(".local", "share")

    def _nvm_default(self) -> PurePath | None:
        """nvm's default version's bin folder: `~/.nvm/alias/default` names a version (or
        an alias such as `lts/*` or `node`, which is left to nvm: too many forms)."""
        configured = self.host.environ.get("NVM_DIR", "")
        root = self.host.path(configured) if configured else self.host.under_home(".nvm")
        alias = self.read_text(root / "alias" / "default")
        if alias is None:
            return None
        version = alias.strip()
        if not re.fullmatch(r"v?\d+(\.\d+){0,2}", version):
            return None
        version = version if version.startswith("v") else f"v{version}"
        versions = root / "versions" / "node"
        if version.count(".") == 2:
            return versions / version / "bin"
        # "20" or "20.11": the newest installed version that starts so
        names = self.host.folders(versions)
        matching = [name for name in names if name == version or name.startswith(version + ".")]
        if not matching:
            return None
        return versions / max(matching, key=_version_key) / "bin"

    def find(self, command: str, path_env: str | None = None) -> PurePath | None:
        """`command` as the user's shell finds it: on `path_env` (the caller's PATH), then in
        the usual folders. The path where it was found, not resolved through symlinks."""
        if self.host.path(command).is_absolute():
            return self.host.path(command) if self.is_program(self.host.path(command)) else None
        separator = ";" if self.host.is_windows else ":"
        searched = [self.host.path(part) for part in (path_env or "").split(separator) if part]
        searched += list(self.usual_folders())
        names = [command]
        if self.host.is_windows and not PurePath(command).suffix:
            names = [command + suffix for suffix in (".exe", ".cmd", ".bat")] + names
        for folder in searched:
            for name in names:
                candidate = folder / name
                if self.is_program(candidate):
                    return candidate
        return None


# Commands that are Node.js scripts (`#!/usr/bin/env node`): found by an absolute path, they
# still need `node` on the PATH the client gives them; their folder holds it (nvm, fnm,
# Volta, mise, Homebrew put node beside npx).
NODE_COMMANDS: Final = ("npx", REFERENCE_BINARY)
LAUNCHED_AFTER: Final = "--"  # the keyring launcher's own arguments end here


@dataclass(frozen=True)
class CommandFound:
    """What `absolute_entry` looked for and where it found it (None: nowhere)."""

    name: str
    found: PurePath | None
    node: bool  # a Node.js script: the client must also find `node`


def absolute_entry(
    entry: ServerEntry, finder: Finder, path_env: str | None
) -> tuple[ServerEntry, CommandFound | None]:
    """The entry with its server's command as an absolute path, found as the user's shell
    finds it; for the keyring launcher, the command it starts. A Node.js script's folder
    goes first on the PATH in the entry's env. On Windows `npx` runs as `cmd /c npx`: Node
    18.20.2 and later refuse to spawn a `.cmd` directly. None when nothing was to be found
    (an absolute command already, as Supalink's own server is)."""
    host = finder.host
    args = list(entry.args)
    launched = _launched_index(entry)
    name = launched_command(entry)
    if host.path(name).is_absolute():
        return entry, None
    found = finder.find(name, path_env)
    bare = host.path(name).stem if host.is_windows else name
    node = bare in NODE_COMMANDS
    command: list[str] = [str(found) if found is not None else name]
    if host.is_windows and bare == "npx":
        command = ["cmd", "/c", *command]
    env = dict(entry.env)
    if found is not None and node and not host.is_windows:
        base = gui_path(host).split(":")
        folder = str(found.parent)
        env["PATH"] = ":".join([folder, *(part for part in base if part != folder)])
    if launched is None:
        rebuilt = ServerEntry(command[0], (*command[1:], *args), env)
    else:
        rebuilt = ServerEntry(
            entry.command, (*args[:launched], *command, *args[launched + 1 :]), env
        )
    return rebuilt, CommandFound(name, found, node)


def _launched_index(entry: ServerEntry) -> int | None:
    """Where the keyring launcher's server command is in the entry's args, if it is one."""
    args = entry.args
    if LAUNCHED_AFTER not in args:
        return None
    after = args.index(LAUNCHED_AFTER)
    if LAUNCH_COMMAND not in args[:after] or after + 1 >= len(args):
        return None
    return after + 1


def launched_command(entry: ServerEntry) -> str:
    """The command that starts the server: the entry's own, or for the keyring launcher the
    one it starts."""
    index = _launched_index(entry)
    return entry.command if index is None else entry.args[index]


def uses_built_in_node(config: Mapping[str, object] | None) -> bool:
    """Claude Desktop's `isUsingBuiltInNodeForMcp` at the file's root: its own Node.js then
    starts `npx` and the like, and sees no globally installed packages."""
    return bool(config and config.get("isUsingBuiltInNodeForMcp") is True)

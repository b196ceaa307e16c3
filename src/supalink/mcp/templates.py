"""The server entries Supalink writes for Postgres MCP servers.

Each template is a shape that `supalink config verify` has proven against a
verify-full server. The reference server (node-postgres) ignores PGSSLROOTCERT
and rejects `--connection-string`, so the CA always travels in the URI's query
string, where node-postgres and libpq both read it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from supalink.errors import SupalinkError, UsageError
from supalink.paths import HOME_OVERRIDE_ENV
from supalink.profiles import defaults

REFERENCE_PACKAGE: Final = "@modelcontextprotocol/server-postgres"  # unpinned: clients get fixes
REFERENCE_BINARY: Final = "mcp-server-postgres"
TEMPLATES: Final = ("reference", "postgres-mcp", "guide")
# Not a server of its own: Supalink's launcher in front of one of TEMPLATES.
KEYRING_TEMPLATE: Final = "keyring"
DEFAULT_TEMPLATE: Final = "reference"
# The entry's name in the client's file, unless the person gives another.
DEFAULT_SERVER_NAME: Final = "supabase"


@dataclass(frozen=True)
class ServerEntry:
    """What a client runs: a command, its arguments and extra environment."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def as_json(self, entry_type: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"type": entry_type} if entry_type else {}
        data["command"] = self.command
        data["args"] = list(self.args)
        if self.env:
            data["env"] = dict(self.env)
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> ServerEntry:
        """Read an entry as a client would, or say why it cannot be started over stdio."""
        if not isinstance(data, dict):
            raise SupalinkError(f"{where} is not an object")
        kind = data.get("type", "stdio")
        if kind != "stdio" or "url" in data:
            raise SupalinkError(f"{where} is a {kind!r} server, not one started over stdio")
        command, args, env = data.get("command"), data.get("args", []), data.get("env", {})
        if not isinstance(command, str) or not command:
            raise SupalinkError(f"{where} has no command")
        if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
            raise SupalinkError(f"{where}: args must be a list of strings")
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise SupalinkError(f"{where}: env must map names to strings")
        return cls(command, tuple(args), dict(env))


def entry_secrets(entry: ServerEntry) -> list[str]:
    """Passwords an entry carries in URIs or secret-named variables, for masking."""
    found: list[str] = []
    values = [*entry.args, *entry.env.values()]
    for value in values:
        if "://" in value:
            try:
                password = urlsplit(value).password
            except ValueError:
                continue
            if password:
                found += [password, unquote(password)]
    for name, value in entry.env.items():
        if any(word in name.upper() for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
            found.append(value)
    return found


@dataclass(frozen=True)
class ServerSpec:
    """How a server is started, less its URI: where the URI goes, and extra environment."""

    command: str
    args: tuple[str, ...]
    uri_env: str | None = None  # None: the URI is the last argument
    env: Mapping[str, str] = field(default_factory=dict)

    def with_uri(self, uri: str) -> ServerEntry:
        if self.uri_env is None:
            return ServerEntry(self.command, (*self.args, uri), dict(self.env))
        return ServerEntry(self.command, self.args, {**self.env, self.uri_env: uri})


def server_spec(template: str, sslmode: str = defaults.SSLMODE) -> ServerSpec:
    if template == "reference":
        return ServerSpec("npx", ("-y", REFERENCE_PACKAGE))
    if template == "postgres-mcp":
        return ServerSpec("uvx", ("postgres-mcp", "--access-mode=restricted"), "DATABASE_URI")
    if template == "guide":
        # The guide's shape, corrected: the URI is the first argument (the server takes no
        # --connection-string), and the CA is in the URI (PGSSLROOTCERT is ignored).
        env = {
            "PGSSLMODE": sslmode,
            "PGCONNECT_TIMEOUT": str(defaults.CONNECT_TIMEOUT_SECONDS),
            "PGAPPNAME": defaults.APPLICATION_NAME,
        }
        return ServerSpec(REFERENCE_BINARY, (), None, env)
    known = ", ".join((KEYRING_TEMPLATE, *TEMPLATES))
    raise UsageError(f"unknown template {template!r} (known: {known})")


def build_entry(template: str, uri: str, sslmode: str = defaults.SSLMODE) -> ServerEntry:
    """The server entry for `template`, connecting with `uri` (its TLS settings in its query)."""
    return server_spec(template, sslmode).with_uri(uri)


def launcher_command() -> tuple[str, tuple[str, ...]]:
    """Supalink's own launcher by absolute path: clients start servers with a minimal PATH.

    Not resolved through symlinks: a virtualenv's python finds its packages from where
    the link lies.
    """
    if getattr(sys, "frozen", False):
        executable = Path(sys.executable)
        # On Windows the frozen app is a windowed program with no stdio; its console twin
        # is what a client can talk to.
        console = executable.with_name("supalink-cli.exe")
        if sys.platform == "win32" and console.exists():
            executable = console
        return str(executable), ("mcp-run",)
    return os.path.abspath(sys.executable), ("-m", "supalink", "mcp-run")


def keyring_entry(
    profile_name: str,
    server_template: str = DEFAULT_TEMPLATE,
    *,
    sslmode: str = defaults.SSLMODE,
    sslrootcert: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerEntry:
    """An entry with no secret: the launcher reads the password from the keyring at start
    and execs `server_template`'s server with the URI where that server takes it."""
    spec = server_spec(server_template, sslmode)
    command, launcher_args = launcher_command()
    args = [*launcher_args, "--profile", profile_name]
    if spec.uri_env is not None:
        args += ["--uri-env", spec.uri_env]
    if sslrootcert is not None:
        args += ["--sslrootcert", os.path.abspath(sslrootcert)]
    args += ["--", spec.command, *spec.args]
    env = dict(spec.env)
    environ = os.environ if environ is None else environ
    if environ.get(HOME_OVERRIDE_ENV):
        # A portable install keeps its settings elsewhere: the launcher must look there too.
        env[HOME_OVERRIDE_ENV] = environ[HOME_OVERRIDE_ENV]
    return ServerEntry(command, tuple(args), env)

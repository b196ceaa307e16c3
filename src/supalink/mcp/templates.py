"""The server entries Supalink writes for Postgres MCP servers.

Each template is a shape that `supalink config verify` has proven against a
verify-full server. The default is Supalink's own server (`supalink mcp-serve`):
read-only in depth, and with a profile it reads the password from the keyring
itself. The others are kept for those who choose them. The reference server
(node-postgres) ignores PGSSLROOTCERT and rejects `--connection-string`, so the CA
always travels in the URI's query string, where node-postgres and libpq both read it.

No password goes in a server's argv: any local user reads a process's arguments (`ps`),
while its environment is its owner's alone. A server that takes its URI only as an argument
gets it without the password, and the password in PGPASSWORD, which node-postgres and libpq
read when the URI has none.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from supalink.errors import SupalinkError, UsageError
from supalink.mcp.errors import BadServerName
from supalink.paths import HOME_OVERRIDE_ENV
from supalink.profiles import QUERY_PASSWORD, defaults

REFERENCE_PACKAGE: Final = "@modelcontextprotocol/server-postgres"  # unpinned: clients get fixes
REFERENCE_BINARY: Final = "mcp-server-postgres"
# Supalink's own server: `supalink mcp-serve`.
SUPALINK_TEMPLATE: Final = "supalink"
# Others' servers, which take a URI: in the entry, or from the keyring launcher.
URI_SERVERS: Final = ("reference", "postgres-mcp", "guide")
# Not a server of its own: Supalink's launcher in front of one of URI_SERVERS.
KEYRING_TEMPLATE: Final = "keyring"
TEMPLATES: Final = (SUPALINK_TEMPLATE, KEYRING_TEMPLATE, *URI_SERVERS)
DEFAULT_TEMPLATE: Final = SUPALINK_TEMPLATE
# Behind the launcher when none is chosen: postgres-mcp's restricted mode parses the SQL it
# runs, where the reference server's read-only transaction is escaped by a stacked COMMIT.
DEFAULT_LAUNCHED_SERVER: Final = "postgres-mcp"
# The servers that run an agent's SQL inside a read-only transaction a stacked COMMIT ends:
# the archived reference server, under either of its names.
ESCAPABLE_SERVERS: Final = ("reference", "guide")
SERVE_COMMAND: Final = "mcp-serve"
LAUNCH_COMMAND: Final = "mcp-run"  # the keyring launcher
# Where a `supalink` entry given a URI (not a profile) carries it: never in argv, which any
# local user can read in the process list.
SUPALINK_URI_ENV: Final = "SUPALINK_DATABASE_URI"
ALLOW_WRITES_ARG: Final = "--allow-writes"
# Where a server that takes its URI as an argument finds the password left out of it.
PASSWORD_ENV: Final = "PGPASSWORD"  # noqa: S105 (a variable's name, not a password)
# What a template's server needs of the Python that uvx runs it with (postgres-mcp's
# `requires-python`: with 3.11, "the current Python version (3.11.7) does not satisfy
# Python>=3.12"), by the package uvx starts.
PYTHON_REQUIRES: Final = {"postgres-mcp": ">=3.12"}
# The entry's name in the client's file, unless the person gives another.
DEFAULT_SERVER_NAME: Final = "supabase"
# Line breaks and terminal controls: a client shows the name in its menus and logs (Claude
# Desktop names its log file after it), where they break lines or rewrite the screen.
_CONTROL_CATEGORIES: Final = frozenset({"Cc", "Zl", "Zp"})


def check_server_name(name: str) -> str:
    """The name, when a client's file may hold it as a server's key; else BadServerName."""
    import unicodedata

    if not name:
        raise BadServerName(name, "is empty")
    if not name.strip():
        raise BadServerName(name, "is blank")
    if any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in name):
        raise BadServerName(name, "holds control characters")
    return name


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
        nested = data.get("command")
        if isinstance(nested, dict):  # Zed's older shape: {"command": {path, args, env}}
            data = {**nested, "command": nested.get("path"), "type": data.get("type", "stdio")}
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


_INPUT: Final = re.compile(r"\$\{input:([^}]*)\}")


class NeedsClientInput(SupalinkError):
    """An entry naming VS Code's `${input:ID}`: only VS Code fills it in (it asks, and keeps
    the answer in its secret storage), so nothing else can start the entry as written."""

    def __init__(self, server_name: str, inputs: list[str]) -> None:
        named = ", ".join(f"${{input:{name}}}" for name in inputs)
        super().__init__(
            f"{server_name!r} takes {named} from VS Code, which asks for it when it starts "
            "the server: start it there (MCP: List Servers)"
        )
        self.inputs = inputs


def entry_inputs(entry: ServerEntry) -> list[str]:
    """The ids of VS Code's `inputs` the entry names (`${input:ID}`), in order, once each."""
    values = [entry.command, *entry.args, *entry.env.values()]
    return list(dict.fromkeys(name for value in values for name in _INPUT.findall(value)))


def entry_secrets(entry: ServerEntry) -> list[str]:
    """Passwords an entry carries in URIs or secret-named variables, for masking: as they
    are, and as a JSON file writes them (a '"' or '\\' escaped, non-ASCII as it is or as
    \\u escapes), where a diff or `config show` shows them."""
    import json

    found = _entry_passwords(entry)
    written = [
        json.dumps(secret, ensure_ascii=escape_all)[1:-1]
        for secret in found
        for escape_all in (False, True)
    ]
    return list(dict.fromkeys([*found, *written]))


def _entry_passwords(entry: ServerEntry) -> list[str]:
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
            # ?password=, which libpq takes as the password too.
            for written in QUERY_PASSWORD.findall(value):
                found += [written, unquote(written)]
    for name, value in entry.env.items():
        # `${input:ID}` names what VS Code asks for and keeps: shown, it says so; not a secret.
        if _INPUT.fullmatch(value):
            continue
        if any(word in name.upper() for word in ("PASSWORD", "SECRET", "TOKEN", "KEY")):
            found.append(value)
    return found


class PasswordInseparable(UsageError):
    """A URI whose password cannot be taken out for certain (a '?' written as it is, or a
    form the parsers read differently): it would stay in the server's argv."""

    def __init__(self) -> None:
        super().__init__(
            "the URI's password cannot be taken out of it to keep it out of the server's "
            "command line: percent-encode it ('?' as %3F, '@' as %40, '/' as %2F)"
        )


class PasswordNotUtf8(UsageError):
    def __init__(self) -> None:
        super().__init__("the URI's password is not valid UTF-8 once percent-decoded")


def split_password(uri: str) -> tuple[str, str | None]:
    """`uri` without its password (the userinfo's, and any `password=` of the query), and
    that password percent-decoded (None when it has none). The userinfo ends at the last '@'
    before the query, as a URL parser reads it, so a '/' or '@' written as it is in the
    password goes with it; libpq then reads the result, and must find no password in it."""
    scheme, separator, rest = uri.partition("://")
    if not separator:
        return uri, None
    before_query, _, query = rest.partition("?")
    written: str | None = None
    userinfo, at, after = before_query.rpartition("@")
    if at:
        user, colon, in_userinfo = userinfo.partition(":")
        if colon:
            written = in_userinfo
            before_query = f"{user}@{after}"
    kept = []
    for pair in (pair for pair in query.split("&") if pair):
        key, _, value = pair.partition("=")
        if unquote(key) == "password":
            written = value  # libpq takes the query's over the userinfo's
        else:
            kept.append(pair)
    bare = f"{scheme}://{before_query}" + (f"?{'&'.join(kept)}" if kept else "")
    _check_no_password(bare)
    if not written:
        return bare, None
    try:
        return bare, unquote(written, errors="strict")
    except UnicodeDecodeError:
        raise PasswordNotUtf8 from None


def _check_no_password(uri: str) -> None:
    """Fail closed: a URI libpq cannot read, or in which it still finds a password."""
    import psycopg
    import psycopg.conninfo

    try:
        found = psycopg.conninfo.conninfo_to_dict(uri).get("password")
    except psycopg.ProgrammingError:
        raise PasswordInseparable from None
    if found:
        raise PasswordInseparable


@dataclass(frozen=True)
class ServerSpec:
    """How a server is started, less its URI: where the URI goes, and extra environment."""

    command: str
    args: tuple[str, ...]
    uri_env: str | None = None  # None: the URI is the last argument
    env: Mapping[str, str] = field(default_factory=dict)

    def with_uri(self, uri: str) -> ServerEntry:
        if self.uri_env is not None:
            return ServerEntry(self.command, self.args, {**self.env, self.uri_env: uri})
        # Never in argv: the URI without its password, the password in the environment.
        bare, password = split_password(uri)
        env = {**self.env, PASSWORD_ENV: password} if password else dict(self.env)
        return ServerEntry(self.command, (*self.args, bare), env)


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
    known = ", ".join(TEMPLATES)
    raise UsageError(f"unknown template {template!r} (known: {known})")


def build_entry(template: str, uri: str, sslmode: str = defaults.SSLMODE) -> ServerEntry:
    """The server entry for `template`, connecting with `uri` (its TLS settings in its query)."""
    return server_spec(template, sslmode).with_uri(uri)


def supalink_command(
    *, executable: str | None = None, frozen: bool | None = None, platform: str | None = None
) -> tuple[str, tuple[str, ...]]:
    """Supalink by absolute path, and the arguments that come before a subcommand: clients
    start servers with a minimal PATH, in a folder of their choosing. The keywords stand in
    for this interpreter's `sys.executable`, `sys.frozen` and `sys.platform`.

    Not resolved through symlinks: a virtualenv's python finds its packages from where
    the link lies.
    """
    path = Path(sys.executable if executable is None else executable)
    frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    windows = (sys.platform if platform is None else platform) == "win32"
    if frozen:
        # On Windows the frozen app is a windowed program with no stdio; its console twin
        # is what a client can talk to.
        console = path.with_name("supalink-cli.exe")
        if windows and console.exists():
            path = console
        return str(path), ()
    # The console script an install puts beside the interpreter (bin/, Scripts/ on Windows).
    script = path.with_name("supalink.exe" if windows else "supalink")
    if script.is_file():
        return os.path.abspath(script), ()
    return os.path.abspath(path), ("-m", "supalink")


def launcher_command() -> tuple[str, tuple[str, ...]]:
    """The keyring launcher's command and arguments, before its own."""
    command, prefix = supalink_command()
    return command, (*prefix, LAUNCH_COMMAND)


def home_override(environ: Mapping[str, str] | None) -> dict[str, str]:
    """A portable install keeps its settings elsewhere: what Supalink starts must look there
    too, and a client starts it without the app's environment."""
    environ = os.environ if environ is None else environ
    home = environ.get(HOME_OVERRIDE_ENV)
    return {HOME_OVERRIDE_ENV: home} if home else {}


def supalink_entry(
    *,
    profile_name: str | None = None,
    uri: str | None = None,
    allow_writes: bool = False,
    sslrootcert: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ServerEntry:
    """Supalink's own server for a saved profile (it reads the password from the keyring
    itself: nothing secret in the file) or for a URI, which goes in the entry's env.
    `sslrootcert`: with a profile, a CA for this entry instead of the profile's (a URI
    carries its own)."""
    assert (profile_name is None) != (uri is None), "a profile or a URI"
    command, prefix = supalink_command()
    args = [*prefix, SERVE_COMMAND]
    env = {}
    if profile_name is not None:
        args += ["--profile", profile_name]
        if sslrootcert is not None:
            args += ["--sslrootcert", os.path.abspath(sslrootcert)]
    else:
        assert uri is not None
        args += ["--uri-env", SUPALINK_URI_ENV]
        env[SUPALINK_URI_ENV] = uri
    if allow_writes:
        args.append(ALLOW_WRITES_ARG)
    return ServerEntry(command, tuple(args), {**env, **home_override(environ)})


def serve_args(entry: ServerEntry) -> tuple[str, ...] | None:
    """`supalink mcp-serve`'s own arguments when the entry runs Supalink's server (whatever
    path or interpreter starts it), else None."""
    if SERVE_COMMAND not in entry.args:
        return None
    return entry.args[entry.args.index(SERVE_COMMAND) + 1 :]


def keyring_entry(
    profile_name: str,
    server_template: str = DEFAULT_LAUNCHED_SERVER,
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
    return ServerEntry(command, tuple(args), {**spec.env, **home_override(environ)})

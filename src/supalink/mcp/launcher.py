"""The keyring launcher: starts a Postgres MCP server with a URI built from the keyring.

The client's config then holds no secret at all: only this launcher's command line.
Clients start servers with a bare environment (no D-Bus address, a minimal PATH),
so the launcher finds the user's session bus and the server's executable itself,
then replaces its own process with the server (POSIX exec), so stdin, stdout,
stderr, signals and the exit code belong to the server with nothing in between.

It never writes the password into the server's argv, which any local user reads (`ps`): a
server that takes its URI as an argument gets it without the password, and the password in
PGPASSWORD (node-postgres and libpq read it when the URI has none); the environment of a
process is its owner's alone.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from supalink.errors import FileFault, SupalinkError
from supalink.mcp.templates import PASSWORD_ENV
from supalink.profiles import find_session_bus

if TYPE_CHECKING:
    from supalink.profiles import ProfileRepository, Target

# Where Node and uv usually live when a GUI client's PATH does not say.
EXTRA_BIN_DIRS = (
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
    "/opt/homebrew/bin",
    "~/.local/bin",
    "~/.volta/bin",
    "~/.cargo/bin",
)


class LaunchError(SupalinkError):
    """One line for the client's MCP log; the launcher exits non-zero."""


@dataclass(frozen=True)
class UriPlacement:
    """Where the server takes its URI: in an environment variable, or appended to argv
    without its password, which then goes in PASSWORD_ENV."""

    env_var: str | None = None  # None: the last argument

    def apply(self, argv: list[str], env: MutableMapping[str, str], target: Target) -> None:
        from supalink.profiles import build_uri

        assert target.profile is not None, "a profile's target"
        if self.env_var is not None:
            env[self.env_var] = build_uri(target.profile, target.password or "")
            return
        argv.append(build_uri(target.profile))  # no password: argv is anyone's to read
        if target.password:
            env[PASSWORD_ENV] = target.password


def resolve_command(command: str, env: Mapping[str, str]) -> str:
    """The program to exec: a path as given (FileFault when it is no program: missing, a
    folder, not executable), else the first match on PATH and in EXTRA_BIN_DIRS."""
    if os.sep in command or (os.altsep and os.altsep in command):
        if not os.path.isfile(command) or not os.access(command, os.X_OK):
            _start_fault(command)
        return command
    search = os.pathsep.join(
        [env.get("PATH", ""), *(os.path.expanduser(d) for d in EXTRA_BIN_DIRS)]
    )
    found = shutil.which(command, path=search)
    if found is None:
        raise LaunchError(
            f"cannot find {command!r} on PATH or in the usual places; "
            f"install it or give its absolute path in the client's config"
        )
    return found


def launch(
    repository: ProfileRepository,
    profile_name: str,
    server_argv: Sequence[str],
    placement: UriPlacement,
    env: MutableMapping[str, str] | None = None,
    *,
    sslrootcert: str | None = None,
) -> int:
    """Exec the server (never returns on POSIX); on Windows run it and return its exit code."""
    if not server_argv:
        raise LaunchError("no server command after `--`")
    env = dict(os.environ) if env is None else env
    # The program first: a wrong one is said without a trip to the keyring.
    argv = [resolve_command(server_argv[0], env), *server_argv[1:]]
    find_session_bus(env)
    os.environ.update(env)  # the keyring backend reads the bus address from here
    placement.apply(argv, env, repository.keyring_target(profile_name, sslrootcert))
    try:
        if sys.platform == "win32":
            # Windows has no exec that keeps the console handles: run and pass the code through.
            return subprocess.call(argv, env=env)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(argv[0], argv, env)  # noqa: S606 (argv from the config the user wrote)
    except OSError as error:  # not a program after all (a script without #!, a wrong binary)
        raise FileFault.of("start", argv[0], error) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _start_fault(command: str) -> NoReturn:
    """Raise the FileFault of a program path that cannot be started, with its cause."""
    try:
        os.stat(command)
    except OSError as error:
        raise FileFault.of("start", command, error) from None
    code = errno.EISDIR if os.path.isdir(command) else errno.EACCES
    raise FileFault.of("start", command, OSError(code, os.strerror(code), command))

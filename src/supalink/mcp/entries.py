"""The server entry to write for a connection target: shared by `supalink config write` and
the Write config dialog."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from supalink.mcp.clients import Host, McpClient
from supalink.mcp.errors import (
    KeyringNeedsProfile,
    LauncherServerWithoutKeyring,
    MissingCaFile,
    PasswordNotSaved,
    WritesNeedSupalinkServer,
)
from supalink.mcp.launch_env import CommandFound, Finder, absolute_entry
from supalink.mcp.templates import (
    DEFAULT_LAUNCHED_SERVER,
    DEFAULT_TEMPLATE,
    ESCAPABLE_SERVERS,
    KEYRING_TEMPLATE,
    PASSWORD_ENV,
    SUPALINK_TEMPLATE,
    PasswordInseparable,
    ServerEntry,
    build_entry,
    entry_secrets,
    keyring_entry,
    split_password,
    supalink_entry,
)
from supalink.profiles import Target, build_uri, check_as_written, defaults, with_tls

# Servers on node-postgres, which treats every TLS mode but disable as verify-full; the
# others are on libpq, which verifies only in the verify-* modes.
_NODE_SERVERS = ESCAPABLE_SERVERS


class EntryWarning(StrEnum):
    # TLS without a CA file: Supabase's CA is in no OS trust store, so a server that checks
    # the certificate cannot check the database's.
    NO_CA = "no CA certificate: the server will fail to verify the database's certificate"
    # Archived in May 2025 and never fixed: it runs the agent's SQL after BEGIN READ ONLY over
    # the simple query protocol, so `COMMIT; DROP TABLE x` drops the table.
    ESCAPABLE_READ_ONLY = (
        "the reference server is archived and its read-only mode can be escaped: a statement "
        "after a COMMIT in the same query runs with the login's full rights"
    )
    WRITES_ALLOWED = "writes are allowed: the agent can change and delete data"
    # The file is made readable by its owner only, but backups, sync tools and support
    # bundles copy it.
    CREDENTIALS_IN_FILE = "the database password is written into the config file"
    # VS Code asks for an `inputs` promptString with `password: true` at the server's first
    # start and keeps the answer in its secret storage: the file names it, never holds it.
    ASKED_BY_CLIENT = (
        "the file holds no password: VS Code asks for it the first time it starts the server "
        "and keeps it in its secret storage"
    )
    # Copilot sessions skip an entry that names `${input:...}`, so in the portable format the
    # password can only be in the file.
    NO_INPUTS = (
        "this format cannot ask for the password (Copilot skips entries that use "
        "${input:...}): it is in the file"
    )


@dataclass(frozen=True)
class PlannedEntry:
    entry: ServerEntry
    secrets: tuple[str, ...]  # the passwords the entry holds (none when read from the keyring)
    warnings: tuple[EntryWarning, ...]
    # The server's command looked up for its absolute path (None: Supalink's own, absolute).
    command: CommandFound | None = None
    # VS Code's `inputs` items the entry names (`${input:id}`): written into the file's
    # root `inputs` list beside it.
    inputs: tuple[Mapping[str, Any], ...] = ()


def input_id(server_name: str) -> str:
    """The `inputs` id of an entry's password: one per entry, so two entries' prompts differ."""
    return f"supalink-{server_name}-password"


def for_client(planned: PlannedEntry, client: McpClient, server_name: str) -> PlannedEntry:
    """The entry as `client` should hold it. VS Code: each password out of the entry, an
    `inputs` promptString (`password: true`) in its place, so VS Code asks for it once and
    keeps it in its secret storage; a URI stays, without its password, and the password goes
    in PGPASSWORD, which libpq and node-postgres read when the URI has none. Copilot's
    portable format: the password stays, with a warning that it cannot be asked for."""
    if not planned.secrets:
        return planned
    if client.skips_inputs:
        return replace(planned, warnings=(*planned.warnings, EntryWarning.NO_INPUTS))
    if not client.secret_inputs:
        return planned
    ident = input_id(server_name)
    reference = f"${{input:{ident}}}"
    env: dict[str, str] = {}
    where = None
    for name, value in planned.entry.env.items():
        if name == PASSWORD_ENV:
            env[name] = reference
            continue
        kept, password = split_password(value) if "://" in value else (value, None)
        if password is not None:
            env[PASSWORD_ENV] = reference
            where = kept.partition("://")[2].partition("/")[0]
        env[name] = kept
    entry = ServerEntry(planned.entry.command, planned.entry.args, env)
    written = json.dumps(entry.as_json(client.entry_type), ensure_ascii=False)
    if any(secret in written for secret in entry_secrets(planned.entry)):
        # Fail closed: a password somewhere no rule above took it out of.
        raise PasswordInseparable
    shown = f" ({where})" if where else ""
    prompt = {
        "type": "promptString",
        "id": ident,
        "description": f"Database password for the MCP server {server_name!r}{shown}",
        "password": True,
    }
    warnings = tuple(w for w in planned.warnings if w is not EntryWarning.CREDENTIALS_IN_FILE)
    return replace(
        planned,
        entry=entry,
        secrets=(),
        warnings=(*warnings, EntryWarning.ASKED_BY_CLIENT),
        inputs=(*planned.inputs, prompt),
    )


def _absolute(
    entry: ServerEntry,
    secrets: tuple[str, ...],
    warnings: tuple[EntryWarning, ...],
    finder: Finder | None,
) -> PlannedEntry:
    """The entry with an absolute command: a desktop client starts servers without the
    PATH of the user's shell (launch_env)."""
    finder = finder or Finder(Host.current())
    rebuilt, found = absolute_entry(entry, finder, os.environ.get("PATH"))
    return PlannedEntry(rebuilt, secrets, warnings, found)


def entry_ca(path: Path) -> str:
    """A CA file as an entry names it: absolute, as clients start servers in a folder of
    their choosing, and there."""
    if not path.is_file():
        raise MissingCaFile(path)
    return os.path.abspath(path)


def uri_target(uri: str, sslrootcert: Path | None = None) -> Target:
    """The target of a URI given for an entry, which carries it as written."""
    uri = check_as_written(uri)
    return Target.from_conninfo(uri, sslrootcert=entry_ca(sslrootcert) if sslrootcert else None)


def _warnings(
    server: str, sslmode: str, *, has_ca: bool, allow_writes: bool, secrets: tuple[str, ...]
) -> tuple[EntryWarning, ...]:
    """What to tell the person about an entry that starts `server` (the launcher's server,
    for the keyring template)."""
    found = []
    if server in ESCAPABLE_SERVERS:
        found.append(EntryWarning.ESCAPABLE_READ_ONLY)
    if allow_writes:
        found.append(EntryWarning.WRITES_ALLOWED)
    verifies = sslmode != "disable" if server in _NODE_SERVERS else sslmode.startswith("verify")
    if verifies and not has_ca:
        found.append(EntryWarning.NO_CA)
    if secrets:
        found.append(EntryWarning.CREDENTIALS_IN_FILE)
    return tuple(found)


def _check_writes(template: str, allow_writes: bool) -> None:
    if allow_writes and template != SUPALINK_TEMPLATE:
        raise WritesNeedSupalinkServer(template)


def entry_for_uri(
    target: Target,
    template: str | None = None,
    *,
    allow_writes: bool = False,
    finder: Finder | None = None,
) -> PlannedEntry:
    """An entry with the target's URI in the file (a `uri_target`)."""
    template = template or DEFAULT_TEMPLATE
    if template == KEYRING_TEMPLATE:
        raise KeyringNeedsProfile
    _check_writes(template, allow_writes)
    assert target.source is not None, "a URI target"
    sslmode = target.sslmode or defaults.SSLMODE
    uri = with_tls(target.source, sslmode, target.sslrootcert)
    if template == SUPALINK_TEMPLATE:
        entry = supalink_entry(uri=uri, allow_writes=allow_writes)
    else:
        entry = build_entry(template, uri, sslmode)
    warnings = _warnings(
        template,
        sslmode,
        has_ca=bool(target.sslrootcert),
        allow_writes=allow_writes,
        secrets=target.secrets,
    )
    return _absolute(entry, target.secrets, warnings, finder)


def entry_for_profile(
    target: Target,
    *,
    password_in_keyring: bool,
    template: str | None = None,
    server: str | None = None,
    sslrootcert: Path | None = None,
    allow_writes: bool = False,
    finder: Finder | None = None,
) -> PlannedEntry:
    """An entry for the target's profile: one that reads the password from the keyring
    (Supalink's server, or the launcher in front of another: nothing secret in the file), or
    with the URI and the password at hand (this session's) in it. `sslrootcert`: a CA for
    this entry instead of the profile's."""
    profile = target.profile
    assert profile is not None, "a profile's target"
    template = template or DEFAULT_TEMPLATE
    if server is not None and template != KEYRING_TEMPLATE:
        raise LauncherServerWithoutKeyring
    _check_writes(template, allow_writes)
    ca = entry_ca(sslrootcert) if sslrootcert is not None else None
    started = (server or DEFAULT_LAUNCHED_SERVER) if template == KEYRING_TEMPLATE else template

    def planned(entry: ServerEntry, secrets: tuple[str, ...], has_ca: bool) -> PlannedEntry:
        warnings = _warnings(
            started, profile.sslmode, has_ca=has_ca, allow_writes=allow_writes, secrets=secrets
        )
        return _absolute(entry, secrets, warnings, finder)

    from_keyring = bool(ca or profile.sslrootcert)  # the server reads the profile's CA itself
    if template == KEYRING_TEMPLATE:
        if not password_in_keyring:
            raise PasswordNotSaved(profile.name, for_launcher=True)
        entry = keyring_entry(
            profile.name,
            started,
            sslmode=profile.sslmode,
            sslrootcert=Path(ca) if ca else None,
        )
        return planned(entry, (), from_keyring)
    if template == SUPALINK_TEMPLATE and password_in_keyring:
        entry = supalink_entry(
            profile_name=profile.name,
            allow_writes=allow_writes,
            sslrootcert=Path(ca) if ca else None,
        )
        return planned(entry, (), from_keyring)
    # Only this session knows the password: it goes in the file, with the URI.
    if target.password is None:
        raise PasswordNotSaved(profile.name, for_launcher=False)
    if ca is None and profile.sslrootcert:
        ca = entry_ca(Path(profile.sslrootcert).expanduser())
    uri = build_uri(profile.replace(sslrootcert=ca), target.password)
    if template == SUPALINK_TEMPLATE:
        entry = supalink_entry(uri=uri, allow_writes=allow_writes)
    else:
        entry = build_entry(template, uri, profile.sslmode)
    return planned(entry, target.secrets, bool(ca))

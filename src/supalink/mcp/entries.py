"""The server entry to write for a connection target: shared by `supalink config write` and
the Write config dialog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from supalink.mcp.errors import (
    KeyringNeedsProfile,
    LauncherServerWithoutKeyring,
    MissingCaFile,
    PasswordNotSaved,
)
from supalink.mcp.templates import (
    DEFAULT_TEMPLATE,
    KEYRING_TEMPLATE,
    ServerEntry,
    build_entry,
    keyring_entry,
)
from supalink.profiles import defaults
from supalink.profiles.target import Target
from supalink.profiles.uris import build_uri, check_as_written, with_tls


class EntryWarning(StrEnum):
    # TLS without a CA file: node-postgres treats every TLS mode as verify-full, and
    # Supabase's CA is in no OS trust store, so the server cannot check the database.
    NO_CA = "no CA certificate: the server will fail to verify the database's certificate"


@dataclass(frozen=True)
class PlannedEntry:
    entry: ServerEntry
    secrets: tuple[str, ...]  # the passwords the entry holds (none through the launcher)
    warnings: tuple[EntryWarning, ...]


def default_template(password_in_keyring: bool) -> str:
    """Through the keyring launcher when it can read the password; the URI in the file else."""
    return KEYRING_TEMPLATE if password_in_keyring else DEFAULT_TEMPLATE


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


def _warnings(sslmode: str, has_ca: bool) -> tuple[EntryWarning, ...]:
    return (EntryWarning.NO_CA,) if sslmode != "disable" and not has_ca else ()


def entry_for_uri(target: Target, template: str | None = None) -> PlannedEntry:
    """An entry with the target's URI in the file (a `uri_target`)."""
    if template == KEYRING_TEMPLATE:
        raise KeyringNeedsProfile
    assert target.source is not None, "a URI target"
    sslmode = target.sslmode or defaults.SSLMODE
    uri = with_tls(target.source, sslmode, target.sslrootcert)
    entry = build_entry(template or DEFAULT_TEMPLATE, uri, sslmode)
    return PlannedEntry(entry, target.secrets, _warnings(sslmode, bool(target.sslrootcert)))


def entry_for_profile(
    target: Target,
    *,
    password_in_keyring: bool,
    template: str | None = None,
    server: str | None = None,
    sslrootcert: Path | None = None,
) -> PlannedEntry:
    """An entry for the target's profile: through the launcher (nothing secret in the file),
    or with the URI and the password at hand (the keyring's or this session's) in it.
    `sslrootcert`: a CA for this entry instead of the profile's."""
    profile = target.profile
    assert profile is not None, "a profile's target"
    template = template or default_template(password_in_keyring)
    if server is not None and template != KEYRING_TEMPLATE:
        raise LauncherServerWithoutKeyring
    ca = entry_ca(sslrootcert) if sslrootcert is not None else None
    if template == KEYRING_TEMPLATE:
        if not password_in_keyring:
            raise PasswordNotSaved(profile.name, for_launcher=True)
        entry = keyring_entry(
            profile.name,
            server or DEFAULT_TEMPLATE,
            sslmode=profile.sslmode,
            sslrootcert=Path(ca) if ca else None,
        )
        return PlannedEntry(entry, (), _warnings(profile.sslmode, bool(ca or profile.sslrootcert)))
    if target.password is None:
        raise PasswordNotSaved(profile.name, for_launcher=False)
    if ca is None and profile.sslrootcert:
        ca = entry_ca(Path(profile.sslrootcert).expanduser())
    uri = build_uri(profile.replace(sslrootcert=ca), target.password)
    entry = build_entry(template, uri, profile.sslmode)
    return PlannedEntry(entry, target.secrets, _warnings(profile.sslmode, bool(ca)))

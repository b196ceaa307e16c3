"""The server entry to write for a profile or a URI: shared by `supalink config write` and
the Write config dialog."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from supalink.errors import SupalinkError, UsageError
from supalink.mcp.templates import (
    DEFAULT_TEMPLATE,
    KEYRING_TEMPLATE,
    ServerEntry,
    build_entry,
    keyring_entry,
    prepare_connection,
)
from supalink.profiles.model import Profile
from supalink.profiles.uris import build_uri


@dataclass(frozen=True)
class PlannedEntry:
    entry: ServerEntry
    secrets: tuple[str, ...]  # the passwords the entry holds (none through the launcher)
    warnings: tuple[str, ...]


def default_template(password_in_keyring: bool) -> str:
    """Through the keyring launcher when it can read the password; the URI in the file else."""
    return KEYRING_TEMPLATE if password_in_keyring else DEFAULT_TEMPLATE


def entry_for_uri(
    uri: str, template: str | None = None, sslrootcert: Path | None = None
) -> PlannedEntry:
    if template == KEYRING_TEMPLATE:
        raise UsageError(
            "--template keyring needs --profile: the password comes from its keyring entry"
        )
    connection = prepare_connection(uri, sslrootcert)
    entry = build_entry(template or DEFAULT_TEMPLATE, connection)
    return PlannedEntry(entry, connection.secrets, tuple(connection.warnings()))


def entry_for_profile(
    profile: Profile,
    password: str | None,
    template: str | None = None,
    *,
    server: str | None = None,
    sslrootcert: Path | None = None,
) -> PlannedEntry:
    """`password` is the one saved in the keyring (None when it is not saved there)."""
    template = template or default_template(password is not None)
    if server is not None and template != KEYRING_TEMPLATE:
        raise UsageError("a server behind the launcher goes with the keyring template")
    if sslrootcert is not None and not sslrootcert.is_file():
        raise UsageError(f"no CA certificate file at {sslrootcert}")
    if template == KEYRING_TEMPLATE:
        if password is None:
            raise SupalinkError(
                f"profile {profile.name!r} has no password in the keyring, so the launcher would "
                "have nothing to start the server with: save the password, or pick another template"
            )
        entry = keyring_entry(
            profile.name,
            server or DEFAULT_TEMPLATE,
            sslmode=profile.sslmode,
            sslrootcert=sslrootcert,
        )
        warnings: tuple[str, ...] = ()
        if profile.sslmode != "disable" and not (sslrootcert or profile.sslrootcert):
            warnings = (
                "the profile has no CA certificate: the server will fail to verify the "
                "database's certificate (verify-full); set the CA file in the profile or pass "
                "--sslrootcert",
            )
        return PlannedEntry(entry, (), warnings)
    if password is None:
        raise SupalinkError(
            f"profile {profile.name!r} has no saved password: save it in the keyring, or pass --uri"
        )
    ca = sslrootcert or (Path(profile.sslrootcert).expanduser() if profile.sslrootcert else None)
    connection = prepare_connection(build_uri(profile, password), ca)
    entry = build_entry(template, connection)
    return PlannedEntry(entry, connection.secrets, tuple(connection.warnings()))

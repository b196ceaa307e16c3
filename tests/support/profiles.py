"""Saved profiles for the test server, their passwords in the real Secret Service."""

from __future__ import annotations

import uuid
from pathlib import Path

from supalink.paths import AppPaths
from supalink.profiles import Profile
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore
from supalink.profiles.settings import SettingsFile
from tests.support.cli import SUPALINK, run_cli
from tests.support.postgres import PostgresServer

__all__ = ["SUPALINK", "add_profile_with_cli", "save_profile", "save_profile_to"]


def save_profile(
    home: Path, pg: PostgresServer, *, with_password: bool = True, prefix: str = "agent"
) -> str:
    """A profile for `pg` saved under SUPALINK_HOME=`home` through the repository; its name."""
    return save_profile_to(
        AppPaths.under(home).settings_file, pg, with_password=with_password, prefix=prefix
    )


def save_profile_to(
    settings: Path, pg: PostgresServer, *, with_password: bool = True, prefix: str = "agent"
) -> str:
    from keyring.backends.SecretService import Keyring

    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    repository = ProfileRepository(SettingsFile(settings), KeyringSecretStore(Keyring()))
    profile = Profile(
        name, host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    repository.save(profile, pg.password if with_password else None, save_password=with_password)
    return name


def add_profile_with_cli(home: Path, pg: PostgresServer, *, prefix: str = "agent") -> str:
    """A profile for `pg` added as a person would: `supalink profile add … --password-stdin`."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    added = run_cli(
        "profile",
        "add",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(pg.port),
        "--user",
        pg.role,
        "--sslrootcert",
        str(pg.ca_cert),
        "--password-stdin",
        home=home,
        stdin=pg.password,
        text=True,
    )
    assert added.returncode == 0, added.stderr
    return name

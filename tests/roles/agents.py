"""Agent profiles made through the API for the link and crash tests, and what they check: a
login with a given password, the links as the settings file keeps them, a role's comment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from supalink import roles
from supalink.paths import AppPaths
from supalink.profiles import Target
from tests.roles.conftest import Supabase, repository_under


def admin_target(home: Path, admin: str) -> Target:
    repository = repository_under(home)
    return Target.from_profile(repository.load(admin).profile, repository.password_value(admin))


def create_agent(home: Path, admin: str, supabase: Supabase, profile: str) -> str:
    """A role made by Supalink through `admin`, and `profile` logging in as it; the role."""
    repository = repository_under(home)
    spec = roles.RoleSpec(supabase.role_name(), profile)
    plan = asyncio.run(roles.plan_create(admin_target(home, admin), spec, repository))
    asyncio.run(roles.apply(plan, repository))
    return spec.name


def logs_in(home: Path, profile: str, password: str | None = None) -> bool:
    """Whether `profile` logs in with `password` (by default its saved one); False on a
    refused password, any other failure raised."""
    repository = repository_under(home)
    password = password if password is not None else repository.password_value(profile)
    target = Target.from_profile(repository.load(profile).profile, password)
    try:
        psycopg.connect(**target.connection_kwargs()).close()
    except psycopg.OperationalError as error:
        if "password authentication failed" in str(error):
            return False
        raise
    return True


def stored_links(home: Path) -> dict[str, Any]:
    document = json.loads(AppPaths.under(home).settings_file.read_text())
    links: dict[str, Any] = document["preferences"].get("agent_roles", {})
    return links


def edit_links(home: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the links as a person editing the settings file by hand would."""
    path = AppPaths.under(home).settings_file
    document = json.loads(path.read_text())
    links = document["preferences"].setdefault("agent_roles", {})
    change(links)
    path.write_text(json.dumps(document, indent=2))


def comment_of(supabase: Supabase, role: str) -> str | None:
    with supabase.connect() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
    assert row is not None, role
    return None if row[0] is None else str(row[0])


def journal_files(home: Path) -> list[Path]:
    return sorted((AppPaths.under(home).config_dir / "role-changes").glob("*.json"))

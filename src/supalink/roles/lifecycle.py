"""Rotating and dropping an agent's role, both through the admin profile that made it.

A rotation changes the password in the database and the keyring in one step: the keyring
is written before the commit and put back if the commit fails. A pooler may keep answering
28P01 for the old password a short while (Supavisor's credential cache), so the new login
is retried with backoff before it is called wrong."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from supalink import error_texts
from supalink.profiles import ProfileRepository, Target
from supalink.roles import links
from supalink.roles.connection import ROLES_APPLICATION_NAME, connected, masked_line, rows
from supalink.roles.errors import (
    LoginNotAccepted,
    PasswordMissing,
    RoleMissing,
    RoleOwnsObjects,
    ServerRefused,
)
from supalink.roles.ownership import owned_objects
from supalink.roles.scram import new_password, scram_secret

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]
LOGIN_ATTEMPTS = 6
FIRST_DELAY = 0.5  # then doubled: 0.5 + 1 + 2 + 4 + 8 s, about what Supavisor's cache takes


@dataclass(frozen=True)
class Rotated:
    link: links.AgentLink
    attempts: int  # logins tried until the new password was accepted


def admin_target(repository: ProfileRepository, link: links.AgentLink) -> Target:
    password = repository.password_value(link.admin_profile)
    if password is None:
        raise PasswordMissing(link.admin_profile)
    return Target.from_profile(repository.load(link.admin_profile).profile, password)


async def _role_exists(conn: psycopg.AsyncConnection[Any], role: str) -> bool:
    return bool(await rows(conn, "SELECT FROM pg_roles WHERE rolname = %s", (role,)))


async def rotate(
    repository: ProfileRepository,
    profile: str,
    *,
    attempts: int = LOGIN_ATTEMPTS,
    sleep: Sleep = asyncio.sleep,
) -> Rotated:
    """A new password for the role of agent profile `profile`, then a login with it."""
    link = links.link_of(repository, profile)
    admin = admin_target(repository, link)
    agent = repository.load(profile).profile
    old = repository.password(profile)
    password = new_password()
    secret = scram_secret(password)
    async with connected(admin, "rotating the password", extra_secrets=(password, secret)) as conn:
        if not await _role_exists(conn, link.role):
            raise RoleMissing(link.role)
        await conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(link.role), sql.Literal(secret)
            )
        )
        repository.save(agent, password, replace=True)
        try:
            await conn.commit()
        except BaseException:
            kept = old.value if old is not None and old.in_keyring else None
            repository.save(agent, kept, save_password=kept is not None, replace=True)
            raise
    log.info("rotated the password of role %r (profile %r)", link.role, profile)
    tried = await wait_for_login(
        Target.from_profile(agent, password), attempts=attempts, sleep=sleep
    )
    return Rotated(link, tried)


async def wait_for_login(target: Target, *, attempts: int, sleep: Sleep) -> int:
    """Log in with `target`, retrying an authentication failure with backoff; the number of
    tries it took."""
    delay = FIRST_DELAY
    profile = target.profile.name if target.profile is not None else str(target.params["user"])
    for attempt in range(1, attempts + 1):
        try:
            conn = await psycopg.AsyncConnection.connect(
                **target.connection_kwargs(application_name=ROLES_APPLICATION_NAME)
            )
        except psycopg.OperationalError as error:
            text = masked_line(error, *target.secrets)
            if not error_texts.says(str(error), error_texts.AUTH_FAILED):
                raise ServerRefused("logging in with the new password", text) from None
            if attempt == attempts:
                raise LoginNotAccepted(profile, text, attempts) from None
            await sleep(delay)
            delay *= 2
        else:
            await conn.close()
            return attempt
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class DropPlan:
    """What `drop` will run through the admin's login, then the profile it removes."""

    link: links.AgentLink
    admin: Target = field(repr=False)
    role_exists: bool  # False: only the profile is left to remove
    statements: tuple[sql.Composed, ...]

    def preview(self) -> str:
        return "\n".join(f"{statement.as_string(None)};" for statement in self.statements)


async def plan_drop(repository: ProfileRepository, profile: str) -> DropPlan:
    """Refused, with the objects named, while the role owns anything."""
    link = links.link_of(repository, profile)
    admin = admin_target(repository, link)
    async with connected(admin, "reading the catalog") as conn:
        exists = await _role_exists(conn, link.role)
        if exists and (objects := await owned_objects(conn, link.role)):
            raise RoleOwnsObjects(link.role, objects)
    role = sql.Identifier(link.role)
    statements: tuple[sql.Composed, ...] = ()
    if exists:
        # DROP OWNED (its privileges and default privileges here) needs the role's rights:
        # the admin takes its membership, which goes with the role.
        statements = (
            sql.SQL("GRANT {} TO CURRENT_USER").format(role),
            sql.SQL("DROP OWNED BY {}").format(role),
            sql.SQL("DROP ROLE {}").format(role),
        )
    return DropPlan(link, admin, exists, statements)


async def drop(plan: DropPlan, repository: ProfileRepository) -> None:
    """Drop the role in one transaction, then remove its profile and keyring entries."""
    if plan.statements:
        async with connected(plan.admin, "dropping the role") as conn:
            for statement in plan.statements:
                await conn.execute(statement)
            await conn.commit()
        log.info("dropped role %r", plan.link.role)
    repository.remove(plan.link.profile)
    links.forget(repository, plan.link.profile)

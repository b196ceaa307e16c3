"""Rotating and dropping an agent's role, both through the admin profile that made it, and
only when its link matches the profile as it is now and the role carries the link's mark.

Each is journaled (roles/journal.py, settled by roles/settle.py): a rotation keeps the new
password pending in the keyring before the database has it, and the profile's own entry
keeps the old one until the database has committed the new; a drop drops the role first,
then removes the profile. A pooler may keep answering 28P01 for the old password a short
while (Supavisor's credential cache), so the new login is retried with backoff before it is
called wrong."""

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
from supalink.roles.connection import (
    ROLES_APPLICATION_NAME,
    connected,
    masked_line,
    saved_target,
)
from supalink.roles.errors import (
    LoginNotAccepted,
    NotAnAgentProfile,
    RoleOwnsObjects,
    ServerRefused,
)
from supalink.roles.journal import DROP, ROTATE, Journal
from supalink.roles.marks import check_mark, mark, role_comment
from supalink.roles.ownership import owned_objects
from supalink.roles.scram import new_password, scram_secret
from supalink.roles.settle import carry_out

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]
LOGIN_ATTEMPTS = 6
FIRST_DELAY = 0.5  # then doubled: 0.5 + 1 + 2 + 4 + 8 s, about what Supavisor's cache takes


@dataclass(frozen=True)
class Rotated:
    link: links.AgentLink
    attempts: int  # logins tried until the new password was accepted


async def rotate(
    repository: ProfileRepository,
    profile: str,
    *,
    attempts: int = LOGIN_ATTEMPTS,
    sleep: Sleep = asyncio.sleep,
) -> Rotated:
    """A new password for the role of agent profile `profile`, then a login with it."""
    journal = Journal.of(repository)
    password = new_password()
    secret = scram_secret(password)
    async with journal.held():
        link = links.verified(repository, profile)
        assert link.id is not None
        journal.refuse_pending(profile, link.role)
        admin = saved_target(repository, link.admin_profile)
        agent = repository.load(profile).profile
        entry = journal.begin(ROTATE, link)
        role = sql.Identifier(link.role)
        comment = sql.Literal(mark(link.id, entry.id))

        async def statements(conn: psycopg.AsyncConnection[Any]) -> bool:
            await check_mark(conn, link)
            await conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(secret))
            )
            await conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, comment))
            return True

        await carry_out(repository, journal, entry, admin, statements, (password, secret))
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
    """Refused unless the link matches and the role carries its mark, and, with the objects
    named, while the role owns anything."""
    link = links.verified(repository, profile)
    admin = saved_target(repository, link.admin_profile)
    async with connected(admin, "reading the catalog") as conn:
        exists = await role_comment(conn, link.role) is not None
        if exists:
            await check_mark(conn, link)
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
    """Drop the role in one transaction (while it carries the link's mark), then remove its
    profile, its keyring entries and its link."""
    journal = Journal.of(repository)
    async with journal.held():
        link = links.verified(repository, plan.link.profile)
        if link != plan.link:
            raise NotAnAgentProfile(link.profile)  # linked anew since it was planned
        journal.refuse_pending(link.profile, link.role)
        entry = journal.begin(DROP, link)

        async def statements(conn: psycopg.AsyncConnection[Any]) -> bool:
            if await role_comment(conn, link.role) is None:
                return False  # gone already: only the profile is left to remove
            await check_mark(conn, link)
            for statement in plan.statements:
                await conn.execute(statement)
            return True

        await carry_out(repository, journal, entry, plan.admin, statements)
    log.info("dropped role %r and removed profile %r", link.role, link.profile)

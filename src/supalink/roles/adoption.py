"""Taking a role on as an agent's: for a link an earlier Supalink kept (no id, so nothing to
verify it by), a link whose admin profile is gone, or a role made by hand. Refused unless the
profile logs in as the role (its saved password tried), the role has no power an agent's
own role would not have and is a member of nothing, and its comment is empty or Supalink's;
then the role gets the mark with a new id, and the profile the link. The mark is written
first: killed before the link, the old link stays as it was, and adopting again is safe."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from psycopg import sql

from supalink.profiles import ProfileRepository
from supalink.roles import links
from supalink.roles.connection import connected, rows, saved_target
from supalink.roles.errors import CannotAdopt, RoleMissing
from supalink.roles.journal import Journal
from supalink.roles.marks import made_by_supalink, mark, role_comment
from supalink.roles.powers import read_powers

log = logging.getLogger(__name__)


async def adopt(
    repository: ProfileRepository, profile: str, role: str, admin_profile: str | None = None
) -> links.AgentLink:
    """Make `role` the agent role of `profile`, acted on through `admin_profile` (by default
    the admin its present link names)."""
    journal = Journal.of(repository)
    async with journal.held():
        journal.refuse_pending(profile, role)
        repository.record(profile)
        stored = links.stored_link(repository, profile)
        admin_name = admin_profile or (stored.admin_profile if stored is not None else None)
        if admin_name is None:
            raise CannotAdopt(profile, role, "no admin profile is known for it", field="admin")
        if admin_name == profile:
            raise CannotAdopt(profile, role, "its admin cannot be its own profile", field="admin")
        agent = repository.load(profile).profile
        if (login := links.profile_role(agent)) != role:
            raise CannotAdopt(profile, role, f"the profile logs in as {login!r}")
        place = links.Place.of(agent)
        admin = saved_target(repository, admin_name)
        assert admin.profile is not None
        if not links.Place.of(admin.profile).same_server(place):
            raise CannotAdopt(
                profile, role, f"the admin profile {admin_name!r} reaches another server"
            )
        async with connected(saved_target(repository, profile), "logging in as it") as conn:
            powers = await read_powers(conn)
        if excess := powers.excess:
            names = ", ".join(power.name for power in excess)
            raise CannotAdopt(profile, role, f"it has powers an agent's role would not: {names}")
        link_id = links.new_link_id()
        async with connected(admin, "marking the role") as conn:
            await _check(conn, profile, role)
            await conn.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(
                    sql.Identifier(role), sql.Literal(mark(link_id))
                )
            )
            await conn.commit()
        link = links.AgentLink(profile, admin_name, role, link_id, place)
        links.remember(repository, link)
    log.info("role %r is now the agent role of profile %r", role, profile)
    return link


async def _check(conn: psycopg.AsyncConnection[Any], profile: str, role: str) -> None:
    """The role is there, its comment empty or Supalink's, and it is a member of nothing."""
    comment = await role_comment(conn, role)
    if comment is None:
        raise RoleMissing(role)
    if comment and not made_by_supalink(comment):
        shown = repr(comment[:80] + ("…" if comment[80:] else ""))
        raise CannotAdopt(profile, role, f"it has a comment of its own: {shown}")
    found = await rows(
        conn,
        "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
        " JOIN pg_roles b ON b.oid = m.roleid WHERE r.rolname = %s ORDER BY 1",
        (role,),
    )
    if found:
        names = ", ".join(str(name) for (name,) in found)
        raise CannotAdopt(profile, role, f"it is a member of {names}")

"""Supalink's mark on a role it made: the role's comment, `supalink agent <id>`, written in
the transaction that creates it (COMMENT ON ROLE needs what creating the role needed:
CREATEROLE, or the ADMIN OPTION the creator holds). A rotation adds its own id
(`… change <id>`), so an interrupted one can ask the database whether it committed."""

from __future__ import annotations

from typing import Any

import psycopg

from supalink.roles.connection import rows
from supalink.roles.errors import RoleMissing, RoleNotMarked
from supalink.roles.links import AgentLink

PREFIX = "supalink agent"
OLD_PREFIX = "Agent role made by Supalink"  # what earlier versions wrote, without an id


def mark(link_id: str, change: str | None = None) -> str:
    return f"{PREFIX} {link_id}" + (f" change {change}" if change else "")


def carries_mark(comment: str | None, link_id: str, change: str | None = None) -> bool:
    """Whether `comment` is the mark of link `link_id` (and of that change, when given)."""
    text = comment or ""
    if change is not None:
        return text == mark(link_id, change)
    own = mark(link_id)
    return text == own or text.startswith(f"{own} change ")


def made_by_supalink(comment: str | None) -> bool:
    """Any version's mark: this one's, or the words earlier versions wrote."""
    return (comment or "").startswith((f"{PREFIX} ", OLD_PREFIX))


async def role_comment(conn: psycopg.AsyncConnection[Any], role: str) -> str | None:
    """The role's comment ('' when it has none); None when there is no such role."""
    found = await rows(
        conn,
        "SELECT coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = %s",
        (role,),
    )
    return str(found[0][0]) if found else None


async def check_mark(conn: psycopg.AsyncConnection[Any], link: AgentLink) -> None:
    """RoleMissing, or RoleNotMarked unless the role carries `link`'s mark."""
    assert link.id is not None, "a verified link"
    comment = await role_comment(conn, link.role)
    if comment is None:
        raise RoleMissing(link.role)
    if not carries_mark(comment, link.id):
        raise RoleNotMarked(link.role, link.profile, comment)

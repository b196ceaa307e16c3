"""What a role owns, named: a role that owns anything is neither dropped nor replaced, since
the objects would go with it (or block it)."""

from __future__ import annotations

from typing import Any

import psycopg

from supalink.roles.connection import rows


async def owned_objects(conn: psycopg.AsyncConnection[Any], role: str) -> tuple[str, ...]:
    """Each object `role` owns: described in this database, counted in the others."""
    found = await rows(
        conn,
        "SELECT CASE WHEN d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " OR d.dbid = 0 THEN pg_describe_object(d.classid, d.objid, d.objsubid)"
        " ELSE 'an object in database ' || quote_ident(coalesce(db.datname, d.dbid::text)) END"
        " FROM pg_shdepend d LEFT JOIN pg_database db ON db.oid = d.dbid"
        " WHERE d.refclassid = 'pg_authid'::regclass AND d.deptype = 'o'"
        " AND d.refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s) ORDER BY 1",
        (role,),
    )
    return tuple(str(description) for (description,) in found)

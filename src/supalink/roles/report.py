"""What a login is and what it can do, read from the catalog through that login itself:
its attributes, memberships and settings, the tables it can read and write, those where row
level security hides every row from it, and what every role gets through PUBLIC."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import sql

from supalink.profiles import Target
from supalink.roles.connection import connected, rows
from supalink.roles.powers import LoginPowers, read_powers
from supalink.roles.spec import TableName

# pg_net keeps queued HTTP requests, their headers (API keys) included, in this schema.
NET_SCHEMA = "net"


@dataclass(frozen=True)
class RoleReport:
    login: str  # current_user: the role, without a pooler's `.<ref>`
    database: str
    is_superuser: bool
    bypasses_rls: bool  # superuser or BYPASSRLS: it reads every row of every table it reads
    can_create_roles: bool
    can_create_databases: bool
    can_replicate: bool
    connection_limit: int  # -1: none
    memberships: tuple[str, ...]
    settings: tuple[str, ...]  # `name=value`, from ALTER ROLE ... SET
    readable: tuple[TableName, ...]
    writable: tuple[TableName, ...]
    rls_hidden: tuple[TableName, ...]  # readable, RLS on, no policy applies: it sees no rows
    public_schemas: tuple[str, ...]  # schemas every role may use (besides the system's)
    public_tables: tuple[TableName, ...]  # tables every role may read
    public_temporary: bool  # every role may create temporary tables in this database
    public_large_objects: bool  # every role may create and write large objects
    # What it can do that a role made by Supalink could not, and what every role can: the
    # list the agent's server reads before serving this login.
    powers: LoginPowers

    @property
    def net_exposed(self) -> bool:
        """Every role can read pg_net's queued requests, headers included."""
        return any(table.schema == NET_SCHEMA for table in self.public_tables)

    @property
    def can_change_everything(self) -> bool:
        """Superuser, or RLS bypassed together with CREATEROLE (which can take any other
        non-superuser role's rights): Supabase's `postgres`."""
        return self.is_superuser or (self.bypasses_rls and self.can_create_roles)

    def suggested_policy(self, table: TableName) -> sql.Composed:
        """A policy that would let this login read every row of `table`; narrow its USING."""
        return sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING (true)").format(
            sql.Identifier(f"{self.login}_read"[:63]),
            sql.Identifier(table.schema, table.name),
            sql.Identifier(self.login),
        )

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        for key in ("readable", "writable", "rls_hidden", "public_tables"):
            found[key] = [str(table) for table in getattr(self, key)]
        for key in ("memberships", "settings", "public_schemas"):
            found[key] = list(found[key])
        found["powers"] = self.powers.as_dict()
        found["net_exposed"] = self.net_exposed
        found["can_change_everything"] = self.can_change_everything
        return found


async def describe(target: Target) -> RoleReport:
    """The report for the login of `target`, read through that login."""
    async with connected(target, "reading the login's rights") as conn:
        return await _read(conn)


async def _read(conn: psycopg.AsyncConnection[Any]) -> RoleReport:
    ((login, database, is_super, bypass, createrole, createdb, repl, limit),) = await rows(
        conn,
        "SELECT rolname, current_database(), rolsuper, rolbypassrls, rolcreaterole,"
        " rolcreatedb, rolreplication, rolconnlimit"
        " FROM pg_roles WHERE rolname = current_user",
    )
    memberships = await rows(
        conn,
        "SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid"
        " JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = current_user ORDER BY 1",
    )
    settings = await rows(
        conn,
        "SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_roles r"
        " ON r.oid = s.setrole WHERE r.rolname = current_user AND s.setdatabase IN"
        " (0, (SELECT oid FROM pg_database WHERE datname = current_database())) ORDER BY 1",
    )
    tables = await rows(
        conn,
        "SELECT n.nspname, c.relname,"
        " has_table_privilege(c.oid, 'SELECT'),"
        " has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')"
        " OR has_table_privilege(c.oid, 'DELETE'),"
        " c.relrowsecurity AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))"
        " AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid AND p.polpermissive"
        "   AND p.polcmd IN ('r', '*') AND (p.polroles = '{0}' OR EXISTS (SELECT FROM"
        "   unnest(p.polroles) AS pr(oid) WHERE pr.oid = 0 OR pg_has_role(pr.oid, 'USAGE')))),"
        " has_table_privilege('public', c.oid, 'SELECT')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg\\_%%' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND has_schema_privilege(n.oid, 'USAGE')"
        " ORDER BY 1, 2",
    )
    public = await rows(
        conn,
        "SELECT n.nspname FROM pg_namespace n"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg\\_%%' AND has_schema_privilege('public', n.oid, 'USAGE')"
        " ORDER BY 1",
    )
    ((temporary, large_objects),) = await rows(
        conn,
        "SELECT has_database_privilege('public', current_database(), 'TEMPORARY'),"
        " has_function_privilege('public', 'lo_create(oid)', 'EXECUTE')",
    )
    bypasses = bool(is_super or bypass)
    powers = await read_powers(conn)
    return RoleReport(
        login=login,
        database=database,
        is_superuser=bool(is_super),
        bypasses_rls=bypasses,
        can_create_roles=bool(createrole),
        can_create_databases=bool(createdb),
        can_replicate=bool(repl),
        connection_limit=int(limit),
        memberships=tuple(name for (name,) in memberships),
        settings=tuple(setting for (setting,) in settings),
        readable=tuple(TableName(s, t) for s, t, reads, *_ in tables if reads),
        writable=tuple(TableName(s, t) for s, t, _, writes, *_ in tables if writes),
        rls_hidden=()
        if bypasses
        else tuple(TableName(s, t) for s, t, reads, _, hidden, _ in tables if reads and hidden),
        public_schemas=tuple(name for (name,) in public),
        public_tables=tuple(TableName(s, t) for s, t, *_, by_public in tables if by_public),
        public_temporary=bool(temporary),
        public_large_objects=bool(large_objects),
        powers=powers,
    )

"""Creating an agent role: a plan read from the catalog through the admin's login (what will
run, its preview with the password masked), then its application, journaled: the password
kept pending in the keyring, the role and its mark (the link's id) in one transaction, then
the new profile and its link. A failure before the commit leaves neither a role nor a
profile; kill -9 anywhere leaves a journal entry the next command settles (roles/settle.py),
never a profile for a role the database does not have."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from supalink.logs import MASK
from supalink.profiles import Profile, ProfileExists, ProfileRepository, Target
from supalink.roles import links
from supalink.roles.connection import connected, rows
from supalink.roles.errors import (
    CannotCreateRoles,
    CannotGrant,
    InvalidSpec,
    NeedsSavedProfile,
    RoleExists,
    RoleOwnsObjects,
    UnknownObjects,
)
from supalink.roles.journal import CREATE, Journal
from supalink.roles.marks import made_by_supalink, mark
from supalink.roles.ownership import owned_objects
from supalink.roles.scram import new_password, scram_secret
from supalink.roles.settle import carry_out
from supalink.roles.spec import RoleSpec, TableName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RolePlan:
    """What `apply` will run as the admin's login, and the profile it will save."""

    admin: Target = field(repr=False)
    spec: RoleSpec
    profile: Profile  # the new agent profile, logging in as the role
    admin_login: str  # the admin's role on the server (current_user)
    replaces: bool  # an existing role of that name is dropped first (it owns nothing)
    statements: tuple[sql.Composed, ...] = field(repr=False)
    masked_statements: tuple[sql.Composed, ...]
    not_granted: tuple[TableName, ...] = ()  # tables of a chosen schema the admin cannot grant
    password: str = field(default="", repr=False)
    secret: str = field(default="", repr=False)  # the password's SCRAM secret, as sent
    link_id: str = ""  # the link's id, in the role's mark

    @property
    def link(self) -> links.AgentLink:
        """What the new profile's link will hold."""
        admin = self.admin.profile.name if self.admin.profile is not None else ""
        place = links.Place.of(self.profile)
        return links.AgentLink(self.profile.name, admin, self.spec.name, self.link_id, place)

    def preview(self, *, masked: bool = True) -> str:
        """The SQL, one statement a line, as it will run (the password's secret masked)."""
        statements = self.masked_statements if masked else self.statements
        return "\n".join(f"{statement.as_string(None)};" for statement in statements)


async def plan_create(
    admin: Target, spec: RoleSpec, repository: ProfileRepository | None = None
) -> RolePlan:
    """Check the spec against the catalog through `admin` (a saved profile's target) and
    plan the statements; nothing is changed. With `repository`, an existing profile of the
    new name is refused unless the spec replaces it."""
    if admin.profile is None:
        raise NeedsSavedProfile()
    if spec.profile_name == admin.profile.name:
        raise InvalidSpec("profile_name", "the agent's profile cannot be the admin's own")
    if repository is not None and not spec.replace and spec.profile_name in repository.names():
        raise ProfileExists(spec.profile_name)
    async with connected(admin, "reading the catalog") as conn:
        login, replaces, not_granted = await _check(conn, spec)
        sequences = await _serial_sequences(conn, spec.write)
    password = new_password()
    secret = scram_secret(password)
    link_id = links.new_link_id()
    return RolePlan(
        admin=admin,
        spec=spec,
        profile=links.agent_profile(admin.profile, spec.profile_name, spec.name),
        admin_login=login,
        replaces=replaces,
        statements=_statements(spec, sql.Literal(secret), link_id, replaces, sequences),
        masked_statements=_statements(spec, sql.Literal(MASK), link_id, replaces, sequences),
        not_granted=not_granted,
        password=password,
        secret=secret,
        link_id=link_id,
    )


async def _check(
    conn: psycopg.AsyncConnection[Any], spec: RoleSpec
) -> tuple[str, bool, tuple[TableName, ...]]:
    ((login, is_super, can_create),) = await rows(
        conn,
        "SELECT current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user",
    )
    if not (is_super or can_create):
        raise CannotCreateRoles(login)
    replaces = await _existing(conn, spec)
    schemas = spec.usage_schemas
    found = await rows(
        conn,
        "SELECT nspname, has_schema_privilege(oid, 'USAGE WITH GRANT OPTION')"
        " FROM pg_namespace WHERE nspname = ANY(%s)",
        (list(schemas),),
    )
    if missing := tuple(s for s in schemas if s not in {name for name, _ in found}):
        raise UnknownObjects("schema", missing)
    if refused := tuple(name for name, grantable in found if not grantable):
        raise CannotGrant(login, tuple(f"schema {name}" for name in refused))
    await _check_tables(conn, login, spec)
    ungrantable = await rows(
        conn,
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
        " AND NOT has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION') ORDER BY 1, 2",
        (list(spec.read_schemas),),
    )
    return login, replaces, tuple(TableName(s, t) for s, t in ungrantable)


async def _existing(conn: psycopg.AsyncConnection[Any], spec: RoleSpec) -> bool:
    """Whether a role of that name is to be replaced; refused unless the spec says so, it
    is one Supalink made, and it owns nothing."""
    found = await rows(
        conn,
        "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s",
        (spec.name,),
    )
    if not found:
        return False
    comment = found[0][0]
    if not spec.replace or not made_by_supalink(comment):
        raise RoleExists(spec.name, made_by_supalink=made_by_supalink(comment))
    if objects := await owned_objects(conn, spec.name):
        raise RoleOwnsObjects(spec.name, objects)
    return True


async def _check_tables(conn: psycopg.AsyncConnection[Any], login: str, spec: RoleSpec) -> None:
    tables = spec.read_tables
    if not tables:
        return
    found = await rows(
        conn,
        "SELECT n.nspname, c.relname,"
        " has_table_privilege(c.oid, 'SELECT WITH GRANT OPTION'),"
        " has_table_privilege(c.oid, 'INSERT WITH GRANT OPTION')"
        " AND has_table_privilege(c.oid, 'UPDATE WITH GRANT OPTION')"
        " AND has_table_privilege(c.oid, 'DELETE WITH GRANT OPTION')"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN unnest(%s::text[], %s::text[]) AS asked(s, t)"
        " ON n.nspname = asked.s AND c.relname = asked.t"
        " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        ([t.schema for t in tables], [t.name for t in tables]),
    )
    rights = {TableName(s, t): (reads, writes) for s, t, reads, writes in found}
    if missing := tuple(str(t) for t in tables if t not in rights):
        raise UnknownObjects("table", missing)
    refused = [str(t) for t in tables if not rights[t][0]]
    refused += [f"{t} (writes)" for t in spec.write if not rights[t][1]]
    if refused:
        raise CannotGrant(login, tuple(refused))


async def _serial_sequences(
    conn: psycopg.AsyncConnection[Any], tables: tuple[TableName, ...]
) -> tuple[TableName, ...]:
    """The sequences behind the serial columns of `tables`: an INSERT takes their next value,
    which needs USAGE (an identity column's sequence needs nothing)."""
    if not tables:
        return ()
    found = await rows(
        conn,
        "SELECT sn.nspname, s.relname FROM pg_depend d"
        " JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'"
        " JOIN pg_namespace sn ON sn.oid = s.relnamespace"
        " JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN unnest(%s::text[], %s::text[]) AS asked(s, t)"
        " ON n.nspname = asked.s AND c.relname = asked.t"
        " WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass"
        " AND d.deptype = 'a' ORDER BY 1, 2",
        ([t.schema for t in tables], [t.name for t in tables]),
    )
    return tuple(TableName(schema, name) for schema, name in found)


def _statements(
    spec: RoleSpec,
    password: sql.Composable,
    link_id: str,
    replaces: bool,
    sequences: tuple[TableName, ...] = (),
) -> tuple[sql.Composed, ...]:
    role = sql.Identifier(spec.name)
    out: list[sql.Composed] = []
    if replaces:
        # DROP OWNED (privileges, default privileges) needs the role's rights: the admin
        # takes its membership, which goes with the role.
        out += [
            sql.SQL("GRANT {} TO CURRENT_USER").format(role),
            sql.SQL("DROP OWNED BY {}").format(role),
            sql.SQL("DROP ROLE {}").format(role),
        ]
    out.append(
        sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION"
            " CONNECTION LIMIT {} PASSWORD {}"
        ).format(role, sql.Literal(spec.connection_limit), password)
    )
    out.append(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(mark(link_id))))
    settings: list[tuple[str, str]] = []
    if spec.read_only:
        settings.append(("default_transaction_read_only", "on"))
    settings += [
        ("statement_timeout", spec.statement_timeout),
        ("idle_in_transaction_session_timeout", spec.idle_in_transaction_timeout),
    ]
    for name, value in settings:
        out.append(
            sql.SQL("ALTER ROLE {} SET {} = {}").format(
                role, sql.Identifier(name), sql.Literal(value)
            )
        )
    for schema in spec.usage_schemas:
        out.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))
    for schema in spec.read_schemas:
        quoted = sql.Identifier(schema)
        out.append(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(quoted, role))
        out.append(
            sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                quoted, role
            )
        )
    for table in spec.read_tables:
        out.append(sql.SQL("GRANT SELECT ON TABLE {} TO {}").format(_qualified(table), role))
    for table in spec.write:
        out.append(
            sql.SQL("GRANT INSERT, UPDATE, DELETE ON TABLE {} TO {}").format(
                _qualified(table), role
            )
        )
    for sequence in sequences:
        out.append(sql.SQL("GRANT USAGE ON SEQUENCE {} TO {}").format(_qualified(sequence), role))
    return tuple(out)


def _qualified(table: TableName) -> sql.Identifier:
    return sql.Identifier(table.schema, table.name)


async def apply(plan: RolePlan, repository: ProfileRepository) -> links.AgentLink:
    """Create the role and its profile: the password pending in the keyring, the role with
    its mark in one transaction, then the profile and its link (see roles/settle.py)."""
    journal = Journal.of(repository)
    link = plan.link
    async with journal.held():
        journal.refuse_pending(link.profile, link.role)
        if not plan.spec.replace and link.profile in repository.names():
            raise ProfileExists(link.profile)  # added since it was planned
        entry = journal.begin(CREATE, link, agent=plan.profile, replace=plan.spec.replace)

        async def statements(conn: psycopg.AsyncConnection[Any]) -> bool:
            for statement in plan.statements:
                await conn.execute(statement)
            return True

        secrets = (plan.password, plan.secret)
        await carry_out(repository, journal, entry, plan.admin, statements, secrets)
    log.info("created role %r for profile %r", plan.spec.name, link.profile)
    return link

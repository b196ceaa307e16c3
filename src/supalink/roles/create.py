"""Creating an agent role: a plan read from the catalog through the admin's login (what will
run, its preview with the password masked), then its application in one transaction, the
new profile and its password saved to the keyring before the commit (and taken back if the
commit fails), so a failure anywhere leaves neither a role nor a profile behind."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from supalink.logs import MASK
from supalink.profiles import Profile, ProfileRepository, Target
from supalink.roles import links
from supalink.roles.connection import connected, rows
from supalink.roles.errors import (
    CannotCreateRoles,
    CannotGrant,
    InvalidSpec,
    NeedsSavedProfile,
    NotAnAgentProfile,
    ProfileExists,
    RoleExists,
    RoleOwnsObjects,
    UnknownObjects,
)
from supalink.roles.ownership import owned_objects
from supalink.roles.scram import new_password, scram_secret
from supalink.roles.spec import RoleSpec, TableName

log = logging.getLogger(__name__)

# Marks the roles Supalink made: only those may be replaced.
COMMENT_PREFIX = "Agent role made by Supalink"


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

    def preview(self, *, masked: bool = True) -> str:
        """The SQL, one statement a line, as it will run (the password's secret masked)."""
        statements = self.masked_statements if masked else self.statements
        return "\n".join(f"{statement.as_string(None)};" for statement in statements)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(secret for secret in (self.password, self.secret) if secret)


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
    return RolePlan(
        admin=admin,
        spec=spec,
        profile=links.agent_profile(admin.profile, spec.profile_name, spec.name),
        admin_login=login,
        replaces=replaces,
        statements=_statements(spec, sql.Literal(secret), replaces, sequences),
        masked_statements=_statements(spec, sql.Literal(MASK), replaces, sequences),
        not_granted=not_granted,
        password=password,
        secret=secret,
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
    comment = found[0][0] or ""
    if not spec.replace or not comment.startswith(COMMENT_PREFIX):
        raise RoleExists(spec.name, made_by_supalink=comment.startswith(COMMENT_PREFIX))
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
    comment = f"{COMMENT_PREFIX} for profile {spec.profile_name}"
    out.append(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(comment)))
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
    """Run the plan in one transaction; the new profile and its password are saved before
    the commit and restored to what was there if the commit fails."""
    name = plan.profile.name
    admin_name = plan.admin.profile.name if plan.admin.profile is not None else ""
    link = links.AgentLink(name, admin_name, plan.spec.name)
    async with connected(plan.admin, "creating the role", extra_secrets=plan.secrets) as conn:
        for statement in plan.statements:
            await conn.execute(statement)
        undo = _Undo(repository, name)
        try:
            repository.save(plan.profile, plan.password, replace=plan.spec.replace)
            links.remember(repository, link)
            await conn.commit()
        except BaseException:
            undo.run()
            raise
    log.info("created role %r for profile %r", plan.spec.name, name)
    return link


class _Undo:
    """What was saved under a profile name before, to put back."""

    def __init__(self, repository: ProfileRepository, name: str) -> None:
        self.repository = repository
        self.name = name
        self.previous: tuple[Profile, str | None] | None = None
        self.previous_link: links.AgentLink | None = None
        if name in repository.names():
            saved = repository.load(name)
            password = repository.password(name)
            kept = password.value if password is not None and password.in_keyring else None
            self.previous = (saved.profile, kept)
            with contextlib.suppress(NotAnAgentProfile):
                self.previous_link = links.link_of(repository, name)

    def run(self) -> None:
        links.forget(self.repository, self.name)
        if self.name in self.repository.names():
            self.repository.remove(self.name)
        if self.previous is not None:
            profile, password = self.previous
            self.repository.save(profile, password, save_password=password is not None)
        if self.previous_link is not None:
            links.remember(self.repository, self.previous_link)

"""What the user asks of a new agent role, checked before any SQL runs: a plain role name,
schemas and SCHEMA.TABLE names, the limits. Names of schemas and tables are taken as the
database spells them and only ever reach SQL through psycopg's `sql.Identifier`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from supalink.roles.errors import InvalidRoleName, InvalidSpec, InvalidTableName

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: PostgreSQL would silently cut a longer name
_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")
# Names PostgreSQL refuses for a new role, or reads as something else in GRANT and ALTER.
_RESERVED = frozenset({"public", "none", "current_user", "current_role", "session_user"})
DEFAULT_CONNECTION_LIMIT = 5
DEFAULT_STATEMENT_TIMEOUT = "30s"
DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT = "60s"
DEFAULT_SCHEMA = "public"


def role_name_problem(name: str) -> str | None:
    """Why `name` is refused as a new role's name; None when it is a plain identifier."""
    if not _PLAIN.fullmatch(name):
        return "a lowercase letter or '_', then lowercase letters, digits or '_'"
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        return f"at most {MAX_IDENTIFIER_BYTES} bytes"
    if name.startswith("pg_"):
        return "names starting with pg_ are PostgreSQL's own"
    if name in _RESERVED:
        return "PostgreSQL reads that name as something else"
    return None


def checked_role_name(name: str) -> str:
    problem = role_name_problem(name)
    if problem is not None:
        raise InvalidRoleName(name, problem)
    return name


def default_role_name(profile: str) -> str:
    """`<profile>_agent` made plain: the profile name lowercased, other characters as `_`."""
    stem = re.sub(r"[^a-z0-9_]", "_", profile.lower())
    if not stem or stem[0].isdigit():
        stem = f"agent_{stem}"
    return f"{stem[: MAX_IDENTIFIER_BYTES - len('_agent')]}_agent"


@dataclass(frozen=True, order=True)
class TableName:
    schema: str
    name: str

    @classmethod
    def parse(cls, text: str) -> TableName:
        """SCHEMA.TABLE, split at the first dot (schema names with a dot are not supported)."""
        schema, dot, name = text.partition(".")
        if not dot or not schema or not name:
            raise InvalidTableName(text)
        return cls(schema, name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class RoleSpec:
    """A new agent role. `schemas`: every table of each, now and those the admin creates
    later; `tables`: single tables; `write`: tables it may also insert into, update and
    delete from. With no schema and no table at all, the `public` schema."""

    name: str
    profile_name: str  # the new profile that logs in as the role
    schemas: tuple[str, ...] = ()
    tables: tuple[TableName, ...] = ()
    write: tuple[TableName, ...] = ()
    connection_limit: int = DEFAULT_CONNECTION_LIMIT
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT
    idle_in_transaction_timeout: str = DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT
    replace: bool = False  # an existing role (and profile) of that name may be replaced

    def __post_init__(self) -> None:
        checked_role_name(self.name)
        if not 1 <= self.connection_limit <= 1000:
            raise InvalidSpec("connection_limit", "between 1 and 1000 connections")
        for schema in self.schemas:
            if not schema:
                raise InvalidSpec("schemas", "a schema needs a name")

    @property
    def read_schemas(self) -> tuple[str, ...]:
        """The schemas whose every table it reads."""
        if not self.schemas and not self.tables and not self.write:
            return (DEFAULT_SCHEMA,)
        return tuple(dict.fromkeys(self.schemas))

    @property
    def read_tables(self) -> tuple[TableName, ...]:
        """Single tables to read: the `tables`, and the `write` tables (an UPDATE or DELETE
        with a WHERE reads the rows it changes)."""
        return tuple(dict.fromkeys((*self.tables, *self.write)))

    @property
    def usage_schemas(self) -> tuple[str, ...]:
        named = (*self.read_schemas, *(table.schema for table in self.read_tables))
        return tuple(dict.fromkeys(named))

    @property
    def read_only(self) -> bool:
        return not self.write

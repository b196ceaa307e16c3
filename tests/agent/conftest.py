"""The agent's server's fixtures: a schema of its own in the shared server with rows to
protect, the app role granted every write on it (so only the guard stands in the way), and
the ways to reach it: direct, a session pooler and a transaction pooler (pgbouncer)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg import sql

from supalink.profiles import Mode, Target
from tests.support.pgbouncer import Pgbouncer, running_pgbouncer
from tests.support.postgres import PostgresServer, integer
from tests.support.system_tools import SystemTools

ROWS = [(1, "alpha"), (2, "beta"), (3, "gamma")]


@dataclass(frozen=True)
class Victim:
    """A schema whose contents the tests prove unchanged."""

    pg: PostgresServer
    schema: str

    def snapshot(self) -> dict[str, object]:
        """Everything an attack could change, read as the superuser."""
        with self.pg.admin_connect() as conn:
            items = conn.execute(
                sql.SQL("SELECT id, name FROM {}.items ORDER BY id").format(
                    sql.Identifier(self.schema)
                )
            ).fetchall()
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s"
                " ORDER BY 1",
                (self.schema,),
            ).fetchall()
            counter = conn.execute(
                sql.SQL("SELECT last_value, is_called FROM {}.counter").format(
                    sql.Identifier(self.schema)
                )
            ).fetchone()
            large_objects = conn.execute("SELECT count(*) FROM pg_largeobject_metadata").fetchone()
            log = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.side_log").format(sql.Identifier(self.schema))
            ).fetchone()
            role = conn.execute(
                "SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = %s",
                (self.pg.role,),
            ).fetchone()
        return {
            "items": items,
            "tables": tables,
            "counter": counter,
            "large_objects": large_objects,
            "side_log": log,
            "role": role,
        }


@pytest.fixture(scope="module")
def victim(pg: PostgresServer) -> Iterator[Victim]:
    schema = f"agent_{uuid.uuid4().hex[:8]}"
    role = sql.Identifier(pg.role)
    name = sql.Identifier(schema)
    with pg.admin_connect() as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(name))
        conn.execute(
            sql.SQL("CREATE TABLE {}.items (id int PRIMARY KEY, name text NOT NULL)").format(name)
        )
        conn.execute(sql.SQL("CREATE TABLE {}.side_log (at timestamptz)").format(name))
        conn.execute(sql.SQL("CREATE SEQUENCE {}.counter").format(name))
        conn.execute(
            sql.SQL(
                "CREATE FUNCTION {}.note() RETURNS int LANGUAGE sql AS "
                "$$ INSERT INTO {}.side_log VALUES (now()) RETURNING 1 $$"
            ).format(name, name)
        )
        with conn.cursor() as cur:
            cur.executemany(sql.SQL("INSERT INTO {}.items VALUES (%s, %s)").format(name), ROWS)
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(name, role))
        every_write = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE"
        conn.execute(
            sql.SQL(f"GRANT {every_write} ON ALL TABLES IN SCHEMA {{}} TO {{}}").format(name, role)
        )
        conn.execute(sql.SQL("GRANT USAGE, UPDATE ON SEQUENCE {}.counter TO {}").format(name, role))
        conn.execute(sql.SQL("GRANT CREATE ON DATABASE postgres TO {}").format(role))
    yield Victim(pg, schema)
    with pg.admin_connect() as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(name))


@pytest.fixture(scope="module")
def transaction_pooler(
    system_tools: SystemTools, services_root: Path, pg: PostgresServer
) -> Iterator[Pgbouncer]:
    root = services_root / f"agent-txbouncer-{uuid.uuid4().hex[:8]}"
    with running_pgbouncer(system_tools, root, pg, pool_mode="transaction") as bouncer:
        yield bouncer


def reach(request: pytest.FixtureRequest, kind: str) -> Target:
    """The shared database directly, through a session pooler or a transaction pooler."""
    pg: PostgresServer = request.getfixturevalue("pg")
    if kind == "direct":
        return Target.from_conninfo(pg.uri(), mode=Mode.DIRECT)
    if kind == "session":
        bouncer: Pgbouncer = request.getfixturevalue("pgbouncer")
        return Target.from_conninfo(bouncer.uri(), mode=Mode.SESSION)
    bouncer = request.getfixturevalue("transaction_pooler")
    return Target.from_conninfo(bouncer.uri(), mode=Mode.TRANSACTION)


@pytest.fixture(params=["direct", "session", "transaction"])
def target(request: pytest.FixtureRequest) -> Target:
    return reach(request, request.param)


@pytest.fixture(params=["direct", "session"])
def session_target(request: pytest.FixtureRequest) -> Target:
    """Where a connection is a session of its own."""
    return reach(request, request.param)


@dataclass(frozen=True)
class Login:
    """A login role of a test's own, with a password, that reads the victim's schema."""

    pg: PostgresServer
    name: str
    password: str

    def uri(self) -> str:
        return self.pg.uri(role=self.name, password=self.password)

    def target(self, mode: Mode = Mode.DIRECT) -> Target:
        return Target.from_conninfo(self.uri(), mode=mode)

    def backends(self, like: str = "%") -> list[tuple[int, str, str]]:
        """This role's backends other than idle ones: pid, state, query."""
        with self.pg.admin_connect() as conn:
            found = conn.execute(
                "SELECT pid, state, query FROM pg_stat_activity WHERE usename = %s"
                " AND state <> 'idle' AND query LIKE %s",
                (self.name, like),
            ).fetchall()
        return [(integer(pid), str(state), str(query)) for pid, state, query in found]


LoginFactory = Callable[..., Login]


@pytest.fixture
def make_login(pg: PostgresServer, victim: Victim) -> Iterator[LoginFactory]:
    """`make_login("BYPASSRLS", settings={"statement_timeout": "1s"}, limit=5)`: a new role
    that may read the victim's schema, dropped (its sessions ended) after the test."""
    made: list[str] = []

    def make(*attributes: str, settings: dict[str, str] | None = None, limit: int = -1) -> Login:
        name = f"login_{uuid.uuid4().hex[:8]}"
        password = f"pw-{uuid.uuid4().hex}"
        role = sql.Identifier(name)
        schema = sql.Identifier(victim.schema)
        with pg.admin_connect() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} CONNECTION LIMIT {} {}").format(
                    role, sql.Literal(password), sql.Literal(limit), sql.SQL(" ".join(attributes))
                )
            )
            made.append(name)
            for key, value in (settings or {}).items():
                conn.execute(
                    sql.SQL("ALTER ROLE {} SET {} = {}").format(
                        role, sql.Identifier(key), sql.Literal(value)
                    )
                )
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
            conn.execute(
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role)
            )
        return Login(pg, name, password)

    yield make
    with pg.admin_connect() as conn:
        for name in made:
            conn.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = %s",
                (name,),
            )
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))

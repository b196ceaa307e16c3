"""A database of its own laid out like a Supabase project, in the shared test server:
roles anon, authenticated and service_role (NOLOGIN), an admin login with CREATEROLE and
BYPASSRLS that is not superuser and is a member of the three (Supabase's `postgres`), tables
with RLS on with and without policies, a second schema, and a `net` schema every role can
read (pg_net's queued requests). Roles are cluster-wide: each name carries this run's suffix,
and every role with it is dropped at the end."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from supalink.paths import AppPaths
from supalink.profiles import KeyringSecretStore, Profile, ProfileRepository, open_repository
from tests.support.postgres import PostgresServer

ADMIN_PASSWORD = "admin-p@ss:w/rd é"
ROWS = [(1, "one"), (2, "two"), (3, "three")]


@dataclass(frozen=True)
class Supabase:
    pg: PostgresServer
    suffix: str
    database: str
    admin: str
    anon: str
    authenticated: str
    service_role: str
    schema: str  # the app's second schema (public is the first)

    def connect(self, **kwargs: Any) -> psycopg.Connection[tuple[Any, ...]]:
        """The superuser over the Unix socket, in this project's database."""
        return psycopg.connect(
            host=str(self.pg.socket_dir),
            port=self.pg.port,
            user="postgres",
            dbname=self.database,
            autocommit=True,
            **kwargs,
        )

    def role_name(self, stem: str = "agent") -> str:
        return f"{stem}_{self.suffix}_{uuid.uuid4().hex[:4]}"

    def admin_profile(self, name: str, **changes: Any) -> Profile:
        profile = Profile(
            name,
            host="127.0.0.1",
            port=self.pg.port,
            user=self.admin,
            database=self.database,
            sslrootcert=str(self.pg.ca_cert),
        )
        return profile.replace(**changes)

    def role_exists(self, role: str) -> bool:
        with self.connect() as conn:
            return bool(conn.execute("SELECT FROM pg_roles WHERE rolname = %s", (role,)).fetchall())


def repository_under(home: Path) -> ProfileRepository:
    return open_repository(AppPaths.under(home), KeyringSecretStore())


def _ddl(conn: psycopg.Connection[Any], text: str, **names: str) -> None:
    conn.execute(sql.SQL(text).format(**{k: sql.Identifier(v) for k, v in names.items()}))


@pytest.fixture(scope="module")
def supabase(pg: PostgresServer) -> Iterator[Supabase]:
    suffix = uuid.uuid4().hex[:6]
    project = Supabase(
        pg,
        suffix,
        f"project_{suffix}",
        f"admin_{suffix}",
        f"anon_{suffix}",
        f"authenticated_{suffix}",
        f"service_role_{suffix}",
        "app",
    )
    with pg.admin_connect() as conn:
        for role in (project.anon, project.authenticated, project.service_role):
            _ddl(conn, "CREATE ROLE {r} NOLOGIN", r=role)
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEROLE BYPASSRLS PASSWORD {}").format(
                sql.Identifier(project.admin), sql.Literal(ADMIN_PASSWORD)
            )
        )
        for role in (project.anon, project.authenticated, project.service_role):
            _ddl(conn, "GRANT {r} TO {a}", r=role, a=project.admin)
        _ddl(conn, "CREATE DATABASE {d} OWNER {a}", d=project.database, a=project.admin)
    with project.connect() as conn:
        _ddl(conn, "ALTER SCHEMA public OWNER TO {a}", a=project.admin)
        # pg_net's schema: owned by the platform, readable by every role.
        conn.execute("CREATE SCHEMA net")
        conn.execute("CREATE TABLE net.http_request_queue (id int, url text, headers jsonb)")
        conn.execute(
            "INSERT INTO net.http_request_queue VALUES (1, 'https://x', '{\"apikey\": \"k\"}')"
        )
        conn.execute("GRANT USAGE ON SCHEMA net TO PUBLIC")
        conn.execute("GRANT SELECT ON net.http_request_queue TO PUBLIC")
        _ddl(conn, "SET ROLE {a}", a=project.admin)
        conn.execute("CREATE SCHEMA app")
        for schema in ("public", "app"):
            for table in ("notes", "hidden", "members_only", "open_posts", "writable"):
                _ddl(
                    conn, "CREATE TABLE {s}.{t} (id int PRIMARY KEY, body text)", s=schema, t=table
                )
                conn.execute(
                    sql.SQL("INSERT INTO {}.{} VALUES (1, 'one'), (2, 'two'), (3, 'three')").format(
                        sql.Identifier(schema), sql.Identifier(table)
                    )
                )
            for table in ("hidden", "members_only", "open_posts"):
                _ddl(conn, "ALTER TABLE {s}.{t} ENABLE ROW LEVEL SECURITY", s=schema, t=table)
            _ddl(
                conn,
                "CREATE POLICY members ON {s}.members_only FOR SELECT TO {r} USING (true)",
                s=schema,
                r=project.authenticated,
            )
            _ddl(
                conn,
                "CREATE POLICY everyone ON {s}.open_posts FOR SELECT USING (id <= 2)",
                s=schema,
            )
        conn.execute("RESET ROLE")
    yield project
    with pg.admin_connect() as conn:
        _ddl(conn, "DROP DATABASE {d} WITH (FORCE)", d=project.database)
        leftover = [
            str(name)
            for (name,) in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE %s", (f"%\\_{suffix}%",)
            ).fetchall()
        ]
        for role in leftover:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        for role in leftover:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def admin(home: Path, supabase: Supabase, secret_service: object) -> str:
    """A saved admin profile (its password in the Secret Service) under `home`; its name."""
    name = f"admin-{uuid.uuid4().hex[:6]}"
    repository_under(home).save(supabase.admin_profile(name), ADMIN_PASSWORD)
    return name

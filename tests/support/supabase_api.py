"""A stand-in for Supabase's Management API on 127.0.0.1, built from the published response
shapes (shared SUPABASE-API.md: V1ProjectWithDatabaseResponse, SupavisorConfigResponse, the
pgbouncer config): a real HTTP server in a thread, reached through SUPALINK_SUPABASE_API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from supalink.profiles import KeyringSecretStore
from tests.support.secret_service import SecretService

TOKEN = "sbp_0123456789abcdef0123456789abcdef01234567"  # the stand-in's one valid token

# Projects whose pooler index is not 0 and whose region is not the default.
HEALTHY_REF = "kqzvbnmhgtrewlpoiuyx"
PAUSED_REF = "pausedprojectrefabcd"
UNHEALTHY_REF = "unhealthyprojectrefz"
HEALTHY_HOST = "aws-1-ap-southeast-2.pooler.supabase.com"


def project(ref: str, name: str, region: str, status: str) -> dict[str, Any]:
    return {
        "id": ref,  # deprecated, still sent
        "ref": ref,
        "organization_id": "orgslugexample",
        "organization_slug": "orgslugexample",
        "name": name,
        "region": region,
        "created_at": "2026-03-14T09:26:53.589793Z",
        "status": status,
        "database": {
            "host": f"db.{ref}.supabase.co",
            "version": "17.4.1.054",
            "postgres_engine": "17",
            "release_channel": "ga",
        },
    }


def pooler_entry(
    ref: str, host: str, *, database_type: str, port: int, mode: str
) -> dict[str, Any]:
    user = f"postgres.{ref}"
    return {
        "identifier": ref if database_type == "PRIMARY" else f"{ref}-rr-ap-southeast-2-abcde",
        "database_type": database_type,
        "is_using_scram_auth": True,
        "db_user": user,
        "db_host": host,
        "db_port": port,
        "db_name": "postgres",
        "connection_string": f"postgresql://{user}:[YOUR-PASSWORD]@{host}:{port}/postgres",
        "connectionString": f"postgresql://{user}:[YOUR-PASSWORD]@{host}:{port}/postgres",
        "default_pool_size": 15,
        "max_client_conn": 200,
        "pool_mode": mode,
    }


def pgbouncer(ref: str) -> dict[str, Any]:
    return {
        "default_pool_size": 15,
        "ignore_startup_parameters": "extra_float_digits",
        "max_client_conn": 200,
        "pool_mode": "transaction",
        "connection_string": f"postgresql://postgres:[YOUR-PASSWORD]@db.{ref}.supabase.co:6543/postgres",
    }


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StandIn:
    token: str = TOKEN
    projects: list[dict[str, Any]] = field(default_factory=list)
    poolers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    pgbouncers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Replies given instead of the real one, per path, first in first out.
    queued: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    url: str = ""

    def queue(self, path: str, *replies: Reply) -> None:
        self.queued.setdefault(path, []).extend(replies)

    def answer(self, path: str, authorization: str | None) -> Reply:
        self.requests.append((path, authorization))
        if self.queued.get(path):
            return self.queued[path].pop(0)
        if authorization != f"Bearer {self.token}":
            return Reply(401, {"message": "Unauthorized"})
        if path == "/v1/projects":
            return Reply(200, self.projects)
        parts = path.strip("/").split("/")
        if (
            len(parts) == 6
            and parts[:2] == ["v1", "projects"]
            and parts[3:5] == ["config", "database"]
        ):
            ref, what = parts[2], parts[5]
            table = (
                self.poolers if what == "pooler" else self.pgbouncers if what == "pgbouncer" else {}
            )
            if ref in table:
                return Reply(200, table[ref])
        return Reply(404, {"message": "Not Found"})


def default_stand_in() -> StandIn:
    stand_in = StandIn()
    stand_in.projects = [
        project(HEALTHY_REF, "shop", "ap-southeast-2", "ACTIVE_HEALTHY"),
        project(PAUSED_REF, "old blog", "eu-north-1", "INACTIVE"),
        project(UNHEALTHY_REF, "flaky", "sa-east-1", "ACTIVE_UNHEALTHY"),
    ]
    stand_in.poolers = {
        HEALTHY_REF: [
            # The replica first: its entry must never be the one taken.
            pooler_entry(
                HEALTHY_REF,
                "aws-0-ap-southeast-2.pooler.supabase.com",
                database_type="READ_REPLICA",
                port=6543,
                mode="transaction",
            ),
            pooler_entry(
                HEALTHY_REF, HEALTHY_HOST, database_type="PRIMARY", port=6543, mode="transaction"
            ),
        ],
    }
    stand_in.pgbouncers = {HEALTHY_REF: pgbouncer(HEALTHY_REF)}
    return stand_in


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        reply = self.server.stand_in.answer(self.path, self.headers.get("Authorization"))
        body = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: stderr is for failures
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, stand_in: StandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.stand_in = stand_in


@contextmanager
def running(stand_in: StandIn | None = None) -> Iterator[StandIn]:
    stand_in = stand_in or default_stand_in()
    server = _Server(stand_in)
    stand_in.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="supabase-api-stand-in"
    )
    thread.start()
    try:
        yield stand_in
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# Fixtures, made their own by the conftest.py of tests/supabase_api/ and tests/ui/.


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    """The stand-in, one per test (each test shapes its answers)."""
    with running() as server:
        yield server


@pytest.fixture
def keyring(secret_service: SecretService) -> Iterator[KeyringSecretStore]:
    """The real Secret Service, with no Supabase token in it before or after the test."""
    from keyring.backends.SecretService import Keyring

    from supalink.supabase_api import forget_token

    store = KeyringSecretStore(Keyring())
    forget_token(store)
    yield store
    forget_token(store)

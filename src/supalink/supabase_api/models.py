"""The parts of the Management API's answers Supalink reads (SUPABASE-API.md's shapes),
checked as they are read: a field of the wrong type is an UnexpectedAnswer, never a guess."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supalink.supabase_api.errors import UnexpectedAnswer

HEALTHY = "ACTIVE_HEALTHY"


@dataclass(frozen=True)
class Project:
    ref: str
    name: str
    region: str
    status: str
    postgres_version: str | None

    @property
    def is_healthy(self) -> bool:
        return self.status == HEALTHY

    def summary(self) -> dict[str, Any]:
        """What `supabase projects` lists."""
        return {
            "ref": self.ref,
            "name": self.name,
            "region": self.region,
            "status": self.status,
            "postgres_version": self.postgres_version,
        }


@dataclass(frozen=True)
class PoolerEndpoint:
    """One Supavisor entry: the exact host (aws-<N>-<region>.pooler.supabase.com)."""

    host: str
    port: int
    user: str
    database: str
    pool_mode: str


@dataclass(frozen=True)
class DedicatedPooler:
    pool_mode: str
    connection_string: str | None


def _text(item: dict[str, Any], key: str, path: str, *, optional: bool = False) -> Any:
    value = item.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise UnexpectedAnswer(path, f"{key!r} is not a text")
    return value


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnexpectedAnswer(path, "an entry is not an object")
    return value


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise UnexpectedAnswer(path, "the answer is not a list")
    return value


def projects_from(body: Any, path: str) -> list[Project]:
    found = []
    for entry in _array(body, path):
        item = _object(entry, path)
        database = item.get("database")
        database = database if isinstance(database, dict) else {}
        found.append(
            Project(
                ref=_text(item, "ref", path),
                name=_text(item, "name", path),
                region=_text(item, "region", path),
                status=_text(item, "status", path),
                postgres_version=_text(database, "version", path, optional=True),
            )
        )
    return found


def primary_pooler(body: Any, path: str, mode: str | None = None) -> PoolerEndpoint:
    """The PRIMARY database's entry (never a read replica's, never the first by position);
    of several, the one pooling in `mode` when there is one."""
    primaries = [
        _object(entry, path)
        for entry in _array(body, path)
        if _object(entry, path).get("database_type") == "PRIMARY"
    ]
    if not primaries:
        raise UnexpectedAnswer(path, "no entry for the PRIMARY database")
    chosen = next((e for e in primaries if e.get("pool_mode") == mode), primaries[0])
    port = chosen.get("db_port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise UnexpectedAnswer(path, "'db_port' is not a port number")
    return PoolerEndpoint(
        host=_text(chosen, "db_host", path),
        port=port,
        user=_text(chosen, "db_user", path),
        database=_text(chosen, "db_name", path),
        pool_mode=_text(chosen, "pool_mode", path),
    )


def dedicated_from(body: Any, path: str) -> DedicatedPooler:
    item = _object(body, path)
    return DedicatedPooler(
        pool_mode=_text(item, "pool_mode", path),
        connection_string=_text(item, "connection_string", path, optional=True),
    )

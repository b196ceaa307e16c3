"""The monitor's settings, with the guide's pool defaults, and the one function that turns
a conninfo string and those settings into psycopg connection keyword arguments."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg.conninfo

from supalink.errors import UsageError
from supalink.profiles.connect import TCP_KEEPALIVES
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode

DEFAULT_APPLICATION_NAME = "supalink-monitor"
# Appended to the application name of the listener's own connection, so the server view
# shows the pool and the listener as two rows.
LISTENER_SUFFIX = "/listen"
MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: longer names are silently truncated
_QUOTED = re.compile(r'".*"', re.DOTALL)


@dataclass(frozen=True)
class PoolSettings:
    """The guide's pool settings (DESIGN.md): what a well-behaved long-lived client uses."""

    min_size: int = 5
    max_size: int = 20
    max_idle: float = 300.0
    connect_timeout: float = 10.0
    statement_timeout: float = 60.0
    application_name: str = DEFAULT_APPLICATION_NAME
    health_interval: float = 60.0
    # None: unknown, the listener checks for a transaction-mode pooler itself.
    mode: Mode | None = None
    sslrootcert: Path | None = None

    def __post_init__(self) -> None:
        if self.min_size < 0 or self.max_size < 1 or self.min_size > self.max_size:
            raise UsageError(
                f"pool sizes must satisfy 0 <= min <= max and max >= 1 "
                f"(got min {self.min_size}, max {self.max_size})"
            )
        for name in ("max_idle", "connect_timeout", "statement_timeout", "health_interval"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise UsageError(f"{name.replace('_', ' ')} must be a positive number of seconds")
        if len(self.application_name.encode()) + len(LISTENER_SUFFIX) > MAX_IDENTIFIER_BYTES:
            raise UsageError("the application name is too long (PostgreSQL keeps 63 bytes)")

    def resized(self, min_size: int, max_size: int) -> PoolSettings:
        return replace(self, min_size=min_size, max_size=max_size)


@dataclass(frozen=True)
class MonitorSettings:
    """How often the monitor looks, how long it remembers and how fast it reconnects."""

    pool: PoolSettings = field(default_factory=PoolSettings)
    stats_interval: float = 1.0
    stats_history: int = 600  # ten minutes of 1 Hz samples for the chart
    # A health check waits this long for a connection; None: the connect timeout.
    health_timeout: float | None = None
    degraded_latency: float = 0.5
    server_view_interval: float = 10.0
    # The guide's SELECT 1 on the listener's connection, beside TCP keepalives.
    listener_check_interval: float = 60.0
    reconnect_initial_delay: float = 0.1
    # Capped so the listener is back within a few seconds of the server returning.
    reconnect_max_delay: float = 2.0
    log_capacity: int = 10_000
    batch_interval: float = 0.1  # at most ten deliveries a second to each consumer

    def __post_init__(self) -> None:
        if self.log_capacity < 1 or self.stats_history < 1:
            raise UsageError("the log and the stats history keep at least one row")
        if not 0 < self.reconnect_initial_delay <= self.reconnect_max_delay:
            raise UsageError("reconnect delays must satisfy 0 < initial <= max")

    @property
    def effective_health_timeout(self) -> float:
        if self.health_timeout is not None:
            return self.health_timeout
        return self.pool.connect_timeout


def connection_kwargs(
    conninfo: str, settings: PoolSettings, *, listener: bool = False
) -> dict[str, Any]:
    """Keyword arguments for `AsyncConnection.connect(conninfo, **kwargs)` and for the pool.

    They override what the conninfo says: the monitor names itself, bounds the connect
    time and turns TCP keepalives on so a silently dead connection is found. The statement
    timeout is set per session by the pool instead (see `pool.configure_session`), because
    poolers ignore the `options` startup parameter.
    """
    kwargs: dict[str, Any] = {
        # libpq takes whole seconds; never round a short timeout down to 0 (= wait forever).
        "connect_timeout": max(1, round(settings.connect_timeout)),
        "application_name": settings.application_name + (LISTENER_SUFFIX if listener else ""),
        **TCP_KEEPALIVES,
    }
    if settings.sslrootcert is not None:
        kwargs["sslrootcert"] = str(settings.sslrootcert)
        if "sslmode" not in _conninfo_params(conninfo):
            # Giving a CA means wanting the server verified against it.
            kwargs["sslmode"] = "verify-full"
    if settings.mode is Mode.TRANSACTION:
        # The transaction pooler hands each transaction to any server connection.
        kwargs["prepare_threshold"] = None
    return kwargs


def _conninfo_params(conninfo: str) -> dict[str, Any]:
    try:
        return psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return {}


def check_conninfo(conninfo: str) -> None:
    """Raise UsageError for a conninfo libpq cannot read, without quoting any of it back:
    libpq's message quotes the offending token, which can be part of the password."""
    try:
        psycopg.conninfo.conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as error:
        # Greedy: everything between the first and the last quote goes, quotes inside too.
        reason = _QUOTED.sub("…", str(error).strip()) or "unreadable"
        if "percent" in reason:
            reason += " (a '%' in a password is written %25)"
        raise UsageError(f"the connection string cannot be read: {reason}") from None


def password_of(conninfo: str) -> str | None:
    """The password inside a conninfo, so messages can be masked against it."""
    value = _conninfo_params(conninfo).get("password")
    return str(value) if value else None


def check_channel(channel: str) -> str:
    """Channel names are identifiers: at most 63 bytes, no NUL; anything else is allowed."""
    if not channel:
        raise UsageError("a channel name cannot be empty")
    if "\x00" in channel:
        raise UsageError("a channel name cannot hold a NUL character")
    if len(channel.encode()) > MAX_IDENTIFIER_BYTES:
        raise UsageError(f"channel name {channel!r} is longer than 63 bytes")
    return channel


def profile_target(profile: Profile, password: str | None) -> tuple[str, Mode | None]:
    """A profile's URI with its password, and its mode when the monitor must know it
    (through a transaction pooler LISTEN is refused without trying)."""
    from supalink.profiles.uris import build_uri

    mode = Mode.TRANSACTION if profile.mode is Mode.TRANSACTION else None
    return build_uri(profile, password), mode

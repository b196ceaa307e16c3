"""The monitor's settings, with the guide's pool defaults, and how its sessions connect."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from supalink.errors import UsageError
from supalink.profiles import Target, defaults

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: longer names are silently truncated


@dataclass(frozen=True)
class PoolSettings:
    """The guide's pool settings (DESIGN.md): what a well-behaved long-lived client uses."""

    min_size: int = defaults.POOL_MIN_SIZE
    max_size: int = defaults.POOL_MAX_SIZE
    max_idle: float = defaults.POOL_MAX_IDLE_SECONDS
    connect_timeout: float = defaults.CONNECT_TIMEOUT_SECONDS
    statement_timeout: float = defaults.STATEMENT_TIMEOUT_SECONDS
    application_name: str = defaults.MONITOR_APPLICATION_NAME
    health_interval: float = defaults.HEALTH_INTERVAL_SECONDS

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
        if (
            len(self.application_name.encode()) + len(defaults.LISTENER_SUFFIX)
            > MAX_IDENTIFIER_BYTES
        ):
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


def session_kwargs(
    target: Target, settings: PoolSettings, *, listener: bool = False
) -> dict[str, Any]:
    """How the monitor connects to `target`: it names itself (its listener as a row of its
    own), bounds the connect time, and keeps TCP keepalives on so a silently dead connection
    is found. The statement timeout is set per session by the pool instead (see
    `pool.configure_session`), because poolers ignore the `options` startup parameter."""
    name = settings.application_name + (defaults.LISTENER_SUFFIX if listener else "")
    return target.connection_kwargs(application_name=name, connect_timeout=settings.connect_timeout)


def check_channel(channel: str) -> str:
    """Channel names are identifiers: at most 63 bytes, no NUL; anything else is allowed."""
    if not channel:
        raise UsageError("a channel name cannot be empty")
    if "\x00" in channel:
        raise UsageError("a channel name cannot hold a NUL character")
    if len(channel.encode()) > MAX_IDENTIFIER_BYTES:
        raise UsageError(f"channel name {channel!r} is longer than 63 bytes")
    return channel

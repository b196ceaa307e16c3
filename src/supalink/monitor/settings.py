"""The monitor's settings, with its own small pool, and how its sessions connect."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from supalink.errors import UsageError
from supalink.profiles import Target, defaults

MAX_IDENTIFIER_BYTES = 63  # NAMEDATALEN - 1: longer names are silently truncated

# The monitor's own pool: the smallest that shows what it must. The guide's min 5, max 20
# (profiles.defaults) fit a busy app; a monitor runs one SELECT 1 a minute and a server
# view every 10 s, and on a Nano session pooler with a pool of 15 the guide's pool and a
# listener would take half of it. One connection is kept; a second opens only while two
# reads overlap (a check during a slow server view or a test NOTIFY) and closes within
# MONITOR_POOL_MAX_IDLE_SECONDS of the last overlap (see pool.py), so the pool is back to
# one soon after an outage.
MONITOR_POOL_MIN_SIZE = 1
MONITOR_POOL_MAX_SIZE = 2
MONITOR_POOL_MAX_IDLE_SECONDS = 60.0
# The listener's connection is outside the pool: with channels, one more.
LISTENER_CONNECTIONS = 1


@dataclass(frozen=True)
class PoolSettings:
    """The monitor's pool: its own sizes (above) and the guide's timeouts (DESIGN.md)."""

    min_size: int = MONITOR_POOL_MIN_SIZE
    max_size: int = MONITOR_POOL_MAX_SIZE
    max_idle: float = MONITOR_POOL_MAX_IDLE_SECONDS
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

    def server_connections(self, listening: bool) -> int:
        """The most server connections one monitor with these sizes holds (through a
        session pooler or directly, each is a server backend)."""
        return self.max_size + (LISTENER_CONNECTIONS if listening else 0)


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
    # The listener's own SELECT 1: sent after `listener_check_interval` seconds without a
    # word from the server (any notification counts as one), and answered within
    # `listener_check_timeout` or the connection is taken for dead. So a silent peer is
    # found within `listener_silence_bound` (10 + 3 = 13 s) of last hearing from it, under
    # the 15 s promised, at a cost of six SELECT 1 a minute on an idle channel. TCP
    # keepalives cannot bound it: a pooler in between (Supavisor, pgbouncer) is a proxy
    # whose kernel answers them for a stalled process.
    listener_check_interval: float = 10.0
    # Also the listen connection's tcp_user_timeout: data it sent that the network has not
    # acknowledged for this long ends the connection in the kernel too.
    listener_check_timeout: float = 3.0
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
        for name in ("listener_check_interval", "listener_check_timeout", "degraded_latency"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise UsageError(f"{name.replace('_', ' ')} must be a positive number of seconds")

    @property
    def listener_silence_bound(self) -> float:
        """How long after last hearing from the server the listener finds it silent, at most."""
        return self.listener_check_interval + self.listener_check_timeout

    @property
    def effective_health_timeout(self) -> float:
        if self.health_timeout is not None:
            return self.health_timeout
        return self.pool.connect_timeout


def session_kwargs(
    target: Target, settings: PoolSettings, *, listen_check_timeout: float | None = None
) -> dict[str, Any]:
    """How the monitor connects to `target`: it names itself, bounds the connect time, and
    keeps TCP keepalives on so a silently dead connection is found. The listen connection
    (given its check's timeout) is a row of its own and has the kernel give up on data left
    unacknowledged that long. The statement timeout is set per session by the pool instead
    (see `pool.configure_session`), because poolers ignore the `options` startup parameter."""
    if listen_check_timeout is None:
        return target.connection_kwargs(
            application_name=settings.application_name, connect_timeout=settings.connect_timeout
        )
    return target.connection_kwargs(
        application_name=settings.application_name + defaults.LISTENER_SUFFIX,
        connect_timeout=settings.connect_timeout,
        tcp_user_timeout=listen_check_timeout,
    )


def check_channel(channel: str) -> str:
    """Channel names are identifiers: at most 63 bytes, no NUL; anything else is allowed."""
    if not channel:
        raise UsageError("a channel name cannot be empty")
    if "\x00" in channel:
        raise UsageError("a channel name cannot hold a NUL character")
    if len(channel.encode()) > MAX_IDENTIFIER_BYTES:
        raise UsageError(f"channel name {channel!r} is longer than 63 bytes")
    return channel

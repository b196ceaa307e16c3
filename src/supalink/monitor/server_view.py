"""The server's side: who holds connections (leaks show up here), how close the server is
to `max_connections`, and how full the NOTIFY queue is."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from supalink.monitor.connections import Connection
from supalink.monitor.events import iso_time


@dataclass(frozen=True)
class ComputeSize:
    name: str
    max_connections: int
    pooler_clients: int


# Supabase's limits by compute size (DESIGN.md).
COMPUTE_SIZES: tuple[ComputeSize, ...] = (
    ComputeSize("Nano", 60, 200),
    ComputeSize("Micro", 60, 200),
    ComputeSize("Small", 90, 400),
    ComputeSize("Medium", 120, 600),
    ComputeSize("Large", 160, 800),
    ComputeSize("XL", 240, 1000),
    ComputeSize("2XL", 380, 1500),
    ComputeSize("4XL", 480, 3000),
    ComputeSize("8XL", 490, 6000),
    ComputeSize("12XL", 500, 9000),
    ComputeSize("16XL", 500, 12000),
)


def compute_sizes_for(max_connections: int) -> tuple[ComputeSize, ...]:
    """The compute sizes whose limit this server's max_connections matches (Nano and
    Micro share 60, 12XL and 16XL share 500); empty for a server that is not Supabase's."""
    return tuple(size for size in COMPUTE_SIZES if size.max_connections == max_connections)


@dataclass(frozen=True)
class ActivityGroup:
    application_name: str
    state: str  # active, idle, idle in transaction...; "(hidden)" without pg_read_all_stats
    count: int


@dataclass(frozen=True, slots=True)
class ServerSnapshot:
    event: ClassVar[str] = "server"
    at: float
    groups: tuple[ActivityGroup, ...]
    connections: int  # client backends
    max_connections: int
    reserved_connections: int  # superuser_reserved + reserved_connections (PG 16+)
    notification_queue_usage: float  # 0..1

    @property
    def available_connections(self) -> int:
        return self.max_connections - self.reserved_connections

    @property
    def usage(self) -> float:
        """Share of the connections ordinary roles may open that are taken."""
        return self.connections / max(1, self.available_connections)

    @property
    def compute_sizes(self) -> tuple[ComputeSize, ...]:
        return compute_sizes_for(self.max_connections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "at": iso_time(self.at),
            "connections": self.connections,
            "max_connections": self.max_connections,
            "reserved_connections": self.reserved_connections,
            "usage": round(self.usage, 4),
            "compute_size": "/".join(size.name for size in self.compute_sizes) or None,
            "notification_queue_usage": self.notification_queue_usage,
            "groups": [
                {"application_name": g.application_name, "state": g.state, "count": g.count}
                for g in self.groups
            ],
        }


_ACTIVITY = """
SELECT coalesce(application_name, ''), coalesce(state, '(hidden)'), count(*)
FROM pg_stat_activity
WHERE backend_type = 'client backend'
GROUP BY 1, 2
ORDER BY 3 DESC, 1, 2
"""
_LIMITS = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
       + coalesce(current_setting('reserved_connections', true)::int, 0),
       pg_notification_queue_usage()
"""


async def read_server(conn: Connection) -> ServerSnapshot:
    """One snapshot, in one read-only transaction rolled back at the end."""
    cursor = await conn.execute(_ACTIVITY)
    groups = tuple(
        ActivityGroup(str(name), str(state), int(count))
        for name, state, count in await cursor.fetchall()
    )
    cursor = await conn.execute(_LIMITS)
    row = await cursor.fetchone()
    await conn.rollback()
    if row is None:  # pragma: no cover - a SELECT without FROM returns one row
        raise RuntimeError("the server returned no settings row")
    max_connections, reserved, queue_usage = row
    return ServerSnapshot(
        at=time.time(),
        groups=groups,
        connections=sum(group.count for group in groups),
        max_connections=int(max_connections),
        reserved_connections=int(reserved),
        notification_queue_usage=float(queue_usage),
    )

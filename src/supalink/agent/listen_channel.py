"""One channel of the `notifications` tool (listen.py): what arrived on it that the agent has
not collected yet, and what a call takes of it.

What a channel holds is bounded in count and in bytes, one answer's worth: a flood keeps its
newest notifications, and the next call says how many older ones it dropped.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass, field
from typing import Any, Final

# Per channel: a flood keeps its newest notifications and counts what it dropped.
KEPT_PER_CHANNEL: Final = 1000
# What one channel may hold for the agent: one answer's worth.
MAX_BYTES: Final = 256_000
# What an entry adds to an answer beside its payload and channel: its keys and its pid.
_ENTRY_OVERHEAD: Final = 48


@dataclass
class Arrivals:
    """What one call returns for its channel."""

    channel: str
    notifications: list[dict[str, Any]]
    dropped: int = 0
    reconnected: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"channel": self.channel, "notifications": self.notifications}
        if self.dropped:
            data["dropped"] = self.dropped
        if self.reconnected:
            data["note"] = (
                "the listening connection was lost and opened again: "
                "notifications sent meanwhile are missing"
            )
        return data


@dataclass
class Channel:
    """One channel's notifications that the agent has not collected yet."""

    name: str
    asked: float  # on the loop's clock: when a call last asked for it
    max_bytes: int = MAX_BYTES
    # (payload, sending backend's pid, bytes counted against the budget)
    queue: collections.deque[tuple[str, int, int]] = field(default_factory=collections.deque)
    size: int = 0
    dropped: int = 0
    reconnected: bool = False
    listened: bool = False  # on some connection, so a new one means some may be missing
    waiting: int = 0  # calls waiting on it now: never idle meanwhile
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pending(self) -> bool:
        """Whether a call has something to take: notifications, or news of lost ones."""
        return bool(self.queue or self.dropped or self.reconnected)

    def keep(self, payload: str, pid: int, payload_bytes: int) -> None:
        """One notification, the oldest dropped (and counted) past the bounds."""
        size = _ENTRY_OVERHEAD + len(self.name) + payload_bytes
        queue = self.queue
        queue.append((payload, pid, size))
        self.size += size
        while len(queue) > KEPT_PER_CHANNEL or self.size > self.max_bytes:
            self.size -= queue.popleft()[2]
            self.dropped += 1
        self.arrived.set()

    def take(self) -> Arrivals:
        """What has arrived, for a call; the channel then holds nothing."""
        channel = self.name
        notifications = [
            {"channel": channel, "payload": payload, "pid": pid} for payload, pid, _ in self.queue
        ]
        arrivals = Arrivals(channel, notifications, self.dropped, self.reconnected)
        self.queue.clear()
        self.size = self.dropped = 0
        self.reconnected = False
        self.arrived.clear()
        return arrivals

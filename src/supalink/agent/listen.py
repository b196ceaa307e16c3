"""The `notifications` tool's LISTEN connection: the seed guide's LISTEN/NOTIFY, given to
the agent.

One connection of its own (a LISTEN needs a session: a transaction pooler cannot keep
one), opened on the first call. Nothing reads it between calls, so it costs nothing while
the agent is busy elsewhere: the server queues what arrives and each call collects it.
A lost connection is opened again on the next call, listening on every channel again,
and that answer says notifications sent meanwhile are missing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from supalink.errors import SupalinkError

if TYPE_CHECKING:
    import psycopg

    from supalink.profiles import Target

# Per channel: a flood keeps its newest notifications and counts what it dropped.
KEPT_PER_CHANNEL: Final = 1000
MAX_CHANNELS: Final = 20


class ListenRefused(SupalinkError):
    """The notifications tool cannot listen here."""


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
class _Channel:
    queue: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=KEPT_PER_CHANNEL)
    )
    dropped: int = 0
    reconnected: bool = False


class AgentListener:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._channels: dict[str, _Channel] = {}
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def collect(self, channel: str, wait_seconds: float) -> Arrivals:
        """What arrived on `channel` since the last call, waiting up to `wait_seconds` for
        the first when nothing has."""
        if self.target.mode is not None and not self.target.mode.supports_listen:
            raise ListenRefused(
                "LISTEN needs a session of its own, which a transaction pooler does not keep: "
                "use a profile in direct or session mode for notifications"
            )
        if channel not in self._channels and len(self._channels) >= MAX_CHANNELS:
            raise ListenRefused(f"at most {MAX_CHANNELS} channels are listened to at once")
        async with self._lock:
            conn = await self._connection()
            if channel not in self._channels:
                await self._listen(conn, channel)
                self._channels[channel] = _Channel()
            state = self._channels[channel]
            await self._read(conn, channel, wait_seconds if not state.queue else 0.0)
            arrivals = Arrivals(channel, list(state.queue), state.dropped, state.reconnected)
            state.queue.clear()
            state.dropped, state.reconnected = 0, False
            return arrivals

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        import psycopg

        if self._conn is not None and not self._conn.closed:
            return self._conn
        kwargs = self.target.connection_kwargs()
        kwargs["autocommit"] = True
        self._conn = await psycopg.AsyncConnection.connect(**kwargs)
        # A new session: listen again on what the agent listened to, and say so.
        for name, state in self._channels.items():
            await self._listen(self._conn, name)
            state.reconnected = True
        return self._conn

    @staticmethod
    async def _listen(conn: psycopg.AsyncConnection[Any], channel: str) -> None:
        from psycopg import sql

        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    async def _read(
        self, conn: psycopg.AsyncConnection[Any], channel: str, wait_seconds: float
    ) -> None:
        """Take in what the server queued; wait for the first on `channel` if none yet."""
        import psycopg

        deadline = time.monotonic() + wait_seconds
        try:
            while True:
                # Never leave a notifies() loop early: what came in the same packet would be
                # lost. stop_after ends it after a whole packet; a zero timeout polls once.
                remaining = max(0.0, deadline - time.monotonic())
                ours = False
                arriving = conn.notifies(timeout=remaining, stop_after=1)
                async with contextlib.aclosing(arriving):
                    async for notify in arriving:
                        ours |= self._keep(notify) == channel
                if ours or time.monotonic() >= deadline:
                    break
            # Whatever else has already arrived comes along.
            queued = conn.notifies(timeout=0.0)
            async with contextlib.aclosing(queued):
                async for notify in queued:
                    self._keep(notify)
        except psycopg.OperationalError:
            await self.close()
            self._conn = await self._connection()

    def _keep(self, notify: psycopg.Notify) -> str:
        state = self._channels.get(notify.channel)
        if state is not None:
            if len(state.queue) == state.queue.maxlen:
                state.dropped += 1
            state.queue.append(
                {"channel": notify.channel, "payload": notify.payload, "pid": notify.pid}
            )
        return notify.channel

"""The `notifications` tool's LISTEN connection: the seed guide's LISTEN/NOTIFY, given to
the agent.

One connection of its own (a LISTEN needs a session: a transaction pooler cannot keep
one), opened on the first call. Once it listens, it is read whenever data arrives,
whatever the agent does meanwhile: a listening backend that is not read stops reading the
cluster's NOTIFY queue, which then fills and makes every NOTIFY on any channel fail, for
every application. What the agent has not collected is held per channel up to a count
and a byte budget, the oldest dropped and counted (listen_channel.py); each call takes
what is there, or waits for the first arrival on its channel.

The socket is read in the event loop's reader callback (`pgconn.consume_input()`, as the
monitor's listener does) rather than by a task in `AsyncConnection.notifies()`, which pays
a loop turn with a new future and timer for each socket read and wakes ten times a second
while nothing comes: here it drained 8 kB notifications at ~13k/s against ~54k/s read in
place, and a reader slower than the senders lets the queue grow.

A channel nobody asked about for `idle_seconds` is unlistened and forgotten; with none
left the connection is closed and nothing runs. A lost connection is opened again on the
next call, listening on every channel again, and that answer says notifications sent
meanwhile are missing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any, Final

from supalink import error_texts
from supalink.agent.listen_channel import MAX_BYTES, Arrivals, Channel
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    import psycopg

    from supalink.profiles import Target

log = logging.getLogger(__name__)

MAX_CHANNELS: Final = 20
IDLE_SECONDS: Final = 600.0
# PostgreSQL cuts a longer channel name short, and its notifications would then carry a
# name other than the one asked for.
MAX_CHANNEL_BYTES: Final = 63
# Socket reads per loop turn in a flood: a few TLS records, well under a millisecond.
READS_PER_TURN: Final = 16

ROLE_LIMIT = (
    "this login's connection limit is reached: no connection is left for listening; "
    "close another client of this login or raise its connection limit"
)
SERVER_LIMIT = (
    "the server has no connection left for listening: close another client of this "
    "database or raise its connection limit"
)


class ListenRefused(SupalinkError):
    """The notifications tool cannot listen here."""


class AgentListener:
    def __init__(
        self,
        target: Target,
        *,
        max_bytes: int = MAX_BYTES,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.target = target
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._channels: dict[str, Channel] = {}
        self._listening: set[str] = set()  # on the connection open now
        # Held by whatever changes the connection or the channels; a waiting call does not
        # hold it, and the socket's callback needs none (it is removed under it).
        self._lock = asyncio.Lock()
        self._watched: int | None = None  # the socket, while its callback reads it
        self._expiry: asyncio.TimerHandle | None = None
        self._expirer: asyncio.Task[None] | None = None
        self._epoch = 0  # moves on at each close(): calls waiting from before it return

    async def close(self) -> None:
        """Stop reading, close the connection and forget the channels; waiting calls return
        what they have."""
        self._epoch += 1
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        expirer, self._expirer = self._expirer, None
        if expirer is not None:
            expirer.cancel()
            await asyncio.wait([expirer])
        async with self._lock:
            self._stop_reader()
            await self._drop_connection()
            channels = list(self._channels.values())
            self._channels.clear()
        for state in channels:
            state.arrived.set()

    async def collect(self, channel: str, wait_seconds: float) -> Arrivals:
        """What arrived on `channel` since the last call, waiting up to `wait_seconds` for
        the first when nothing has."""
        if self.target.mode is not None and not self.target.mode.supports_listen:
            raise ListenRefused(
                "LISTEN needs a session of its own, which a transaction pooler does not keep: "
                "use a profile in direct or session mode for notifications"
            )
        if len(channel.encode()) > MAX_CHANNEL_BYTES:
            raise ListenRefused(f"a channel name is at most {MAX_CHANNEL_BYTES} bytes long")
        # NaN or infinity from a caller that let one through: no wait rather than no end.
        wait = wait_seconds if math.isfinite(wait_seconds) and wait_seconds > 0 else 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        epoch = self._epoch
        state = await self._ready(channel, epoch)
        if state is None:  # closed meanwhile
            return Arrivals(channel, [])
        state.waiting += 1
        try:
            while not state.pending:
                remaining = deadline - loop.time()
                if remaining <= 0 or epoch != self._epoch:
                    break
                if self._conn is None:  # lost while waiting: open it again, and say so
                    if await self._ready(channel, epoch) is not state:
                        break  # closed meanwhile
                    continue
                state.arrived.clear()
                try:
                    async with asyncio.timeout(remaining):
                        await state.arrived.wait()
                except TimeoutError:
                    break
        finally:
            state.waiting -= 1
            state.asked = loop.time()
            if epoch == self._epoch:
                self._schedule_expiry()
        return state.take()

    async def server_channels(self) -> list[str]:
        """The channels the server says this connection listens to (none while closed):
        what a check compares with what the agent asked for."""
        async with self._lock:
            if self._conn is None:
                return []
            self._stop_reader()
            try:
                cursor = await self._conn.execute("SELECT pg_listening_channels()")
                rows = await cursor.fetchall()
            finally:
                self._start_reader()
        return [str(row[0]) for row in rows]

    async def _ready(self, channel: str, epoch: int) -> Channel | None:
        """The channel's state, listened to on an open connection; None once closed since
        `epoch`."""
        async with self._lock:
            if epoch != self._epoch:
                return None
            state = self._channels.get(channel)
            if state is None:
                # Checked and reserved under the lock: calls at once cannot pass the limit.
                if len(self._channels) >= MAX_CHANNELS:
                    raise ListenRefused(f"at most {MAX_CHANNELS} channels are listened to at once")
                asked = asyncio.get_running_loop().time()
                state = self._channels[channel] = Channel(channel, asked, self.max_bytes)
            try:
                await self._listen_on(channel)
            except BaseException:
                if not state.listened and self._channels.get(channel) is state:
                    del self._channels[channel]
                raise
            return state

    async def _listen_on(self, channel: str) -> None:
        import psycopg

        if self._conn is not None and not self._conn.closed and channel in self._listening:
            return
        self._stop_reader()
        try:
            # Twice at most: a connection that the command finds lost is opened again.
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        await self._drop_connection()
                        await self._open()
                    if channel not in self._listening:
                        await self._run("LISTEN", channel)
                    break
                except psycopg.OperationalError as error:
                    await self._drop_connection()
                    if attempt == 2:
                        reason = error_texts.first_line(str(error))
                        raise ListenRefused(
                            f"the listening connection was lost: {reason}"
                        ) from None
            self._channels[channel].listened = True
        finally:
            self._start_reader()

    async def _open(self) -> None:
        import psycopg

        kwargs = self.target.connection_kwargs()
        kwargs["autocommit"] = True
        try:
            self._conn = await psycopg.AsyncConnection.connect(**kwargs)
        except psycopg.Error as error:
            raise ListenRefused(_open_failure(error)) from None
        self._conn.add_notify_handler(self._on_notify)
        self._listening.clear()
        # A new session: listen again on what the agent listened to, and say so.
        for name, state in self._channels.items():
            await self._run("LISTEN", name)
            if state.listened:
                state.reconnected = True
            state.listened = True

    async def _run(self, command: str, channel: str) -> None:
        """LISTEN or UNLISTEN, the reader stopped."""
        import psycopg
        from psycopg import sql

        assert self._conn is not None
        try:
            await self._conn.execute(
                sql.SQL("{} {}").format(sql.SQL(command), sql.Identifier(channel))
            )
        except psycopg.OperationalError:
            raise
        except psycopg.Error as error:  # a standby, say: "cannot execute LISTEN during recovery"
            raise ListenRefused(
                f"cannot listen here: {error_texts.first_line(str(error))}"
            ) from None
        if command == "LISTEN":
            self._listening.add(channel)
        else:
            self._listening.discard(channel)

    def _start_reader(self) -> None:
        """Watch the socket again, and take in at once what libpq has already read (while
        a command ran) and would not wake the socket for."""
        conn = self._conn
        if self._watched is not None or conn is None:
            return
        if conn.closed:  # a command found it lost
            self._lost(conn)
        else:
            self._watched = conn.fileno()
            asyncio.get_running_loop().add_reader(self._watched, self._readable, conn)
            self._readable(conn)

    def _stop_reader(self) -> None:
        # Before every command: psycopg waits on the same socket, and a loop has one reader
        # per socket. What arrives meanwhile comes through the notify handler.
        if self._watched is not None:
            asyncio.get_running_loop().remove_reader(self._watched)
            self._watched = None

    def _readable(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The socket's callback: every notification that has come, read in place. A few
        reads per call at most, so that a flood leaves the loop its turns; what is left
        keeps the socket readable and the callback comes back at the next turn."""
        import psycopg
        from psycopg import pq

        pgconn, channels, encoding = conn.pgconn, self._channels, conn.info.encoding
        reads = 0
        try:
            while True:
                raw = pgconn.notifies()  # parses what libpq holds before saying none
                if raw is None:
                    if reads == READS_PER_TURN:
                        return
                    pgconn.consume_input()  # raises OperationalError once the server is gone
                    reads += 1
                    if pgconn.status != pq.ConnStatus.OK:
                        raise psycopg.OperationalError("the server closed the connection")
                    raw = pgconn.notifies()
                    if raw is None:
                        return
                state = channels.get(raw.relname.decode(encoding))
                if state is not None:  # else unlistened a moment ago
                    payload = raw.extra
                    state.keep(payload.decode(encoding), raw.be_pid, len(payload))
        except Exception as error:
            if not isinstance(error, psycopg.Error):
                log.exception("the notifications reader failed")
            self._lost(conn)

    def _on_notify(self, notify: psycopg.Notify) -> None:
        """What psycopg read while one of our commands ran."""
        state = self._channels.get(notify.channel)
        if state is not None:  # else unlistened a moment ago
            payload = notify.payload
            size = len(payload) if payload.isascii() else len(payload.encode())
            state.keep(payload, notify.pid, size)

    def _lost(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._stop_reader()
        if self._conn is conn:
            self._conn = None
            self._listening.clear()
        # What AsyncConnection.close() does, here where nothing can be awaited: it frees
        # the socket now rather than at the next call.
        conn.pgconn.finish()
        for state in self._channels.values():
            state.arrived.set()  # waiting calls open it again and say so

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._listening.clear()
        if conn is not None:
            await conn.close()

    def _schedule_expiry(self) -> None:
        """One timer for the next channel to fall idle; none while nothing is listened to."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        idle_since = [state.asked for state in self._channels.values() if not state.waiting]
        if idle_since:
            loop = asyncio.get_running_loop()
            self._expiry = loop.call_at(min(idle_since) + self.idle_seconds, self._expire_soon)

    def _expire_soon(self) -> None:
        self._expiry = None
        if self._expirer is None or self._expirer.done():
            self._expirer = asyncio.create_task(self._expire(), name="supalink-agent-listen-idle")

    async def _expire(self) -> None:
        """Unlisten the channels nobody asked about for `idle_seconds`; with none left,
        close the connection."""
        import psycopg

        async with self._lock:
            now = asyncio.get_running_loop().time()
            idle = [
                name
                for name, state in self._channels.items()
                if not state.waiting and now - state.asked >= self.idle_seconds
            ]
            if idle:
                self._stop_reader()
                for name in idle:
                    del self._channels[name]
                try:
                    if not self._channels:
                        await self._drop_connection()
                    elif self._conn is not None:
                        for name in idle:
                            if name in self._listening:
                                await self._run("UNLISTEN", name)
                except (psycopg.Error, ListenRefused):
                    await self._drop_connection()  # the next call opens it again
                self._start_reader()
            self._schedule_expiry()


def _open_failure(error: Exception) -> str:
    text = str(error)
    if "too many connections for role" in text.lower():
        return ROLE_LIMIT
    if getattr(error, "sqlstate", None) == "53300" or error_texts.says(
        text, error_texts.TOO_MANY_CLIENTS
    ):
        return SERVER_LIMIT
    return f"the listening connection could not be opened: {error_texts.first_line(text)}"

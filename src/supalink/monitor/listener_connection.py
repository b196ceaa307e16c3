"""The listener's connection: opened outside the pool, bounded as a whole, and refused
where LISTEN cannot work.

LISTEN needs a server session of its own. A transaction-mode pooler hands each
transaction to whichever server connection is free, so the LISTEN would stay behind on one
that is no longer ours and notifications would be lost. The target's mode says so when it
is known; otherwise a pooler in between is found by its process id and tested with a probe
NOTIFY that must arrive.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg import sql

from supalink.errors import SupalinkError
from supalink.monitor.connections import Connection, close_quietly
from supalink.monitor.settings import MonitorSettings, session_kwargs
from supalink.profiles import Target

PROBE_WAIT = 2.0  # a probe notification crosses a session pooler in milliseconds
REFUSAL = (
    "LISTEN needs a server session of its own, and a transaction-mode pooler (Supabase's "
    "port 6543, shared or dedicated) hands each transaction to whichever server connection "
    "is free, so "
    "notifications would be lost. Use the direct connection or the session pooler "
    "(port 5432) for the monitor."
)

# How a probe is sent: `notify(channel, payload)`.
Notify = Callable[[str, str], Awaitable[None]]


class ListenerRefused(SupalinkError):
    """Listening through this connection cannot work (a transaction-mode pooler)."""


async def open_listen_connection(
    target: Target, settings: MonitorSettings, *, check_pooler: bool, notify: Notify | None
) -> Connection:
    """A connection for LISTEN, with the kernel set to give up on data left unacknowledged
    for the listener's check timeout. With `check_pooler`, a transaction pooler in between
    is refused (`notify`: how the probe is sent; None: a connection of its own)."""
    if target.mode is not None and not target.mode.supports_listen:
        raise ListenerRefused(REFUSAL)
    kwargs = session_kwargs(
        target, settings.pool, listen_check_timeout=settings.listener_check_timeout
    )
    # Bounded as a whole: the pooler check below runs queries too.
    async with asyncio.timeout(settings.pool.connect_timeout * 2 + PROBE_WAIT):
        conn = await psycopg.AsyncConnection.connect(autocommit=True, **kwargs)
        try:
            if check_pooler:
                await refuse_transaction_pooler(conn, kwargs, notify)
        except BaseException:
            await close_quietly(conn)
            raise
    return conn


async def refuse_transaction_pooler(
    conn: Connection, kwargs: dict[str, Any], notify: Notify | None
) -> None:
    """A pooler answers with its own process id at login, so a mismatch with
    pg_backend_pid() means one is in between. Its mode is then tested the only way
    that holds for every pooler: a probe NOTIFY from another client must arrive.
    Through a transaction pooler it cannot, as the LISTEN stays behind on a server
    connection that is no longer ours."""
    if await server_pid(conn) == conn.info.backend_pid:
        return  # no pooler
    probe = f"supalink_probe_{secrets.token_hex(6)}"
    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(probe)))
    if notify is not None:
        await notify(probe, "probe")
    else:
        sender = await psycopg.AsyncConnection.connect(autocommit=True, **kwargs)
        try:
            await sender.execute("SELECT pg_notify(%s, 'probe')", (probe,))
        finally:
            await close_quietly(sender)
    arrived = False
    async for _ in conn.notifies(timeout=PROBE_WAIT, stop_after=1):
        arrived = True
    if not arrived:
        raise ListenerRefused(REFUSAL)
    await conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(probe)))


async def server_pid(conn: Connection) -> int:
    """The server process behind `conn` (not a pooler's, which its login names)."""
    cursor = await conn.execute("SELECT pg_backend_pid()")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0

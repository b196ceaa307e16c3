"""The monitor's connections, and the two ways it lets go of one: bounded (a query that
does not answer in time closes its connection) and quiet (closing never raises). The pool,
the listener and the health check all use them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

import psycopg
from psycopg.rows import TupleRow

Connection = psycopg.AsyncConnection[TupleRow]
T = TypeVar("T")


class ConnectionSilent(psycopg.OperationalError):
    """A connection did not answer in time: on a silently dead network (NAT timeout,
    sleeping laptop) it would otherwise wait for TCP keepalives, about a minute."""


async def run_bounded(conn: Connection, operation: Awaitable[T], timeout: float) -> T:
    """Await a query on `conn` for at most `timeout` seconds, else close `conn` and raise
    ConnectionSilent. Closing before cancelling spares psycopg the cancel request it would
    otherwise send and wait for (up to ten seconds) over the same dead network."""
    # The task hands its error back as a value, so no task ever ends in an exception
    # that only this function knows was handled.
    task = asyncio.ensure_future(_outcome(operation))
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except asyncio.CancelledError:
        await _abandon(conn, task)
        raise
    if task not in done:
        await _abandon(conn, task)
        raise ConnectionSilent(f"the connection did not answer within {timeout:g} s")
    result, error = task.result()
    if error is not None:
        raise error
    return cast(T, result)


async def _outcome(operation: Awaitable[T]) -> tuple[T | None, Exception | None]:
    try:
        return await operation, None
    except Exception as error:
        return None, error


async def _abandon(conn: Connection, task: asyncio.Future[Any]) -> None:
    """Shut the socket down under the waiting query, so it fails at once by itself;
    closing the descriptor instead would pull it from under the loop's reader."""
    with (
        contextlib.suppress(OSError, psycopg.Error),
        socket.socket(fileno=os.dup(conn.fileno())) as sock,
    ):
        sock.shutdown(socket.SHUT_RDWR)
    await asyncio.wait({task}, timeout=1.0)
    if not task.done():
        await close_quietly(conn)  # so cancelling sends no cancel request
        task.cancel()
    with contextlib.suppress(BaseException):
        await task
    await close_quietly(conn)


async def close_quietly(conn: Connection) -> None:
    with contextlib.suppress(Exception):
        await conn.close()

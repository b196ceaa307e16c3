"""The agent's server's stdin and stdout, read and written on the event loop.

The SDK's `stdio_server` reads and writes the standard streams through anyio's worker
threads: each message in and each message out is a hop to a thread and back, about 0.5 ms
of a 2.8 ms `select 1` round trip through the SDK's client here. Every MCP client starts a
server with pipes (or, from Node.js, socket pairs) on fd 0 and 1, and those the event loop
can watch: on POSIX, this hands the SDK's own `stdio_server` streams that read and write
them on the loop, with no thread. Anything else (a file, a terminal, /dev/null, Windows,
where the selector loop cannot watch a pipe) is served by the SDK's streams as they are.

While serving, fd 0 reads the null device and fd 1 writes to stderr, as the SDK arranges
for its own streams: stray output from a library cannot corrupt the wire, and nothing can
read the client's messages from under the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
    from mcp.shared.message import SessionMessage

# The longest message the server takes in. The SDK's own streams set none; this one is far
# beyond any statement an agent sends, and still keeps a runaway client bounded.
MAX_MESSAGE_BYTES: Final = 256 * 1024 * 1024


class _Lines:
    """The client's messages, one line each, as the SDK's stdin reader iterates them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _Output:
    """What the SDK's stdout writer calls: `write` a message, then `flush` it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


def _on_loop_possible() -> bool:
    """Pipes or sockets on fd 0 and 1, what the event loop can wait on (a file or /dev/null
    it cannot), and not one socket for both: asyncio's write side takes its socket turning
    readable for the client hanging up, which data for the read side would look like."""
    try:
        incoming, outgoing = os.fstat(0), os.fstat(1)
    except OSError:
        return False
    if not all(stat.S_ISFIFO(s.st_mode) or stat.S_ISSOCK(s.st_mode) for s in (incoming, outgoing)):
        return False
    return (incoming.st_dev, incoming.st_ino) != (outgoing.st_dev, outgoing.st_ino)


def _divert() -> tuple[int, int, Callable[[], None]]:
    """The wire's own descriptors (above the standard ones), with fd 0 on the null device
    and fd 1 on stderr meanwhile; and what points 0 and 1 back at the wire."""
    import fcntl

    wire_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    wire_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    # Kept to point 0 and 1 back: the transports close the wire's descriptors.
    saved_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
    saved_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 3)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
    finally:
        os.close(null)
    os.dup2(2, 1)

    def restore() -> None:
        for saved, fd in ((saved_in, 0), (saved_out, 1)):
            with contextlib.suppress(OSError):
                os.dup2(saved, fd)
            with contextlib.suppress(OSError):
                os.close(saved)

    return wire_in, wire_out, restore


async def _on_loop(
    wire_in: int, wire_out: int
) -> tuple[_Lines, _Output, asyncio.BaseTransport, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
    incoming, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0)
    )
    outgoing, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(outgoing, protocol, None, loop)
    return _Lines(reader), _Output(writer), incoming, outgoing


@contextlib.asynccontextmanager
async def stdio_streams() -> AsyncIterator[
    tuple[
        MemoryObjectReceiveStream[SessionMessage | Exception],
        MemoryObjectSendStream[SessionMessage],
    ]
]:
    """The read and write streams for `Server.run`, as `mcp.server.stdio.stdio_server`
    gives them."""
    from mcp.server.stdio import stdio_server

    if sys.platform == "win32" or not _on_loop_possible():
        async with stdio_server() as streams:
            yield streams
        return
    wire_in, wire_out, restore = _divert()
    transports: list[asyncio.BaseTransport] = []
    try:
        lines, output, incoming, outgoing = await _on_loop(wire_in, wire_out)
        transports = [incoming, outgoing]
        # The SDK iterates `stdin` and calls `write` and `flush` on `stdout`; these do that
        # on the loop instead of through anyio.AsyncFile's threads.
        async with stdio_server(cast(Any, lines), cast(Any, output)) as streams:
            yield streams
    finally:
        for transport in transports:
            transport.close()
        if transports:
            await asyncio.sleep(0)  # their connection_lost closes the wire's descriptors
        restore()

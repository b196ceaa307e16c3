"""The agent's server's input cut into lines as it arrives (stdio.py): JSON-RPC over stdio is
one message a line.

A line longer than the limit is never held whole: it is dropped as it arrives, and only its
first bytes are kept, so that its id can still be read and the client answered. Reading
pauses while more than the limit waits to be taken.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass
from typing import Final

# Where an overlong line's id is looked for: clients write `jsonrpc` and `id` first.
HEAD_BYTES: Final = 4096


@dataclass(frozen=True)
class Overlong:
    """In place of a line longer than the limit: its first bytes, for its id."""

    head: bytes


class LineReader(asyncio.Protocol):
    """The wire's bytes cut into lines of at most `limit` bytes (newline excluded).

    A longer line is dropped the moment it passes the limit and the rest of it as it
    arrives, so it never costs more than the limit. Reading pauses while more than the
    limit waits to be taken: a client that writes faster than the server answers is held
    back by its pipe, not by this process's memory.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lines: collections.deque[bytes | Overlong] = collections.deque()
        self._queued = 0  # bytes in `_lines`
        self._partial: list[bytes] = []  # the line being received, before its newline
        self._partial_size = 0
        self._skipping = False  # inside an overlong line, until its newline
        self._ended = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._transport: asyncio.ReadTransport | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.ReadTransport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        start = 0
        while (newline := data.find(b"\n", start)) >= 0:
            if self._skipping:
                self._skipping = False
            elif self._partial_size + newline - start > self._limit:
                self._overlong(data[start : min(newline, start + HEAD_BYTES)])
            else:
                # A read of one whole line, the usual case, is that line: slicing all of a
                # bytes object gives the object itself, no copy.
                line = data[start : newline + 1]
                if self._partial:
                    self._partial.append(line)
                    line = b"".join(self._partial)
                    self._partial, self._partial_size = [], 0
                self._queue(line)
            start = newline + 1
        if start < len(data) and not self._skipping:
            if self._partial_size + len(data) - start > self._limit:
                self._overlong(data[start : start + HEAD_BYTES])
                self._skipping = True
            else:
                self._partial.append(data[start:])
                self._partial_size += len(data) - start
        if self._lines:
            self._wake()
        if not self._paused and self._queued + self._partial_size > self._limit:
            assert self._transport is not None
            self._transport.pause_reading()
            self._paused = True

    def eof_received(self) -> None:
        if self._partial:  # the last line, without a newline
            self._queue(b"".join(self._partial))
            self._partial, self._partial_size = [], 0
        self._ended = True
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended = True
        self._error = exc
        self._wake()

    async def next_line(self) -> bytes | Overlong | None:
        """The next line, with its newline (the input's last may have none); None at the
        end of the input."""
        while not self._lines:
            if self._error is not None:
                raise self._error
            if self._ended:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        line = self._lines.popleft()
        if isinstance(line, bytes):
            self._queued -= len(line)
        if self._paused and self._queued + self._partial_size <= self._limit:
            assert self._transport is not None
            self._transport.resume_reading()
            self._paused = False
        return line

    def _queue(self, line: bytes) -> None:
        self._lines.append(line)
        self._queued += len(line)

    def _overlong(self, tail: bytes) -> None:
        """The line so far, its received part and `tail`, is past the limit: keep its
        head, let the rest go."""
        head = b""
        for chunk in (*self._partial, tail):
            head += chunk[: HEAD_BYTES - len(head)]
            if len(head) == HEAD_BYTES:
                break
        self._partial, self._partial_size = [], 0
        self._lines.append(Overlong(head))

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

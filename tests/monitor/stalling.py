"""A TCP proxy whose network can stall, as a frozen pooler or a dead route does: after
`stall()` nothing more goes through in either direction, on open connections and new ones
alike, while every socket stays open (no FIN, no RST: not even a close gets through).
What is sent meanwhile waits in the kernel's buffers; `resume()` lets it all through.

Unlike the black hole proxy (blackhole.py), which swallows what its silenced connections
carry while new ones work, this one holds everything, so a test chooses when the network
comes back."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVarTuple

Ts = TypeVarTuple("Ts")


@dataclass
class _Link:
    client: socket.socket
    server: socket.socket | None = None
    closed: bool = False

    def close(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@dataclass
class StallingProxy:
    target_port: int
    target_host: str = "127.0.0.1"
    port: int = 0
    _links: list[_Link] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Held while a chunk is forwarded, so that once stall() returns nothing more goes through.
    _gate: threading.Lock = field(default_factory=threading.Lock)
    _flowing: threading.Event = field(default_factory=threading.Event)
    _stopped: bool = False
    _threads: list[threading.Thread] = field(default_factory=list)
    _listener: socket.socket | None = None

    def start(self) -> None:
        self._flowing.set()
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return sum(1 for link in self._links if not link.closed)

    def stall(self) -> int:
        """Nothing more gets through, from the moment this returns; returns how many
        connections are open."""
        with self._gate:
            self._flowing.clear()
        return self.open_connections

    def resume(self) -> None:
        self._flowing.set()

    def stop(self) -> None:
        self._stopped = True
        self._flowing.set()  # wakes every waiting thread, which then sees the stop
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            self._listener.close()
        with self._lock:
            for link in self._links:
                link.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Callable[[*Ts], object], *args: *Ts) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _pass(self) -> bool:
        """Wait until the network flows; False once the proxy is stopped."""
        self._flowing.wait()
        return not self._stopped

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            link = _Link(client)
            with self._lock:
                self._links.append(link)
            self._spawn(self._connect, link)

    def _connect(self, link: _Link) -> None:
        # A stalled network carries no connection attempt either: the client waits.
        if not self._pass():
            return
        try:
            link.server = socket.create_connection((self.target_host, self.target_port))
        except OSError:
            link.close()  # the server is not there: the client sees the connection end
            return
        self._spawn(self._pump, link, link.client, link.server)
        self._spawn(self._pump, link, link.server, link.client)

    def _pump(self, link: _Link, source: socket.socket, sink: socket.socket) -> None:
        while self._pass():
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            while self._pass():  # what came in as the network stalled waits for it too
                with self._gate:
                    if not self._flowing.is_set():
                        continue
                    if data:
                        try:
                            sink.sendall(data)
                        except OSError:
                            data = b""
                    if not data:  # an end, passed on only while the network flows
                        link.close()
                        return
                break
        link.close()

"""A TCP proxy that can make its open connections go silent, as a NAT timeout or a
sleeping laptop does: nothing is closed, nothing gets through. New connections work."""

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
    server: socket.socket
    silent: bool = False

    def close(self) -> None:
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@dataclass
class BlackholeProxy:
    target_port: int
    target_host: str = "127.0.0.1"
    port: int = 0
    _links: list[_Link] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._spawn(self._accept)

    def silence(self) -> int:
        """Every open connection goes quiet; returns how many."""
        with self._lock:
            for link in self._links:
                link.silent = True
            return len(self._links)

    def stop(self) -> None:
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
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # stopped
            try:
                server = socket.create_connection((self.target_host, self.target_port))
            except OSError:
                # The server is down (a test restarting it): the client sees the connection
                # end, as through a real proxy. Raising here would end this thread, and the
                # proxy would accept nothing more.
                client.close()
                continue
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)
            self._spawn(self._pump, link, client, server)
            self._spawn(self._pump, link, server, client)

    @staticmethod
    def _pump(link: _Link, source: socket.socket, sink: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
                if not data:
                    break
                if not link.silent:  # silent: swallowed, and the peer is not told
                    sink.sendall(data)
            except OSError:
                break
        if not link.silent:
            link.close()

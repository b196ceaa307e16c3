"""Supabase as the connection test meets it, where this machine cannot have the real thing:
the names of a project's hosts (a fake resolver maps them to loopback) and a small TLS
endpoint that answers like Supavisor."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading

from tests.support.tls import TlsFiles

# A project ref for Supabase-shaped profiles; the fake resolver maps its hosts to loopback.
REF = "abcdefghijklmnopqrst"
POOLER_HOST = "aws-0-eu-central-1.pooler.supabase.com"
DIRECT_HOST = f"db.{REF}.supabase.co"


class FakeSupavisor:
    """Answers every login with Supavisor's "Tenant or user not found", after real TLS.

    Supavisor is not installable here; the bytes it sends are a PostgreSQL ErrorResponse,
    so libpq goes through its real TLS and startup path and reports the real text.
    """

    MESSAGE = "Tenant or user not found"

    def __init__(self, tls: TlsFiles) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(tls.server_cert, tls.server_key)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-supavisor")

    def __enter__(self) -> FakeSupavisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            with client:
                client.settimeout(5)
                # A client that gave up is no failure of the fake.
                with contextlib.suppress(OSError, ssl.SSLError):
                    self._answer(client)

    def _answer(self, client: socket.socket) -> None:
        request = _read_exactly(client, 8)
        if request != struct.pack("!ii", 8, 80877103):
            return
        client.sendall(b"S")
        with self._context.wrap_socket(client, server_side=True) as tls:
            (length,) = struct.unpack("!i", _read_exactly(tls, 4))
            _read_exactly(tls, length - 4)  # the startup packet: user, database, ...
            fields = b"".join(
                code + text.encode() + b"\0"
                for code, text in (
                    (b"S", "FATAL"),
                    (b"V", "FATAL"),
                    (b"C", "XX000"),
                    (b"M", self.MESSAGE),
                )
            )
            body = fields + b"\0"
            tls.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed early")
        data += chunk
    return data

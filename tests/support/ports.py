"""Free TCP ports on both loopback stacks."""

from __future__ import annotations

import os
import random
import socket
import time

# Each pytest-xdist worker picks from a range of its own, below Linux's ephemeral ports
# (32768 and up, where bind(0) and outgoing connections take theirs): a port one worker
# found free cannot be taken by another before its server binds it.
PORTS_FROM = 20_000
PORTS_PER_WORKER = 2_000
_handed_out: set[int] = set()  # in this process: a port picked is not picked again


def _worker_index() -> int:
    number = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")  # gw0, gw1, ...
    return int(number) if number.isdigit() else 0


def free_port() -> int:
    """A port free on 127.0.0.1 and ::1 (servers here listen on both)."""
    start = PORTS_FROM + (_worker_index() % 6) * PORTS_PER_WORKER
    for port in random.sample(range(start, start + PORTS_PER_WORKER), 200):
        if port in _handed_out:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as v4:
                v4.bind(("127.0.0.1", port))
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as v6:
                    v6.bind(("::1", port))
        except OSError:
            continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no port is free on both 127.0.0.1 and ::1")


def wait_for_port(host: str, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

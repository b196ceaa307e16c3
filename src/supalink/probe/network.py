"""The probe's view of the network: name lookup, IPv6 route, and a bare TCP connect.

The resolver and the route check are seams: Supabase's names do not resolve on a test
machine, and a test must never send traffic beyond loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
from enum import StrEnum
from typing import Protocol

# getaddrinfo answers meaning "this name has no address of that family", not "DNS is down".
_NO_SUCH_NAME = {
    socket.EAI_NONAME,
    getattr(socket, "EAI_NODATA", socket.EAI_NONAME),
    getattr(socket, "EAI_ADDRFAMILY", socket.EAI_NONAME),
}


class LookupFailed(Exception):
    """The lookup itself failed (no DNS server answered), as opposed to an unknown name."""


class Resolver(Protocol):
    async def lookup(self, host: str, family: socket.AddressFamily) -> list[str]:
        """Addresses of one family (A for AF_INET, AAAA for AF_INET6); empty when the name
        has none. Raises LookupFailed when no answer could be had at all."""
        ...


class RouteChecker(Protocol):
    async def __call__(self, address: str) -> bool:
        """Whether this machine has a route to an IPv6 address."""
        ...


class SystemResolver:
    """The operating system's resolver, through the event loop's getaddrinfo."""

    async def lookup(self, host: str, family: socket.AddressFamily) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, None, family=family, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            if error.errno in _NO_SUCH_NAME:
                return []
            raise LookupFailed(error.strerror or str(error)) from None
        addresses: list[str] = []
        for info in infos:
            address = str(info[4][0])
            if info[0] == family and address not in addresses:
                addresses.append(address)
        return addresses


async def udp_route_check(address: str) -> bool:
    """Ask the kernel for a route by connecting a UDP socket: connect() on UDP sends nothing."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.setblocking(False)
            probe.connect((address, 9))
    except OSError:
        return False
    return True


class TcpOutcome(StrEnum):
    OPEN = "open"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    ERROR = "error"


async def tcp_check(address: str, port: int, timeout: float) -> tuple[TcpOutcome, str]:
    """A bare TCP connect, to tell refused from timed out after libpq failed."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(address, port)
    except TimeoutError:
        return TcpOutcome.TIMEOUT, f"no answer within {timeout:g} s"
    except ConnectionRefusedError:
        return TcpOutcome.REFUSED, "connection refused"
    except OSError as error:
        unreachable = error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL)
        outcome = TcpOutcome.UNREACHABLE if unreachable else TcpOutcome.ERROR
        return outcome, error.strerror or str(error)
    writer.close()
    with contextlib.suppress(OSError):  # the server closing first is still an open port
        await writer.wait_closed()
    return TcpOutcome.OPEN, "the port accepts TCP connections"

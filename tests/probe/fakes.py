"""Fakes for what this machine cannot have (Supabase's DNS names, a network without IPv6),
and a short way to run a probe in a test."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from supalink.probe import Probe, ProbeResult, Step
from supalink.probe.network import LookupFailed
from supalink.profiles import Target
from supalink.profiles.model import Profile


@dataclass
class FakeResolver:
    """Names to addresses, A and AAAA apart; records every lookup it was asked for."""

    ipv4: dict[str, list[str]] = field(default_factory=dict)
    ipv6: dict[str, list[str]] = field(default_factory=dict)
    failure: str | None = None  # raise LookupFailed with this text
    hang: bool = False  # never answer
    lookups: list[tuple[str, socket.AddressFamily]] = field(default_factory=list)

    async def lookup(self, host: str, family: socket.AddressFamily) -> list[str]:
        self.lookups.append((host, family))
        if self.hang:
            await asyncio.Event().wait()
        if self.failure is not None:
            raise LookupFailed(self.failure)
        table = self.ipv4 if family == socket.AF_INET else self.ipv6
        return list(table.get(host, []))


def route_checker(answer: bool) -> Callable[[str], Awaitable[bool]]:
    asked: list[str] = []

    async def check(address: str) -> bool:
        asked.append(address)
        return answer

    check.asked = asked  # type: ignore[attr-defined]
    return check


def run(
    profile: Profile, password: str | None, *, timeout: float | None = None, **seams: Any
) -> tuple[ProbeResult, list[Step]]:
    """Run a probe to its end; the steps as the callback saw them, live."""
    seen: list[Step] = []
    target = Target.from_profile(profile, password)
    probe = Probe(target, timeout=timeout, on_step=seen.append, **seams)
    return asyncio.run(probe.run()), seen


def names(result: ProbeResult) -> list[str]:
    return [str(step.name) for step in result.steps]


ALL_STEPS = ["parse", "dns", "route", "tcp", "tls", "auth", "query"]

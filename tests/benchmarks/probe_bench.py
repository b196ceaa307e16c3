"""probe_ratio: the connection test's success path against a bare psycopg connect plus the
same query, both verify-full over TLS to the loopback server, under plain asyncio."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from supalink.probe import Probe
from supalink.probe.facts import PROBE_SQL
from supalink.profiles import Profile, Target
from tests.benchmarks.figures import median
from tests.support.postgres import PostgresServer


async def _probe_once(profile: Profile, password: str) -> float:
    started = time.perf_counter()
    result = await Probe(Target.from_profile(profile, password)).run()
    took = time.perf_counter() - started
    if not result.ok:
        raise RuntimeError(f"the probe failed: {result.diagnosis}")
    return took


async def _bare_once(profile: Profile, password: str) -> float:
    kwargs = Target.from_profile(profile, password).connection_kwargs()
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(**kwargs) as conn:
        cursor = await conn.execute(PROBE_SQL)  # no parameters: one simple query, two results
        rows = await cursor.fetchall()
        assert cursor.nextset()
        rows += await cursor.fetchall()
    took = time.perf_counter() - started
    assert len(rows) == 2
    return took


async def _measure(profile: Profile, password: str, runs: int) -> tuple[list[float], list[float]]:
    await _probe_once(profile, password)  # warm: imports, the server's catalog caches
    await _bare_once(profile, password)
    probe, bare = [], []
    for _ in range(runs):  # interleaved
        probe.append(await _probe_once(profile, password))
        bare.append(await _bare_once(profile, password))
    return probe, bare


def probe(pg: PostgresServer, runs: int) -> dict[str, Any]:
    profile = Profile(
        "bench", host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    probe_times, bare_times = asyncio.run(_measure(profile, pg.password, runs))
    return {
        "probe_ratio": median(probe_times) / median(bare_times),
        "probe_ms": median(probe_times) * 1000,
        "probe_bare_ms": median(bare_times) * 1000,
        "probe_runs": runs,
    }

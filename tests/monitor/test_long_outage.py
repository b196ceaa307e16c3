"""After a long outage the monitor sees the server back within seconds, not at the pool's
next doubled retry (psycopg_pool's backoff, 1 s doubling, would wait until 31 s after a
16 s outage) nor once its attempts gave up (after the connect timeout); and the pool never
grows past its max meanwhile. On a throwaway server of this module's own, stopped for
real."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from supalink.monitor import MonitorEngine
from supalink.monitor.health import Health
from supalink.monitor.settings import MonitorSettings, PoolSettings
from supalink.profiles import Target
from tests.support.monitoring import channel_name, run, wait_until
from tests.support.postgres import PostgresServer

WAIT = 60.0
OUTAGE = 16.0  # past the pool's 10 s of attempts, and its retries at 1, 3, 7 and 15 s
BACK_WITHIN = 15.0  # the listener's retry (2 s at most) and a check, with a wide margin


@pytest.mark.slow
def test_the_server_is_seen_back_within_seconds_after_a_long_outage(
    scratch_pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    settings = MonitorSettings(pool=PoolSettings(), server_view_interval=10.0)

    async def scenario() -> dict[str, Any]:
        engine = MonitorEngine(
            Target.from_conninfo(scratch_pg.uri()), settings, channels=[channel_name()]
        )
        sizes: list[int] = []
        async with engine:
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "healthy")
            await asyncio.to_thread(scratch_pg.stop, "fast")
            await wait_until(lambda: engine.health.status is Health.DOWN, WAIT, "down")
            deadline = time.monotonic() + OUTAGE
            while time.monotonic() < deadline:  # the outage lasts; sizes are sampled
                sizes.append(engine.pool.measures().size)
                await asyncio.sleep(0.5)
            await asyncio.to_thread(scratch_pg.start)
            started = time.monotonic()
            await wait_until(lambda: engine.health.status is Health.HEALTHY, WAIT, "back")
            back_in = time.monotonic() - started
        return {"back_in": back_in, "sizes": sizes}

    seen = run(qasync_loop, scenario(), timeout=240)
    assert seen["back_in"] < BACK_WITHIN, seen["back_in"]
    assert max(seen["sizes"]) <= settings.pool.max_size

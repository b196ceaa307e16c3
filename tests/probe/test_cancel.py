"""Cancelling a test in flight stops it at once and leaves no connection on the server."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from supalink.probe import Probe, Step, StepName
from supalink.probe.results import DiagnosisKind
from supalink.profiles import Target
from tests.support.monitoring import wait_for
from tests.support.postgres import PostgresServer, integer, local_profile


def backends(pg: PostgresServer, application_name: str) -> int:
    with pg.admin_connect() as admin:
        row = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert row is not None
    return integer(row[0])


@pytest.mark.parametrize("cancel_after", [StepName.TLS, StepName.AUTH])
def test_cancel_in_flight_leaves_no_connection(pg: PostgresServer, cancel_after: StepName) -> None:
    """Cancelled while logging in (after tls) or while querying (after auth)."""
    name = f"supalink-cancel-{uuid.uuid4().hex[:8]}"
    profile = local_profile(pg, application_name=name)
    while_connected: list[int] = []

    async def scenario() -> Probe:
        task: asyncio.Task[object] | None = None

        def on_step(step: Step) -> None:
            if step.name is cancel_after:
                if step.name is StepName.AUTH:  # logged in: the server shows the session now
                    while_connected.append(backends(pg, name))
                assert task is not None
                task.cancel()

        probe = Probe(Target.from_profile(profile, pg.password), on_step=on_step)
        task = asyncio.create_task(probe.run())
        with pytest.raises(asyncio.CancelledError):
            await task
        return probe

    probe = asyncio.run(scenario())
    if cancel_after is StepName.AUTH:
        assert while_connected == [1]  # the check below can see a leftover connection
    # The server drops the cancelled client's backend a moment later: a bounded wait.
    wait_for(lambda: backends(pg, name) == 0, 5.0, f"no backend named {name}")
    result = probe.result
    assert result is not None
    assert not result.ok
    assert result.diagnosis is not None
    assert result.diagnosis.kind is DiagnosisKind.CANCELLED
    last = result.steps[-1]
    assert not last.ok
    assert last.detail == "cancelled"
    following = StepName.AUTH if cancel_after is StepName.TLS else StepName.QUERY
    assert last.name is following


def test_cancel_while_the_server_is_silent_returns_at_once(
    pg: PostgresServer, silent_port: int
) -> None:
    async def scenario() -> tuple[Probe, float]:
        target = Target.from_profile(local_profile(pg, port=silent_port), pg.password)
        probe = Probe(target, timeout=30)
        task = asyncio.create_task(probe.run())
        await asyncio.sleep(0.3)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return probe, time.monotonic() - started

    probe, took = asyncio.run(scenario())
    assert took < 1.0
    assert probe.result is not None
    assert probe.result.diagnosis is not None
    assert probe.result.diagnosis.kind is DiagnosisKind.CANCELLED
    assert probe.result.steps[-1].name is StepName.TLS
    assert "while checking TLS" in probe.result.diagnosis.message

"""A gap says why the listener was away: from what the lost connection said, upgraded to
"server restart" by what was heard during the outage (its own reconnect attempts, or the
pool and the health check through `note_outage`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from supalink.commands.monitor import describe_event
from supalink.error_texts import SERVER_RESTART, WENT_SILENT, cause_first
from supalink.logs import SecretMasker
from supalink.monitor import Disconnected, Event, Gap, ListenerState
from supalink.monitor.listener import Listener
from supalink.profiles import Target
from tests.monitor.blackhole import BlackholeProxy
from tests.support.monitoring import channel_name, quick_settings, run, wait_until
from tests.support.postgres import PostgresServer

SHUTTING_DOWN = "connection failed: FATAL:  the database system is shutting down"
# Generous bounds: on a loaded machine a login through the proxy can take seconds.
WAIT = 30.0


class CountingProxy(BlackholeProxy):
    """The black hole proxy, telling how many connections went through it."""

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._links)


def test_the_json_form_and_the_cli_line_carry_the_reason() -> None:
    gap = Gap(1.7e9, 1.7e9 + 2.5, ("jobs", "orders"), SERVER_RESTART)
    assert gap.as_dict()["reason"] == SERVER_RESTART
    assert describe_event(gap).endswith(
        "gap: not listening on jobs, orders for 2.5 s (server restart)"
    )
    quiet = Gap(1.7e9, 1.7e9 + 2.5, ("jobs",))
    assert quiet.as_dict()["reason"] is None
    assert describe_event(quiet).endswith("gap: not listening on jobs for 2.5 s")


def silenced_listener(
    server: PostgresServer, proxy: BlackholeProxy, on_loss: Any
) -> tuple[Listener, list[Event]]:
    """A listener through `proxy`, calling `on_loss(listener)` as it reports its loss."""
    events: list[Event] = []
    listener: Listener

    def on_event(event: Event) -> None:
        events.append(event)
        if isinstance(event, Disconnected):
            on_loss(listener)

    # The listener's SELECT 1 after half a second of quiet, answered within two seconds or
    # it is dead: a loaded machine answers a SELECT 1 well within that, and nothing else
    # here is that short (a login may take its 5 s connect timeout).
    settings = quick_settings(listener_check_interval=0.5, listener_check_timeout=2)
    listener = Listener(
        Target.from_conninfo(server.uri(port=proxy.port)),
        settings,
        masker=SecretMasker(),
        channels=[channel_name()],
        on_notifications=lambda notifications: None,
        on_event=on_event,
    )
    return listener, events


def proxied(server: PostgresServer) -> Iterator[CountingProxy]:
    proxy = CountingProxy(server.port)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxy(pg: PostgresServer) -> Iterator[CountingProxy]:
    yield from proxied(pg)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("heard_while_away", "reason"),
    [
        ((), WENT_SILENT),
        (("Connection refused", "timeout expired"), WENT_SILENT),
        (("Connection refused", SHUTTING_DOWN, "Connection refused"), SERVER_RESTART),
    ],
    ids=["nothing", "nothing-telling", "a-restart"],
)
def test_what_is_heard_while_away_can_only_upgrade_the_reason_to_a_restart(
    pg: PostgresServer,
    proxy: CountingProxy,
    qasync_loop: asyncio.AbstractEventLoop,
    heard_while_away: tuple[str, ...],
    reason: str,
) -> None:
    def on_loss(listener: Listener) -> None:
        for message in heard_while_away:  # what the engine passes on from the pool
            listener.note_outage(message)

    listener, events = silenced_listener(pg, proxy, on_loss)

    async def scenario() -> list[Gap]:
        listening = asyncio.create_task(listener.run())
        try:
            await wait_until(
                lambda: listener.state is ListenerState.LISTENING, WAIT, what="listening"
            )
            listener.note_outage(SHUTTING_DOWN)  # while listening: not about any gap
            assert proxy.silence() == 1
            await wait_until(lambda: any(isinstance(e, Gap) for e in events), WAIT, what="a gap")
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
        return [event for event in events if isinstance(event, Gap)]

    [gap] = run(qasync_loop, scenario())
    [lost] = [event for event in events if isinstance(event, Disconnected)]
    assert "did not answer" in lost.error
    assert gap.reason is not None
    assert gap.reason.startswith(reason)  # a silence also says for how long


@pytest.fixture
def scratch_proxy(scratch_pg: PostgresServer) -> Iterator[CountingProxy]:
    yield from proxied(scratch_pg)


@pytest.mark.slow
def test_a_reconnect_attempt_that_hears_a_shutdown_makes_the_gap_a_restart(
    scratch_pg: PostgresServer,
    scratch_proxy: CountingProxy,
    qasync_loop: asyncio.AbstractEventLoop,
) -> None:
    """No pool here: the listener's own attempts hear the server shutting down (a smart
    shutdown waits for an open session, refusing new ones meanwhile)."""
    server, proxy = scratch_pg, scratch_proxy
    listener, events = silenced_listener(server, proxy, lambda listener: None)

    async def refused_as_shutting_down() -> bool:
        try:
            conn = await psycopg.AsyncConnection.connect(server.uri(), connect_timeout=5)
        except psycopg.OperationalError as error:
            return "shutting down" in str(error)
        await conn.close()
        return False

    async def scenario() -> list[Gap]:
        listening = asyncio.create_task(listener.run())
        held = await asyncio.to_thread(server.admin_connect)  # keeps the shutdown waiting
        stopping: asyncio.Future[None] | None = None
        try:
            await wait_until(
                lambda: listener.state is ListenerState.LISTENING, WAIT, what="listening"
            )
            pid = listener.backend_pid
            stopping = asyncio.ensure_future(asyncio.to_thread(server.stop, "smart"))
            deadline = asyncio.get_running_loop().time() + 30
            while not await refused_as_shutting_down():
                assert asyncio.get_running_loop().time() < deadline, "no smart shutdown"
                await asyncio.sleep(0.05)
            before = proxy.connections
            assert proxy.silence() == 1
            await wait_until(
                lambda: any(isinstance(e, Disconnected) for e in events), WAIT, what="the loss"
            )
            # A second attempt through the proxy: the first one was refused and heard.
            await wait_until(lambda: proxy.connections >= before + 2, WAIT, what="two attempts")
            await asyncio.to_thread(held.execute, "SELECT pg_terminate_backend(%s)", (pid,))
            await asyncio.to_thread(held.close)
            await asyncio.wait_for(stopping, 60)
            await asyncio.to_thread(server.start)
            # Attempts that land while the server is down are refused by the proxy, as by
            # a real one: the first after the start gets in, within the 2 s backoff cap.
            await wait_until(lambda: any(isinstance(e, Gap) for e in events), 60, what="a gap")
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
            await asyncio.to_thread(held.close)
            if stopping is not None:
                await asyncio.gather(stopping, return_exceptions=True)
            if not await asyncio.to_thread(server.is_running):
                await asyncio.to_thread(server.start)
        return [event for event in events if isinstance(event, Gap)]

    [gap] = run(qasync_loop, scenario(), timeout=240)
    [lost] = [event for event in events if isinstance(event, Disconnected)]
    assert "did not answer" in lost.error  # on its own, "connection went silent"
    assert gap.reason == SERVER_RESTART


def test_a_reason_leads_with_its_cause_in_a_few_words() -> None:
    lost = "consuming input failed: server closed the connection unexpectedly"
    assert cause_first(lost) == f"connection lost ({lost})"
    refused = (
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused Is the server running on that host?"
    )
    assert cause_first(refused).startswith("connection refused (connection failed: ")
    assert cause_first("connection refused") == "connection refused"  # said once
    unknown = "something nobody knew could happen, told at length " * 3
    assert cause_first(unknown) == unknown  # no cause to lead with: as it was


def test_the_cli_says_the_outage_a_recovery_ends() -> None:
    from supalink.monitor.health import Health, HealthReport, Outage

    now = 1.7e9
    outage = Outage(now - 27, now, "connection refused")
    back = HealthReport(Health.HEALTHY, now, 1.5, None, None, recovered=outage)
    assert describe_event(back).endswith(f"health healthy (1.5 ms); back: {outage.summary}")
    assert outage.summary.startswith("down 27 s (")

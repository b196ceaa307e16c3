"""The notifications tool's connection: read whenever data arrives, so that the cluster's
NOTIFY queue never waits on it; what the agent has not collected is bounded; a waiting call
wakes on the first arrival; an idle channel is let go; a lost connection is opened again
and says so; the limits hold, and a refusal says why in one sentence."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from supalink.agent.listen import MAX_CHANNELS, AgentListener, ListenRefused
from supalink.agent.listen_channel import KEPT_PER_CHANNEL, Arrivals
from supalink.profiles import Mode, Target
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

# The harm test: enough 7999-byte notifications (the most a payload holds) that a listener
# nobody reads would hold 6.7 % of PostgreSQL 15's 8 GB queue (one 8 kB page each): sent by
# one client, ~2.5 s here with such a listener, 3-4.5 s with one that keeps up.
FLOOD = 70_000
FLOOD_BATCH = 1000
QUEUE_BOUND = 0.05


def notify(pg: PostgresServer, channel: str, payloads: list[str]) -> None:
    with pg.admin_connect() as conn:
        conn.execute(
            "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n",
            (channel, payloads),
        )


def listener_for(pg: PostgresServer, **options: Any) -> AgentListener:
    return AgentListener(Target.from_conninfo(pg.uri()), **options)


@pytest.fixture(scope="module")
def quiet_pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """A server of its own: the NOTIFY queue is the whole cluster's, and other tests' clients
    must neither add to it nor be slowed down by a flood."""
    server = start_postgres(system_tools, services_root / f"pg-{uuid.uuid4().hex[:8]}", tls_files)
    yield server
    server.stop("immediate")


def test_a_flood_keeps_the_newest_and_counts_what_it_dropped(pg: PostgresServer) -> None:
    channel = f"flood_{uuid.uuid4().hex[:8]}"
    sent = [str(n) for n in range(KEPT_PER_CHANNEL + 250)]

    async def scenario() -> tuple[list[str], int]:
        listener = AgentListener(Target.from_conninfo(pg.uri()))
        try:
            await listener.collect(channel, 0)
            await asyncio.to_thread(notify, pg, channel, sent)
            arrivals = await listener.collect(channel, 5)
            while sum(1 for _ in arrivals.notifications) + arrivals.dropped < len(sent):
                more = await listener.collect(channel, 1)
                if not more.notifications:
                    break
                arrivals.notifications += more.notifications
                arrivals.dropped += more.dropped
        finally:
            await listener.close()
        return [n["payload"] for n in arrivals.notifications], arrivals.dropped

    kept, dropped = asyncio.run(scenario())
    assert dropped + len(kept) == len(sent)
    assert kept == sent[-len(kept) :]  # the newest, in order
    assert len(kept) >= KEPT_PER_CHANNEL


def test_what_is_not_collected_stays_within_the_byte_budget(pg: PostgresServer) -> None:
    channel, marker = f"budget_{uuid.uuid4().hex[:8]}", f"marker_{uuid.uuid4().hex[:8]}"
    sent = [f"{n:04d}" + "é" * 498 for n in range(50)]  # 1000 bytes each in UTF-8

    async def scenario() -> Arrivals:
        listener = listener_for(pg, max_bytes=10_000)
        try:
            await listener.collect(channel, 0)
            await listener.collect(marker, 0)
            await asyncio.to_thread(notify, pg, channel, sent)
            await asyncio.to_thread(notify, pg, marker, ["done"])
            # Notifications arrive in commit order: once the marker is in, so is the rest.
            assert (await listener.collect(marker, 5)).notifications
            return await listener.collect(channel, 0)
        finally:
            await listener.close()

    arrivals = asyncio.run(scenario())
    kept = [n["payload"] for n in arrivals.notifications]
    assert arrivals.dropped + len(kept) == len(sent)
    assert 0 < len(kept) < 10  # ten payloads alone would fill the budget
    assert kept == sent[-len(kept) :]
    assert arrivals.as_json()["dropped"] == arrivals.dropped


@pytest.mark.slow
def test_an_unasked_listener_never_holds_the_notify_queue_back(quiet_pg: PostgresServer) -> None:
    """Another application floods a channel the agent asked about once: the queue that every
    NOTIFY of the cluster goes through stays nearly empty, and NOTIFY keeps working."""
    pg = quiet_pg
    channel = f"jobs_{uuid.uuid4().hex[:8]}"
    done = threading.Event()
    peak = [0.0]

    def send() -> None:
        with psycopg.connect(pg.uri(), autocommit=True) as conn:
            for first in range(0, FLOOD, FLOOD_BATCH):
                # Distinct payloads (a transaction's identical notifications are folded into
                # one), built by concatenation: lpad() to 7999 bytes costs more than NOTIFY.
                conn.execute(
                    "SELECT count(pg_notify(%s, lpad(n::text, 9, '0') || %s))"
                    " FROM generate_series(%s::int, %s::int) AS n",
                    (channel, "x" * 7990, first, first + FLOOD_BATCH - 1),
                )

    def sample() -> None:
        with pg.admin_connect() as conn:
            while not done.is_set():
                row = conn.execute("SELECT pg_notification_queue_usage()").fetchone()
                assert row is not None
                peak[0] = max(peak[0], float(str(row[0])))
                time.sleep(0.005)

    async def flood() -> tuple[float, Arrivals]:
        listener = listener_for(pg)
        sampler = threading.Thread(target=sample)
        try:
            await listener.collect(channel, 0)  # the one call: nothing asks again meanwhile
            sampler.start()
            started = time.monotonic()
            await asyncio.to_thread(send)
            took = time.monotonic() - started
            await asyncio.sleep(0.1)  # the last transaction's notifications on their way
            return took, await listener.collect(channel, 0)
        finally:
            done.set()
            if sampler.is_alive():
                await asyncio.to_thread(sampler.join)
            await listener.close()

    took, last = asyncio.run(flood())
    print(f"{FLOOD} notifications in {took:.2f} s, peak queue usage {peak[0]:.2%}")
    assert peak[0] < QUEUE_BOUND, f"the NOTIFY queue reached {peak[0]:.1%}"
    assert 0 < len(last.notifications) <= KEPT_PER_CHANNEL
    assert last.dropped > 0

    # A fourth client's NOTIFY on another channel still reaches a plain listener.
    other = f"other_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg.uri(), autocommit=True) as plain:
        plain.execute(sql.SQL("LISTEN {}").format(sql.Identifier(other)))
        with pg.admin_connect() as fourth:
            fourth.execute("SELECT pg_notify(%s, 'still works')", (other,))
        got = [n.payload for n in plain.notifies(timeout=5, stop_after=1)]
    assert got == ["still works"]


def test_a_waiting_call_wakes_on_the_first_arrival(pg: PostgresServer) -> None:
    channel = f"wake_{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[float, list[str], float, float]:
        listener = listener_for(pg)
        try:
            await listener.collect(channel, 0)
            waiting = asyncio.create_task(listener.collect(channel, 10))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            await asyncio.to_thread(notify, pg, channel, ["hello"])
            sent = time.monotonic()
            arrivals = await waiting
            woke = time.monotonic() - sent
            # Nothing there: it waits the time asked, and no wait at all for NaN.
            started = time.monotonic()
            await listener.collect(channel, 0.3)
            empty = time.monotonic() - started
            started = time.monotonic()
            await listener.collect(channel, float("nan"))
            nan = time.monotonic() - started
        finally:
            await listener.close()
        return woke, [n["payload"] for n in arrivals.notifications], empty, nan

    woke, payloads, empty, nan = asyncio.run(scenario())
    assert payloads == ["hello"]
    assert woke < 0.5, f"the waiting call returned {woke:.3f} s after the NOTIFY"
    assert 0.25 < empty < 1.0
    assert nan < 0.2


@pytest.mark.slow
def test_an_idle_channel_is_unlistened_and_then_the_connection_closed(pg: PostgresServer) -> None:
    asked, idle = f"asked_{uuid.uuid4().hex[:8]}", f"idle_{uuid.uuid4().hex[:8]}"

    async def backend_gone(pid: int) -> bool:
        with pg.admin_connect() as conn:
            for _ in range(100):  # a backend lingers some tens of ms after its client left
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)
                ).fetchone()
                if row == (0,):
                    return True
                await asyncio.sleep(0.05)
        return False

    async def scenario() -> None:
        listener = listener_for(pg, idle_seconds=0.5)
        try:
            await listener.collect(idle, 0)
            await listener.collect(asked, 0)
            assert sorted(await listener.server_channels()) == sorted([asked, idle])
            assert listener._conn is not None
            pid = listener._conn.info.backend_pid
            for _ in range(6):  # 1.2 s of asking about one channel only
                await asyncio.sleep(0.2)
                await listener.collect(asked, 0)
            assert await listener.server_channels() == [asked]
            await asyncio.sleep(0.8)
            assert listener._conn is None
            assert listener._watched is None
            assert listener._expiry is None, "a timer still ticks with nothing listened to"
            assert await backend_gone(pid)
            # Asked again, it listens again: a new start, so no "opened again" note.
            again = await listener.collect(idle, 0)
            assert await listener.server_channels() == [idle]
            assert not again.reconnected
        finally:
            await listener.close()
            await listener.close()  # twice is harmless

    asyncio.run(scenario())


def test_no_more_than_the_channel_limit_even_when_called_at_once(pg: PostgresServer) -> None:
    prefix = f"many_{uuid.uuid4().hex[:8]}"

    async def scenario() -> list[Arrivals | BaseException]:
        listener = listener_for(pg)
        try:
            calls = (listener.collect(f"{prefix}_{n}", 0) for n in range(2 * MAX_CHANNELS))
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert len(await listener.server_channels()) == MAX_CHANNELS
        finally:
            await listener.close()
        return results

    results = asyncio.run(scenario())
    answered = [r for r in results if isinstance(r, Arrivals)]
    refused = [r for r in results if isinstance(r, ListenRefused)]
    assert len(answered) == MAX_CHANNELS
    assert len(refused) == MAX_CHANNELS
    assert all(f"at most {MAX_CHANNELS} channels" in str(r) for r in refused)


def test_a_channel_name_the_server_would_cut_short_is_refused(pg: PostgresServer) -> None:
    listener = listener_for(pg)
    with pytest.raises(ListenRefused, match="at most 63 bytes"):
        asyncio.run(listener.collect("é" * 32, 0))


def test_a_login_at_its_connection_limit_is_refused_in_one_sentence(pg: PostgresServer) -> None:
    role = f"limited_{uuid.uuid4().hex[:8]}"
    limited = dataclasses.replace(pg, role=role, password=f"pw-{uuid.uuid4().hex}")
    with pg.admin_connect() as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN CONNECTION LIMIT 1 PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(limited.password)
            )
        )
    try:
        with psycopg.connect(limited.uri()):  # the one connection it may have
            listener = AgentListener(Target.from_conninfo(limited.uri()))
            with pytest.raises(ListenRefused) as refused:
                asyncio.run(listener.collect("anything", 0))
        message = str(refused.value)
        assert "connection limit is reached" in message
        assert "\n" not in message
        assert listener._channels == {}  # the refused channel holds no place
    finally:
        with pg.admin_connect() as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_close_wakes_a_waiting_call(pg: PostgresServer) -> None:
    channel = f"close_{uuid.uuid4().hex[:8]}"

    async def scenario() -> float:
        listener = listener_for(pg)
        await listener.collect(channel, 0)
        waiting = asyncio.create_task(listener.collect(channel, 10))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        await listener.close()
        await waiting
        assert listener._conn is None
        assert listener._watched is None
        return time.monotonic() - started

    assert asyncio.run(scenario()) < 0.5


def test_a_lost_connection_is_opened_again_and_the_answer_says_so(pg: PostgresServer) -> None:
    channel = f"lost_{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[dict[str, object], list[str]]:
        listener = AgentListener(Target.from_conninfo(pg.uri()))
        try:
            await listener.collect(channel, 0)
            assert listener._conn is not None
            pid = listener._conn.info.backend_pid
            # pg_terminate_backend only signals the backend; with a timeout it waits (5 s at
            # most) until the backend has gone, so the next call meets a lost connection.
            with pg.admin_connect() as conn:
                row = conn.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()
            assert row == (True,), "the listener's backend did not end within 5 s"
            lost = await listener.collect(channel, 1)
            await asyncio.to_thread(notify, pg, channel, ["after"])
            after = await listener.collect(channel, 5)
        finally:
            await listener.close()
        return lost.as_json(), [n["payload"] for n in after.notifications]

    lost, after = asyncio.run(scenario())
    assert "opened again" in str(lost.get("note"))
    assert after == ["after"]


def test_a_call_waiting_when_the_connection_is_lost_wakes_and_says_so(
    pg: PostgresServer,
) -> None:
    channel = f"waitlost_{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[float, dict[str, object]]:
        listener = listener_for(pg)
        try:
            await listener.collect(channel, 0)
            assert listener._conn is not None
            pid = listener._conn.info.backend_pid
            waiting = asyncio.create_task(listener.collect(channel, 10))
            await asyncio.sleep(0.2)
            started = time.monotonic()
            with pg.admin_connect() as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            arrivals = await waiting
            return time.monotonic() - started, arrivals.as_json()
        finally:
            await listener.close()

    woke, answer = asyncio.run(scenario())
    assert woke < 2.0, f"the waiting call returned {woke:.1f} s after the connection was lost"
    assert "opened again" in str(answer.get("note"))


def test_a_transaction_pooler_cannot_listen(pg: PostgresServer) -> None:
    listener = AgentListener(Target.from_conninfo(pg.uri(), mode=Mode.TRANSACTION))
    with pytest.raises(ListenRefused, match="transaction pooler"):
        asyncio.run(listener.collect("anything", 0))

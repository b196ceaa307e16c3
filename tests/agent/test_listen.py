"""The notifications tool's connection: a flood is bounded, a lost connection is opened
again and says so, a transaction pooler is refused with the reason."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from supalink.agent.listen import KEPT_PER_CHANNEL, AgentListener, ListenRefused
from supalink.profiles import Mode, Target
from tests.support.postgres import PostgresServer


def notify(pg: PostgresServer, channel: str, payloads: list[str]) -> None:
    with pg.admin_connect() as conn:
        conn.execute(
            "SELECT pg_notify(%s, p) FROM unnest(%s::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n",
            (channel, payloads),
        )


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


def test_a_transaction_pooler_cannot_listen(pg: PostgresServer) -> None:
    listener = AgentListener(Target.from_conninfo(pg.uri(), mode=Mode.TRANSACTION))
    with pytest.raises(ListenRefused, match="transaction pooler"):
        asyncio.run(listener.collect("anything", 0))

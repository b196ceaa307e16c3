"""A flood is handed over in slices: never more than SLICE notifications in one loop turn
(fewer once a slice has taken SLICE_SECONDS), so a window on the same loop repaints in
between; in order and every one counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import psycopg

from supalink.logs import SecretMasker
from supalink.monitor.events import Event, Notification
from supalink.monitor.listener import Listener, ListenerState
from supalink.monitor.listener_reader import SLICE
from supalink.profiles import Target
from tests.support.monitoring import channel_name, quick_settings, run, wait_until
from tests.support.postgres import PostgresServer

FLOOD = 3 * SLICE + 500


def test_a_flood_backed_up_in_the_socket_comes_in_slices_in_order(
    pg: PostgresServer, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    channel = channel_name("slices")
    payloads: list[str] = []
    groups: list[int] = []  # notifications delivered between two turns of the ticker
    ticked = True

    def on_notifications(notifications: Sequence[Notification]) -> None:
        nonlocal ticked
        if ticked:
            groups.append(0)
            ticked = False
        groups[-1] += len(notifications)
        payloads.extend(notification.payload for notification in notifications)

    def on_event(event: Event) -> None:
        pass

    async def ticker() -> None:
        nonlocal ticked
        while True:
            ticked = True
            await asyncio.sleep(0)

    async def scenario() -> None:
        listener = Listener(
            Target.from_conninfo(pg.uri()),
            quick_settings(),
            masker=SecretMasker(),
            channels=[channel],
            on_notifications=on_notifications,
            on_event=on_event,
        )
        listening = asyncio.create_task(listener.run())
        ticking = asyncio.create_task(ticker())
        try:
            await wait_until(lambda: listener.state is ListenerState.LISTENING, what="listening")
            async with await psycopg.AsyncConnection.connect(pg.uri()) as sender:
                await sender.execute(
                    "SELECT pg_notify(%s, i::text) FROM generate_series(1, %s) AS i",
                    (channel, FLOOD),
                )
                await sender.commit()
            # The loop is busy elsewhere for a moment: the flood backs up in the socket.
            time.sleep(0.5)
            await wait_until(lambda: len(payloads) >= FLOOD, timeout=60, what="the flood")
        finally:
            for task in (listening, ticking):
                task.cancel()
            await asyncio.gather(listening, ticking, return_exceptions=True)

    run(qasync_loop, scenario())
    assert payloads == [str(i) for i in range(1, FLOOD + 1)]
    assert max(groups) <= SLICE  # a full slice at most
    assert len(groups) >= -(-FLOOD // SLICE)  # so the backlog came in that many turns or more

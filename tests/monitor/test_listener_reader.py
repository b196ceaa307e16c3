"""A trickle is read by one reader on the listener's socket, registered once between two
checks: no new registration per notification (under qasync each is a new socket notifier),
and every notification still arrives, in order, promptly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVarTuple

import psycopg

from supalink.logs import SecretMasker
from supalink.monitor.events import Event, Notification
from supalink.monitor.listener import Listener, ListenerState
from supalink.profiles import Target
from tests.support.monitoring import channel_name, quick_settings, run, wait_until
from tests.support.postgres import PostgresServer

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

TRICKLE = 12
Ts = TypeVarTuple("Ts")


class CountingLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        super().__init__()
        self.readers_added = 0

    def add_reader(
        self, fd: FileDescriptorLike, callback: Callable[[*Ts], object], *args: *Ts
    ) -> None:
        self.readers_added += 1
        super().add_reader(fd, callback, *args)


def test_a_trickle_keeps_one_reader_and_arrives_in_order(pg: PostgresServer) -> None:
    channel = channel_name("reader")
    payloads: list[str] = []
    loop = CountingLoop()

    def on_notifications(notifications: Sequence[Notification]) -> None:
        payloads.extend(notification.payload for notification in notifications)

    def on_event(event: Event) -> None:
        pass

    async def scenario() -> int:
        listener = Listener(
            Target.from_conninfo(pg.uri()),
            quick_settings(listener_check_interval=30.0),  # no check in between
            masker=SecretMasker(),
            channels=[channel],
            on_notifications=on_notifications,
            on_event=on_event,
        )
        listening = asyncio.create_task(listener.run())
        try:
            await wait_until(lambda: listener.state is ListenerState.LISTENING, what="listening")
            # Sent from a thread, on a blocking connection: the loop's readers are the
            # listener's alone.
            with psycopg.connect(pg.uri(), autocommit=True) as sender:

                def send(payload: str) -> None:
                    sender.execute("SELECT pg_notify(%s, %s)", (channel, payload))

                await asyncio.to_thread(send, "first")
                await wait_until(lambda: len(payloads) == 1, what="the first")
                before = loop.readers_added
                for i in range(TRICKLE):
                    await asyncio.to_thread(send, str(i))

                    def arrived(n: int = i + 2) -> bool:
                        return len(payloads) == n

                    await wait_until(arrived, timeout=2, what=str(i))
                    await asyncio.sleep(0.02)
                return loop.readers_added - before
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)

    try:
        added = run(loop, scenario())
    finally:
        loop.close()
    assert payloads == ["first", *(str(i) for i in range(TRICKLE))]
    assert added == 0  # was one per notification

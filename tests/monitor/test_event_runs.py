"""A listener hands a flood over in runs (EventLog.extend, EventBus.publish_many): the
same ring, counts, rate and batches as one row at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from supalink.monitor.bus import Batch, EventBus
from supalink.monitor.events import Event, EventLog, Gap, Notification
from tests.monitor.test_events import Clock, note


def runs_of(notes: list[Notification], size: int) -> list[list[Notification]]:
    return [notes[start : start + size] for start in range(0, len(notes), size)]


@pytest.mark.parametrize("size", [1, 3, 4, 25])
def test_extending_by_runs_equals_appending_one_by_one(size: int) -> None:
    notes = [note(n, channel="a" if n % 3 else "b") for n in range(25)]
    one_clock, run_clock = Clock(), Clock()
    one_by_one, by_runs = EventLog(capacity=4, clock=one_clock), EventLog(4, clock=run_clock)
    gap = Gap(1.0, 2.0, ("a",))
    for log in (one_by_one, by_runs):
        log.append(gap)
    for row in notes:
        one_by_one.append(row)
    for run in runs_of(notes, size):
        by_runs.extend(run)
    by_runs.extend([])
    for log in (one_by_one, by_runs):
        assert [getattr(row, "payload", None) for row in log] == ["p21", "p22", "p23", "p24"]
    figures = [(log.total, log.evicted, log.gaps, log.per_channel) for log in (one_by_one, by_runs)]
    assert figures[0] == figures[1] == (25, 22, 1, {"a": 16, "b": 9})
    one_clock.now += 1
    run_clock.now += 1
    assert one_by_one.rate() == by_runs.rate() == 25.0


def test_a_run_larger_than_the_ring_keeps_its_tail_and_counts_the_rest() -> None:
    log = EventLog(capacity=3)
    log.extend([note(n) for n in range(10)])
    assert [row.payload for row in log if isinstance(row, Notification)] == ["p7", "p8", "p9"]
    assert (log.total, log.evicted) == (10, 7)


def test_published_runs_arrive_in_order_in_one_batch_with_single_events() -> None:
    async def scenario() -> list[Sequence[Event]]:
        bus = EventBus(interval=0.05)
        batches: list[Sequence[Event]] = []
        bus.subscribe(batches.append)
        bus.publish(note(0))
        bus.publish_many([note(1), note(2)])
        bus.publish_many([])
        bus.publish(note(3))
        await asyncio.sleep(0.2)
        bus.close()
        bus.publish_many([note(4)])  # after close: dropped, as publish() drops
        return batches

    batches = asyncio.run(scenario())
    assert [[getattr(e, "payload", None) for e in batch] for batch in batches] == [
        ["p0", "p1", "p2", "p3"]
    ]


def test_a_run_published_on_an_idle_bus_is_delivered() -> None:
    async def scenario() -> list[Sequence[Event]]:
        bus = EventBus(interval=0.05)
        batches: list[Sequence[Event]] = []
        bus.subscribe(batches.append)
        bus.publish_many([note(1)])
        await asyncio.sleep(0.2)
        bus.close()
        return batches

    assert [len(batch) for batch in asyncio.run(scenario())] == [1]


def test_a_batch_names_its_singles_apart_from_the_runs_in_the_order_published() -> None:
    """A consumer reading rows from the log looks at `singles` only: everything published
    one at a time (stats, health, a gap), none of the runs' notifications."""

    async def scenario() -> list[Batch]:
        bus = EventBus(interval=0.05)
        batches: list[Batch] = []
        bus.subscribe(batches.append)
        gap = Gap(1.0, 2.0, ("a",))
        bus.publish(gap)
        bus.publish_many([note(1), note(2)])
        bus.publish(note(3))
        bus.publish_many([note(4)])
        await asyncio.sleep(0.2)
        bus.publish_many([note(5)])  # the next batch: no singles of its own
        await asyncio.sleep(0.2)
        bus.close()
        return batches

    first, second = asyncio.run(scenario())
    assert [getattr(e, "payload", e.event) for e in first] == ["gap", "p1", "p2", "p3", "p4"]
    assert [getattr(e, "payload", e.event) for e in first.singles] == ["gap", "p3"]
    assert [getattr(e, "payload", None) for e in second] == ["p5"]
    assert second.singles == ()


def test_a_flood_is_delivered_in_batches_of_at_most_max_pending_and_a_slice() -> None:
    """A batch no longer holds whatever arrived in an interval: once `max_pending` events
    wait, they go on the next loop turn (the soak's memory grew with the largest batch)."""

    async def scenario() -> list[int]:
        bus = EventBus(interval=10.0, max_pending=100)
        sizes: list[int] = []
        bus.subscribe(lambda batch: sizes.append(len(batch)))
        for start in range(0, 1000, 30):  # a listener's slices, one a loop turn
            bus.publish_many([note(i) for i in range(start, min(1000, start + 30))])
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        bus.flush()
        bus.close()
        return sizes

    sizes = asyncio.run(scenario())
    assert sum(sizes) == 1000
    assert max(sizes) < 100 + 30
    assert len(sizes) > 5  # without the bound: one batch, the interval being 10 s

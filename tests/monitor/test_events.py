"""The notification log (a counted ring), its exports, and batched delivery."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import json
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from supalink.errors import UsageError
from supalink.monitor import MonitorEngine
from supalink.monitor.bus import EventBus
from supalink.monitor.events import Event, EventLog, Gap, Notification, matches
from supalink.monitor.settings import MonitorSettings
from supalink.profiles import Target


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def note(n: int, channel: str = "jobs", payload: str | None = None) -> Notification:
    return Notification(channel, payload if payload is not None else f"p{n}", 4242, 1.7e9 + n)


def test_the_ring_keeps_the_last_rows_and_counts_all_of_them() -> None:
    log = EventLog(capacity=3)
    for n in range(10):
        log.append(note(n, channel="a" if n % 2 else "b"))
    assert [row.payload for row in log.rows() if isinstance(row, Notification)] == [
        "p7",
        "p8",
        "p9",
    ]
    assert (log.total, log.evicted, len(log)) == (10, 7, 3)
    assert log.per_channel == {"a": 5, "b": 5}
    log.clear()
    assert len(log) == 0
    assert log.total == 10  # clearing the view forgets no count


def test_rate_is_the_count_of_the_last_complete_second() -> None:
    clock = Clock()
    log = EventLog(clock=clock)
    for _ in range(5):
        log.append(note(0))
    assert log.rate() == 0.0  # this second is not over
    clock.now += 1
    assert log.rate() == 5.0
    log.append(note(1))
    clock.now += 1
    assert log.rate() == 1.0
    clock.now += 5
    assert log.rate() == 0.0


def test_filter_by_text_and_channel_keeps_gap_markers() -> None:
    log = EventLog()
    log.append(note(1, "orders", '{"status": "Paid"}'))
    log.append(Gap(1.7e9, 1.7e9 + 3, ("orders", "jobs")))
    log.append(note(2, "jobs", "paid later"))
    log.append(note(3, "jobs", "refund"))
    assert [type(r).__name__ for r in log if matches(r, "PAID")] == [
        "Notification",
        "Gap",
        "Notification",
    ]
    assert [r.payload for r in log if matches(r, "", {"jobs"}) and isinstance(r, Notification)] == [
        "paid later",
        "refund",
    ]
    assert [type(r) for r in log if matches(r, "nothing matches")] == [Gap]


def test_exports_round_trip_every_byte(tmp_path: Path) -> None:
    awkward = 'line\nbreak, "quotes", tab\t, unicode é漢🙂, =1+1'
    log = EventLog()
    log.append(note(1, "orders", awkward))
    log.append(Gap(1.7e9 + 1, 1.7e9 + 4.5, ("orders",)))
    log.append(note(2, 'odd "channel"', "x" * 7999))

    assert log.export_jsonl(tmp_path / "log.jsonl") == 3
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [row["event"] for row in rows] == ["notification", "gap", "notification"]
    assert rows[0]["payload"] == awkward
    assert rows[1]["seconds"] == 3.5
    assert rows[2]["channel"] == 'odd "channel"'

    assert log.export_csv(tmp_path / "log.csv") == 3
    with (tmp_path / "log.csv").open(newline="", encoding="utf-8") as file:
        table = list(csv.reader(file))
    assert table[0] == ["kind", "time", "channel", "pid", "payload"]
    assert table[1][0] == "notification"
    assert table[1][4] == awkward
    assert table[2][0] == "gap"
    assert "3.500 s" in table[2][4]
    assert table[3][4] == "x" * 7999
    assert (tmp_path / "log.csv").stat().st_mode & 0o777 == 0o600  # a new file is private


def test_a_filtered_view_exports_only_its_rows(tmp_path: Path) -> None:
    log = EventLog()
    log.append(note(1, "a"))
    log.append(note(2, "b"))
    log.export_jsonl(tmp_path / "b.jsonl", [row for row in log if matches(row, "", {"b"})])
    assert [
        json.loads(line)["channel"] for line in io.StringIO((tmp_path / "b.jsonl").read_text())
    ] == ["b"]


def test_batches_come_at_most_ten_times_a_second() -> None:
    async def scenario() -> list[tuple[float, Sequence[Event]]]:
        bus = EventBus(interval=0.1)
        batches: list[tuple[float, Sequence[Event]]] = []
        bus.subscribe(lambda batch: batches.append((time.monotonic(), batch)))
        deadline = time.monotonic() + 0.55
        n = 0
        while time.monotonic() < deadline:
            bus.publish(note(n))
            n += 1
            await asyncio.sleep(0.001)
        bus.close()
        return batches

    batches = asyncio.run(scenario())
    times = [at for at, _ in batches][:-1]  # the last came from close(), at once
    assert all(b - a >= 0.09 for a, b in itertools.pairwise(times))
    assert len(batches) <= 8
    payloads = [e.payload for _, batch in batches for e in batch if isinstance(e, Notification)]
    assert payloads == [f"p{n}" for n in range(len(payloads))]  # none lost, in order


def test_an_idle_bus_schedules_nothing() -> None:
    async def scenario() -> int:
        bus = EventBus()
        bus.subscribe(lambda batch: None)
        await asyncio.sleep(0.05)
        return len(asyncio.get_running_loop()._scheduled)  # type: ignore[attr-defined]

    assert asyncio.run(scenario()) == 0


def test_a_failing_consumer_is_reported_and_the_others_still_served() -> None:
    async def scenario() -> tuple[list[dict[str, object]], int]:
        loop = asyncio.get_running_loop()
        reported: list[dict[str, object]] = []
        loop.set_exception_handler(lambda _loop, context: reported.append(context))
        bus = EventBus()
        served = 0

        def broken(batch: Sequence[Event]) -> None:
            raise RuntimeError("consumer bug")

        def fine(batch: Sequence[Event]) -> None:
            nonlocal served
            served += len(batch)

        bus.subscribe(broken)
        unsubscribe = bus.subscribe(fine)
        bus.publish(note(1))
        bus.flush()
        unsubscribe()
        bus.publish(note(2))
        bus.flush()
        return reported, served

    reported, served = asyncio.run(scenario())
    assert served == 1
    assert len(reported) == 2
    assert isinstance(reported[0]["exception"], RuntimeError)


@pytest.mark.parametrize("capacity", [0, -1])
def test_a_log_keeps_at_least_one_row(capacity: int) -> None:
    """Fewer than one row is refused, saying so; one row is taken, and the engine's log
    then keeps the newest row."""
    with pytest.raises(UsageError, match="the log and the stats history keep at least one row"):
        MonitorSettings(log_capacity=capacity)
    engine = MonitorEngine(Target.from_conninfo("host=h"), MonitorSettings(log_capacity=1))
    engine.log.extend([note(n) for n in range(3)])
    engine.log.append(note(3))
    assert [row.payload for row in engine.log if isinstance(row, Notification)] == ["p3"]

"""The log as the one store of rows: sequence numbers, reads by number, a pin that holds a
paused view's rows up to twice the capacity, and the one filter rule (`matches`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from supalink.monitor import EventLog, Gap, Notification, matches
from supalink.monitor.events import to_csv
from tests.monitor.test_events import note


def payloads(rows: Sequence[object]) -> list[str]:
    return [getattr(row, "payload", "<gap>") for row in rows]


def test_rows_are_numbered_and_read_by_number_through_evictions_and_compactions() -> None:
    log = EventLog(capacity=3)
    assert (log.first_seq, log.next_seq, log.row(0)) == (0, 0, None)
    for n in range(50):  # past the compaction point many times
        log.append(note(n))
        assert (log.first_seq, log.next_seq) == (max(0, n - 2), n + 1)
        held = [log.row(seq) for seq in range(log.first_seq, log.next_seq)]
        assert payloads(held) == [f"p{k}" for k in range(max(0, n - 2), n + 1)]
    assert log.row(46) is None  # let go
    assert log.row(50) is None  # not come yet
    assert payloads(log.rows(48)) == ["p48", "p49"]
    assert payloads(log.rows(10, 48)) == ["p47"]  # clipped to what is held
    assert log.rows(49, 40) == []
    log.extend([note(n) for n in range(50, 60)])
    assert (log.first_seq, log.next_seq, log.evicted) == (57, 60, 57)
    assert payloads(log.rows()) == ["p57", "p58", "p59"]


def test_clear_lets_go_of_the_rows_and_the_numbers_go_on() -> None:
    log = EventLog(capacity=5)
    log.extend([note(n) for n in range(4)])
    log.clear()
    assert (len(log), log.first_seq, log.next_seq, log.row(3)) == (0, 4, 4, None)
    log.append(note(4))
    assert (log.first_seq, payloads(log.rows())) == (4, ["p4"])
    assert (log.total, log.evicted) == (5, 0)  # a clear is not an eviction


def test_a_pin_holds_rows_beyond_the_capacity_up_to_twice_it() -> None:
    log = EventLog(capacity=4)
    log.extend([note(n) for n in range(4)])
    log.pin(1)
    log.extend([note(n) for n in range(4, 9)])
    assert (log.first_seq, log.evicted) == (1, 1)  # only the row before the pin went
    log.append(Gap(1.0, 2.0, ("jobs",)))
    log.extend([note(n) for n in range(10, 13)])
    # Twice the capacity at most: the oldest pinned rows go too.
    assert (len(log), log.first_seq, log.evicted) == (8, 5, 5)
    log.extend([note(n) for n in range(13, 40)])  # a run larger than the bound
    assert (len(log), log.first_seq, log.evicted) == (8, 32, 32)
    assert payloads(log.rows()) == [f"p{n}" for n in range(32, 40)]
    log.unpin()
    assert (len(log), log.first_seq, log.evicted) == (4, 36, 36)
    assert log.total == 39  # every notification counted, the gap not among them
    assert log.gaps == 1


def test_a_pin_at_the_end_holds_what_comes_after_it() -> None:
    log = EventLog(capacity=2)
    log.extend([note(n) for n in range(5)])
    log.pin(log.next_seq)
    log.extend([note(n) for n in range(5, 8)])
    assert payloads(log.rows()) == ["p5", "p6", "p7"]


def test_one_filter_rule_for_the_log_and_the_table() -> None:
    paid = Notification("Orders", '{"status": "Paid"}', 1, 1.0)
    gap = Gap(1.0, 2.0, ("jobs",))
    assert matches(paid, "PAID")
    assert matches(paid, "orders")  # the channel too, ignoring case
    assert matches(paid, "")
    assert not matches(paid, "refund")
    assert matches(paid, "paid", {"Orders"})
    assert not matches(paid, "paid", {"jobs"})
    assert not matches(paid, "", set())
    assert matches(gap, "nothing like it", set())  # a gap hides rows of every channel


def test_exports_say_why_a_gap_happened() -> None:
    rows = [Gap(1.7e9, 1.7e9 + 1.5, ("jobs",), "server restart"), Gap(1.7e9, 1.7e9 + 2, ())]
    table = list(csv.reader(io.StringIO(to_csv(rows).decode())))
    assert table[1][4].endswith(" (server restart)")
    assert table[1][4].startswith("not listening for 1.500 s, until ")
    assert not table[2][4].endswith(")")

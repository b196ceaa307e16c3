"""The notification table's model and view over the engine's log: batched inserts and
evictions, filter, pause, gap rows."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt

from supalink.error_texts import short_reason
from supalink.monitor import EventLog, Gap, LogRow, MonitorEngine, Notification
from supalink.monitor.settings import MonitorSettings
from supalink.profiles import Target
from supalink.ui.notification_model import (
    GAP_BACKGROUND,
    NotificationModel,
    describe_row,
    pretty_payload,
)
from supalink.ui.notifications_panel import NotificationsPanel
from supalink.ui.tasks import TaskRunner


def note(index: int, channel: str = "jobs", payload: str | None = None) -> Notification:
    return Notification(
        channel, payload or f"payload {index}", 4000 + index, 1_700_000_000.0 + index
    )


def payloads(model: NotificationModel) -> list[str]:
    return [getattr(row, "payload", "<gap>") for row in model.rows()]


def model_over(capacity: int) -> tuple[EventLog, NotificationModel]:
    log = EventLog(capacity)
    return log, NotificationModel(log)


def feed(log: EventLog, model: NotificationModel, *rows: LogRow) -> None:
    """What the engine and the window do: the log takes rows, the model catches up."""
    for row in rows:
        log.append(row)
    model.refresh()


class Spy:
    def __init__(self, model: NotificationModel) -> None:
        self.calls: list[tuple[str, int, int]] = []
        model.rowsInserted.connect(
            lambda _, first, last: self.calls.append(("insert", first, last))
        )
        model.rowsRemoved.connect(lambda _, first, last: self.calls.append(("remove", first, last)))
        model.modelReset.connect(lambda: self.calls.append(("reset", 0, 0)))


def test_batches_append_and_evict_without_resets(qtmodeltester: Any) -> None:
    log, model = model_over(capacity=5)
    qtmodeltester.check(model)
    spy = Spy(model)
    log.extend([note(i) for i in range(3)])
    model.refresh()
    log.extend([note(i) for i in range(3, 7)])
    model.refresh()
    assert payloads(model) == [f"payload {i}" for i in range(2, 7)]
    assert spy.calls == [("insert", 0, 2), ("remove", 0, 1), ("insert", 1, 4)]
    for i in range(7, 40):  # one at a time, past the compaction point many times
        feed(log, model, note(i))
    assert payloads(model) == [f"payload {i}" for i in range(35, 40)]
    assert model.index(4, 3).data() == "payload 39"
    assert ("reset", 0, 0) not in spy.calls
    qtmodeltester.check(model)


def test_a_batch_larger_than_the_ring_is_one_reset() -> None:
    log, model = model_over(capacity=5)
    spy = Spy(model)
    log.extend([note(i) for i in range(12)])
    model.refresh()
    assert spy.calls == [("reset", 0, 0)]
    assert payloads(model) == [f"payload {i}" for i in range(7, 12)]


def test_filter_keeps_matching_rows_and_every_gap() -> None:
    gap = Gap(1_700_000_010.0, 1_700_000_014.25, ("jobs", "orders"))
    log, model = model_over(capacity=10)
    feed(log, model, note(1, "orders"), note(2, payload="Big JOB"), gap, note(3, "orders"))
    model.set_filter("job")
    assert payloads(model) == ["Big JOB", "<gap>"]
    feed(log, model, note(4, "jobs_high"), note(5, "orders"), note(6, payload="a job"))
    assert payloads(model) == ["Big JOB", "<gap>", "payload 4", "a job"]
    model.set_filter("")
    assert len(model) == len(log) == 7


def test_gap_rows_stand_out_and_say_for_how_long_and_why() -> None:
    reason = short_reason("terminating connection due to administrator command")
    gap = Gap(1_700_000_010.0, 1_700_000_014.25, ("jobs", "orders"), reason)
    log, model = model_over(capacity=10)
    feed(log, model, note(1), gap)
    cells = [model.index(1, column).data() for column in range(4)]
    assert cells[1:] == ["— not listening on jobs, orders for 4.2 s (server restart) —", "", ""]
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole) == GAP_BACKGROUND
    assert model.index(1, 2).data(Qt.ItemDataRole.FontRole).italic()
    assert "are lost" in model.index(1, 3).data(Qt.ItemDataRole.ToolTipRole)
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    detail = describe_row(gap)
    assert detail.startswith("Not listening for 4.250 s\n")
    assert "Channels: jobs, orders\nReason: server restart" in detail
    # Without a reason, the row and the detail say nothing of one.
    quiet = Gap(1_700_000_020.0, 1_700_000_021.0, ("jobs",))
    feed(log, model, quiet)
    assert model.index(2, 1).data() == "— not listening on jobs for 1.0 s —"
    assert "Reason" not in describe_row(quiet)


def test_payloads_show_on_one_line_and_json_pretty_in_the_detail() -> None:
    long = json.dumps({"id": 1, "text": "x" * 500, "list": [1, 2]})
    log, model = model_over(capacity=10)
    feed(log, model, note(1, payload="two\nlines\ttab"), note(2, payload=long))
    assert model.index(0, 3).data() == "two lines tab"
    shown = model.index(1, 3).data()
    assert shown.endswith("…")
    assert len(shown) < 300
    assert model.index(1, 3).data(Qt.ItemDataRole.ToolTipRole).startswith("Select the row")
    assert pretty_payload(long).startswith('{\n  "id": 1,\n  "text": "xxx')
    for raw in ("42", '"just a string"', "not json {", ""):
        assert pretty_payload(raw) == raw
    assert pretty_payload('["é"]') == '[\n  "é"\n]'
    detail = describe_row(note(3, "jobs", '{"a": 1}'))
    assert detail.startswith("Channel: jobs\nSender PID: 4003\nReceived: ")
    assert detail.endswith('Payload (8 bytes):\n\n{\n  "a": 1\n}')


def test_gap_rows_span_the_table_through_evictions_and_refilters(qtbot: Any) -> None:
    engine = MonitorEngine(
        Target.from_conninfo("postgresql://u@127.0.0.1:1/db"), MonitorSettings(log_capacity=5)
    )
    panel = NotificationsPanel(engine, TaskRunner())
    qtbot.addWidget(panel)
    gap = Gap(1_700_000_002.5, 1_700_000_003.0, ("jobs",))

    def feed(*rows: LogRow) -> None:
        for row in rows:
            engine.log.append(row)
        panel.show_new_rows()

    def spans() -> list[int]:
        return [panel.table.columnSpan(row, 1) for row in range(len(panel.model))]

    feed(note(1), note(2), gap)
    assert spans() == [1, 1, 3]
    feed(note(3), note(4), note(5))  # evicts note 1: the gap moves up a row
    assert payloads(panel.model) == ["payload 2", "<gap>", "payload 3", "payload 4", "payload 5"]
    assert spans() == [1, 3, 1, 1, 1]
    panel.filter.setText("payload 4")
    panel.apply_filter()  # a reset: spans are set again
    assert payloads(panel.model) == ["<gap>", "payload 4"]
    assert spans() == [3, 1]

"""The table as a view over the engine's log: a filtered view follows the log's evictions,
a pause keeps its rows through a flood (up to the log's bound, and says when they had to
go), clear and export work on what the table shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from supalink.monitor import EventLog, Gap, MonitorEngine, Notification
from supalink.monitor.settings import MonitorSettings
from supalink.profiles import Target
from supalink.ui.notification_model import NotificationModel
from supalink.ui.notifications_panel import NotificationsPanel
from supalink.ui.tasks import TaskRunner
from tests.ui.test_monitor_model import Spy, note, payloads


def test_a_filtered_view_loses_what_the_log_lets_go_one_remove_per_batch(
    qtmodeltester: Any,
) -> None:
    log = EventLog(capacity=10)
    model = NotificationModel(log)
    model.set_filter("wanted")
    spy = Spy(model)
    for batch in range(6):  # each batch: one wanted row among four
        log.extend([note(4 * batch + k, payload="wanted" if k == 0 else "other") for k in range(4)])
        model.refresh()
    # The log holds rows 14 to 23: the wanted ones among them are 16 and 20.
    shown = [row.pid - 4000 if isinstance(row, Notification) else row for row in model.rows()]
    assert shown == [16, 20]
    # Once the log is full, each batch: its oldest wanted row out, its new one in.
    assert (
        spy.calls == [("insert", 0, 0), ("insert", 1, 1)] + [("remove", 0, 0), ("insert", 1, 1)] * 4
    )
    qtmodeltester.check(model)


def test_a_pause_keeps_its_rows_through_a_flood_up_to_twice_the_log() -> None:
    log = EventLog(capacity=10)
    model = NotificationModel(log)
    log.extend([note(n) for n in range(10)])
    model.refresh()
    model.set_paused(True)
    spy = Spy(model)
    for start in (10, 14):  # ten rows past the capacity: all held
        log.extend([note(n) for n in range(start, start + 4)])
        model.refresh()
    assert payloads(model) == [f"payload {n}" for n in range(10)]
    assert (spy.calls, model.paused_dropped, len(log)) == ([], 0, 18)
    log.extend([note(n) for n in range(18, 25)])  # past twice the capacity
    model.refresh()
    assert spy.calls == [("remove", 0, 4)]  # the oldest paused rows had to go, in one
    assert payloads(model) == [f"payload {n}" for n in range(5, 10)]
    assert (model.paused_dropped, len(log)) == (5, 20)
    model.set_paused(False)
    assert spy.calls[-1] == ("reset", 0, 0)
    assert payloads(model) == [f"payload {n}" for n in range(15, 25)]
    assert len(log) == 10  # back to the capacity
    log.extend([note(25)])  # and no pin is left: the oldest row goes
    assert (len(log), log.first_seq) == (10, 16)


def test_a_filter_changed_while_paused_reads_only_the_paused_rows() -> None:
    log = EventLog(capacity=10)
    model = NotificationModel(log)
    log.extend([note(1, "orders"), note(2, "jobs"), note(3, "orders")])
    model.refresh()
    model.set_paused(True)
    log.extend([note(4, "orders")])
    model.set_filter("ORDERS")
    assert payloads(model) == ["payload 1", "payload 3"]
    model.set_filter("")
    assert payloads(model) == ["payload 1", "payload 2", "payload 3"]
    model.set_paused(False)
    assert payloads(model) == ["payload 1", "payload 2", "payload 3", "payload 4"]


def test_clear_empties_the_view_and_the_log_and_a_paused_clear_pins_nothing() -> None:
    log = EventLog(capacity=10)
    model = NotificationModel(log)
    log.extend([note(n) for n in range(3)])
    model.refresh()
    model.clear()
    assert (len(model), len(log), log.total) == (0, 0, 3)
    spy = Spy(model)
    log.extend([note(3)])
    model.refresh()
    assert (spy.calls, payloads(model)) == ([("insert", 0, 0)], ["payload 3"])
    model.set_paused(True)
    log.extend([note(n) for n in range(4, 14)])  # past the capacity: the paused rows are held
    assert (log.first_seq, len(log)) == (3, 11)
    model.clear()
    log.extend([note(n) for n in range(4, 30)])
    model.refresh()
    assert (len(model), len(log)) == (0, 10)  # nothing shown: nothing held
    model.set_paused(False)
    assert payloads(model) == [f"payload {n}" for n in range(20, 30)]


def test_rows_the_log_let_go_between_batches_read_as_empty_until_the_batch() -> None:
    log = EventLog(capacity=3)
    model = NotificationModel(log)
    log.extend([note(n) for n in range(3)])
    model.refresh()
    log.extend([note(n) for n in range(3, 5)])  # the engine took more; no batch yet
    assert model.index(0, 3).data() is None
    assert model.row_at(0) is None
    assert payloads(model) == ["payload 2"]  # what is still held
    model.refresh()
    assert payloads(model) == ["payload 2", "payload 3", "payload 4"]


def test_the_counts_say_when_paused_rows_had_to_go_and_export_writes_the_paused_rows(
    qtbot: Any, tmp_path: Path
) -> None:
    engine = MonitorEngine(
        Target.from_conninfo("postgresql://u@127.0.0.1:1/db"), MonitorSettings(log_capacity=5)
    )
    panel = NotificationsPanel(engine, TaskRunner())
    qtbot.addWidget(panel)
    engine.log.extend([note(n) for n in range(4)])
    engine.log.append(Gap(1_700_000_004.0, 1_700_000_005.0, ("jobs",), "server restart"))
    panel.show_new_rows()
    panel.pause_action.trigger()
    engine.log.extend([note(n) for n in range(5, 9)])
    panel.show_new_rows()
    assert "paused, 4 new" in panel.counts.text()
    assert "let go" not in panel.counts.text()
    assert panel.export_to(tmp_path / "paused.jsonl") == 5
    exported = [json.loads(line) for line in (tmp_path / "paused.jsonl").read_text().splitlines()]
    assert [row.get("payload", row["event"]) for row in exported] == [
        *(f"payload {n}" for n in range(4)),
        "gap",
    ]
    assert exported[-1]["reason"] == "server restart"
    engine.log.extend([note(n) for n in range(9, 12)])  # twelve rows: two more than held
    panel.show_new_rows()
    assert "paused, 7 new, oldest 2 paused rows let go" in panel.counts.text()
    assert payloads(panel.model) == ["payload 2", "payload 3", "<gap>"]
    panel.pause_action.trigger()
    assert payloads(panel.model) == [f"payload {n}" for n in range(7, 12)]
    assert "5 shown" in panel.counts.text()


def test_an_export_the_file_system_refuses_is_one_sentence(
    qtbot: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from PySide6.QtWidgets import QMessageBox

    engine = MonitorEngine(Target.from_conninfo("postgresql://u@127.0.0.1:1/db"))
    panel = NotificationsPanel(engine, TaskRunner())
    qtbot.addWidget(panel)
    engine.log.extend([note(n) for n in range(2)])
    panel.show_new_rows()
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: said.append(text))
    folder = tmp_path / "rows.csv"
    folder.mkdir()
    assert panel.export_to(folder) == 0
    assert said == [f"cannot write {folder}: it is a folder, not a file"]

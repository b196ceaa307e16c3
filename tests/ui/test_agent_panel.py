"""The monitor window's Agent tab with real Qt offscreen, fed by the real AuditLog: what was
there when it opened, calls as servers record them (through rotations and a data folder
made after it opened), a bounded table, failures marked, and nothing watched once closed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from supalink.agent import AuditEntry
from supalink.agent.audit_entry import utc_stamp
from supalink.agent.audit_log import AuditLog
from supalink.monitor import MonitorEngine
from supalink.profiles import Target
from supalink.ui.agent_calls_model import AgentCallsModel, describe_call
from supalink.ui.agent_panel import EMPTY_TEXT, AgentPanel
from supalink.ui.monitor_window import MonitorWindow
from supalink.ui.panel_parts import FAILURE_FILL
from tests.support.audit import audit_entry
from tests.ui.monitor_support import keep_loop_running_on_close

WAIT_MS = 5_000


def call(**changes: Any) -> AuditEntry:
    defaults = {
        "at": utc_stamp(),
        "statement": "SELECT id, name FROM public.items ORDER BY id LIMIT 20",
        "duration_ms": 4.2,
        "rows": 20,
        "pid": 31337,
    }
    return audit_entry(**{**defaults, **changes})


def statements(panel: AgentPanel) -> list[str | None]:
    rows = (panel.model.row_at(row) for row in range(len(panel.model)))
    return [entry.statement for entry in rows if entry is not None]


def cell(panel: AgentPanel, row: int, column: int, role: Qt.ItemDataRole) -> Any:
    return panel.model.data(panel.model.index(row, column), role)


def test_an_empty_log_says_where_the_calls_will_come_from(qtbot: Any, tmp_path: Path) -> None:
    panel = AgentPanel(tmp_path / "home" / "data" / "audit.jsonl", "prod")
    qtbot.addWidget(panel)
    panel.show()
    assert panel.pages.currentIndex() == 0
    assert panel.empty_text.text() == EMPTY_TEXT
    assert "supalink server entry" in EMPTY_TEXT
    # Nothing there yet: it watches the nearest folder that is, to see the log come.
    assert panel.watcher.directories() == [str(tmp_path)]
    assert panel.watcher.files() == []


def test_it_shows_the_profiles_recent_calls_then_new_ones_as_they_are_recorded(
    qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.record(call(statement="SELECT 1"))
    log.record(call(statement="SELECT 'staging'", profile="staging"))
    log.record(call(statement="SELECT 2"))
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    assert statements(panel) == ["SELECT 1", "SELECT 2"]
    assert panel.pages.currentIndex() == 1
    assert panel.counts.text() == "2 calls shown"
    assert str(path) in panel.watcher.files()
    log.record(call(statement="SELECT 3"))
    log.record(call(statement="SELECT 'other'", profile="other"))
    log.record(call(statement="SELECT 4", error="refused: no", rows=None))
    qtbot.waitUntil(lambda: len(panel.model) == 4, timeout=WAIT_MS)
    assert statements(panel) == ["SELECT 1", "SELECT 2", "SELECT 3", "SELECT 4"]
    assert panel.counts.text() == (
        "4 calls shown · 1 refused or failed · since this window opened: 1 answered · 1 refused"
    )


def test_it_follows_the_log_through_rotations(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    line = json.dumps(call(statement="SELECT 0").as_json(), separators=(",", ":")) + "\n"
    log = AuditLog(path, max_bytes=4 * len(line) - 1, max_files=4)  # three calls a file
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    for n in range(6):
        log.record(call(statement=f"SELECT {n}"))
        qtbot.waitUntil(lambda n=n: len(panel.model) == n + 1, timeout=WAIT_MS)
    assert (tmp_path / "audit.jsonl.1").exists()  # it rotated on the way, before the fourth
    # The file the watch was on was renamed away; the new one is watched instead.
    qtbot.waitUntil(lambda: str(path) in panel.watcher.files(), timeout=WAIT_MS)
    for n in range(6, 14):
        log.record(call(statement=f"SELECT {n}"))
    qtbot.waitUntil(lambda: len(panel.model) == 14, timeout=WAIT_MS)
    assert statements(panel) == [f"SELECT {n}" for n in range(14)]


def test_a_data_folder_made_after_it_opened_is_followed(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "home" / "data" / "audit.jsonl"
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    (tmp_path / "home").mkdir()
    qtbot.waitUntil(
        lambda: panel.watcher.directories() == [str(tmp_path / "home")], timeout=WAIT_MS
    )
    AuditLog(path).record(call(statement="SELECT 'first'"))  # makes data/ and the file
    qtbot.waitUntil(lambda: len(panel.model) == 1, timeout=WAIT_MS)
    assert panel.watcher.directories() == [str(path.parent)]
    AuditLog(path).record(call(statement="SELECT 'second'"))
    qtbot.waitUntil(lambda: len(panel.model) == 2, timeout=WAIT_MS)


def test_the_table_keeps_the_newest_calls_and_marks_failures(
    qtbot: Any, qtmodeltester: Any
) -> None:
    model = AgentCallsModel(capacity=5)
    model.add([call(statement=f"SELECT {n}") for n in range(3)])
    model.add(
        [
            call(statement="COMMIT", error="refused (COMMIT): transaction control", rows=None),
            call(statement="SELECT nope", error='relation "nope" does not exist', rows=None),
            call(statement="SELECT 5", rows=1000, truncated=True),
            call(tool="list_tables", statement=None, rows=None),
        ]
    )
    qtmodeltester.check(model)
    rows = [model.row_at(row) for row in range(len(model))]
    statements = [row.statement if row is not None else "(no call)" for row in rows]
    assert statements == ["SELECT 2", "COMMIT", "SELECT nope", "SELECT 5", None]
    texts = [[model.data(model.index(row, column)) for column in (1, 3, 4)] for row in range(5)]
    assert texts == [
        ["query", "20 rows", "SELECT 2"],
        ["query", "refused", "COMMIT"],
        ["query", "failed", "SELECT nope"],
        ["query", "1,000 rows, truncated", "SELECT 5"],
        ["list_tables", "answered", ""],
    ]
    backgrounds = [
        model.data(model.index(row, 0), Qt.ItemDataRole.BackgroundRole) for row in range(5)
    ]
    assert backgrounds == [None, FAILURE_FILL, FAILURE_FILL, None, None]
    assert model.data(model.index(2, 3), Qt.ItemDataRole.ToolTipRole) == (
        'relation "nope" does not exist'
    )
    assert model.failed == 2
    model.add([call() for _ in range(4)])  # the failures scroll out, and their count
    assert model.failed == 0
    assert len(model) == 5


def test_selecting_a_call_shows_all_of_it(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    statement = "SELECT *\n  FROM public.items\n WHERE id = 1; COMMIT"
    AuditLog(path).record(
        call(statement=statement, rows=None, error="refused (COMMIT): transaction control")
    )
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    panel.table.selectRow(0)
    text = panel.detail.toPlainText()
    assert text == describe_call(panel.model.row_at(0))  # type: ignore[arg-type]
    assert "refused (COMMIT): transaction control" in text
    assert "server pid 31337 · read-only" in text
    assert text.endswith("\n\n" + statement)


def test_an_unreadable_log_is_said_and_closing_stops_watching(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.mkdir()
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    panel.show()
    assert panel.problem.isVisible()
    assert panel.problem.text() == f"Cannot read the audit log {path}: it is a folder, not a file"
    panel.stop()
    assert panel.watcher.files() + panel.watcher.directories() == []
    panel.read_new()  # a late wake-up reads nothing and watches nothing again
    assert panel.watcher.files() + panel.watcher.directories() == []


def test_the_monitor_window_has_an_agent_tab_on_its_profiles_calls(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.record(call(statement="SELECT 'mine'", profile="Production"))
    log.record(call(statement="SELECT 'theirs'", profile="Staging"))
    engine = MonitorEngine(Target.from_conninfo("postgresql://u@127.0.0.1:1/db"))
    window = MonitorWindow(engine, "Production", audit_file=path)
    keep_loop_running_on_close(window)
    qtbot.addWidget(window)
    window.show()
    tabs = [window.tabs.tabText(index) for index in range(window.tabs.count())]
    assert tabs == ["Notifications", "Agent"]
    assert window.tabs.currentWidget() is window.notifications  # as before: notifications first
    assert statements(window.agent) == ["SELECT 'mine'"]
    window.tabs.setCurrentWidget(window.agent)
    log.record(call(statement="SELECT 'live'", profile="Production"))
    qtbot.waitUntil(lambda: len(window.agent.model) == 2, timeout=WAIT_MS)
    window.close()
    qasync_loop.run_until_complete(asyncio.wait_for(window.stop(), 10))
    assert window.agent.watcher.files() + window.agent.watcher.directories() == []


def test_the_app_gives_the_monitors_the_audit_file_of_its_folders(tmp_path: Path) -> None:
    from supalink.app.context import build_context
    from supalink.paths import AppPaths
    from supalink.profiles import MemorySecretStore

    paths = AppPaths.under(tmp_path)
    context = build_context(paths, MemorySecretStore(), probe_keyring=False)
    assert context.audit_file == paths.audit_file == tmp_path / "data" / "audit.jsonl"


def test_a_server_that_found_its_login_too_powerful_says_so_above_the_calls(
    qtbot: Any, tmp_path: Path
) -> None:
    from supalink.agent.audit_entry import LOGIN_TOOL

    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    powers = ("BYPASSRLS: reads every row, past row level security", "CREATEROLE: creates roles")
    log.record(call(tool=LOGIN_TOOL, statement=None, rows=None, duration_ms=0.0, powers=powers))
    log.record(call(statement="SELECT 1"))
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    panel.show()
    # The login's entry is no call: the table holds the one call, the notice the powers.
    assert statements(panel) == ["SELECT 1"]
    assert panel.login_notice.isVisible()
    text = panel.login_notice.text()
    assert "serves it read-only" in text
    assert all(power in text for power in powers)
    # A later server on an agent-sized login: the notice goes.
    log.record(call(tool=LOGIN_TOOL, statement=None, rows=None, duration_ms=0.0))
    qtbot.waitUntil(lambda: not panel.login_notice.isVisible(), timeout=WAIT_MS)
    log.record(call(tool=LOGIN_TOOL, statement=None, rows=None, error="this login is a superuser"))
    qtbot.waitUntil(panel.login_notice.isVisible, timeout=WAIT_MS)
    assert "refuses its login: this login is a superuser" in panel.login_notice.text()
    assert statements(panel) == ["SELECT 1"]


def test_escape_and_bidi_characters_are_shown_as_escapes_in_the_tab(
    qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    forged = "select 1\x1b[2K\rforged line"
    AuditLog(path).record(call(statement=forged, error="bad \u202eerror", rows=None))
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    texts = [cell(panel, 0, column, Qt.ItemDataRole.DisplayRole) for column in range(5)]
    assert not any("\x1b" in text or "\u202e" in text for text in texts)
    assert "\\x1b[2K" in texts[4]
    panel.table.selectRow(0)
    detail = panel.detail.toPlainText()
    assert "\x1b" not in detail
    assert "\u202e" not in detail
    assert "\\u202eerror" in detail
    assert "\\x1b[2K\\r" in detail


def test_a_burst_is_one_row_that_lists_its_calls_and_a_refused_write_reads_read_only(
    qtbot: Any, tmp_path: Path
) -> None:
    from supalink.agent import Outcome

    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.record(call(statement="delete from t", outcome=Outcome.REFUSED, rule="read-only"))
    for n in range(3):
        log.record(call(statement=f"commit {n}", error="refused", burst="b1"))
    log.record(call(statement="commit 99", error="refused", burst="b1", count=97))
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    assert len(panel.model) == 2
    assert cell(panel, 0, 3, Qt.ItemDataRole.DisplayRole) == "refused: read-only"
    assert cell(panel, 1, 3, Qt.ItemDataRole.DisplayRole).startswith("burst: 100 calls refused")
    panel.table.selectRow(1)
    detail = panel.detail.toPlainText()
    assert all(f"commit {n}" in detail for n in (0, 1, 2, 99))
    assert "… and 97 more, summarised" in detail
    assert panel.counts.text() == "101 calls shown · 101 refused or failed"


def test_verifys_calls_are_behind_a_switch_and_the_counts_start_when_the_window_opens(
    qtbot: Any, tmp_path: Path
) -> None:
    from supalink.agent import Outcome, Who

    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    log.record(call(statement="select 'before'"))
    panel = AgentPanel(path, "prod")
    qtbot.addWidget(panel)
    log.record(call(statement="create temporary table probe", who=Who.SUPALINK, error="refused"))
    log.record(call(statement="select 2"))
    log.record(call(statement="select pg_sleep(9)", outcome=Outcome.CANCELLED, rows=None))
    qtbot.waitUntil(lambda: len(panel.model) == 3, timeout=WAIT_MS)
    assert statements(panel) == ["select 'before'", "select 2", "select pg_sleep(9)"]
    assert panel.counts.text() == (
        "3 calls shown · since this window opened: 1 answered · 1 cancelled"
    )
    panel.show_own.setChecked(True)
    assert statements(panel) == [
        "select 'before'",
        "create temporary table probe",
        "select 2",
        "select pg_sleep(9)",
    ]
    panel.table.selectRow(1)
    assert "asked by supalink" in panel.detail.toPlainText()
    panel.show_own.setChecked(False)
    assert len(panel.model) == 3

"""Words and figures a tester met (issue 31, point 8): what the form, the test, the sign-in
list, the sizing and snippets and the chart say."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF

from supalink import profiles
from supalink.monitor import StatsSample
from supalink.probe import Probe, Step, StepName
from supalink.profiles import Mode, Target, snippets_for
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from supalink.ui.monitors import Monitors
from supalink.ui.profile_form import PASTE_PROMPT, ProfileForm
from supalink.ui.sizing_dialog import SizingDialog
from supalink.ui.stats_chart import StatsChart
from tests.support.monitoring import wait_until
from tests.support.postgres import PostgresServer, local_profile
from tests.ui.monitor_support import live_window

REF = "abcdefghijklmnopqrst"
DASHBOARD = f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-1-eu-central-1.pooler.supabase.com:6543/postgres"


def make_form(qtbot: Any) -> ProfileForm:
    form = ProfileForm("Secret Service (GNOME Keyring)", True)
    qtbot.addWidget(form)
    form.show()
    return form


def saved(uri: str, name: str) -> profiles.Profile:
    return profiles.parse_uri(uri, name=name).profile


def test_the_paste_hint_goes_when_another_profile_is_opened_or_a_new_one_started(
    qtbot: Any,
) -> None:
    form = make_form(qtbot)
    form.paste.setText(DASHBOARD)
    assert "Type the database password" in form.paste.placeholderText()
    form.set_profile(saved("postgresql://app@localhost:5432/shop", "Shop"))
    assert form.paste.placeholderText() == PASTE_PROMPT
    form.paste.setText(DASHBOARD)
    form.set_profile(None)
    assert form.paste.placeholderText() == PASTE_PROMPT


def test_a_saved_postgres_user_shows_as_text(qtbot: Any) -> None:
    form = make_form(qtbot)
    form.set_profile(None)
    assert form.user.text() == ""  # the default, greyed as a placeholder
    form.set_profile(saved("postgresql://postgres@localhost:5432/postgres", "Local"))
    assert form.user.text() == "postgres"
    assert form.profile().user == "postgres"


def test_a_cancelled_test_names_its_step_in_words(pg: PostgresServer) -> None:
    """Cancelled once TCP is through: the step in flight is TLS, said as a person would."""
    profile = local_profile(pg, sslmode="require")

    async def scenario() -> Probe:
        task: asyncio.Task[object] | None = None

        def on_step(step: Step) -> None:
            if step.name is StepName.TCP and task is not None:
                task.cancel()

        probe = Probe(Target.from_profile(profile, pg.password), on_step=on_step)
        task = asyncio.create_task(probe.run())
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return probe

    result = asyncio.run(scenario()).result
    assert result is not None
    assert result.diagnosis is not None
    assert result.diagnosis.message == "the test was cancelled while checking TLS"


def test_sizing_uses_the_max_connections_the_monitor_read(qtbot: Any) -> None:
    lowered = SizingDialog(Mode.SESSION, max_connections=40)
    qtbot.addWidget(lowered)
    assert lowered.advice.limit == 40
    assert "this server" in lowered.advice.message
    assert "max_connections (40), read by its monitor" in lowered.source.text()
    nano = SizingDialog(Mode.SESSION, max_connections=60)
    qtbot.addWidget(nano)
    assert nano.compute.currentData().name == "Nano"
    assert nano.advice.limit == 60
    unknown = SizingDialog(Mode.SESSION)
    qtbot.addWidget(unknown)
    assert unknown.source.text() == ""


def test_the_snippets_max_is_the_sizing_dialog_s_suggestion(qtbot: Any) -> None:
    dialog = SizingDialog(Mode.SESSION)
    qtbot.addWidget(dialog)
    suggested = dialog.advice.suggested_max
    texts = {s.key: s.text for s in snippets_for(saved("postgresql://app@localhost/shop", "S"))}
    assert f"  max: {suggested}," in texts["node"]
    assert f"    max_size={suggested}," in texts["python"]


def test_the_main_window_sizes_against_the_open_monitor_s_reading(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
) -> None:
    app_context.monitors = Monitors()
    main = MainWindow(app_context)
    qtbot.addWidget(main)
    assert main._read_max_connections("Test project") is None  # no monitor open

    async def scenario() -> tuple[int | None, int]:
        async with live_window(qtbot, pg.uri()) as monitor:
            await wait_until(lambda: monitor.engine.server is not None, 30, "a server view")
            assert app_context.monitors is not None
            app_context.monitors.windows["Test project"] = monitor
            read = main._read_max_connections("Test project")
            async with await psycopg.AsyncConnection.connect(pg.uri()) as conn:
                cursor = await conn.execute("SHOW max_connections")
                row = await cursor.fetchone()
            assert row is not None
            return read, int(row[0])

    read, actual = qasync_loop.run_until_complete(asyncio.wait_for(scenario(), 60))
    assert read == actual


@pytest.mark.parametrize("width", [500, 260, 160])
def test_the_chart_legend_lies_outside_the_plot(qtbot: Any, width: int) -> None:
    chart = StatsChart()
    qtbot.addWidget(chart)
    chart.resize(width, 220)
    chart.show()
    qtbot.waitExposed(chart)
    at_max = [
        StatsSample(
            at=1_700_000_000.0 + second,
            state="open",
            size=4,
            idle=0,
            in_use=4,
            waiting=0,
            requests=second,
            errors=0,
            connections_lost=0,
            avg_wait_ms=0.0,
            min_size=1,
            max_size=4,
        )
        for second in range(60)
    ]
    chart.show_history(at_max)
    metrics = QFontMetricsF(chart.font())
    plot = chart.plot_rect
    assert plot.height() > 50
    for _, stroke, at, label in chart.legend:
        text = QRectF(
            at.x(), at.y() - metrics.ascent(), metrics.horizontalAdvance(label), metrics.height()
        )
        assert not text.intersects(plot), (label, text, plot)
        assert not QRectF(stroke.p1(), stroke.p2()).adjusted(0, -1, 0, 1).intersects(plot)

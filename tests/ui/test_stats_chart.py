"""The pool chart redraws when a plotted figure changes, scrolls only every few seconds while
the pool is steady, and does nothing while hidden (an idle monitor's CPU is mostly this)."""

from __future__ import annotations

from collections import deque
from typing import Any

from supalink.monitor.stats import StatsSample
from supalink.ui.stats_chart import STEADY_REDRAW_SECONDS, StatsChart

START = 1_700_000_000.0


def sample(second: float, in_use: int = 0, size: int = 2) -> StatsSample:
    return StatsSample(
        at=START + second,
        state="open",
        size=size,
        idle=size - in_use,
        in_use=in_use,
        waiting=0,
        requests=int(second),  # a counter that moves every second, and is not plotted
        errors=0,
        connections_lost=0,
        avg_wait_ms=0.0,
        min_size=1,
        max_size=4,
    )


def shown_chart(qtbot: Any) -> StatsChart:
    chart = StatsChart()
    qtbot.addWidget(chart)
    chart.resize(500, 250)
    chart.show()
    qtbot.waitExposed(chart)
    return chart


def test_a_changed_figure_is_drawn_at_once_and_a_steady_pool_only_scrolls(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    history: deque[StatsSample] = deque()

    def tick(second: float, in_use: int = 0) -> None:
        history.append(sample(second, in_use))
        chart.show_history(history)

    tick(0)
    assert chart.redraws == 1
    assert chart.points("in_use") == [0.0]
    steady = int(STEADY_REDRAW_SECONDS) - 1
    for second in range(1, steady + 1):
        tick(second)
    assert chart.redraws == 1, "a steady pool redrew every second"
    changed_at = steady + 1
    tick(changed_at, in_use=3)
    assert chart.redraws == 2
    assert chart.points("in_use")[-1] == 3.0
    assert len(chart.points("in_use")) == len(history)
    for second in range(changed_at + 1, changed_at + 1 + 4 * int(STEADY_REDRAW_SECONDS)):
        tick(second, in_use=3)
    assert chart.redraws == 2 + 4
    assert chart.points("in_use")[-1] == 3.0


def test_a_hidden_chart_draws_nothing_and_catches_up_when_shown(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    history = deque([sample(0)])
    chart.show_history(history)
    chart.hide()
    for second in range(1, 30):
        history.append(sample(second, in_use=second % 3))
        chart.show_history(history)
    assert chart.redraws == 1
    chart.show()
    qtbot.waitExposed(chart)
    assert chart.redraws == 2
    assert len(chart.points("in_use")) == 30
    assert chart.points("in_use")[-1] == float(29 % 3)


def test_a_new_history_after_a_restart_is_drawn(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    chart.show_history([sample(100), sample(101)])
    chart.show_history([sample(0)])
    assert chart.redraws == 2
    assert chart.points("size") == [2.0]

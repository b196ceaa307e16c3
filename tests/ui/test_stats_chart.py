"""The pool chart redraws when a plotted figure changes, scrolls only every few seconds while
the pool is steady, and does nothing while hidden (an idle monitor's CPU is mostly this)."""

from __future__ import annotations

import itertools
from collections import deque
from datetime import datetime
from typing import Any

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPalette

from supalink.monitor.stats import StatsSample
from supalink.ui.stats_chart import STEADY_REDRAW_SECONDS, StatsChart
from supalink.ui.theme import ACCENT

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


def accent_rows(chart: StatsChart, x: int) -> list[int]:
    """The rows of column `x` of the painted chart in the in_use curve's colour."""
    image = chart.grab().toImage()
    colour = QColor(ACCENT).rgb()
    return [y for y in range(image.height()) if image.pixel(x, y) == colour]


def expected_row(chart: StatsChart, connections: float, top: float) -> float:
    plot = chart.plot_rect
    return plot.bottom() - connections / top * plot.height()


def near_the_end(chart: StatsChart) -> int:
    """A column a little left of the last sample (the x range has 2 % padding each side)."""
    return round(chart.plot_rect.right() - 0.04 * chart.plot_rect.width())


def step_history() -> list[StatsSample]:
    # in use 1 for a minute then 3 (size 4, max_size 4: the y range is 0 to 4.4).
    return [sample(second, in_use=1 if second < 60 else 3, size=4) for second in range(90)]


def test_the_in_use_curve_is_painted_where_its_points_are(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    chart.show_history(step_history())
    rows = accent_rows(chart, near_the_end(chart))
    assert rows, "no in_use pixels near the last sample"
    assert all(abs(row - expected_row(chart, 3, 4.4)) <= 2 for row in rows), rows
    # Earlier the curve was at 1, not at 3.
    before = round(chart.plot_rect.left() + 0.3 * chart.plot_rect.width())
    rows = accent_rows(chart, before)
    assert rows
    assert all(abs(row - expected_row(chart, 1, 4.4)) <= 2 for row in rows), rows


def test_a_resize_rebuilds_the_curves_and_the_axes(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    chart.show_history(step_history())
    narrow_right = chart.polygons["in_use"].last().x()
    narrow_labels = [text for _, _, text in chart.labels]
    chart.resize(900, 300)
    qtbot.waitUntil(lambda: chart.width() == 900)
    assert chart.redraws == 1, "a resize is not a redraw of the data"
    last = chart.polygons["in_use"].last()
    assert last.x() > narrow_right + 300
    assert abs(last.y() - expected_row(chart, 3, 4.4)) <= 1
    assert [text for _, _, text in chart.labels] != narrow_labels  # more, closer time labels
    rows = accent_rows(chart, near_the_end(chart))
    assert rows
    assert all(abs(row - expected_row(chart, 3, 4.4)) <= 2 for row in rows), rows


def time_labels(chart: StatsChart) -> list[tuple[QRectF, str]]:
    return [(rect, text) for rect, _, text in chart.labels if ":" in text]


def time_format(label: str) -> str:
    return "%H:%M:%S" if label.count(":") == 2 else "%H:%M"


@pytest.mark.parametrize("width", [160, 240, 320, 500, 900, 1600])
@pytest.mark.parametrize("seconds", [1, 45, 300, 600])
def test_time_labels_are_clock_times_on_whole_steps_and_never_overlap(
    qtbot: Any, width: int, seconds: int
) -> None:
    chart = StatsChart()
    qtbot.addWidget(chart)
    chart.resize(width, 200)
    chart.show_history([sample(second) for second in range(seconds)])  # hidden: kept
    chart._draw()
    labels = time_labels(chart)
    assert len(labels) >= (2 if width >= 320 else 1), labels
    rects = [rect for rect, _ in labels]
    assert all(rect.left() >= 0 and rect.right() <= width for rect in rects)
    assert all(a.right() < b.left() for a, b in itertools.pairwise(rects)), rects
    clock = [datetime.strptime(text, time_format(text)) for _, text in labels]
    steps = {(b - a).total_seconds() for a, b in itertools.pairwise(clock)}
    assert len(steps) <= 1, [text for _, text in labels]
    step = steps.pop() if steps else 60.0 if labels[0][1].count(":") == 1 else 1.0
    assert all((t.hour * 3600 + t.minute * 60 + t.second) % step == 0 for t in clock)
    assert (step < 60) is (labels[0][1].count(":") == 2)


def test_count_labels_are_integers_from_zero_up_to_the_range(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    chart.show_history(step_history())
    counts = [text for _, _, text in chart.labels if ":" not in text]
    assert counts == ["0", "1", "2", "3", "4"]


def test_the_paint_follows_a_palette_change(qtbot: Any) -> None:
    chart = shown_chart(qtbot)
    chart.show_history(step_history())
    palette = chart.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#123456"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#fedcba"))
    chart.setPalette(palette)
    image = chart.grab().toImage()
    assert image.pixelColor(1, 1) == QColor("#123456")
    # The grid: Text at 15 % over Base, on a line between the count labels.
    plot = chart.plot_rect
    grid_row = round(expected_row(chart, 2, 4.4) - 0.5)
    grid = image.pixelColor(round(plot.left() + plot.width() / 2) + 3, grid_row)
    assert abs(grid.red() - (0.15 * 0xFE + 0.85 * 0x12)) <= 2, grid.name()

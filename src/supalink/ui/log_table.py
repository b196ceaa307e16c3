"""A live log's table (the notifications, the agent's calls) and the read-only pane beside it
that shows the whole of the selected row."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QPlainTextEdit, QSplitter, QTableView

from supalink.ui.panel_parts import SCROLLED_HEIGHT


def log_table(
    model: QAbstractItemModel,
    name: str,
    row_height: int,
    widths: Sequence[int],
    table: QTableView | None = None,
) -> QTableView:
    """A live log's table (`table`, or a new QTableView): whole rows selected one at a
    time, fixed row heights (no per-row measuring while rows pour in), the last column
    stretched."""
    table = table or QTableView()
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(row_height)
    table.horizontalHeader().setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    table.setMinimumHeight(SCROLLED_HEIGHT)  # a header and a row or two on a small screen
    return table


def beside_detail(
    table: QTableView, name: str, placeholder: str, sizes: tuple[int, int]
) -> tuple[QPlainTextEdit, QSplitter]:
    """A log's table with a read-only pane beside it for the whole of the selected row."""
    detail = QPlainTextEdit()
    detail.setReadOnly(True)
    detail.setAccessibleName(name)
    detail.setPlaceholderText(placeholder)
    detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    detail.setMinimumHeight(SCROLLED_HEIGHT)
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(table)
    split.addWidget(detail)
    split.setStretchFactor(0, 3)
    split.setStretchFactor(1, 1)
    split.setSizes(list(sizes))
    return detail, split


__all__ = ["beside_detail", "log_table"]

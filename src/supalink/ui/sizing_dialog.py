"""Pool sizing helper: expected concurrency in, a suggested max and a limit check out.
Against the server's own max_connections when its monitor has read it, else a compute size."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from supalink.monitor import COMPUTE_SIZES, advise, server_limits
from supalink.profiles import Mode, defaults
from supalink.ui.server_fields import MODE_LABELS

VERDICT_COLORS = {"ok": "#2f9e6f", "tight": "#d9822b", "over": "#d9534f"}


class SizingDialog(QDialog):
    def __init__(
        self,
        mode: Mode = Mode.SESSION,
        parent: QWidget | None = None,
        *,
        max_connections: int | None = None,
    ) -> None:
        """`max_connections`: the server's, when a monitor of this profile has read it."""
        super().__init__(parent)
        self.setWindowTitle("Pool sizing")
        self.resize(520, 480)
        self.concurrent = QSpinBox()
        self.concurrent.setRange(0, 100_000)
        self.concurrent.setValue(defaults.POOL_CONCURRENT_OPERATIONS)
        self.concurrent.setAccessibleName("Expected concurrent operations")
        self.buffer = QSpinBox()
        self.buffer.setRange(0, 1000)
        self.buffer.setValue(defaults.POOL_BUFFER)
        self.buffer.setAccessibleName("Buffer")
        self.compute = QComboBox()
        self.compute.setAccessibleName("Compute size")
        for size in COMPUTE_SIZES:
            self.compute.addItem(
                f"{size.name} ({size.max_connections} connections, {size.pooler_clients} "
                "pooler clients)",
                size,
            )
        self.source = QLabel()
        self.source.setWordWrap(True)
        if max_connections is not None:
            self._use_server(max_connections)
        self.mode = QComboBox()
        self.mode.setAccessibleName("Connection mode")
        for each, label in MODE_LABELS.items():
            self.mode.addItem(label, each)
        self.mode.setCurrentIndex(self.mode.findData(mode))
        self.others = QTableWidget(0, 2)
        self.others.setAccessibleName("Other pools")
        self.others.setHorizontalHeaderLabels(["Other client", "Pool max"])
        self.others.horizontalHeader().setStretchLastSection(True)
        add = QPushButton("Add pool")
        remove = QPushButton("Remove pool")
        self.suggested = QLabel()
        self.suggested.setAccessibleName("Suggested pool max")
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)

        form = QFormLayout()
        # A label above its field when both do not fit side by side (1024x768 at 200 %).
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Expected concurrent operations", self.concurrent)
        form.addRow("Buffer", self.buffer)
        form.addRow("Compute size", self.compute)
        form.addRow("", self.source)
        form.addRow("Mode", self.mode)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add)
        buttons_row.addWidget(remove)
        buttons_row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        others_label = QLabel("Other pools on the same database (their max sizes):")
        others_label.setWordWrap(True)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addLayout(form)
        body_layout.addWidget(others_label)
        body_layout.addWidget(self.others, 1)
        body_layout.addLayout(buttons_row)
        body_layout.addWidget(self.suggested)
        body_layout.addWidget(self.verdict)
        # The body scrolls, Close stays: on a small screen at 200 % the dialog is lower
        # than its figures.
        scroll = QScrollArea()
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(close)

        for spin in (self.concurrent, self.buffer):
            spin.valueChanged.connect(self.recompute)
        for combo in (self.compute, self.mode):
            combo.currentIndexChanged.connect(self.recompute)
        self.others.itemChanged.connect(self.recompute)
        add.clicked.connect(self.add_pool)
        remove.clicked.connect(self._remove_pool)
        self.recompute()

    def _use_server(self, max_connections: int) -> None:
        """Size against what the server says (a Nano's limit may have been lowered)."""
        limits = server_limits(max_connections)
        index = self.compute.findData(limits)
        if index < 0:
            self.compute.insertItem(
                0, f"This server ({max_connections} connections, read by its monitor)", limits
            )
            index = 0
        self.compute.setCurrentIndex(index)
        self.source.setText(
            f"Sized against this server's max_connections ({max_connections}), read by its monitor."
        )

    def add_pool(self, name: str = "another app", size: int = 20) -> None:
        row = self.others.rowCount()
        self.others.insertRow(row)
        self.others.setItem(row, 0, QTableWidgetItem(name or "another app"))
        self.others.setItem(row, 1, QTableWidgetItem(str(size)))
        self.recompute()

    def _remove_pool(self) -> None:
        row = self.others.currentRow()
        if row >= 0:
            self.others.removeRow(row)
            self.recompute()

    def other_sizes(self) -> tuple[int, ...]:
        sizes = []
        for row in range(self.others.rowCount()):
            item = self.others.item(row, 1)
            text = item.text().strip() if item is not None else ""
            sizes.append(int(text) if text.isdigit() else 0)
        return tuple(sizes)

    def recompute(self, *_: object) -> None:
        advice = advise(
            self.concurrent.value(),
            self.compute.currentData(),
            Mode(self.mode.currentData()),
            self.other_sizes(),
            self.buffer.value(),
        )
        self.suggested.setText(
            "<span style='font-size: 16pt'>Suggested pool max: "
            f"<b>{advice.suggested_max}</b></span>"
            f"<br>max = ceil({self.concurrent.value()} &times; 1.5) + {self.buffer.value()}"
        )
        color = VERDICT_COLORS[advice.verdict]
        self.verdict.setText(f"<span style='color: {color}'>{advice.message}</span>")
        self.advice = advice

"""The connection test, live: each step with a tick or a cross and its time, then the
diagnosis and its hint, or the server's facts."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from supalink.probe import STEP_ORDER, ProbeResult, Remedy, Step, StepName, psql_command
from supalink.profiles import Target
from supalink.ui.theme import Tone, toned

PENDING, RUNNING, PASSED, FAILED = "·", "…", "✓", "✗"
COLORS = {PASSED: "#2f9e6f", FAILED: "#d9534f", RUNNING: "#d9822b", PENDING: "#8a8f98"}
# Where each remedy of a diagnosis is given in the window: its fields, by their labels.
REMEDY_FIELDS = {
    Remedy.CA_FILE: ": choose it in CA file",
    Remedy.PASSWORD: ": type it in Password",
    Remedy.LONGER_TIMEOUT: ": set it in Connect timeout",
}


class ProbePanel(QFrame):
    """Shows one test at a time; `run()` is the coroutine the window's task runner runs."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Connection test")
        self.title = QLabel("<b>Connection test</b>")
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName("Cancel connection test")
        self.cancel.hide()
        self.cancel.clicked.connect(self.cancel_requested)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        self.marks: dict[StepName, QLabel] = {}
        self.details: dict[StepName, QLabel] = {}
        self.times: dict[StepName, QLabel] = {}
        for row, step in enumerate(STEP_ORDER):
            mark, name, ms, detail = QLabel(PENDING), QLabel(step.label), QLabel(), QLabel()
            detail.setWordWrap(True)
            detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            ms.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            for column, widget in enumerate((mark, name, ms, detail)):
                self.grid.addWidget(widget, row, column, Qt.AlignmentFlag.AlignTop)
            self.marks[step], self.times[step], self.details[step] = mark, ms, detail
        self.grid.setColumnStretch(3, 1)
        self.diagnosis = QLabel()
        self.diagnosis.setWordWrap(True)
        self.diagnosis.setAccessibleName("Diagnosis")
        self.diagnosis.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.psql = toned(QLabel(), Tone.HINT)
        self.psql.setWordWrap(True)
        self.psql.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_psql = QPushButton("Copy psql command")
        self.copy_psql.hide()
        self.copy_psql.clicked.connect(self._copy_psql)
        self._psql_line = ""
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(self.grid)
        layout.addWidget(self.diagnosis)
        psql_row = QHBoxLayout()
        psql_row.addWidget(self.psql, 1)
        psql_row.addWidget(self.copy_psql)
        layout.addLayout(psql_row)
        self.result: ProbeResult | None = None
        self._run = 0  # which run() the panel shows: a cancelled one's ending must not show
        self.reset()

    def clear(self) -> None:
        """Forget the shown test (its profile is no longer the form's) and hide."""
        self._run += 1
        self.result = None
        self.title.setText("<b>Connection test</b>")
        self.reset()
        self.cancel.hide()
        self.hide()

    def reset(self) -> None:
        for step in STEP_ORDER:
            self._mark(step, PENDING)
            self.times[step].setText("")
            self.details[step].setText("")
        self.diagnosis.setText("")
        self.psql.setText("")
        self.copy_psql.hide()

    def _mark(self, step: StepName, state: str) -> None:
        self.marks[step].setText(
            f"<span style='color:{COLORS[state]}; font-weight:bold'>{state}</span>"
        )
        self.marks[step].setAccessibleName(
            {PASSED: "passed", FAILED: "failed", RUNNING: "running", PENDING: "not run"}[state]
        )

    def show_step(self, step: Step) -> None:
        self._mark(step.name, PASSED if step.ok else FAILED)
        self.times[step.name].setText(f"{step.ms:.0f} ms")
        self.details[step.name].setText(step.detail)
        following = STEP_ORDER.index(step.name) + 1
        if step.ok and following < len(STEP_ORDER):
            self._mark(STEP_ORDER[following], RUNNING)

    async def run(self, target: Target) -> ProbeResult | None:
        """Test a profile's target (see `Probe`), showing each step as it ends."""
        profile = target.profile
        assert profile is not None, "a profile's target"
        self._run += 1
        run = self._run
        self.reset()
        self.result = None
        self.title.setText(f"<b>Testing {profile.name}…</b>")
        self._mark(StepName.PARSE, RUNNING)
        self.cancel.show()
        import asyncio

        from supalink.probe import Probe  # its runner (psycopg) loads after the window is up

        def show_step(step: Step) -> None:
            if run == self._run:
                self.show_step(step)

        probe = Probe(target, on_step=show_step)
        try:
            result = await probe.run()
        except asyncio.CancelledError:
            if run == self._run:
                self.result = probe.result
                self.title.setText(f"<b>Test of {profile.name} cancelled</b>")
                self._show_result(self.result)
            raise
        finally:
            if run == self._run:
                self.cancel.hide()
        if run != self._run:  # cleared meanwhile: another profile is on screen
            return result
        self.result = result
        self.title.setText(
            f"<b>{profile.name}: {'connected' if self.result.ok else 'the test failed'}</b>"
        )
        self._show_result(self.result)
        command = psql_command(profile)
        self._psql_line = command.shell()
        self.psql.setText(f"The same with psql (password from PGPASSWORD): {self._psql_line}")
        self.copy_psql.show()
        return self.result

    def _show_result(self, result: ProbeResult | None) -> None:
        if result is None:
            return
        for step in STEP_ORDER:
            if self.marks[step].accessibleName() == "running":
                self._mark(step, PENDING)
        if (diagnosis := result.diagnosis) is not None:
            where = REMEDY_FIELDS[diagnosis.remedy] if diagnosis.remedy else ""
            self.diagnosis.setText(
                f"<span style='color:{COLORS[FAILED]}'><b>{diagnosis.message}</b></span>"
                f"<br>{diagnosis.hint}{where}"
            )
            return
        server = result.server
        if server is None:
            return
        facts = [f"{server.version.split(' on ')[0]} as {server.user}"]
        if server.max_connections is not None:
            facts.append(
                f"{server.connections_in_use} of {server.max_connections} connections in use"
            )
        facts.append(f"encrypted ({server.tls_version})" if server.encrypted else "NOT encrypted")
        if server.pooler:
            facts.append(f"through a pooler ({server.pool_mode or 'mode unknown'})")
        text = "; ".join(facts)
        for warning in server.warnings:
            text += f"<br><span style='color:{COLORS[RUNNING]}'>{warning}</span>"
        self.diagnosis.setText(text)

    def _copy_psql(self) -> None:
        QGuiApplication.clipboard().setText(self._psql_line.replace("PGPASSWORD=**** ", ""))

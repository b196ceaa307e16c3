"""The connection test, live: each step with a tick or a cross and its time, then the
diagnosis and its hint, or the server's facts. The steps and the psql line are details the
person may hide; the diagnosis stays. What it shows scrolls: the panel sits under the form
(ui/form_area.py), which keeps its room."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
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
# The same fields by the form's keys (ui/profile_form.py): the window scrolls to the one a
# diagnosis names and puts the cursor there.
REMEDY_KEYS = {
    Remedy.CA_FILE: "sslrootcert",
    Remedy.PASSWORD: "password",
    Remedy.LONGER_TIMEOUT: "connect_timeout",
}


class ProbePanel(QFrame):
    """Shows one test at a time; `run()` is the coroutine the window's task runner runs."""

    cancel_requested = Signal()
    field_pointed = Signal(str)  # the form's key of the field a diagnosis says to fix
    # What it shows took another height: the details folded or unfolded, a result came.
    grown = Signal()
    details_toggled = Signal(bool)  # by the person: the steps and the psql line shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Connection test")
        self.title = QLabel("<b>Connection test</b>")
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName("Cancel connection test")
        self.cancel.hide()
        self.cancel.clicked.connect(self.cancel_requested)
        self.details_button = QPushButton()
        self.details_button.setCheckable(True)
        self.details_button.setChecked(True)
        self.details_button.toggled.connect(self.show_details)
        self.details_button.clicked.connect(self.details_toggled)
        self.steps = QWidget()  # the details: hidden with the psql line
        self.grid = QGridLayout(self.steps)
        self.grid.setContentsMargins(0, 0, 0, 0)
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
        self.psql_row = QWidget()
        self.copy_psql.clicked.connect(self._copy_psql)
        self._psql_line = ""
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.details_button)
        header.addWidget(self.cancel)
        psql_row = QHBoxLayout(self.psql_row)
        psql_row.setContentsMargins(0, 0, 0, 0)
        psql_row.addWidget(self.psql, 1)
        psql_row.addWidget(self.copy_psql)
        self.shown = shown = QWidget()  # what the scroll area holds
        shown_layout = QVBoxLayout(shown)
        shown_layout.setContentsMargins(0, 0, 0, 0)
        shown_layout.addWidget(self.steps)
        shown_layout.addWidget(self.diagnosis)
        shown_layout.addWidget(self.psql_row)
        shown_layout.addStretch(1)
        self.result_scroll = QScrollArea()
        self.result_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.result_scroll.setWidgetResizable(True)
        self.result_scroll.setWidget(shown)
        self.title.setWordWrap(True)  # a long profile name: two lines, not a wider window
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.result_scroll, 1)
        self.result: ProbeResult | None = None
        self._run = 0  # which run() the panel shows: a cancelled one's ending must not show
        self.reset()
        self.show_details(True)

    def show_details(self, shown: bool) -> None:
        """Show or hide the steps and the psql line; the title and the diagnosis stay."""
        self.details_button.setChecked(shown)
        self.details_button.setText("Hide details" if shown else "Show details")
        self.details_button.setAccessibleName(
            "Hide the test's steps" if shown else "Show the test's steps"
        )
        self.steps.setVisible(shown)
        self.psql_row.setVisible(shown)
        self.grown.emit()

    @property
    def details_shown(self) -> bool:
        return self.details_button.isChecked()

    def whole_height(self) -> int:
        """The height that shows all it holds at its width (the scroll area's own size hint
        keeps the height from before the details folded)."""
        content = self.shown
        inner = content.heightForWidth(self.result_scroll.viewport().width())
        if inner < 0:
            inner = content.sizeHint().height()
        outside = self.sizeHint().height() - self.result_scroll.sizeHint().height()
        return outside + inner + 2 * self.result_scroll.frameWidth()

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
        self.grown.emit()
        return self.result

    def _show_result(self, result: ProbeResult | None) -> None:
        if result is None:
            return
        self._show_facts(result)
        self.grown.emit()
        if result.diagnosis is not None and result.diagnosis.remedy is not None:
            self.field_pointed.emit(REMEDY_KEYS[result.diagnosis.remedy])

    def _show_facts(self, result: ProbeResult) -> None:
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

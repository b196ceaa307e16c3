"""The monitor window's Agent tab: the calls this profile's agent made through
`supalink mcp-serve`, as the audit log records them, live while the window is open.

Idle, it costs nothing: a QFileSystemWatcher on the log and its folder wakes it only when a
server wrote, and then it reads only the appended bytes (supalink.agent.AuditTail). A
rotation replaces the file, so the file is watched afresh after each read. A burst of
calls is read once per READ_DELAY_MS, and the table keeps the newest MAX_ROWS, newest at
the bottom as in the notifications table (ui/agent_calls_model.py: a burst of refused calls is
one row). Supalink's own calls (Verify) are left out unless the switch shows them; the
counts say what became of the calls since the window opened, in the audit's outcome words.
"""

from __future__ import annotations

from collections import Counter, deque
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QItemSelection, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from supalink.agent import AuditEntry, AuditTail, Outcome, Selection, Who, visible
from supalink.errors import os_error_cause
from supalink.ui.agent_calls_model import MAX_ROWS, AgentCallsModel, describe_row
from supalink.ui.log_table import beside_detail, log_table
from supalink.ui.panel_parts import hint_label, scrolled
from supalink.ui.theme import Tone, toned

BACKLOG_BYTES = 256_000  # what an opening window shows from before: a few hundred calls
READ_DELAY_MS = 100
EMPTY_TEXT = (
    "The agent's calls will appear here once Claude Desktop uses this profile's "
    "supalink server entry."
)
EMPTY_HINT = "Write its config with the supalink server, then quit and restart Claude Desktop."
SHOW_OWN = "Show Supalink's own calls (Verify)"


def login_text(entry: AuditEntry) -> str:
    """The Agent tab's notice for what a server found when it read its login ("" for an
    agent-sized login: nothing to say)."""
    if entry.error is not None:
        return f"The agent's server refuses its login: {visible(entry.error)}"
    if not entry.powers:
        return ""
    lines = [
        "This agent's login can do more than an agent needs, so its server serves it "
        "read-only. What it can do that a role made by Supalink could not:",
        *(f"• {visible(power)}" for power in entry.powers),
        "Give the agent a role of its own: Write config… offers one.",
    ]
    return "\n".join(lines)


def outcome_counts(counts: Counter[Outcome]) -> str:
    """ "2 answered · 1 refused", in the audit's own order of outcomes."""
    return " · ".join(f"{counts[outcome]:,} {outcome}" for outcome in Outcome if counts[outcome])


class AgentPanel(QWidget):
    # A burst of refused calls read since the window opened (not from the backlog): its id
    # in the audit and the rule that refused them ("" when none is named), once per read
    # that brings some of it.
    refused_burst = Signal(str, str)

    def __init__(
        self, audit_file: Path | None, profile: str | None, parent: QWidget | None = None
    ) -> None:
        """`audit_file`: where the servers record their calls (None: nowhere to look, the
        empty state stays); `profile`: whose calls to show (None: every server's)."""
        super().__init__(parent)
        self.audit_file = audit_file
        self.selection = Selection(profile=profile)
        self.model = AgentCallsModel(parent=self)
        # Every call read, Supalink's own too: the switch shows them again without a reread.
        self._recent: deque[AuditEntry] = deque(maxlen=MAX_ROWS * 4)
        self.since_opened: Counter[Outcome] = Counter()  # the calls shown, by outcome
        self._opened = False
        self._build()
        self._read_timer = QTimer(self)
        self._read_timer.setSingleShot(True)
        self._read_timer.setInterval(READ_DELAY_MS)
        self._read_timer.timeout.connect(self.read_new)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._changed)
        self.watcher.directoryChanged.connect(self._changed)
        self._tail: AuditTail | None = None
        if audit_file is not None:
            self._tail = AuditTail(audit_file, profile=profile, backlog_bytes=BACKLOG_BYTES)
            self.read_new()
        self._opened = True

    def _build(self) -> None:
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        self.empty_text = QLabel(EMPTY_TEXT)
        self.empty_text.setWordWrap(True)
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_hint = hint_label(EMPTY_HINT)
        empty_hint.setWordWrap(True)
        empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_text)
        empty_layout.addWidget(empty_hint)
        empty_layout.addStretch(2)

        self.table = log_table(
            self.model, "Agent calls", self.fontMetrics().height() + 8, (100, 110, 84, 170)
        )
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.detail, split = beside_detail(
            self.table, "Call detail", "Select a call to read its statement and result", (760, 340)
        )

        self.pages = QStackedWidget()
        self.pages.addWidget(scrolled(empty))  # the tab may be lower than its words
        self.pages.addWidget(split)
        self.counts = hint_label()
        self.counts.setAccessibleName("Agent calls shown")
        self.show_own = QCheckBox(SHOW_OWN)
        self.show_own.setToolTip(
            "Verify's calls test the server; they are not the agent's. Shown, they read "
            "'asked by supalink' in the detail."
        )
        self.show_own.toggled.connect(self._show_own_changed)
        self.problem = toned(QLabel(), Tone.ERROR)
        self.problem.setWordWrap(True)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.hide()
        # What the agent's server found when it read its login: shown while the newest
        # server says its login can do more than an agent needs, or was refused.
        self.login_notice = toned(QLabel(), Tone.ERROR)
        self.login_notice.setWordWrap(True)
        self.login_notice.setTextFormat(Qt.TextFormat.PlainText)  # names from the database
        self.login_notice.setAccessibleName("The agent's login")
        self.login_notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.login_notice.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.login_notice)
        top = QHBoxLayout()
        top.addWidget(self.counts, 1)
        top.addWidget(self.show_own)
        layout.addLayout(top)
        layout.addWidget(self.problem)
        layout.addWidget(self.pages, 1)
        self._show_counts()

    # ----- following the log ------------------------------------------------------------
    def read_new(self) -> None:
        """Take in what the servers appended, then watch the log as it is now."""
        self._read_timer.stop()
        if self._tail is None:
            return
        try:
            entries = self._tail.read_new()
        except OSError as error:
            cause = os_error_cause(error, Path(self.audit_file or ""), "read")
            self.problem.setText(f"Cannot read the audit log {self.audit_file}: {cause}")
            self.problem.show()
            entries = []
        else:
            self.problem.hide()
        logins = [entry for entry in entries if entry.is_login]
        if logins:
            self._show_login(logins[-1])
        calls = [entry for entry in entries if not entry.is_login]
        self._recent.extend(calls)
        shown = [entry for entry in calls if self.selection.includes(entry)]
        if self._opened:
            for entry in shown:
                self.since_opened[entry.outcome] += entry.count
            bursts = {entry.burst: entry.rule for entry in shown if entry.burst and entry.refused}
            for burst, rule in bursts.items():
                self.refused_burst.emit(burst, visible(rule or ""))
        if shown:
            bar = self.table.verticalScrollBar()
            following = bar.value() >= bar.maximum() - 2
            self.model.add(shown)
            if following:
                self.table.scrollToBottom()
        if calls or not self._opened:
            self._show_counts()
        self._watch()

    def _show_own_changed(self, shown: bool) -> None:
        who = {Who.AGENT, Who.SUPALINK} if shown else {Who.AGENT}
        self.selection = Selection(profile=self.selection.profile, who=frozenset(who))
        self.model.clear()
        self.model.add([entry for entry in self._recent if self.selection.includes(entry)])
        self.table.scrollToBottom()
        self._show_counts()

    def _show_login(self, entry: AuditEntry) -> None:
        text = login_text(entry)
        self.login_notice.setText(text)
        self.login_notice.setVisible(bool(text))

    def stop(self) -> None:
        """Stop watching (the window closed): nothing reads the log any more."""
        self._tail = None
        self._read_timer.stop()
        watched = self.watcher.files() + self.watcher.directories()
        if watched:
            self.watcher.removePaths(watched)

    def _changed(self, _: str) -> None:
        if not self._read_timer.isActive():
            self._read_timer.start()

    def _watch(self) -> None:
        """The log's folder (or, until it exists, the nearest folder above it) and the log
        itself once it is there: a rotation replaces the file, which drops its watch."""
        if self.audit_file is None or self._tail is None:
            return
        folder = self.audit_file.parent
        while not folder.is_dir() and folder != folder.parent:
            folder = folder.parent
        wanted = [str(folder)] + ([str(self.audit_file)] if self.audit_file.is_file() else [])
        stale = [path for path in self.watcher.directories() if path != str(folder)]
        if stale:
            self.watcher.removePaths(stale)
        missing = [path for path in wanted if path not in self._watched()]
        if missing:
            self.watcher.addPaths(missing)

    def _watched(self) -> set[str]:
        return set(self.watcher.files()) | set(self.watcher.directories())

    def _show_counts(self) -> None:
        shown = len(self.model)
        self.pages.setCurrentIndex(1 if shown else 0)
        self.counts.setVisible(shown > 0)  # the empty page says it all
        calls = self.model.calls
        text = f"{calls:,} call{'' if calls == 1 else 's'} shown"
        if shown == self.model.capacity:
            text += " (the newest)"
        if self.model.failed:
            text += f" · {self.model.failed:,} refused or failed"
        if self.since_opened:
            text += f" · since this window opened: {outcome_counts(self.since_opened)}"
        self.counts.setText(text)

    def _selection_changed(self, selected: QItemSelection, _: QItemSelection) -> None:
        indexes = selected.indexes()
        row = self.model.call_row(indexes[0].row()) if indexes else None
        if row is not None:
            self.detail.setPlainText(describe_row(row))

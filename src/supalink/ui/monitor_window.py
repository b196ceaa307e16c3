"""The monitor window: what the person leaves open for days next to their agent.

It shows one `MonitorEngine` (Qt-free, in supalink.monitor): health, pool figures and
chart, the server's view, and the notifications. The engine delivers its events in
batches at most ten times a second, and the window catches up with them at most once a
second while they keep coming (CATCH_UP_SECONDS), each panel once: a flood or a trickle of
notifications costs one repaint a second, never one per notification.

    window = MonitorWindow(engine, "Production")
    window.show()
    window.start_soon()          # closing the window stops the engine within 5 s
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from supalink.error_texts import short_reason
from supalink.errors import SupalinkError
from supalink.logs import route_library_logs
from supalink.monitor import (
    STOP_TIMEOUT,
    Batch,
    Disconnected,
    ErrorEvent,
    Event,
    Health,
    HealthReport,
    ListenerState,
    Listening,
    MonitorEngine,
    Outage,
    ServerSnapshot,
    StatsSample,
    footprint,
)
from supalink.profiles import Target
from supalink.ui.agent_panel import AgentPanel
from supalink.ui.alerts import down_since_text
from supalink.ui.environment import EnvironmentBand
from supalink.ui.health_bar import FailureBanner, HealthBar
from supalink.ui.notifications_panel import NotificationsPanel
from supalink.ui.panel_parts import Band, clock, favour_first, scrolled
from supalink.ui.pool_panel import PoolPanel
from supalink.ui.server_panel import ServerPanel
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import Tone, toned

log = logging.getLogger(__name__)

EngineSource = MonitorEngine | Callable[[], MonitorEngine]
STATUS_SECONDS = 8_000  # how long a status-bar message stays, in ms
TASKS_STOP_TIMEOUT = 0.5  # of the 5 s: the window's own actions (a test NOTIFY, a resize)
# While notifications keep coming, the window catches up with them (and the pool's figures)
# at most once in this long: at 3 a second, one repaint instead of four (three rows and a
# pool sample), each the table scrolled, the counts and the channel list laid out again.
# The first after a quiet spell shows at once, and so does anything the person may be
# waiting on (a health check, a failure, the listener going or back).
CATCH_UP_SECONDS = 1.0
LEAST_TABS = 220  # px the tabs keep below the panels when the screen has room for both
# What may wait for the next catch-up: the rows (read from the engine's log, not from the
# batch) and the figures that come on their own clock.
ROUTINE = (StatsSample, ServerSnapshot)


class MonitorWindow(QMainWindow):
    health_changed = Signal(str, str)  # Health value, one line of detail (the tray's tooltip)
    health_reported = Signal(object, object)  # HealthReport, Outage | None: desktop alerts
    stopped = Signal()  # the engine stopped: every connection is closed

    def __init__(
        self,
        engine: EngineSource,
        display_name: str,
        parent: QWidget | None = None,
        *,
        retry_target: Callable[[], Target | None] | None = None,
        audit_file: Path | None = None,
    ) -> None:
        """`engine`: the engine or a factory. `retry_target`: called when the person
        presses Retry after a permanent failure, for a target with what they changed
        (a new password in the keyring, say); None keeps the engine's own. `audit_file`:
        where the agents' servers record their calls, for the Agent tab (None: no calls)."""
        super().__init__(parent)
        route_library_logs()
        self.engine = engine if isinstance(engine, MonitorEngine) else engine()
        self.display_name = display_name
        profile = self.engine.target.profile
        self.environment = profile.environment if profile is not None else None
        self.health_status = Health.UNKNOWN
        self.health_detail = ""
        self.down_since: float | None = None  # while health says down: since when
        self.tasks = TaskRunner(self._task_failed)
        self._retry_target = retry_target
        self._audit_file = audit_file
        self._stopping: asyncio.Task[None] | None = None
        self._listener_away_since: float | None = None
        self._held: list[Event] = []  # singles of batches that wait for the catch-up
        self._caught_up_at = -math.inf
        self._panels_sized = False
        self._catch_up = QTimer(self)
        self._catch_up.setSingleShot(True)
        self._catch_up.timeout.connect(self._show_held)
        self._show_title()
        self.setAccessibleName(f"Monitor for {display_name}")
        self.resize(1240, 880)
        self._build()
        self._build_menus()
        self._unsubscribe = self.engine.subscribe(self._on_batch)

    # ----- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = FailureBanner()
        self.banner.retry_requested.connect(self.retry)
        self.health_bar = HealthBar()
        self.health_bar.check_requested.connect(self.check_now)
        pool = self.engine.settings.pool
        self.pool_panel = PoolPanel(pool.min_size, pool.max_size)
        self.pool_panel.resize_requested.connect(self.resize_pool)
        self._show_cost()
        self.server_panel = ServerPanel(supabase=self.engine.target.mode is not None)
        self.notifications = NotificationsPanel(self.engine, self.tasks)
        self.notifications.message.connect(self.show_message)
        self.agent = AgentPanel(self._audit_file, self.display_name)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.notifications, "Notifications")
        self.tabs.addTab(self.agent, "Agent")
        self.tabs.setTabToolTip(
            1, "The calls this profile's agent made through its supalink server"
        )
        # Side by side, each in its own scroll area, and the tabs below them: on a small
        # screen (1366x768 at 200 %: 683x364 px) the panels scroll, the window fits.
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(scrolled(self.pool_panel))
        upper.addWidget(scrolled(self.server_panel))
        upper.setChildrenCollapsible(False)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setSizes([700, 480])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(upper)
        split.addWidget(self.tabs)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([400, 420])
        self.split = split
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 6, 8, 4)  # a small screen's window has no pixel to spare
        self.environment_band = EnvironmentBand()
        self.environment_band.show_environment(self.environment)
        layout.addWidget(self.environment_band)
        layout.addWidget(Band(self.banner, self.health_bar))  # scrolls when the window is low
        layout.addWidget(split, 1)
        self.setCentralWidget(central)
        self.target = toned(QLabel(self.display_name), Tone.HINT)
        self.statusBar().addPermanentWidget(self.target)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._panels_sized:  # once laid out at its first size: the panels whole
            self._panels_sized = True
            QTimer.singleShot(0, lambda: favour_first(self.split, self.pool_panel, LEAST_TABS))

    def _build_menus(self) -> None:
        monitor = self.menuBar().addMenu("&Monitor")
        self.check_action = self._action(monitor, "&Check health now", "F5", self.check_now)
        self.retry_action = self._action(monitor, "&Retry", "Ctrl+R", self.retry)
        self.retry_action.setEnabled(False)
        # Checked from the profile's preference by whoever raises the alerts (ui/monitors.py).
        self.alerts_action = QAction("Desktop &alerts", self, checkable=True, checked=True)
        self.alerts_action.setToolTip(
            "Tell the desktop when this database goes down or comes back, "
            "or its agent's calls are refused in a burst"
        )
        monitor.addAction(self.alerts_action)
        monitor.addSeparator()
        self._action(monitor, "&Close", QKeySequence.StandardKey.Close, self.close)
        notifications = self.menuBar().addMenu("&Notifications")
        for made in self.notifications.actions_for_menu():
            if made is None:
                notifications.addSeparator()
            else:
                notifications.addAction(made)

    def _action(
        self, menu: QMenu, text: str, shortcut: str | QKeySequence.StandardKey, slot: object
    ) -> QAction:
        made = QAction(text, self)
        made.setShortcut(QKeySequence(shortcut))
        made.triggered.connect(slot)
        menu.addAction(made)
        return made

    def _show_title(self) -> None:
        """The one place the title is composed: the taskbar shows it, so an outage leads,
        then the environment, where a glance sees it."""
        down = "" if self.down_since is None else f"{down_since_text(self.down_since)} — "
        label = f"[{self.environment}] " if self.environment else ""
        self.setWindowTitle(f"{down}{label}{self.display_name} — Supalink monitor")

    # ----- lifecycle ----------------------------------------------------------------------
    def start_soon(self) -> asyncio.Task[None]:
        return self.tasks.run("start", self.start())

    async def start(self) -> None:
        await self.engine.start()
        self.show_message(f"Monitoring {self.display_name}")

    def stop_soon(self) -> asyncio.Task[None]:
        """Stop the engine in the background (once); the task is kept and awaited by
        whoever needs the monitor gone, e.g. the app before it quits."""
        if self._stopping is None:
            loop = asyncio.get_event_loop()
            if loop.is_closed():
                raise RuntimeError("the event loop is closed")
            self._stopping = loop.create_task(
                self._stop(), name=f"supalink-monitor-window-stop-{self.display_name}"
            )
        return self._stopping

    async def stop(self) -> None:
        await self.stop_soon()

    @property
    def stopping(self) -> bool:
        return self._stopping is not None

    async def _stop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STOP_TIMEOUT
        self._unsubscribe()
        self._catch_up.stop()
        self.agent.stop()
        await self.tasks.shutdown(TASKS_STOP_TIMEOUT)
        await self.engine.stop(max(1.0, deadline - loop.time() - 0.2))
        self.stopped.emit()
        log.info("monitor window for %s closed", self.display_name)

    def closeEvent(self, event: QCloseEvent) -> None:
        try:
            self.stop_soon()
        except RuntimeError:  # the loop is closed: the app is past its end, nothing runs
            log.warning("monitor window for %s closed after the event loop", self.display_name)
        super().closeEvent(event)

    # ----- what the app's session remembers (app/session_keeper.py) ----------------------
    def channels(self) -> tuple[str, ...]:
        """The channels listened on, or to be once the listener is back."""
        return self.engine.listener.channels

    def current_tab_name(self) -> str:
        return _tab_name(self.tabs.tabText(self.tabs.currentIndex()))

    def show_tab(self, name: str) -> bool:
        """Show the tab called `name`; False when there is none (a session from another
        version)."""
        for index in range(self.tabs.count()):
            if _tab_name(self.tabs.tabText(index)) == name:
                self.tabs.setCurrentIndex(index)
                return True
        return False

    # ----- actions ------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_SECONDS)

    def check_now(self) -> None:
        self.engine.check_health_now()
        self.tasks.run("server-view", self._refresh_server_view())

    async def _refresh_server_view(self) -> None:
        try:
            await self.engine.refresh_server_view()
        except (SupalinkError, psycopg.Error, TimeoutError) as error:
            self.show_message(f"Server view not refreshed: {error}")

    def retry(self) -> None:
        self.banner.hide()
        self.retry_action.setEnabled(False)
        self.show_message("Retrying…")
        self.tasks.run("retry", self._retry())

    async def _retry(self) -> None:
        try:
            target = self._retry_target() if self._retry_target else None
            await self.engine.retry(target)
        except SupalinkError as error:
            self._permanent_failure("pool", str(error))

    def resize_pool(self, min_size: int, max_size: int) -> None:
        self.tasks.run("resize", self._resize(min_size, max_size))

    async def _resize(self, min_size: int, max_size: int) -> None:
        try:
            await self.engine.resize_pool(min_size, max_size)
        except SupalinkError as error:
            self.show_message(f"Pool sizes not changed: {error}")
            return
        self.show_message(f"Pool resized: min {min_size}, max {max_size}")
        self._show_cost()

    def _task_failed(self, name: str, error: BaseException) -> None:
        """The one place an unexpected failure of a window action is shown."""
        self.show_message(f"{name} failed: {self.engine.masker.mask(str(error))}")

    # ----- events -------------------------------------------------------------------------
    def _on_batch(self, batch: Batch) -> None:
        self._held.extend(batch.singles)
        wait = self._caught_up_at + CATCH_UP_SECONDS - time.monotonic()
        if wait <= 0 or not all(type(event) in ROUTINE for event in batch.singles):
            self._show_held()
        elif not self._catch_up.isActive():
            self._catch_up.start(math.ceil(wait * 1000))

    def _show_held(self) -> None:
        """Each panel once, for what came since the last catch-up."""
        self._catch_up.stop()
        self._caught_up_at = time.monotonic()
        singles, self._held = self._held, []
        stats: StatsSample | None = None
        health: HealthReport | None = None
        recovered: Outage | None = None  # a batch's last report may not be the one with it
        server: ServerSnapshot | None = None
        # Rows (notifications, gaps) are in the engine's log: the table reads them there,
        # so only the batches' singles are looked at (a flood brings 20,000 notifications).
        for event in singles:
            if type(event) is StatsSample:
                stats = event
            elif type(event) is HealthReport:
                health = event
                recovered = event.recovered or recovered
            elif type(event) is ServerSnapshot:
                server = event
            else:
                self._on_event(event)
        if stats is not None:
            self.pool_panel.show_sample(stats)
            self.pool_panel.show_history(self.engine.stats.history)
        if health is not None:
            self._show_health(health, recovered)
        if server is not None:
            self.server_panel.show_snapshot(server)
            self._show_cost()
        self.notifications.show_new_rows()

    def _on_event(self, event: Event) -> None:
        # The pool's comings and goings are health's to tell (`_show_health`): one story.
        if isinstance(event, Listening):
            self._listener_away_since = None
            self.notifications.listening_on(event.channels, event.pid)
            self._show_cost()
        elif isinstance(event, Disconnected) and event.source == "listener":
            if self._listener_away_since is None:
                self._listener_away_since = event.at
            self._show_listener_away(short_reason(event.error))
        elif isinstance(event, ErrorEvent) and event.permanent:
            self._permanent_failure(event.source, event.message)

    def _show_listener_away(self, reason: str) -> None:
        if self._listener_away_since is not None:
            since = clock(self._listener_away_since)
            self.notifications.listener_disconnected(f"{reason} (since {since})")

    def _show_cost(self) -> None:
        server = self.engine.server
        self.pool_panel.show_cost(
            footprint(
                self.engine.pool.settings,
                bool(self.engine.listener.channels),
                server.max_connections if server else None,
                self.engine.pool.target.mode,
            )
        )

    def _permanent_failure(self, source: str, message: str) -> None:
        self.banner.show_failure(source, message)
        self.retry_action.setEnabled(True)
        self.show_message(f"{source.title()} stopped: {message}")

    def _show_health(self, report: HealthReport, recovered: Outage | None = None) -> None:
        if recovered is not None:
            self.health_bar.last_outage = recovered.summary
        self.health_bar.show_report(report)
        if report.error and report.status is Health.DOWN:
            # Away with the rest: the pane says health's cause, as the card does.
            self._show_listener_away(short_reason(report.error))
        if report.status is Health.DOWN and report.since is not None:
            self.server_panel.mark_old(report.since)
            if self.health_status is not Health.DOWN:
                self.show_message(f"Down since {clock(report.since)}: {report.error}")
        if recovered is not None:
            self.show_message(f"Back: {recovered.summary}")
        if report.latency_ms is not None:
            detail = f"SELECT 1 in {report.latency_ms:.1f} ms"
        else:
            detail = report.error or "no answer"
        listener_stuck = self.engine.listener.state in (ListenerState.REFUSED, ListenerState.FAILED)
        if report.status is Health.HEALTHY and self.banner.isVisible() and not listener_stuck:
            self.banner.hide()
            self.retry_action.setEnabled(False)
        self.health_status = report.status
        self.health_detail = detail
        down_since = report.since if report.status is Health.DOWN else None
        if down_since != self.down_since:
            self.down_since = down_since
            self._show_title()
        self.health_changed.emit(str(report.status), detail)
        self.health_reported.emit(report, recovered)


def _tab_name(text: str) -> str:
    """A tab's name without its shortcut's marker: "&Agent" and "Agent" are one tab."""
    return text.replace("&", "")

"""The desktop alerts of the open monitors: each window's health and its Agent tab's refused
bursts go to the rule (alerts.py), whose alerts go to a sink; one timer wakes the rule when
something it holds comes due. Each profile's choice (the window's "Desktop alerts" action,
on unless turned off) is a preference of that profile's own in the settings file, so a
renamed profile keeps it and a removed one's goes with it (ProfileRepository).

    alerts = MonitorAlerts(desktop_sink(tray), repository)
    alerts.watch(window)          # Monitors does this for each window it opens
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from supalink.error_texts import short_reason
from supalink.errors import SupalinkError
from supalink.monitor import Health, HealthReport, Outage
from supalink.ui.alerts import Alert, AlertRule, AlertSink, Timings

if TYPE_CHECKING:
    from supalink.profiles import ProfileRepository
    from supalink.ui.monitor_window import MonitorWindow

log = logging.getLogger(__name__)

ALERTS_PREFERENCE = "desktop_alerts"  # a profile's own preference; True unless turned off


class MonitorAlerts(QObject):
    def __init__(
        self,
        sink: AlertSink,
        repository: ProfileRepository | None = None,
        parent: QObject | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timings: Timings | None = None,
    ) -> None:
        """`repository`: where each profile's choice is kept (None: this session only)."""
        super().__init__(parent)
        self.sink = sink
        self.repository = repository
        self._choices: dict[str, bool] = {}  # without a repository
        self.rule = AlertRule(
            self._show, clock=clock, enabled=self.enabled, timings=timings or Timings()
        )
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.tick)

    # ----- each profile's choice ----------------------------------------------------------
    def enabled(self, profile: str) -> bool:
        if self.repository is None:
            return self._choices.get(profile, True)
        try:
            return self.repository.profile_preference(profile, ALERTS_PREFERENCE, True) is not False
        except SupalinkError:  # settings it cannot read: the window says why elsewhere
            return True

    def set_enabled(self, profile: str, on: bool) -> None:
        if self.repository is None:
            self._choices[profile] = on
            return
        try:
            self.repository.set_profile_preference(profile, ALERTS_PREFERENCE, on)
        except SupalinkError as error:
            log.warning("desktop alerts for %s not kept in the settings: %s", profile, error)

    # ----- following the windows ----------------------------------------------------------
    def watch(self, window: MonitorWindow) -> None:
        """Alert for `window`'s profile until its engine stops; its menu's action shows and
        changes the profile's choice."""
        name = window.display_name
        window.alerts_action.setChecked(self.enabled(name))
        window.alerts_action.toggled.connect(lambda on: self.set_enabled(name, on))

        def reported(report: HealthReport, recovered: Outage | None) -> None:
            self.report(name, report, recovered)

        def refused(burst: str, rule: str) -> None:
            self.rule.refused_burst(name, burst, rule)
            self._arm()

        def stopped() -> None:
            self.rule.forget(name)
            self._arm()

        window.health_reported.connect(reported)
        window.agent.refused_burst.connect(refused)
        window.stopped.connect(stopped)

    def report(self, profile: str, report: HealthReport, recovered: Outage | None) -> None:
        """A health report of `profile`'s monitor, as its window showed it."""
        if recovered is not None:
            self.rule.back(profile, recovered)
        elif report.status is Health.HEALTHY:
            self.rule.up(profile)
        if report.status is Health.DOWN:
            since = report.since if report.since is not None else report.at
            self.rule.down(profile, since, short_reason(report.error or "no answer"))
        self._arm()

    def tick(self) -> None:
        self.rule.tick()
        self._arm()

    def _arm(self) -> None:
        due = self.rule.due_at()
        if due is None:
            self._timer.stop()
            return
        self._timer.start(max(0, math.ceil((due - self._clock()) * 1000)))

    def _show(self, alert: Alert) -> None:
        log.info("desktop alert: %s: %s", alert.title, alert.body)
        self.sink.show(alert.title, alert.body, alert.urgency)

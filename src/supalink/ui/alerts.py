"""Desktop alerts for a monitor left open for days: its database went down, came back (with
the outage's length and cause), or its agent's calls are refused in a burst. What is shown
goes through an `AlertSink` (alert_sinks.py: the tray, the desktop's notification service,
or the log; tests record it), and the rule below decides what is worth one.

The rule, per profile: one alert per change, never a storm while a link flaps.

- A down is told once it has lasted DOWN_GRACE_SECONDS (5 s). One that ends sooner is a
  blip: not told on its own.
- Coming back is told at once, with the outage's length, times and cause ("Back after
  39 s (16:37:50-16:38:28): server restart", an en dash in the text), when the down was
  told.
- At most one alert per HOLD_SECONDS (60 s). What changes within that minute waits for its
  end and is then told in one alert: plainly when it went down or came back once, else as
  a summary ("went down 5 times in the last minute; now up"). Nothing is told when, at the
  end, it is as last told and it went down fewer than FLAP_DOWNS times.
- FLAP_DOWNS (3) downs within HOLD_SECONDS are told as flapping, blips included.
- Refused bursts: one alert per burst, and at most one per BURST_HOLD_SECONDS (5 min); the
  bursts in between are counted in the next one.

The rule keeps no timer: it says when it is next due (`due_at`, on its clock) and tells
what is due at `tick()`; the Qt side (monitor_alerts.py) arms one timer for it, and tests
move a fake clock.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final, Protocol

from supalink.monitor import Outage
from supalink.ui.panel_parts import clock

DOWN_GRACE_SECONDS: Final = 5.0
HOLD_SECONDS: Final = 60.0
FLAP_DOWNS: Final = 3
BURST_HOLD_SECONDS: Final = 300.0
_BURSTS_REMEMBERED: Final = 64  # a burst's id is told once; a few dozen cover hours


@dataclass(frozen=True, slots=True)
class Timings:
    """The rule's waits (shorter in tests that stop a real server)."""

    down_grace: float = DOWN_GRACE_SECONDS
    hold: float = HOLD_SECONDS
    burst_hold: float = BURST_HOLD_SECONDS


class Urgency(IntEnum):
    """The freedesktop notification urgencies (the D-Bus sink passes the number on)."""

    LOW = 0
    NORMAL = 1
    CRITICAL = 2


class AlertSink(Protocol):
    def show(self, title: str, body: str, urgency: Urgency) -> None: ...


@dataclass(frozen=True, slots=True)
class Alert:
    profile: str
    title: str
    body: str
    urgency: Urgency


def down_since_text(epoch: float) -> str:
    """ "Down since 16:37": the window's title and the tray's tooltip while it lasts."""
    return f"Down since {time.strftime('%H:%M', time.localtime(epoch))}"


def how_long(seconds: float) -> str:
    """ "39 s", "4 min 5 s", "2 h 10 min": an outage's length in a notification's words."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min" + (f" {whole % 60} s" if whole % 60 else "")
    return f"{whole // 3600} h" + (f" {whole % 3600 // 60} min" if whole % 3600 >= 60 else "")


def back_text(outage: Outage) -> str:
    return (
        f"Back after {how_long(outage.seconds)} ({clock(outage.started_at)}\u2013"
        f"{clock(outage.ended_at)}): {outage.cause}"
    )


@dataclass
class _Watch:
    """One profile's account: how it is, what was last told, and since when."""

    down: bool = False
    told_down: bool = False
    down_at: float = 0.0  # on the rule's clock: when this down began
    since: float = 0.0  # wall clock, for the text
    cause: str = ""
    outage: Outage | None = None  # the last one that ended
    downs: deque[float] = field(default_factory=deque)  # since the last alert, rule's clock
    changes: int = 0  # downs and comings back since the last alert
    alerted_at: float = -math.inf
    burst_alerted_at: float = -math.inf
    bursts_seen: deque[str] = field(default_factory=lambda: deque(maxlen=_BURSTS_REMEMBERED))
    bursts_untold: int = 0


class AlertRule:
    def __init__(
        self,
        show: Callable[[Alert], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        enabled: Callable[[str], bool] = lambda profile: True,
        timings: Timings = Timings(),
    ) -> None:
        """`show`: given each alert the rule lets through; `enabled(profile)`: whether that
        profile's alerts are shown (one turned off is still followed, so that turning it
        on again does not bring back old news)."""
        self._show = show
        self._clock = clock
        self._enabled = enabled
        self.timings = timings
        self._watches: dict[str, _Watch] = {}

    # ----- what the monitors say ----------------------------------------------------------
    def down(self, profile: str, since: float, cause: str) -> None:
        """Health says `profile` is down (again: each report while down says so)."""
        watch = self._watch(profile)
        if not watch.down:
            now = self._clock()
            watch.down, watch.down_at, watch.since, watch.cause = True, now, since, cause
            watch.downs.append(now)
            watch.changes += 1
        self.tick()

    def back(self, profile: str, outage: Outage) -> None:
        """The first answer after a time down (a down and its end may come in one report)."""
        watch = self._watch(profile)
        if not watch.down:
            watch.downs.append(self._clock())
            watch.changes += 1
        watch.down, watch.outage = False, outage
        watch.changes += 1
        self.tick()

    def up(self, profile: str) -> None:
        """Health says healthy with no outage to tell (a retry started its checks afresh):
        back, if it was down."""
        watch = self._watch(profile)
        if watch.down:
            watch.down, watch.outage = False, None
            watch.changes += 1
            self.tick()

    def refused_burst(self, profile: str, burst: str, rule: str) -> None:
        """Calls of `profile`'s agent are refused in a burst (`burst`: its id in the audit;
        `rule`: what refused them, "" when not named)."""
        watch = self._watch(profile)
        if burst in watch.bursts_seen:
            return
        watch.bursts_seen.append(burst)
        now = self._clock()
        if now < watch.burst_alerted_at + self.timings.burst_hold:
            watch.bursts_untold += 1
            return
        more = watch.bursts_untold
        body = "Its agent's calls are refused in a burst" + (f" ({rule})" if rule else "")
        if more:
            body += f"; {more} more burst{'' if more == 1 else 's'} since the last alert"
        watch.burst_alerted_at, watch.bursts_untold = now, 0
        self._tell(Alert(profile, f"{profile}: agent calls refused", body, Urgency.NORMAL))

    def forget(self, profile: str) -> None:
        """Its monitor closed: nothing more is told of it."""
        self._watches.pop(profile, None)

    # ----- when to tell -------------------------------------------------------------------
    def due_at(self) -> float | None:
        """When the next alert may be due, on the rule's clock (None: nothing waits)."""
        now = self._clock()
        times = [due for watch in self._watches.values() if (due := self._due(watch, now))]
        return min(times, default=None)

    def tick(self) -> None:
        """Tell what is due now."""
        now = self._clock()
        for profile, watch in list(self._watches.items()):
            due = self._due(watch, now)
            if due is not None and due <= now:
                self._tell(self._alert(profile, watch, now))
                watch.told_down, watch.alerted_at = watch.down, now
                watch.downs.clear()
                watch.changes = 0

    def _due(self, watch: _Watch, now: float) -> float | None:
        hold = self.timings.hold
        while watch.downs and watch.downs[0] < now - hold:
            watch.downs.popleft()
        flapping = watch.changes > 0 and len(watch.downs) >= FLAP_DOWNS
        if watch.down and (flapping or not watch.told_down):
            wanted = watch.down_at + self.timings.down_grace  # a blip is not "now down"
        elif not watch.down and (flapping or watch.told_down):
            wanted = now
        else:
            return None
        return max(wanted, watch.alerted_at + hold)

    def _alert(self, profile: str, watch: _Watch, now: float) -> Alert:
        downs = len(watch.downs)
        if downs >= 2 or (downs and watch.told_down and not watch.down):
            first = min(watch.downs)
            span = "minute" if now - first <= 90 else how_long(now - first)
            times = downs + (1 if watch.told_down else 0)
            if watch.down:
                state = f"now down since {clock(watch.since)}: {watch.cause}"
            elif watch.outage is not None:
                state = f"now up (the last one: {watch.outage.summary})"
            else:
                state = "now up"
            body = f"Went down {times} times in the last {span}; {state}"
            urgency = Urgency.CRITICAL if watch.down else Urgency.NORMAL
            return Alert(profile, f"{profile} is flapping", body, urgency)
        if watch.down:
            body = f"Down since {clock(watch.since)}: {watch.cause}"
            return Alert(profile, f"{profile} is down", body, Urgency.CRITICAL)
        body = back_text(watch.outage) if watch.outage is not None else "Back"
        return Alert(profile, f"{profile} is back", body, Urgency.NORMAL)

    def _tell(self, alert: Alert) -> None:
        if self._enabled(alert.profile):
            self._show(alert)

    def _watch(self, profile: str) -> _Watch:
        return self._watches.setdefault(profile, _Watch())

"""Bursts of refused calls in the audit: a flood of them is kept as its first calls and
summaries that stand for the rest, so that it cannot push what came before out of the log's
bounded files (audit_log.py)."""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from supalink.agent.audit_entry import AuditEntry

# A burst: more than BURST_CALLS refused calls within BURST_SECONDS. An agent's model takes
# a turn to write each call; even with calls made in parallel, ten refusals within ten
# seconds is a script, or a loop retrying what will not pass.
BURST_CALLS: Final = 10
BURST_SECONDS: Final = 10.0
BURST_SHOWN: Final = 10  # a burst's first calls, written as they come with its id
BURST_QUIET_SECONDS: Final = 10.0  # no refused call for this long ends a burst
# A long burst still shows while it goes on: its summary so far is written this often.
SUMMARY_SECONDS: Final = 60.0
SUMMARY_CALLS: Final = 1_000


@dataclass
class _Pending:
    first: AuditEntry
    last: AuditEntry
    count: int
    since: float  # the clock's time of its first call


class BurstSummary:
    """What becomes of refused calls that come fast, in the writer's process (one server).

    The calls before a burst is seen are written as usual (nothing marks them: no one knew
    yet); the call that makes it a burst and the next ones, BURST_SHOWN in all, are written
    as they come with the burst's `burst` id; the rest are counted into one summary entry
    with that id: the last call's entry with `count`, `at` its first call's time and
    `last_at` its last's. Any other call is written at once, a burst or not.

    It needs no timer of its own (the writer has no event loop): a summary is written at the
    first `admit()` after BURST_QUIET_SECONDS without a refused call, at `flush()` (the
    log's close), and while the burst goes on once it stands for SUMMARY_CALLS calls or its
    first is SUMMARY_SECONDS old (at the next call). A server killed outright loses at most
    that one summary; the burst's first calls are on disk already.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.burst: str | None = None  # the id of the burst going on
        self._recent: deque[float] = deque(maxlen=BURST_CALLS + 1)  # refused calls' times
        self._last_refused = -float("inf")
        self._shown = 0
        self._pending: _Pending | None = None

    def admit(self, entry: AuditEntry) -> list[AuditEntry]:
        """What to write now that `entry` was recorded, oldest first."""
        now = self.clock()
        due = self._due(now)
        if not entry.refused:
            return [*due, entry]
        self._last_refused = now
        if self.burst is None:
            self._recent.append(now)
            if len(self._recent) <= BURST_CALLS or now - self._recent[0] > BURST_SECONDS:
                return [*due, entry]
            self.burst, self._shown = secrets.token_hex(4), 0
        if self._shown < BURST_SHOWN:
            self._shown += 1
            return [*due, replace(entry, burst=self.burst)]
        if self._pending is None:
            self._pending = _Pending(entry, entry, 1, now)
        else:
            self._pending.last, self._pending.count = entry, self._pending.count + 1
        if self._pending.count >= SUMMARY_CALLS:
            due += self._summary()
        return due

    def admit_unrefused(self) -> list[AuditEntry]:
        """What to write before an entry that was not refused (`admit`'s answer less the
        entry): the summary of a burst that has ended, or of one long going on."""
        return self._due(self.clock())

    def _due(self, now: float) -> list[AuditEntry]:
        if now - self._last_refused >= BURST_QUIET_SECONDS:
            return self.flush()
        if self._pending is not None and now - self._pending.since >= SUMMARY_SECONDS:
            return self._summary()
        return []

    @property
    def quiet_at(self) -> float | None:
        """When the burst going on ends unless another refused call comes (on `clock`), if a
        summary is waiting for it; None: nothing waits."""
        if self._pending is None:
            return None
        return self._last_refused + BURST_QUIET_SECONDS

    def flush_if_quiet(self) -> list[AuditEntry]:
        """The summary, once the burst has been quiet long enough to be over."""
        due = self.quiet_at
        return self.flush() if due is not None and self.clock() >= due else []

    def flush(self) -> list[AuditEntry]:
        """The summary of the burst going on, if any, which ends it."""
        due = self._summary()
        self.burst = None
        self._recent.clear()
        return due

    def _summary(self) -> list[AuditEntry]:
        pending, self._pending = self._pending, None
        if pending is None:
            return []
        if pending.count == 1:
            return [replace(pending.last, burst=self.burst)]
        return [
            replace(
                pending.last,
                at=pending.first.at,
                last_at=pending.last.at,
                count=pending.count,
                burst=self.burst,
            )
        ]

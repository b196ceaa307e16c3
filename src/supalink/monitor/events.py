"""What the monitor reports, and the notification log: a bounded ring that counts everything.

The log keeps the last N rows (notifications and gap markers) so memory stays flat over
days, while its counters (total, per channel, evicted, rate) cover everything received.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

from supalink.files import atomic_write_bytes


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


class Event(Protocol):
    """Anything the engine delivers: `event` names its kind, `as_dict` is its JSON form."""

    @property
    def event(self) -> str: ...

    def as_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Notification:
    event: ClassVar[str] = "notification"
    channel: str
    payload: str
    pid: int
    received_at: float  # epoch seconds

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "channel": self.channel,
            "payload": self.payload,
            "pid": self.pid,
            "received_at": iso_time(self.received_at),
        }


@dataclass(frozen=True, slots=True)
class Gap:
    """The listener was not listening from `started_at` to `ended_at`: anything sent on
    `channels` in between is lost (NOTIFY is not queued for absent listeners)."""

    event: ClassVar[str] = "gap"
    started_at: float
    ended_at: float
    channels: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended_at - self.started_at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "started_at": iso_time(self.started_at),
            "ended_at": iso_time(self.ended_at),
            "seconds": round(self.seconds, 3),
            "channels": list(self.channels),
        }


@dataclass(frozen=True, slots=True)
class Listening:
    """The listener's LISTEN set is in place (at start, after a change, after a reconnect)."""

    event: ClassVar[str] = "listening"
    channels: tuple[str, ...]
    pid: int  # the server process that listens
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "channels": list(self.channels),
            "pid": self.pid,
            "at": iso_time(self.at),
        }


@dataclass(frozen=True, slots=True)
class Disconnected:
    event: ClassVar[str] = "disconnected"
    source: str  # "listener" or "pool"
    error: str
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "source": self.source, "error": self.error,
                "at": iso_time(self.at)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reconnected:
    event: ClassVar[str] = "reconnected"
    source: str
    at: float
    away_seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "source": self.source, "at": iso_time(self.at),
                "away_seconds": round(self.away_seconds, 3)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A failure to show. `permanent`: nothing is retried until the person acts."""

    event: ClassVar[str] = "error"
    source: str
    message: str
    permanent: bool
    at: float

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "source": self.source, "message": self.message,
                "permanent": self.permanent, "at": iso_time(self.at)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """A consumer fell so far behind that its oldest undelivered events were dropped."""

    event: ClassVar[str] = "dropped"
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "count": self.count}


LogRow = Notification | Gap
CSV_COLUMNS = ("kind", "time", "channel", "pid", "payload")


class EventLog:
    """The last `capacity` notifications and gap markers, with counters over all of them."""

    RATE_WINDOW = 10  # seconds of per-second counts kept for the rate

    def __init__(
        self, capacity: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        self._rows: deque[LogRow] = deque(maxlen=capacity)
        self._clock = clock
        self.total = 0  # notifications ever received
        self.gaps = 0
        self.evicted = 0  # rows pushed out of the ring
        self.per_channel: Counter[str] = Counter()
        self._buckets: deque[list[int]] = deque(maxlen=self.RATE_WINDOW)  # [second, count]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[LogRow]:
        return iter(self._rows)

    def rows(self) -> list[LogRow]:
        return list(self._rows)

    def append(self, row: LogRow) -> None:
        if len(self._rows) == self.capacity:
            self.evicted += 1
        self._rows.append(row)
        if isinstance(row, Notification):
            self.total += 1
            self.per_channel[row.channel] += 1
            second = int(self._clock())
            if self._buckets and self._buckets[-1][0] == second:
                self._buckets[-1][1] += 1
            else:
                self._buckets.append([second, 1])
        else:
            self.gaps += 1

    def extend(self, notifications: Sequence[Notification]) -> None:
        """append() for a run of notifications (the listener's slice of a flood): the same
        ring and counts, with the bookkeeping done once per run instead of once per row."""
        count = len(notifications)
        if not count:
            return
        self.evicted += max(0, len(self._rows) + count - self.capacity)
        self._rows.extend(notifications)
        self.total += count
        self.per_channel.update(notification.channel for notification in notifications)
        second = int(self._clock())
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, count])

    def rate(self) -> float:
        """Notifications per second over the last complete second."""
        previous = int(self._clock()) - 1
        for second, count in reversed(self._buckets):
            if second == previous:
                return float(count)
            if second < previous:
                break
        return 0.0

    def clear(self) -> None:
        """Empty the view; the counters keep covering everything received."""
        self._rows.clear()

    def filtered(self, text: str = "", channels: Iterable[str] | None = None) -> list[LogRow]:
        """Rows whose channel or payload contains `text` (case-insensitive), on `channels`.
        Gap markers stay in a filtered view: a gap hides rows of every channel."""
        wanted = set(channels) if channels is not None else None
        needle = text.casefold()
        found: list[LogRow] = []
        for row in self._rows:
            if isinstance(row, Gap) or _matches(row, needle, wanted):
                found.append(row)
        return found

    def export_jsonl(self, path: Path, rows: Iterable[LogRow] | None = None) -> int:
        data = to_jsonl(self._rows if rows is None else rows)
        atomic_write_bytes(path, data)
        return data.count(b"\n")

    def export_csv(self, path: Path, rows: Iterable[LogRow] | None = None) -> int:
        rows = list(self._rows if rows is None else rows)
        atomic_write_bytes(path, to_csv(rows))
        return len(rows)


def _matches(row: Notification, needle: str, wanted: set[str] | None) -> bool:
    if wanted is not None and row.channel not in wanted:
        return False
    return not needle or needle in row.payload.casefold() or needle in row.channel.casefold()


def to_jsonl(rows: Iterable[LogRow]) -> bytes:
    return "".join(json.dumps(row.as_dict(), ensure_ascii=False) + "\n" for row in rows).encode()


def to_csv(rows: Iterable[LogRow]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        if isinstance(row, Notification):
            writer.writerow(
                ("notification", iso_time(row.received_at), row.channel, row.pid, row.payload)
            )
        else:
            note = f"not listening for {row.seconds:.3f} s, until {iso_time(row.ended_at)}"
            writer.writerow(("gap", iso_time(row.started_at), ",".join(row.channels), "", note))
    return buffer.getvalue().encode()

"""What the monitor reports, and the notification log: a bounded ring that counts everything.

The log keeps the last N rows (notifications and gap markers) so memory stays flat over
days, while its counters (total, per channel, evicted, rate) cover everything received.
It is the one store of rows: the window's table is a view over it that reads rows by
their sequence numbers, so a row is held once however many look at it.
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
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


class FieldsEvent:
    """An event dataclass whose JSON form is its kind, then its fields in order: times
    (`at`, `..._at`, epoch seconds) as ISO text, other floats to the thousandth, tuples as
    lists."""

    __slots__ = ()
    event: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"event": self.event}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "at" or name.endswith("_at"):
                value = iso_time(value)
            elif isinstance(value, float):
                value = round(value, 3)
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        return data


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which made
# building one cost 1.6 us against 0.5 us, a third of the engine's work per notification in
# a flood. Treat it as immutable all the same: the log and every view share each one.
@dataclass(slots=True, unsafe_hash=True)
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
    """The listener was not listening from `started_at` (when its connection was last known
    alive: for one that went silent, when the server was last heard from) to `ended_at`:
    anything sent on `channels` in between may be lost (NOTIFY is not queued for absent
    listeners). `reason` says why in a few words (error_texts.short_reason, silent_for),
    as the listener understood it."""

    event: ClassVar[str] = "gap"
    started_at: float
    ended_at: float
    channels: tuple[str, ...]
    reason: str | None = None

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
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Listening(FieldsEvent):
    """The listener's LISTEN set is in place (at start, after a change, after a reconnect)."""

    event: ClassVar[str] = "listening"
    channels: tuple[str, ...]
    pid: int  # the server process that listens
    at: float


@dataclass(frozen=True, slots=True)
class Disconnected(FieldsEvent):
    """The listener lost its connection, or health went down for the pool's (`source`)."""

    event: ClassVar[str] = "disconnected"
    source: str  # "listener" or "pool"
    error: str
    at: float


@dataclass(frozen=True, slots=True)
class Reconnected(FieldsEvent):
    """The listener listens again, or health is back for the pool, after `away_seconds`."""

    event: ClassVar[str] = "reconnected"
    source: str
    at: float
    away_seconds: float


@dataclass(frozen=True, slots=True)
class ErrorEvent(FieldsEvent):
    """A failure to show. `permanent`: nothing is retried until the person acts."""

    event: ClassVar[str] = "error"
    source: str
    message: str
    permanent: bool
    at: float


LogRow = Notification | Gap
COMPACT_ROWS = 1_000  # rows let go that the log's list drops at once
CSV_COLUMNS = ("kind", "time", "channel", "pid", "payload")


def matches(row: LogRow, text: str, channels: Collection[str] | None = None) -> bool:
    """The notification filter: the channel or the payload contains `text`, ignoring case,
    and the channel is one of `channels` (when given). Gap markers always stay, as a gap
    hides rows of every channel."""
    if isinstance(row, Gap):
        return True
    if channels is not None and row.channel not in channels:
        return False
    needle = text.casefold()
    return not needle or needle in row.payload.casefold() or needle in row.channel.casefold()


class EventLog:
    """The last `capacity` notifications and gap markers, with counters over all of them.

    Each row gets a sequence number as it comes (the first 0, then one more each): the
    rows held are `first_seq` up to `next_seq`, and `row(seq)` reads one in O(1), so a
    view can name rows by number and learn what was let go by comparing numbers. A view
    may `pin` a number (a paused table): rows from it on are then kept beyond `capacity`,
    up to twice it, so a pause forgotten during a flood cannot grow memory without end.
    """

    RATE_WINDOW = 10  # seconds of per-second counts kept for the rate

    def __init__(
        self, capacity: int = 10_000, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = capacity
        # A list read from `_start`, compacted now and then: O(1) reads and evictions.
        self._rows: list[LogRow] = []
        self._start = 0
        self._first = 0  # the number of the oldest row held (next_seq when empty)
        self._pin: int | None = None
        self._clock = clock
        self.total = 0  # notifications ever received
        self.gaps = 0
        self.evicted = 0  # rows pushed out of the ring
        self.per_channel: Counter[str] = Counter()
        # The numbers of the gap markers held, so a view finds them without reading every
        # row (a flood brings thousands of rows a batch and gaps are rare).
        self._gap_seqs: deque[int] = deque()
        self._buckets: deque[list[int]] = deque(maxlen=self.RATE_WINDOW)  # [second, count]

    def __len__(self) -> int:
        return len(self._rows) - self._start

    def __iter__(self) -> Iterator[LogRow]:
        return iter(self.rows())

    @property
    def first_seq(self) -> int:
        """The number of the oldest row held; next_seq when none is."""
        return self._first

    @property
    def next_seq(self) -> int:
        """The number the next row will get."""
        return self._first + len(self._rows) - self._start

    def row(self, seq: int) -> LogRow | None:
        """The row numbered `seq`; None when it is not held (let go, or not yet come)."""
        index = seq - self._first
        if 0 <= index < len(self._rows) - self._start:
            return self._rows[self._start + index]
        return None

    def rows(self, first: int | None = None, stop: int | None = None) -> list[LogRow]:
        """The rows numbered `first` up to `stop` that are held; all of them by default."""
        begin = self._start + (0 if first is None else max(0, first - self._first))
        if stop is None:
            return self._rows[begin:]
        return self._rows[begin : max(begin, self._start + stop - self._first)]

    def pin(self, seq: int) -> None:
        """Keep the rows numbered `seq` and later (a paused view's), up to twice the
        capacity in all: beyond that the oldest go, pinned or not. One pin at a time."""
        self._pin = seq

    def unpin(self) -> None:
        self._pin = None
        self._trim()

    def append(self, row: LogRow) -> None:
        if isinstance(row, Gap):
            self._gap_seqs.append(self.next_seq)
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
        self._trim()

    def extend(self, notifications: Sequence[Notification]) -> None:
        """append() for a run of notifications (the listener's slice of a flood): the same
        ring and counts, with the bookkeeping done once per run instead of once per row."""
        count = len(notifications)
        if not count:
            return
        self._rows.extend(notifications)
        self.total += count
        self.per_channel.update(notification.channel for notification in notifications)
        second = int(self._clock())
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += count
        else:
            self._buckets.append([second, count])
        self._trim()

    def _trim(self) -> None:
        held = len(self._rows) - self._start
        keep = self.capacity
        if self._pin is not None:
            keep = min(max(keep, self._first + held - self._pin), 2 * self.capacity)
        excess = held - keep
        if excess > 0:
            self.evicted += excess
            self._first += excess
            self._start += excess
            gap_seqs = self._gap_seqs
            while gap_seqs and gap_seqs[0] < self._first:
                gap_seqs.popleft()
            # Compacted every COMPACT_ROWS: freeing a whole capacity's rows at once (10,000)
            # held the loop 5-9 ms in a flood, and the list held twice the capacity.
            if self._start >= min(self.capacity, COMPACT_ROWS):
                del self._rows[: self._start]
                self._start = 0

    def gap_seqs(self, first: int, stop: int) -> list[int]:
        """The numbers of the gap markers held among the rows numbered `first` to `stop`."""
        return [seq for seq in self._gap_seqs if first <= seq < stop]

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
        self._first = self.next_seq
        self._rows = []
        self._start = 0
        self._gap_seqs.clear()

    def export_jsonl(self, path: Path, rows: Iterable[LogRow] | None = None) -> int:
        data = to_jsonl(self.rows() if rows is None else rows)
        atomic_write_bytes(path, data)
        return data.count(b"\n")

    def export_csv(self, path: Path, rows: Iterable[LogRow] | None = None) -> int:
        rows = self.rows() if rows is None else list(rows)
        atomic_write_bytes(path, to_csv(rows))
        return len(rows)


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
            if row.reason:
                note += f" ({row.reason})"
            writer.writerow(("gap", iso_time(row.started_at), ",".join(row.channels), "", note))
    return buffer.getvalue().encode()

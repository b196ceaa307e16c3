"""One entry of the audit: one call of the agent's server, whatever became of it, in the one
vocabulary that `supalink audit` and the Agent tab both speak.

Every call is one entry: answered, refused before it was sent (with the rule that refused
it), failed at the server (its SQLSTATE and first line), cancelled (before or after the
statement reached the server, and whether the server stopped it), timed out, or rejected as
bad input. Each says who asked: the agent, or Supalink itself (Verify, which names itself to
the server as VERIFY_CLIENT). A burst of refused calls is kept as its first calls and one
entry that stands for the rest (`count`); a server's start adds one LOGIN_TOOL entry saying
what its login can do.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from supalink.profiles.defaults import VERIFY_CLIENT_NAME


class Outcome(StrEnum):
    """What became of a call: the words the CLI and the Agent tab show."""

    ANSWERED = "answered"
    REFUSED = "refused"  # before anything was sent, or by the database's read-only rule
    FAILED = "failed"  # the server answered an error
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"
    BAD_INPUT = "bad input"  # arguments or a message the server cannot take


class Who(StrEnum):
    AGENT = "agent"
    SUPALINK = "supalink"  # Supalink's own checks (Verify): hidden unless asked for


# The `tool` of the entry a server records once it has read its login.
LOGIN_TOOL: Final = "(login)"
# The client name Verify gives the server in `initialize`: its calls are Supalink's own.
VERIFY_CLIENT: Final = VERIFY_CLIENT_NAME
# What the database answers for a write in a read-only transaction: a refusal, not a failure.
READ_ONLY_STATE: Final = "25006"
# The refusal rule of a write, whoever refused it (the guard or the database).
READ_ONLY_RULE: Final = "read-only"
STATEMENT_TIMEOUT_WORDS: Final = "statement timeout"


def utc_stamp(epoch: float | None = None) -> str:
    """`at` for an entry: ISO 8601 in UTC with milliseconds, e.g. 2026-12-01T11:30:00.123Z."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditEntry:
    at: str  # utc_stamp()
    profile: str | None  # None: a server started from a URI in its environment
    tool: str
    statement: str | None  # as it ran, bounded and masked (agent/audit_text.py)
    duration_ms: float
    rows: int | None  # returned or affected; None when not applicable or failed
    truncated: bool
    error: str | None  # one line; None when the call was answered
    writes: bool  # the server let writes through
    pid: int  # the server process
    # What its login can do (a LOGIN_TOOL entry): beyond a role made by Supalink, and what
    # every role of the database can.
    powers: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()
    outcome: Outcome = Outcome.ANSWERED
    rule: str | None = None  # what refused it (REFUSED): READ_ONLY_RULE, a function, …
    sqlstate: str | None = None  # the server's code for an error
    cancel: str | None = None  # CANCELLED: when, and what the server did
    who: Who = Who.AGENT
    client: str | None = None  # the client's name as it gave it in `initialize`
    statement_chars: int | None = None  # the whole statement's length, when it was cut
    statement_sha256: str | None = None  # of the whole statement, when it was cut
    burst: str | None = None  # the burst of refused calls it belongs to
    count: int = 1  # the calls it stands for (a burst's summary: the rest of the burst)
    last_at: str | None = None  # a burst's summary: when its last call came

    def as_json(self) -> dict[str, Any]:
        """The record: the fields that differ from their default (a call's line stays short;
        a reader takes a missing field as its default)."""
        found: dict[str, Any] = {}
        for name in _ENTRY_FIELDS:
            value = getattr(self, name)
            if name in _ALWAYS or value != _DEFAULTS[name]:
                found[name] = list(value) if isinstance(value, tuple) else value
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditEntry:
        """Read a record back; keys it does not know are ignored (a newer server wrote
        them) and the optional ones may be missing. Raises ValueError for anything that
        is not a record, which readers skip. A line written before outcomes were recorded
        gets the outcome its error implies."""
        if not isinstance(data, dict):
            raise ValueError("an audit record is a JSON object")
        error = _get(data, "error", str, None)
        implied = Outcome.ANSWERED
        if error is not None:
            implied = Outcome.REFUSED if error.startswith("refused") else Outcome.FAILED
        return cls(
            at=_get(data, "at", str),
            profile=_get(data, "profile", str, None),
            tool=_get(data, "tool", str),
            statement=_get(data, "statement", str, None),
            duration_ms=float(_get(data, "duration_ms", (int, float))),
            rows=_get(data, "rows", int, None),
            truncated=_get(data, "truncated", bool, False),
            error=error,
            writes=_get(data, "writes", bool, False),
            pid=_get(data, "pid", int),
            powers=_texts(data, "powers"),
            shared=_texts(data, "shared"),
            outcome=_choice(data, "outcome", Outcome, implied),
            rule=_get(data, "rule", str, None),
            sqlstate=_get(data, "sqlstate", str, None),
            cancel=_get(data, "cancel", str, None),
            who=_choice(data, "who", Who, Who.AGENT),
            client=_get(data, "client", str, None),
            statement_chars=_get(data, "statement_chars", int, None),
            statement_sha256=_get(data, "statement_sha256", str, None),
            burst=_get(data, "burst", str, None),
            count=_get(data, "count", int, 1),
            last_at=_get(data, "last_at", str, None),
        )

    @property
    def epoch(self) -> float | None:
        """`at` as seconds since the epoch; None when it is not a time (a hand-edited line)."""
        return _epoch(self.at)

    @property
    def is_login(self) -> bool:
        """Not a call: the server's reading of its login (LOGIN_TOOL)."""
        return self.tool == LOGIN_TOOL

    @property
    def refused(self) -> bool:
        return self.outcome is Outcome.REFUSED

    @property
    def is_summary(self) -> bool:
        """It stands for more calls than itself: the rest of a burst."""
        return self.count > 1

    @property
    def result(self) -> str:
        """The result in a few words: rows, or what went wrong with the rule or the code
        that says why ("refused: read-only", "failed: 42P01", "cancelled")."""
        if self.outcome is Outcome.ANSWERED:
            if self.rows is None:
                return "answered"
            rows = f"{self.rows:,} row{'' if self.rows == 1 else 's'}"
            return f"{rows}, truncated" if self.truncated else rows
        if self.is_summary:
            return f"{self.count:,} calls {self.outcome}"
        detail = {
            Outcome.REFUSED: self.rule,
            Outcome.FAILED: self.sqlstate,
            Outcome.CANCELLED: self.cancel,
        }.get(self.outcome)
        return f"{self.outcome}: {detail}" if detail else str(self.outcome)


@dataclass(frozen=True)
class Selection:
    """Which entries a reader shows: `supalink audit`'s filters and the Agent tab's switch.
    By default the agent's calls and its servers' login entries, not Supalink's own."""

    profile: str | None = None
    since: float | None = None  # seconds since the epoch
    tools: frozenset[str] = frozenset()  # none: every tool
    outcomes: frozenset[Outcome] = frozenset()  # none: every outcome
    who: frozenset[Who] = frozenset({Who.AGENT})

    def includes(self, entry: AuditEntry) -> bool:
        if self.profile is not None and entry.profile != self.profile:
            return False
        if entry.who not in self.who:
            return False
        if self.tools and entry.tool not in self.tools:
            return False
        if self.outcomes and entry.outcome not in self.outcomes:
            return False
        if self.since is not None:
            # A burst's summary counts from its last call: it holds calls made since.
            epoch = _epoch(entry.last_at) if entry.last_at else entry.epoch
            return epoch is None or epoch >= self.since
        return True


def _epoch(stamp: str) -> float | None:
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


_ENTRY_FIELDS: Final = tuple(field.name for field in fields(AuditEntry))
_DEFAULTS: Final = {field.name: field.default for field in fields(AuditEntry)}
# Written on every line: what a reader of an older Supalink needs.
_ALWAYS: Final = frozenset(
    ("at", "profile", "tool", "statement", "duration_ms", "rows", "truncated", "error", "writes")
) | {"pid"}
_MISSING: Final[Any] = object()


def _get(
    data: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = _MISSING
) -> Any:
    value = data.get(key, _MISSING)
    if value is _MISSING or (value is None and default is not _MISSING):
        if default is _MISSING:
            raise ValueError(f"an audit record needs {key!r}")
        return default
    # bool is an int to isinstance: a flag is no count, and a count is no flag.
    is_bool = isinstance(value, bool)
    wants_bool = kind is bool
    if not isinstance(value, kind) or is_bool != wants_bool:
        raise ValueError(f"{key!r} of an audit record is {type(value).__name__}")
    return value


def _choice(data: dict[str, Any], key: str, kind: type[StrEnum], default: Any) -> Any:
    value = _get(data, key, str, None)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{key!r} of an audit record is {value!r}") from None


def _texts(data: dict[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key!r} of an audit record is not a list of texts")
    return tuple(value)

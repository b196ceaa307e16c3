"""What the audit records of one tool call, whatever becomes of it: the one place that reads
an outcome from what a call raised (a refusal, the server's error, a timeout, bad input) and
turns a call into its entry (agent/audit_entry.py).

A call is recorded once: when it answers, when it fails, or, when its client cancels it,
once the server has stopped its statement (the session tells what became of it). Who asked
is read from the client's name: Verify names itself VERIFY_CLIENT.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from supalink.agent.arguments import BadArguments
from supalink.agent.audit_entry import (
    READ_ONLY_RULE,
    READ_ONLY_STATE,
    STATEMENT_TIMEOUT_WORDS,
    VERIFY_CLIENT,
    AuditEntry,
    Outcome,
    Who,
    utc_stamp,
)
from supalink.agent.connections import LoginRefused
from supalink.agent.listen import ListenRefused
from supalink.agent.refusals import Refusal, StatementRefused
from supalink.agent.session import DatabaseError

if TYPE_CHECKING:
    from supalink.agent.audit_log import AuditLog
    from supalink.agent.audit_text import Excerpt
    from supalink.agent.options import ServeOptions
    from supalink.agent.values import Rows

# The query was cancelled: by the statement timeout (a timeout) or by a cancel request.
QUERY_CANCELED: Final = "57014"
LOCK_TIMEOUT: Final = "55P03"
# Refusals that are about writing, whoever refused: one rule for the audit.
_WRITE_REFUSALS: Final = frozenset((Refusal.READ_ONLY, Refusal.LOGIN_READ_ONLY))


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    rule: str | None = None
    sqlstate: str | None = None


def verdict_of(error: Exception) -> Verdict:  # noqa: PLR0911 (one answer per kind of error)
    """The outcome a call's error stands for."""
    if isinstance(error, StatementRefused):
        if error.refusal in _WRITE_REFUSALS:
            return Verdict(Outcome.REFUSED, READ_ONLY_RULE)
        rule = error.refusal.name.lower().replace("_", " ")
        return Verdict(Outcome.REFUSED, f"{rule}: {error.keyword}" if error.keyword else rule)
    if isinstance(error, BadArguments):
        return Verdict(Outcome.BAD_INPUT)
    if isinstance(error, LoginRefused):
        return Verdict(Outcome.REFUSED, "login")
    if isinstance(error, ListenRefused):
        return Verdict(Outcome.REFUSED, "listen")
    if isinstance(error, DatabaseError):
        state = error.sqlstate
        if state == READ_ONLY_STATE:
            return Verdict(Outcome.REFUSED, READ_ONLY_RULE, state)
        timed_out = state == LOCK_TIMEOUT or (
            state == QUERY_CANCELED and STATEMENT_TIMEOUT_WORDS in str(error)
        )
        return Verdict(Outcome.TIMED_OUT if timed_out else Outcome.FAILED, None, state)
    return Verdict(Outcome.FAILED)


def who_asked(client: str | None) -> Who:
    return Who.SUPALINK if client is not None and client == VERIFY_CLIENT else Who.AGENT


@dataclass
class CallRecord:
    """One call on its way to the audit."""

    audit: AuditLog | None
    options: ServeOptions
    tool: str
    statement: str | None
    shown: Callable[[str], Excerpt]  # the statement as the audit keeps it
    client: str | None = None
    started: float = field(default_factory=time.monotonic)
    # Set while the session runs the call's statement: a cancel is then told by the session,
    # once the statement has stopped.
    in_session: bool = False
    done: bool = False

    def answered(self, rows: Rows | None) -> None:
        count = None if rows is None else rows.rowcount
        truncated = bool(rows and rows.truncated)
        shown = None
        if self.audit is not None and not self.done and self.statement is not None:
            # Its line the quick way (audit_line.AnswerLines) when the statement is shown
            # whole: the entry's line, without encoding the entry.
            shown = self.shown(self.statement)
            line = None
            if shown.chars is None and shown.sha256 is None:
                line = self.audit.answer_lines.line(
                    at=utc_stamp(),
                    profile=self.options.profile_name,
                    tool=self.tool,
                    statement=shown.text,
                    duration_ms=self._duration_ms(),
                    rows=count,
                    truncated=truncated,
                    writes=self.options.allow_writes,
                    pid=os.getpid(),
                    who=who_asked(self.client),
                    client=self.client,
                )
            if line is not None:
                self.done = True
                self.audit.record_line(line)
                return
        self._write(Verdict(Outcome.ANSWERED), None, rows=count, truncated=truncated, shown=shown)

    def failed(self, error: Exception, text: str) -> None:
        """`text`: the answer the agent got (masked); its first line is the entry's error."""
        self._write(verdict_of(error), text.splitlines()[0] if text else type(error).__name__)

    def bad_input(self, why: str) -> None:
        """A message the server could not take as a call at all."""
        self._write(Verdict(Outcome.BAD_INPUT), why)

    def cancelled(self, detail: str) -> None:
        self._write(Verdict(Outcome.CANCELLED), None, cancel=detail)

    def cancelled_outside_session(self) -> None:
        """The client cancelled the call before its statement was handed to the session."""
        if not self.in_session:
            from supalink.agent.session import NOT_SENT

            self.cancelled(NOT_SENT)

    def _write(
        self,
        verdict: Verdict,
        error: str | None,
        *,
        rows: int | None = None,
        truncated: bool = False,
        cancel: str | None = None,
        shown: Excerpt | None = None,  # the statement's, when it was made already
    ) -> None:
        if self.audit is None or self.done:
            return
        self.done = True
        if shown is None and self.statement is not None:
            shown = self.shown(self.statement)
        self.audit.record(
            AuditEntry(
                at=utc_stamp(),
                profile=self.options.profile_name,
                tool=self.tool,
                statement=None if shown is None else shown.text,
                statement_chars=None if shown is None else shown.chars,
                statement_sha256=None if shown is None else shown.sha256,
                duration_ms=self._duration_ms(),
                rows=rows,
                truncated=truncated,
                error=error,
                writes=self.options.allow_writes,
                pid=os.getpid(),
                outcome=verdict.outcome,
                rule=verdict.rule,
                sqlstate=verdict.sqlstate,
                cancel=cancel,
                who=who_asked(self.client),
                client=self.client,
            )
        )

    def _duration_ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000, 3)


# A refused line longer than this is not parsed again to find its tool and statement.
_READ_BACK_BYTES: Final = 1_000_000


def refused_line(
    audit: AuditLog | None,
    options: ServeOptions,
    shown: Callable[[str], Excerpt],
    why: str,
    line: bytes,
) -> None:
    """Record a message the server answered with an error before any tool saw it (bad
    JSON, a lone surrogate, an id that is neither a string nor an integer, a line over the
    limit): a call too, when it was one. Its tool and statement are read back where the
    line can be read."""
    import json

    if audit is None:
        return
    tool, statement = "(unreadable)", None
    if len(line) <= _READ_BACK_BYTES:
        try:
            payload = json.loads(line)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict):
            params = payload.get("params")
            params = params if isinstance(params, dict) else {}
            method = payload.get("method")
            name = params.get("name") if method == "tools/call" else method
            tool = name[:100] if isinstance(name, str) else tool
            arguments = params.get("arguments")
            sql = arguments.get("sql") if isinstance(arguments, dict) else None
            statement = sql if isinstance(sql, str) else None
    CallRecord(audit, options, tool, statement, shown).bad_input(why)

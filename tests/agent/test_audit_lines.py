"""An answered call's line made the quick way (audit_line.AnswerLines) is `encode_line`'s, byte
for byte, whatever the call holds; where it cannot be made so it says None, and the server
encodes the entry whole. Through CallRecord the log reads the same either way, bursts too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supalink.agent.audit_bursts import BURST_CALLS, BURST_QUIET_SECONDS, BURST_SHOWN
from supalink.agent.audit_entry import AuditEntry, Outcome, Who, utc_stamp
from supalink.agent.audit_line import MAX_LINE_BYTES, AnswerLines, encode_line
from supalink.agent.audit_log import AuditLog
from supalink.agent.audit_text import excerpt
from supalink.agent.call_record import CallRecord
from supalink.agent.options import ServeOptions
from supalink.agent.refusals import Refusal, StatementRefused

TEXTS = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
STATEMENTS = (
    st.text(st.characters(codec=None, exclude_categories=()), max_size=300)
    | st.text(max_size=3000)
    | st.sampled_from(["select 1", 'select "\\u00e9", $1', "select '\\ud800'", "x" * 2047])
)


def quick_and_whole(lines: AnswerLines, **fields: object) -> tuple[bytes | None, bytes]:
    entry = AuditEntry(error=None, **fields)  # type: ignore[arg-type]
    return lines.line(**fields), encode_line(entry)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    at=st.sampled_from([utc_stamp(), utc_stamp(0.0), ""]) | TEXTS | st.text(min_size=100),
    profile=st.none() | TEXTS,
    tool=st.sampled_from(["query", "explain"]) | TEXTS,
    statement=STATEMENTS,
    duration_ms=st.floats(min_value=0, max_value=1e12, allow_nan=False),
    rows=st.none() | st.integers(min_value=0, max_value=2**70),
    truncated=st.booleans(),
    writes=st.booleans(),
    pid=st.integers(min_value=1, max_value=2**22),
    who=st.sampled_from(Who),
    client=st.none() | TEXTS | st.text(min_size=150, max_size=200),
)
def test_a_quick_line_is_the_entrys_own(**fields: object) -> None:
    lines = AnswerLines()
    for _ in range(2):  # the parts made, then kept
        quick, whole = quick_and_whole(lines, **fields)
        assert quick is None or quick == whole


@pytest.mark.parametrize(
    ("statement", "quick"),
    [
        # Short enough not to be measured, long enough as JSON to pass the line's bound.
        ("\x1f" * 2000, False),
        ("\ud800" * 1600, False),
        ("\x1f" * 1500, True),  # within it
        ('"' * 2048, True),
        ("é" * 2048, True),
        ("x" * 2049, False),  # measured
    ],
)
def test_a_statement_near_the_bounds_is_quick_only_where_the_line_is_the_same(
    statement: str, quick: bool
) -> None:
    fields = {
        "at": utc_stamp(),
        "profile": "prod",
        "tool": "query",
        "statement": statement,
        "duration_ms": 12.5,
        "rows": 3,
        "truncated": True,
        "writes": False,
        "pid": 4242,
        "who": Who.SUPALINK,
        "client": "supalink-verify",
    }
    line, whole = quick_and_whole(AnswerLines(), **fields)
    assert (line is not None) == quick
    assert line is None or line == whole


def test_a_usual_call_is_made_the_quick_way_and_a_long_one_whole() -> None:
    lines = AnswerLines()
    usual = {
        "at": utc_stamp(),
        "profile": "prod",
        "tool": "query",
        "statement": "select id, name from customers where id = $1",
        "duration_ms": 1.234,
        "rows": 1,
        "truncated": False,
        "writes": False,
        "pid": 4242,
        "who": Who.AGENT,
        "client": "claude-ai",
    }
    quick, whole = quick_and_whole(lines, **usual)
    assert quick == whole
    long = {**usual, "statement": "select 1 -- " + "x" * 8000}
    quick, whole = quick_and_whole(lines, **long)
    assert quick is None
    assert len(whole) <= MAX_LINE_BYTES


def test_answered_calls_are_logged_as_their_entries_and_after_a_burst_that_ended(
    tmp_path: Path,
) -> None:
    """Each answered call's line is its entry's (`encode_line` of what it reads back as), and
    a burst's summary that has come due is written before the call that finds it so."""
    now = [0.0]
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=lambda: now[0])
    options = ServeOptions(profile_name="prod")

    def call(sql: str) -> CallRecord:
        return CallRecord(log, options, "query", sql, lambda text: excerpt(text, ()), "claude-ai")

    call("select 1").answered(None)
    for _ in range(BURST_CALLS + BURST_SHOWN + 5):  # a burst: its first calls, then a sum
        call("drop table t").failed(StatementRefused(Refusal.READ_ONLY, "DROP"), "refused")
    now[0] += BURST_QUIET_SECONDS
    call("select 2").answered(None)
    call("select 3 /* " + "y" * 9000 + " */").answered(None)  # too long: encoded whole
    log.close()

    lines = path.read_bytes().splitlines(keepends=True)
    entries = [AuditEntry.from_json(json.loads(line)) for line in lines]
    answered = [entry for entry in entries if entry.outcome is Outcome.ANSWERED]
    assert [entry.statement[:10] for entry in answered if entry.statement] == [
        "select 1",
        "select 2",
        "select 3 /",
    ]
    for line, entry in zip(lines, entries, strict=True):
        if entry.outcome is Outcome.ANSWERED and entry.statement_chars is None:
            assert line == encode_line(entry)
    summary = next(index for index, entry in enumerate(entries) if entry.count > 1)
    assert summary == len(entries) - 3  # just before "select 2"
    assert entries[-1].statement_chars is not None

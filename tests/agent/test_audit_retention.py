"""What the audit keeps, on real files: one line is at most MAX_LINE_BYTES whatever an entry
holds; the files stay within `max_files * max_bytes` and keep at least
`entries_kept_at_least()` lines, the newest, dropping the oldest only for room; and a burst
of refused calls becomes its first calls and a summary, so a flood of them leaves what came
before it in place. The bursts run on an injected clock: no test sleeps or races one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from supalink.agent import AuditEntry, AuditTail, Outcome, read_entries
from supalink.agent.audit_bursts import (
    BURST_CALLS,
    BURST_QUIET_SECONDS,
    BURST_SECONDS,
    BURST_SHOWN,
    SUMMARY_CALLS,
    SUMMARY_SECONDS,
    BurstSummary,
)
from supalink.agent.audit_entry import READ_ONLY_RULE, Who, utc_stamp
from supalink.agent.audit_line import (
    CUT,
    MAX_LINE_BYTES,
    MAX_STATEMENT_BYTES,
    MIN_ERROR_BYTES,
    encode_line,
)
from supalink.agent.audit_log import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FILES,
    AuditLog,
    entries_kept_at_least,
)
from tests.agent.test_audit import log_files, raw_records
from tests.support.audit import audit_entry

START = 1_796_124_600.0  # 2026-12-01T11:30:00Z
# 8 kB of UTF-8 each: the longest statement an entry holds, at 4 bytes a character in the
# line, and at 6 (a control character is written as \u0001).
EMOJI = "\N{GRINNING FACE}" * (MAX_STATEMENT_BYTES // 4)
CONTROL = "\x01" * MAX_STATEMENT_BYTES
STATEMENTS = {"emoji": EMOJI, "control characters": CONTROL}


class Clock:
    """The log's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def refused(seq: int, statement: str | None = None, **changes: Any) -> AuditEntry:
    """The `seq`th call of a flood, each its own statement unless one is given."""
    return audit_entry(
        **{
            "at": utc_stamp(START + seq),
            "statement": statement or f"COMMIT; DROP TABLE t{seq}",
            "rows": None,
            "error": f"refused ({seq}): writes are not allowed",
            "rule": READ_ONLY_RULE,
            **changes,
        }
    )


def answered(seq: int, statement: str = "SELECT 1", **changes: Any) -> AuditEntry:
    return audit_entry(
        **{"at": utc_stamp(START + seq), "statement": statement, "rows": seq, **changes}
    )


def worst_entry(statement: str | None) -> AuditEntry:
    """Every field as long as it can be, in the characters that take most room in a line."""
    text = "\x01" * 1_000
    return AuditEntry(
        at=text,
        profile=text,
        tool=text,
        statement=statement,
        duration_ms=-1.2345678901234567e-300,
        rows=-(10**40),
        truncated=True,
        error="\x00" * 100_000,
        writes=True,
        pid=10**40,
        powers=(text,) * 100,
        shared=(text,) * 100,
        outcome=Outcome.TIMED_OUT,
        rule=text,
        sqlstate=text,
        cancel=text,
        who=Who.SUPALINK,
        client=text,
        statement_chars=10**40,
        statement_sha256=text,
        burst=text,
        count=10**40,
        last_at=text,
    )


def files_bytes(path: Path) -> int:
    return sum(file.stat().st_size for file in log_files(path))


# ----- one line ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        None,
        EMOJI,
        CONTROL,
        '"\\' * MAX_STATEMENT_BYTES,  # two escapes a character
        "\ud800" * MAX_STATEMENT_BYTES,  # lone surrogates, from the agent's JSON
        "x" * 1_000_000,
    ],
    ids=["none", "emoji", "control", "quotes", "surrogates", "a megabyte"],
)
def test_the_longest_line_is_bounded_whatever_it_holds(statement: str | None) -> None:
    line = encode_line(worst_entry(statement))
    assert len(line) <= MAX_LINE_BYTES
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    found = AuditEntry.from_json(json.loads(line))
    if statement is None:
        # The other fields' bound leaves a statement room: it is the line's one long text.
        assert len(line) < MAX_LINE_BYTES - 3_000
        return
    # What was cut is a head of the statement, marked as cut: never another's text.
    assert found.statement is not None
    assert found.statement.endswith(CUT)
    assert statement.startswith(found.statement[: -len(CUT)])
    assert len(found.statement) > 500  # whatever else the line holds
    assert found.error is not None
    assert found.error.endswith(CUT)
    assert found.powers[-1].endswith("more")


def test_the_longest_excerpt_is_kept_whole_and_a_longer_statement_is_marked() -> None:
    """The excerpts the server writes (8 kB of UTF-8) fit a line as they are, beside an
    error of 1 kB whose end gives way if need be; a caller that sends more sees its
    statement cut, with the whole one's length and hash."""
    sql = "SELECT a, b FROM items WHERE x;\n"  # an escape every 32 bytes
    for statement in (EMOJI, sql * (MAX_STATEMENT_BYTES // len(sql))):
        entry = refused(1, statement, error="refused: " + "e" * 1_014, client="c" * 100)
        line = encode_line(entry)
        assert len(line) <= MAX_LINE_BYTES
        found = AuditEntry.from_json(json.loads(line))
        assert found.statement == statement
        assert found.statement_chars is None
        assert found.error is not None
        assert entry.error is not None
        assert entry.error.startswith(found.error[: -len(CUT)])
        assert len(found.error.encode()) >= MIN_ERROR_BYTES
        assert replace(found, error=entry.error) == entry
    longer = EMOJI + "\N{GRINNING FACE}"
    found = AuditEntry.from_json(json.loads(encode_line(refused(0, longer))))
    assert found.statement == EMOJI[:-1] + CUT  # on a character's boundary, in 8 kB
    assert found.statement_chars == len(longer)
    assert found.statement_sha256 == hashlib.sha256(longer.encode()).hexdigest()


def test_the_line_bound_measured_as_written(tmp_path: Path) -> None:
    """The writer's lines, not just encode_line's: the longest of each kind."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for statement in (EMOJI, CONTROL, None):
        log.record(worst_entry(statement))
        log.record(answered(0, statement or "SELECT 1", error="failed: " + "\x00" * 5_000))
    log.close()
    sizes = [len(line) for line in path.read_bytes().splitlines(keepends=True)]
    assert len(sizes) == 6
    assert max(sizes) <= MAX_LINE_BYTES
    assert max(sizes) >= MAX_LINE_BYTES - 10  # the worst case does reach the bound


# ----- the files ---------------------------------------------------------------------------
def test_the_defaults_keep_10_000_lines_within_100_mb() -> None:
    assert DEFAULT_MAX_FILES * DEFAULT_MAX_BYTES <= 100_000_000
    assert AuditLog(Path("audit.jsonl")).max_disk_bytes <= 100_000_000
    assert entries_kept_at_least(DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES) >= 10_000
    # What a full log keeps besides the current file: the calls of a week, unless that
    # week wrote more than this.
    assert (DEFAULT_MAX_FILES - 1) * (DEFAULT_MAX_BYTES - MAX_LINE_BYTES) > 94_000_000


@pytest.mark.parametrize("max_files", [1, 2, 4])
def test_the_oldest_lines_go_first_only_for_room_and_never_past_the_bound(
    tmp_path: Path, max_files: int
) -> None:
    """Lines of every length up to the longest: at each step the files are within their
    bound, hold every line written or at least entries_kept_at_least() of them, the newest,
    and a line was dropped only when the log had all of its files."""
    path = tmp_path / "audit.jsonl"
    max_bytes = 5 * MAX_LINE_BYTES + 1_000
    log = AuditLog(path, max_bytes=max_bytes, max_files=max_files)
    for seq in range(120):
        statement = (EMOJI, CONTROL, "SELECT 1", "SELECT " + "y" * (seq * 97 % 8_000))[seq % 4]
        log.record(answered(seq, statement, at=utc_stamp(START - 400 * 86_400 + seq)))
        files = log_files(path)
        assert all(file.stat().st_size <= max_bytes for file in files)
        assert files_bytes(path) <= log.max_disk_bytes
        kept = [record["rows"] for record in raw_records(path)]
        assert kept == list(range(seq + 1 - len(kept), seq + 1))  # the newest, in order
        if len(kept) < seq + 1:
            assert len(files) == max_files
            assert len(kept) >= entries_kept_at_least(max_bytes, max_files)
    log.close()
    assert len(log_files(path)) == max_files  # it did rotate and drop


def test_nothing_is_dropped_for_its_age(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=500, max_files=50)  # a line a file
    for days in (400, 30, 8, 7, 1, 0):
        log.record(answered(days, at=utc_stamp(START - days * 86_400)))
    log.close()
    assert len(log_files(path)) > 1
    assert [found.rows for found in read_entries(path)] == [400, 30, 8, 7, 1, 0]


@pytest.mark.parametrize("kind", STATEMENTS)
def test_a_flood_of_refused_calls_leaves_the_entry_before_it(tmp_path: Path, kind: str) -> None:
    """10,000 refused calls of the longest statements at the pace of the attack that erased
    an entry before (291 calls in 16.6 s): one after each 57 ms, through the log's own
    record(). Written one by one they would fill the files a hundred times over."""
    path = tmp_path / "audit.jsonl"
    clock = Clock()
    log = AuditLog(path, max_bytes=200_000, max_files=3, clock=clock)
    before = answered(-1, "SELECT 'the entry before'", tool="describe_table")
    log.record(before)
    assert 10_000 * len(encode_line(refused(0, STATEMENTS[kind]))) > 100 * log.max_disk_bytes
    for seq in range(10_000):
        clock.now += 0.057
        log.record(refused(seq, STATEMENTS[kind]))
    log.close()
    assert files_bytes(path) <= log.max_disk_bytes
    found = list(read_entries(path))
    assert found[0] == before
    calls = found[1:]
    assert sum(entry.count for entry in calls) == 10_000
    shown = BURST_CALLS + BURST_SHOWN
    assert [entry.count for entry in calls] == [1] * shown + [SUMMARY_CALLS] * 9 + [980]
    assert len(found) == 31
    assert all(len(line) <= MAX_LINE_BYTES for line in path.read_bytes().splitlines())


@pytest.mark.slow
def test_a_flood_of_answered_calls_keeps_the_last_10_000_within_100_mb(tmp_path: Path) -> None:
    """Answered calls are each written: the longest lines, past the defaults' 100 MB, keep
    the newest 10,000 or more."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    entry = answered(0, CONTROL)
    assert len(encode_line(entry)) >= MAX_LINE_BYTES - 10
    written = 11_000
    assert written * (MAX_LINE_BYTES - 10) > log.max_disk_bytes  # so it must drop some
    for seq in range(written):
        log.record(answered(seq, CONTROL))
    log.close()
    files = log_files(path)
    try:
        assert len(files) == DEFAULT_MAX_FILES
        assert files_bytes(path) <= 100_000_000
        rows = [found.rows for found in read_entries(path)]
        assert len(rows) >= 10_000
        assert rows == list(range(written - len(rows), written))
    finally:  # pytest keeps the last runs' folders: not 100 MB each
        for file in files:
            file.unlink()


def test_a_backlog_reaches_across_several_rotated_files(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=1_000, max_files=20)
    for seq in range(40):
        log.record(answered(seq))
    lines = [line for file in log_files(path) for line in file.read_bytes().splitlines(True)]
    assert len(log_files(path)) > 5
    backlog = sum(len(line) for line in lines[-25:])
    assert [found.rows for found in AuditTail(path, backlog_bytes=backlog).read_new()] == list(
        range(15, 40)
    )
    everything = AuditTail(path, backlog_bytes=10**9).read_new()
    assert [found.rows for found in everything] == list(range(40))


# ----- bursts ------------------------------------------------------------------------------
def test_291_refused_calls_in_16_seconds_are_20_entries_and_one_summary(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    clock = Clock()
    log = AuditLog(path, clock=clock)
    log.record(answered(-1))
    calls = [refused(seq) for seq in range(291)]
    for entry in calls:
        clock.now += 16 / 290
        log.record(entry)
    clock.now += BURST_QUIET_SECONDS + 1  # the burst is over: the next call writes its summary
    log.record(answered(300))
    log.close()

    first, *shown, summary, last = list(read_entries(path))
    assert (first.rows, last.rows) == (-1, 300)
    # Before the burst was seen, as they came; then its first calls, marked as its own.
    assert shown == calls[:BURST_CALLS] + [
        replace(entry, burst=summary.burst)
        for entry in calls[BURST_CALLS : BURST_CALLS + BURST_SHOWN]
    ]
    assert summary.burst is not None
    assert len(summary.burst) == 8
    assert summary.count == 291 - len(shown) == 271
    assert summary.outcome is Outcome.REFUSED
    assert summary.is_summary
    assert (summary.at, summary.last_at) == (calls[len(shown)].at, calls[-1].at)
    assert (summary.statement, summary.error, summary.rule) == (
        calls[-1].statement,
        calls[-1].error,
        calls[-1].rule,
    )


def test_other_calls_during_a_burst_are_written_at_once_and_close_writes_the_summary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    clock = Clock()
    log = AuditLog(path, clock=clock)
    for seq in range(40):
        clock.now += 0.1
        log.record(refused(seq) if seq != 30 else answered(30))
    assert [found.rows for found in read_entries(path)][-1] == 30  # not waiting for the burst
    assert len(list(read_entries(path))) == BURST_CALLS + BURST_SHOWN + 1
    log.close()
    *_, answer, summary = list(read_entries(path))
    assert answer.rows == 30
    assert summary.count == 40 - 1 - BURST_CALLS - BURST_SHOWN
    assert summary.statement == refused(39).statement


def test_a_long_burst_shows_every_1000_calls_and_every_minute(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    clock = Clock()
    log = AuditLog(path, clock=clock)
    for seq in range(2_500):  # fast: a summary each SUMMARY_CALLS calls
        clock.now += 0.001
        log.record(refused(seq))
    counts = [found.count for found in read_entries(path)]
    assert counts == [1] * 20 + [SUMMARY_CALLS, SUMMARY_CALLS]
    assert SUMMARY_SECONDS == 60  # the counts below are a call each 7 s in a minute
    for seq in range(2_500, 2_540):  # slow, yet never quiet: a summary each minute
        clock.now += 7
        log.record(refused(seq))
    found = list(read_entries(path))
    # The 480 left, and the 8 calls within the minute since the first of them; then the
    # 9 calls of each minute after.
    assert [entry.count for entry in found[22:]] == [480 + 8, 9, 9, 9]
    assert len({entry.burst for entry in found[BURST_CALLS:]}) == 1  # one burst all along
    assert all(entry.at < (entry.last_at or "") for entry in found[20:])


def test_refusals_at_the_threshold_are_each_written_and_one_more_makes_a_burst() -> None:
    clock = Clock()
    bursts = BurstSummary(clock)
    written = []
    for seq in range(100):  # BURST_CALLS in any BURST_SECONDS: no burst
        clock.now += BURST_SECONDS / BURST_CALLS + 0.001
        written += bursts.admit(refused(seq))
    assert [entry.burst for entry in written] == [None] * 100
    assert bursts.flush() == []
    clock.now += BURST_QUIET_SECONDS
    for seq in range(BURST_CALLS + 1):  # one more within the same time: a burst
        clock.now += BURST_SECONDS / BURST_CALLS - 0.001
        written += bursts.admit(refused(seq))
    assert [entry.burst is None for entry in written[100:]] == [True] * BURST_CALLS + [False]


def test_each_burst_has_its_own_id_and_ends_after_a_quiet_time() -> None:
    clock = Clock()
    bursts = BurstSummary(clock)
    written: list[AuditEntry] = []
    for round_ in range(2):
        for seq in range(30):
            clock.now += 0.5
            written += bursts.admit(refused(seq))
            if seq % 3 == 0:  # answered calls neither end a burst nor wait for it
                written += bursts.admit(answered(seq))
        clock.now += BURST_QUIET_SECONDS - 0.5
        assert bursts.admit(answered(100 + round_)) == [answered(100 + round_)]  # not yet
        clock.now += 0.5
        written += bursts.admit(answered(200 + round_))
    ids = [entry.burst for entry in written if entry.burst is not None]
    assert len(set(ids)) == 2
    summaries = [entry for entry in written if entry.is_summary]
    assert [entry.count for entry in summaries] == [10, 10]
    assert [entry.rows for entry in written if entry.rows in (200, 201)] == [200, 201]
    assert written.index(summaries[0]) + 1 == written.index(answered(200))

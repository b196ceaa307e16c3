"""The audit tells the whole truth about what the agent ran, as the real `mcp-serve` records
it and `supalink audit` prints it: every call one entry whatever became of it, the
statement's own words behind any padding, no secret and no confirmed guess, a flood that
cannot erase what came before, and Supalink's own calls (Verify) kept apart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from supalink.agent import AuditEntry, Outcome, Who, read_entries
from supalink.paths import AppPaths
from tests.agent.conftest import LoginFactory, Victim
from tests.agent.test_cancel import Served, wait_for
from tests.support.cli import SUPALINK, run_cli


def entries(home: Path) -> list[AuditEntry]:
    return [e for e in read_entries(AppPaths.under(home).audit_file) if not e.is_login]


def entries_for(home: Path, count: int) -> list[AuditEntry]:
    """The calls once `count` of them are in the audit (a cancel is recorded when the
    server has stopped the statement, after its answer)."""
    wait_for(lambda: len(entries(home)) >= count, 15)
    return entries(home)


def audit_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("audit", *args, home=home, text=True)


@pytest.mark.slow
def test_every_call_is_one_entry_whatever_became_of_it(
    tmp_path: Path, make_login: LoginFactory, victim: Victim
) -> None:
    login = make_login(settings={"statement_timeout": "1s"})
    home = tmp_path / "home"
    server = Served(login, home)
    try:
        server.query(2, "select 1")
        server.query(3, f"delete from {victim.schema}.items")  # refused: read-only
        server.query(4, "select pg_terminate_backend(1)")  # refused: a side effect
        server.query(5, "select * from no_such_table")  # failed at the server
        server.query(6, "select pg_sleep(3)")  # the role's 1 s timeout
        server.send(7, "tools/call", {"name": "query", "arguments": {"sql": 5}})  # bad input
        big = {"sql": "select $1", "params": [2**70]}  # past bigint
        server.send(8, "tools/call", {"name": "query", "arguments": big})
        for request_id in range(2, 9):
            server.answer(request_id)
        # A lone surrogate: the SDK cannot read the line; the server answers and records it.
        server.stdin.write(
            b'{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"query",'
            b'"arguments":{"sql":"select \'\\ud800\'"}}}\n'
        )
        server.stdin.flush()
        assert "error" in server.answer(9)
        found = entries_for(home, 8)
    finally:
        server.close()
    # The calls ran at once: their entries come in whatever order they ended.
    results = sorted(
        ((entry.tool, entry.outcome, entry.rule, entry.sqlstate) for entry in found), key=str
    )
    assert results == sorted(
        [
            ("query", Outcome.ANSWERED, None, None),
            ("query", Outcome.REFUSED, "read-only", None),
            ("query", Outcome.REFUSED, "side effect: pg_terminate_backend", None),
            ("query", Outcome.FAILED, None, "42P01"),
            ("query", Outcome.TIMED_OUT, None, "57014"),
            ("query", Outcome.BAD_INPUT, None, None),
            ("query", Outcome.BAD_INPUT, None, None),
            ("query", Outcome.BAD_INPUT, None, None),
        ],
        key=str,
    )
    assert {"1 row", "refused: read-only"} <= {entry.result for entry in found}
    # The line the SDK could not read: its statement read back, the lone surrogate kept.
    assert "select '\ud800'" in {entry.statement for entry in found}
    assert all(entry.who is Who.AGENT for entry in found)


@pytest.mark.slow
def test_a_cancelled_call_is_recorded_with_what_the_server_did(
    tmp_path: Path, make_login: LoginFactory
) -> None:
    login = make_login()
    home = tmp_path / "home"
    server = Served(login, home)
    try:
        server.query(2, "select pg_sleep(30) as running")
        wait_for(lambda: bool(login.backends("%running%")), 30)
        server.notify("notifications/cancelled", {"requestId": 2})
        # Cancelled after it ran: the answer was on its way when the cancel came.
        server.query(3, "select 'quick' as done")
        server.notify("notifications/cancelled", {"requestId": 3})
        server.query(4, "select 1")
        server.answer(4)
        found = entries_for(home, 3)
    finally:
        server.close()
    by_statement = {entry.statement: entry for entry in found}
    stopped = by_statement["select pg_sleep(30) as running"]
    assert stopped.outcome is Outcome.CANCELLED
    assert stopped.cancel is not None
    assert stopped.cancel.startswith("after it reached the server; the server stopped it in")
    quick = by_statement["select 'quick' as done"]
    # Either way it is one entry: answered before the cancel came, or cancelled after.
    assert quick.outcome in (Outcome.ANSWERED, Outcome.CANCELLED)
    assert len(found) == 3


def test_the_statement_behind_padding_is_kept_and_no_guess_is_confirmed(
    tmp_path: Path, make_login: LoginFactory
) -> None:
    login = make_login()
    home = tmp_path / "home"
    wrong = "x" * len(login.password)
    statements = [
        "/*" + "p" * 16_000 + "*/ select current_user as after_the_padding",
        "select '"
        + "q" * 16_000
        + "', pg_backend_pid() as hidden_in_the_middle, '"
        + "q" * 16_000
        + "'",
        f"select '{login.password}' as guess",  # the right guess
        f"select '{wrong}' as guess",  # a wrong one of the same length
        f"select 'postgresql://u:{login.password}@h/db' as uri",
    ]
    server = Served(login, home)
    try:
        for request_id, statement in enumerate(statements, start=2):
            server.query(request_id, statement)
            server.answer(request_id)
        found = entries_for(home, len(statements))
    finally:
        server.close()
    padded, middle, right, wrong_guess, uri = (entry.statement or "" for entry in found)
    assert "select current_user as after_the_padding" in padded
    assert "pg_backend_pid() as hidden_in_the_middle" in middle
    assert found[0].statement_chars == len(statements[0])
    assert found[0].statement_sha256 is not None
    assert right == wrong_guess  # the audit cannot tell the right guess from a wrong one
    assert "uri" in uri
    raw = AppPaths.under(home).audit_file.read_bytes()
    assert login.password.encode() not in raw


@pytest.mark.slow
def test_a_flood_of_refused_calls_cannot_erase_what_came_before(
    tmp_path: Path, make_login: LoginFactory
) -> None:
    login = make_login()
    home = tmp_path / "home"
    maximal = "select 1 as " + "😀" * 16_000 + "; commit"  # refused: several statements
    server = Served(login, home)
    try:
        server.query(2, "select 1 as before_the_flood")
        server.answer(2)
        for request_id in range(3, 303):
            server.query(request_id, maximal)
        for request_id in range(3, 303):
            server.answer(request_id)
    finally:
        server.close()  # the summary of the burst is written when the server stops
    found = entries(home)
    assert found[0].statement == "select 1 as before_the_flood"
    assert sum(entry.count for entry in found[1:]) == 300
    summaries = [entry for entry in found if entry.is_summary]
    assert summaries, [entry.count for entry in found]
    assert len(found) <= 30
    size = sum(path.stat().st_size for path in AppPaths.under(home).audit_file.parent.iterdir())
    print(f"\n300 refused maximal calls: {len(found) - 1} entries, {size:,} bytes on disk")
    assert size < 500_000


def test_the_cli_prints_escapes_not_what_a_terminal_would_obey(
    tmp_path: Path, make_login: LoginFactory
) -> None:
    login = make_login()
    home = tmp_path / "home"
    forged = "select 1 as a\x1b[2K\r2026-12-07 00:00:00  prod  query  0.1 ms  1 row  select 1"
    bidi = "select 'abc' as \"\u202etxet\""
    server = Served(login, home)
    try:
        for request_id, statement in enumerate((forged, bidi), start=2):
            server.query(request_id, statement)
            server.answer(request_id)
        entries_for(home, 2)
    finally:
        server.close()
    plain = audit_cli(home)
    assert plain.returncode == 0, plain.stderr
    assert "\x1b" not in plain.stdout
    assert "\u202e" not in plain.stdout
    assert "\\x1b[2K" in plain.stdout
    assert "\\u202etxet" in plain.stdout
    assert len(plain.stdout.splitlines()) == 2  # no forged line
    exact = audit_cli(home, "--json")
    records = [json.loads(line) for line in exact.stdout.splitlines()]
    assert "\x1b[2K" in records[0]["statement"]
    assert "\u202e" in records[1]["statement"]


@pytest.mark.slow
def test_verifys_calls_are_supalinks_own_and_left_out_unless_asked_for(
    tmp_path: Path, make_login: LoginFactory
) -> None:
    from supalink.mcp import ServerEntry
    from supalink.mcp.verify import verify_entry

    login = make_login()
    home = tmp_path / "home"
    entry = ServerEntry(SUPALINK, ("mcp-serve", "--uri-env", "AGENT_URI"))
    env = {**os.environ, "SUPALINK_HOME": str(home), "AGENT_URI": login.uri()}
    report = asyncio.run(verify_entry(entry, base_env=env, timeout=60))
    assert report.ok, report
    server = Served(login, home)
    try:
        server.query(2, "select 1 as the_agents_own")
        server.answer(2)
        wait_for(lambda: any(e.who is Who.AGENT for e in entries(home)), 15)
    finally:
        server.close()
    found = entries(home)
    own = [entry for entry in found if entry.who is Who.SUPALINK]
    assert own, "Verify's calls are recorded"
    assert any(entry.outcome is Outcome.REFUSED for entry in own)  # its guard probes
    assert all(entry.client == "supalink-verify" for entry in own)
    default = audit_cli(home).stdout.splitlines()
    assert len(default) == 1
    assert "the_agents_own" in default[0]
    everything = audit_cli(home, "--who", "all").stdout.splitlines()
    assert len(everything) == len(found)
    assert all("[supalink]" in line for line in everything if "the_agents_own" not in line)


def test_the_filters_choose_by_time_tool_outcome_and_who(tmp_path: Path) -> None:
    from supalink.agent.audit_entry import utc_stamp
    from supalink.agent.audit_log import AuditLog
    from tests.support.audit import audit_entry

    home = tmp_path / "home"
    log = AuditLog(AppPaths.under(home).audit_file)
    now = time.time()
    log.record(audit_entry(at=utc_stamp(now - 3 * 86400), statement="select 'old'"))
    log.record(audit_entry(at=utc_stamp(now - 60), statement="select 'recent'"))
    log.record(audit_entry(at=utc_stamp(now - 30), tool="list_tables", statement=None))
    log.record(
        audit_entry(
            at=utc_stamp(now - 10), statement="commit", error="refused (COMMIT): …", rule="x"
        )
    )
    log.close()

    def lines(*args: str) -> list[str]:
        result = audit_cli(home, *args)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    assert len(lines()) == 4
    assert len(lines("--since", "2h")) == 3
    assert len(lines("--since", "2h", "--tool", "query")) == 2
    assert len(lines("--outcome", "refused")) == 1
    assert len(lines("--outcome", "answered", "--outcome", "refused")) == 4
    bad = audit_cli(home, "--since", "yesterday-ish")
    assert bad.returncode == 2
    assert "--since" in bad.stderr
    assert audit_cli(home, "--outcome", "exploded").returncode == 2

"""`supalink audit` as a user runs it, on an audit log the real AuditLog wrote under a
private SUPALINK_HOME."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

import pytest

from supalink.agent import AuditEntry
from supalink.agent.audit_entry import utc_stamp
from supalink.agent.audit_log import AuditLog
from supalink.paths import AppPaths
from tests.agent.test_audit import without_root_powers
from tests.support.audit import audit_entry
from tests.support.cli import run_cli, spawn_argv, spawn_cli
from tests.support.signals import ctrl_c_reaching_children, signal_masks

AT = 1_796_124_600.25  # 2026-12-01T11:30:00.250Z


def call(**changes: object) -> AuditEntry:
    defaults: dict[str, object] = {
        "at": utc_stamp(AT),
        "statement": "SELECT id, name\n  FROM items",
        "duration_ms": 12.34,
        "rows": 5,
    }
    return audit_entry(**{**defaults, **changes})


def audit_file(home: Path) -> Path:
    return AppPaths.under(home).audit_file


def supalink(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return run_cli("audit", *argv, home=home, text=True)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    log = AuditLog(audit_file(tmp_path))
    log.record(call())
    log.record(
        call(
            statement="COMMIT; DROP TABLE items",
            duration_ms=0.2,
            rows=None,
            error="refused (COMMIT): transaction control is the server's",
        )
    )
    log.record(call(profile=None, tool="list_tables", statement=None, rows=1000, truncated=True))
    log.record(
        call(
            profile="staging",
            statement="SELECT nope FROM " + "t" * 300,
            rows=None,
            error='relation "t" does not exist',
        )
    )
    return tmp_path


def test_plain_one_readable_line_per_call_in_local_time(home: Path) -> None:
    result = supalink(home)
    assert (result.returncode, result.stderr) == (0, "")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(AT))
    ok, refused, listed, failed = result.stdout.splitlines()
    assert ok == f"{when}  prod  query  12.3 ms  5 rows  SELECT id, name FROM items"
    assert refused == (
        f"{when}  prod  query  0.2 ms  refused (COMMIT): transaction control is the server's"
        "  COMMIT; DROP TABLE items"
    )
    assert listed == f"{when}  -  list_tables  12.3 ms  1,000 rows, truncated"
    assert failed.startswith(f'{when}  staging  query  12.3 ms  failed (relation "t" does not')
    assert failed.endswith("SELECT nope FROM " + "t" * 102 + "…")  # 120 characters


def test_json_one_object_per_line_with_the_entries_fields(home: Path) -> None:
    result = supalink(home, "--json")
    assert (result.returncode, result.stderr) == (0, "")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [AuditEntry.from_json(record) for record in records][:1] == [call()]
    assert [record["profile"] for record in records] == ["prod", "prod", None, "staging"]
    assert set(records[0]) == set(call().as_json())


def test_profile_keeps_only_that_profiles_calls(home: Path) -> None:
    result = supalink(home, "--profile", "prod", "--json")
    assert [json.loads(line)["statement"] for line in result.stdout.splitlines()] == [
        "SELECT id, name\n  FROM items",
        "COMMIT; DROP TABLE items",
    ]
    nobody = supalink(home, "--profile", "nobody")
    assert (nobody.returncode, nobody.stdout) == (0, "")
    assert nobody.stderr.startswith("No calls recorded yet for profile nobody in ")


def test_limit_gives_the_last_calls_and_fifty_by_default(tmp_path: Path) -> None:
    log = AuditLog(audit_file(tmp_path))
    for n in range(60):
        log.record(call(rows=n))
    default = supalink(tmp_path, "--json")
    assert [json.loads(line)["rows"] for line in default.stdout.splitlines()] == list(range(10, 60))
    three = supalink(tmp_path, "--json", "--limit", "3")
    assert [json.loads(line)["rows"] for line in three.stdout.splitlines()] == [57, 58, 59]
    zero = supalink(tmp_path, "--limit", "0")
    assert zero.returncode == 2
    assert zero.stderr == "supalink audit: error: --limit must be a positive number of calls\n"


def test_no_file_yet_says_no_call_was_recorded(tmp_path: Path) -> None:
    result = supalink(tmp_path)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == f"No calls recorded yet in {audit_file(tmp_path)}.\n"


def test_a_folder_in_the_files_place_is_one_sentence_and_exit_1(tmp_path: Path) -> None:
    audit_file(tmp_path).mkdir(parents=True)
    result = supalink(tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"supalink audit: cannot read the audit log {audit_file(tmp_path)}: "
        "it is a folder, not a file\n"
    )


def test_a_file_it_may_not_read_is_one_sentence_and_exit_1(home: Path) -> None:
    audit_file(home).chmod(0o000)
    # A process without root's powers: root reads it whatever its mode.
    result = spawn_cli("audit", home=home, through=without_root_powers, text=True)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"supalink audit: cannot read the audit log {audit_file(home)}: permission denied\n"
    )


def read_lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def test_follow_prints_calls_made_after_it_started_until_ctrl_c(home: Path) -> None:
    log = AuditLog(audit_file(home))
    with ctrl_c_reaching_children():
        process = subprocess.Popen(
            spawn_argv("audit", "--follow", "--json", "--limit", "1", "--profile", "prod"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # Should it ever hang, SIGABRT then prints each thread's stack.
            env={**os.environ, "SUPALINK_HOME": str(home), "PYTHONFAULTHANDLER": "1"},
        )
    assert process.stdout is not None
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=read_lines, args=(process.stdout, lines))
    reader.start()
    try:
        first = json.loads(lines.get(timeout=30))  # the last call from before, then new ones
        assert first["statement"] == "COMMIT; DROP TABLE items"
        # It starts looking some moment after it printed that: call, as an agent would,
        # until one shows, within a bound.
        deadline = time.monotonic() + 20
        n = 0
        while lines.empty():
            assert time.monotonic() < deadline, "no new call was printed"
            log.record(call(profile="staging", rows=-1))  # another profile: never shown
            log.record(call(rows=n, statement=f"SELECT {n}"))
            n += 1
            time.sleep(0.05)  # pacing the calls, not a timing assertion
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            masks = signal_masks(process.pid)  # SIGINT ignored, blocked or pending?
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=10)
            raise AssertionError(
                f"no exit 20 s after Ctrl-C ({masks}): {process.stderr.read()}"
            ) from None
        stderr = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()
        process.stderr.close()
    assert (code, stderr) == (130, "")
    printed = [json.loads(lines.get_nowait()) for _ in range(lines.qsize())]
    rows = [record["rows"] for record in printed]
    # Each call of the profile once, in order, from the first made after the start.
    assert rows == list(range(rows[0], rows[0] + len(rows)))
    assert all(record["statement"] == f"SELECT {record['rows']}" for record in printed)

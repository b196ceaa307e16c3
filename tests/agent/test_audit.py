"""The audit log on real files and real processes: several servers appending to one file
through many rotations lose, tear and interleave nothing; its files are private; a folder
it may not write or a full disk never stops the server; readers skip what is not a record
and follow the file across rotations."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from supalink.agent import AuditEntry, AuditTail, follow_entries, read_entries
from supalink.agent.audit_entry import utc_stamp
from supalink.agent.audit_line import MAX_STATEMENT_BYTES
from supalink.agent.audit_log import AuditLog
from tests.support.audit import audit_entry

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from supalink.agent.audit_entry import AuditEntry, utc_stamp
    from supalink.agent.audit_log import AuditLog

    path, index, count, max_bytes, max_files, go = sys.argv[1:]
    log = AuditLog(Path(path), max_bytes=int(max_bytes), max_files=int(max_files))
    Path(f"{go}.ready{index}").touch()
    deadline = time.monotonic() + 30
    while not os.path.exists(go):  # all start together: the appends really overlap
        if time.monotonic() > deadline:
            sys.exit("never told to go")
        time.sleep(0.001)
    for seq in range(int(count)):
        log.record(AuditEntry(
            at=utc_stamp(), profile=f"p{index}", tool="query",
            statement=f"SELECT {seq} -- {'é' * 20}{'x' * (seq * 7 % 300)}",
            duration_ms=seq / 10, rows=seq, truncated=False, error=None,
            writes=False, pid=os.getpid(),
        ))
    """
)


def entry(**changes: Any) -> AuditEntry:
    return audit_entry(**changes)


def log_files(path: Path) -> list[Path]:
    """The log's files, oldest first, found on disk independently of the readers."""
    rotated = sorted(
        (item for item in path.parent.iterdir() if item.name.startswith(f"{path.name}.")),
        key=lambda item: item.name,
    )
    numbered = [item for item in rotated if item.suffix[1:].isdigit()]
    numbered.sort(key=lambda item: int(item.suffix[1:]), reverse=True)
    return [*numbered, *([path] if path.exists() else [])]


def raw_records(path: Path) -> list[dict[str, Any]]:
    """Every line of every file, which must each be one whole record."""
    records = []
    for file in log_files(path):
        data = file.read_bytes()
        assert data == b"" or data.endswith(b"\n"), f"{file.name} ends inside a line"
        for line in data.split(b"\n")[:-1]:
            record = json.loads(line)  # a torn or interleaved line fails here
            AuditEntry.from_json(record)
            records.append(record)
    return records


def run_writers(path: Path, processes: int, count: int, max_bytes: int, max_files: int) -> None:
    go = path.parent.parent / "go"  # the log's folder is the first writer's to make
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(path),
                str(index),
                str(count),
                str(max_bytes),
                str(max_files),
                str(go),
            ]
        )
        for index in range(processes)
    ]
    try:
        deadline = time.monotonic() + 30
        ready = [Path(f"{go}.ready{index}") for index in range(processes)]
        while not all(flag.exists() for flag in ready):
            assert time.monotonic() < deadline, "the writers did not start"
            assert all(child.poll() is None for child in children), "a writer died"
            time.sleep(0.005)
        go.touch()
        codes = [child.wait(timeout=60) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert codes == [0] * processes


def seqs_by_profile(records: list[dict[str, Any]]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for record in records:
        found.setdefault(record["profile"], []).append(record["rows"])
    return found


def test_eight_servers_through_many_rotations_lose_tear_and_interleave_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "audit.jsonl"
    run_writers(path, processes=8, count=500, max_bytes=20_000, max_files=101)
    files = log_files(path)
    assert len(files) > 40  # about 1.1 MB through 20 kB files: many rotations happened
    records = raw_records(path)
    assert len(records) == 4000
    # Oldest first across the files, each server's calls come in the order it made them.
    assert seqs_by_profile(records) == {f"p{index}": list(range(500)) for index in range(8)}
    assert [e.as_json() for e in read_entries(path)] == records


def test_with_few_files_the_newest_calls_survive_and_each_file_is_bounded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "audit.jsonl"
    max_bytes, max_files = 20_000, 3
    run_writers(path, processes=8, count=500, max_bytes=max_bytes, max_files=max_files)
    files = log_files(path)
    assert [file.name for file in files] == ["audit.jsonl.2", "audit.jsonl.1", "audit.jsonl"]
    longest = max(len(line) for file in files for line in file.read_bytes().splitlines(True))
    for file in files:  # rotated before a line would take it past max_bytes, under the lock
        assert file.stat().st_size <= max_bytes
    for rotated in files[:-1]:  # and only then
        assert rotated.stat().st_size > max_bytes - longest
    records = raw_records(path)
    assert len(records) == sum(file.read_bytes().count(b"\n") for file in files)
    assert (max_files - 1) * (max_bytes // longest) + 1 <= len(records) < 4000
    # What survives of each server is the end of what it ran: nothing in between is lost.
    for seqs in seqs_by_profile(records).values():
        assert seqs == list(range(500 - len(seqs), 500))


def test_the_file_and_its_lock_are_private_and_a_missing_folder_is_made_private(
    tmp_path: Path,
) -> None:
    path = tmp_path / "home" / "data" / "audit.jsonl"
    old = os.umask(0)  # the modes are the log's own, not what the umask leaves
    try:
        AuditLog(path).record(entry())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((path.parent / "audit.jsonl.lock").stat().st_mode) == 0o600
    assert json.loads(path.read_bytes()) == entry().as_json()


def test_an_unwritable_place_never_raises_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    audit = AuditLog(blocker / "audit.jsonl")
    with caplog.at_level(logging.WARNING, logger="supalink.agent.audit_log"):
        for _ in range(3):
            audit.record(entry())
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(blocker / "audit.jsonl") in warnings[0].getMessage()


def without_root_powers(argv: list[str]) -> list[str]:
    """Root ignores permission bits; without these capabilities it honours them."""
    if os.geteuid() != 0:
        return argv
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--", *argv]


def test_a_read_only_folder_lets_the_server_go_on_with_one_warning(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o500)
    script = textwrap.dedent(
        """
        import logging, sys
        from pathlib import Path
        from supalink.agent.audit_entry import AuditEntry
        from supalink.agent.audit_log import AuditLog
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
        audit = AuditLog(Path(sys.argv[1]))
        for n in range(3):
            audit.record(AuditEntry("2026-12-01T11:30:00.123Z", "prod", "query", "SELECT 1",
                                    1.0, 1, False, None, False, 1))
        print("still serving")
        """
    )
    result = subprocess.run(
        without_root_powers([sys.executable, "-c", script, str(folder / "audit.jsonl")]),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "still serving\n"), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("WARNING the audit log ")
    assert "Permission denied" in lines[0]
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_a_full_disk_never_raises_and_leaves_no_half_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=True)
    try:
        path = folder / "audit.jsonl"
        audit = AuditLog(path, max_bytes=10_000_000, max_files=1)
        with caplog.at_level(logging.WARNING, logger="supalink.agent.audit_log"):
            for seq in range(400):  # about 200 kB into 64 kB
                audit.record(entry(rows=seq, statement="SELECT " + "y" * (seq * 13 % 900)))
        audit.close()  # it keeps its files open between lines
        records = raw_records(path)
    finally:
        subprocess.run(["umount", str(folder)], check=True)
    assert 20 < len(records) < 400
    rows = [record["rows"] for record in records]
    assert rows[:20] == list(range(20))
    assert rows == sorted(set(rows))  # a later, shorter line may still have fitted
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "No space left on device" in warnings[0].getMessage()


def test_a_record_stays_one_bounded_line_whatever_the_agent_sent(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path)
    audit.record(entry(statement="SELECT 1;\nSELECT 2", error="line one\nline two\r\nthree"))
    audit.record(entry(statement="x" * 48_000))
    audit.record(entry(statement="SELECT '\ud800'"))  # a lone surrogate from the agent's JSON
    assert path.read_bytes().count(b"\n") == 3
    first, long, odd = read_entries(path)
    assert (first.statement, first.error) == ("SELECT 1;\nSELECT 2", "line one line two three")
    assert long.statement == "x" * (MAX_STATEMENT_BYTES - 3) + "…"  # 8,192 bytes of UTF-8
    assert long.statement_chars == 48_000
    assert long.statement_sha256 == hashlib.sha256(b"x" * 48_000).hexdigest()
    assert odd.statement == "SELECT '\ud800'"


def test_from_json_ignores_unknown_keys_and_rejects_what_is_not_a_record() -> None:
    record = entry(profile=None, statement=None, rows=None, error="refused: no").as_json()
    assert AuditEntry.from_json({**record, "added_later": [1, 2]}) == AuditEntry.from_json(record)
    minimal = {"at": record["at"], "tool": "list_tables", "duration_ms": 3, "pid": 7}
    assert AuditEntry.from_json(minimal) == AuditEntry(
        record["at"], None, "list_tables", None, 3.0, None, False, None, False, 7
    )
    for broken in (
        {**record, "rows": True},  # a flag is no count
        {**record, "truncated": 1},  # and a count is no flag
        {**record, "duration_ms": "3"},
        {key: value for key, value in record.items() if key != "tool"},
        {**record, "at": None},
    ):
        with pytest.raises(ValueError, match="audit record"):
            AuditEntry.from_json(broken)
    with pytest.raises(ValueError, match="JSON object"):
        AuditEntry.from_json([record])  # type: ignore[arg-type]


def test_entry_times_and_refusals() -> None:
    assert utc_stamp(1_796_124_600.1234) == "2026-12-01T11:30:00.123Z"
    assert entry(at=utc_stamp(1_796_124_600.5)).epoch == 1_796_124_600.5
    assert entry(at="yesterday").epoch is None
    assert entry(error="refused (COMMIT): transaction control is the server's").refused
    assert not entry(error='relation "x" does not exist').refused
    assert not entry().refused


def test_readers_skip_what_is_not_a_record_and_read_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    good = [entry(rows=n, profile="prod" if n % 2 else "staging") for n in range(4)]

    def line(item: AuditEntry) -> bytes:
        return json.dumps(item.as_json()).encode() + b"\n"

    (tmp_path / "audit.jsonl.2").write_bytes(line(good[0]) + b"not json\n" + b"[1, 2]\n")
    (tmp_path / "audit.jsonl.1").write_bytes(
        b'{"at": "x", "tool"\n' + line(good[1]) + b"\xff\xfe\n"
    )
    path.write_bytes(b"\n" + line(good[2]) + b"[" * 100_000 + b"\n" + line(good[3]))
    (tmp_path / "audit.jsonl.lock").write_bytes(b"")
    for stray in ("bak", "01", "0", "\N{SUPERSCRIPT TWO}"):  # not one of the log's files
        (tmp_path / f"audit.jsonl.{stray}").write_bytes(line(entry(rows=99)))
    assert list(read_entries(path)) == good
    assert [item.rows for item in read_entries(path, profile="prod")] == [1, 3]
    assert list(read_entries(tmp_path / "nothing" / "audit.jsonl")) == []


def test_a_reader_says_when_the_log_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.mkdir()
    with pytest.raises(IsADirectoryError):
        list(read_entries(path))
    with pytest.raises(IsADirectoryError):
        AuditTail(path).read_new()


def test_a_tail_reads_only_what_was_appended_and_waits_for_a_line_to_end(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path)
    audit.record(entry(rows=0))
    tail = AuditTail(path, profile="prod")
    assert tail.read_new() == []
    audit.record(entry(rows=1))
    audit.record(entry(rows=2, profile="other"))
    assert [item.rows for item in tail.read_new()] == [1]
    assert tail.read_new() == []
    half = json.dumps(entry(rows=3).as_json()).encode()
    with path.open("ab") as handle:
        handle.write(half[:20])
    assert tail.read_new() == []
    with path.open("ab") as handle:
        handle.write(half[20:] + b"\n")
    assert [item.rows for item in tail.read_new()] == [3]


def test_a_tail_with_a_backlog_starts_at_a_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path)
    for n in range(10):
        audit.record(entry(rows=n))
    lines = path.read_bytes().splitlines(keepends=True)
    last_three = sum(len(line) for line in lines[-3:])
    assert [e.rows for e in AuditTail(path, backlog_bytes=last_three).read_new()] == [7, 8, 9]
    assert [e.rows for e in AuditTail(path, backlog_bytes=last_three + 5).read_new()] == [7, 8, 9]
    assert [e.rows for e in AuditTail(path, backlog_bytes=10**9).read_new()] == list(range(10))
    assert AuditTail(path).read_new() == []


def test_a_tail_loses_nothing_across_rotations_between_two_looks(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    size = len(json.dumps(entry(rows=10).as_json(), ensure_ascii=False, separators=(",", ":")))
    audit = AuditLog(path, max_bytes=3 * (size + 1), max_files=10)  # three lines a file
    audit.record(entry(rows=0))
    tail = AuditTail(path)
    audit.record(entry(rows=1))
    assert [e.rows for e in tail.read_new()] == [1]
    for n in range(2, 15):  # the file read is now audit.jsonl.4, four came after it
        audit.record(entry(rows=n))
    assert (tmp_path / "audit.jsonl.4").exists()
    assert not (tmp_path / "audit.jsonl.5").exists()
    assert [e.rows for e in tail.read_new()] == list(range(2, 15))
    audit.record(entry(rows=15))  # the first line of a new file
    assert [e.rows for e in tail.read_new()] == [15]
    audit.record(entry(rows=16))
    assert [e.rows for e in tail.read_new()] == [16]


def test_a_tail_of_a_file_not_there_yet_reads_it_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "data" / "audit.jsonl"
    tail = AuditTail(path)
    assert tail.read_new() == []
    AuditLog(path).record(entry(rows=5))
    assert [e.rows for e in tail.read_new()] == [5]


def test_follow_yields_what_comes_after_it_started_also_across_rotations(
    tmp_path: Path,
) -> None:
    path = tmp_path / "audit.jsonl"
    audit = AuditLog(path, max_bytes=1_000, max_files=4)
    audit.record(entry(rows=-1))

    async def follow() -> list[int | None]:
        stream = follow_entries(path, profile="prod", poll_seconds=0.01)
        first = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)  # the stream has started: what comes now is new
        seen = []
        for n in range(12):  # past several rotations, one server among two
            audit.record(entry(rows=n))
            audit.record(entry(rows=100 + n, profile="staging"))
            item = await asyncio.wait_for(first if n == 0 else anext(stream), 5)
            seen.append(item.rows)
        await stream.aclose()  # type: ignore[attr-defined]
        return seen

    assert asyncio.run(follow()) == list(range(12))
    assert (tmp_path / "audit.jsonl.3").exists()  # the rotations did happen


def test_a_backlog_reaches_into_the_file_rotated_a_moment_ago(tmp_path: Path) -> None:
    """The Agent tab opened just after a rotation still shows the recent calls."""
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, max_bytes=2_000, max_files=3)
    written = [f"select {number}" for number in range(14)]
    for statement in written:
        log.record(entry(statement=statement))
    assert (tmp_path / "audit.jsonl.1").exists()  # it rotated on the way
    assert path.stat().st_size <= 2_000
    tail = AuditTail(path, backlog_bytes=1_500)
    shown = [found.statement for found in tail.read_new()]
    assert shown == written[-len(shown) :]  # the newest, oldest first, none twice
    in_current = len([line for line in path.read_text().splitlines() if line.strip()])
    assert len(shown) > in_current  # some came from the rotated file
    log.record(entry(statement="select new"))
    assert [found.statement for found in tail.read_new()] == ["select new"]


def test_a_writer_that_keeps_its_file_open_follows_a_rotation_or_a_deletion(
    tmp_path: Path,
) -> None:
    """Two writers in one folder, one rotating under the other; then the log deleted by hand:
    the next line goes to the file at the log's name, never to one moved or gone."""
    path = tmp_path / "audit.jsonl"
    first, second = AuditLog(path, max_bytes=1_500), AuditLog(path, max_bytes=1_500)
    for number in range(30):
        (first if number % 2 else second).record(entry(statement=f"select {number}"))
    statements = [found.statement for found in read_entries(path)]
    assert statements == [f"select {number}" for number in range(30)][-len(statements) :]
    assert (tmp_path / "audit.jsonl.1").exists()
    path.unlink()
    first.record(entry(statement="after the deletion"))
    assert [found.statement for found in read_entries(path)][-1] == "after the deletion"
    assert path.exists()
    first.close()
    second.close()

"""`supalink monitor` as a person runs it: a real process for the signals, real server; the
runs that end by themselves in this process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from tests.support.cli import run_cli, spawn_argv
from tests.support.monitoring import channel_name
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.secret_service import SecretService

SECRET_BYTES = (SPECIAL_PASSWORD.encode(), quote(SPECIAL_PASSWORD, safe="").encode())
# Said first whenever the URI given holds its password, as these tests' URIs do.
ARGV_WARNING = b"warning: the password in --uri is on the command line, where other programs"


def after_the_warning(stderr: bytes) -> bytes:
    """What the monitor said on stderr after its warning that the URI's password is in argv."""
    warning, _, rest = stderr.partition(b"\n")
    assert warning.startswith(ARGV_WARNING), stderr
    return rest


class Monitor:
    """A running `supalink monitor`, its stdout read line by line as it comes."""

    def __init__(self, *args: str, home: Path, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            spawn_argv("monitor", *args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "SUPALINK_HOME": str(home), **(env or {})},
        )
        self.lines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(self.lines)]

    def wait_for(self, predicate: Any, timeout: float = 20.0, what: str = "output") -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self.events()):
            assert self.process.poll() is None, self.finish()
            assert time.monotonic() < deadline, f"no {what} in {self.lines!r}"
            time.sleep(0.05)

    def finish(self, timeout: float = 10.0) -> tuple[int, bytes]:
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        with self.process.stdout, self.process.stderr:
            return self.process.returncode, self.process.stderr.read()

    def output(self) -> bytes:
        return b"".join(self.lines)

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """A failed test must not leave a monitor running."""
        if self.process.poll() is None:
            self.process.kill()
            self.finish()


def run_monitor(home: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """A run to its end, in this process."""
    return run_cli("monitor", *args, home=home, timeout=30)


def notify(uri: str, *notes: tuple[str, str]) -> None:
    with psycopg.connect(uri, autocommit=True) as conn:
        for channel, payload in notes:
            conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def kinds(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["event"] == kind]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_streams_json_events_and_stops_on_a_signal_within_five_seconds(
    pg: PostgresServer, tmp_path: Path, signum: signal.Signals
) -> None:
    first, second = channel_name(), channel_name()
    # The CA comes from --sslrootcert, which also asks for verify-full.
    argv = ["--uri", pg.uri(sslmode=None), "--sslrootcert", str(pg.ca_cert)]
    argv += ["--channel", first, "--channel", second, "--json"]
    with Monitor(*argv, home=tmp_path) as monitor:
        monitor.wait_for(lambda events: kinds(events, "listening"), what="listening")
        notify(pg.uri(), (first, "one"), (second, "twö"), (first, '{"n": 3}'))
        monitor.wait_for(lambda events: len(kinds(events, "notification")) == 3, what="all 3")
        monitor.wait_for(lambda events: kinds(events, "health"), what="a health report")
        sent = time.monotonic()
        monitor.process.send_signal(signum)
        code, stderr = monitor.finish()
        stopped_in = time.monotonic() - sent
    assert code == 0, stderr
    assert stopped_in < 5.0
    events = monitor.events()
    notes = kinds(events, "notification")
    assert [(n["channel"], n["payload"]) for n in notes] == [
        (first, "one"),
        (second, "twö"),
        (first, '{"n": 3}'),
    ]
    assert all(isinstance(n["pid"], int) and n["received_at"].endswith("+00:00") for n in notes)
    assert kinds(events, "listening")[0]["channels"] == [first, second]
    assert kinds(events, "health")[0]["status"] == "healthy"
    stats = kinds(events, "stats")[0]
    counters = {"size", "idle", "in_use", "waiting", "requests", "errors", "connections_lost"}
    assert counters | {"avg_wait_ms"} <= stats.keys()
    assert (stats["min_size"], stats["max_size"]) == (1, 2)  # the monitor's own default
    assert after_the_warning(stderr) == b""
    assert all(secret not in monitor.output() for secret in SECRET_BYTES)


@pytest.mark.slow
def test_duration_stops_it_cleanly_with_readable_lines(pg: PostgresServer, tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_monitor(tmp_path, "--uri", pg.uri(), "--duration", "1.5", "--channel", "jobs")
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert 1.5 <= took < 1.5 + 5.0
    lines = result.stdout.decode().splitlines()
    assert any(" pool open: size " in line for line in lines)
    assert any(" health healthy (" in line for line in lines)
    assert any(" listening on jobs (server pid " in line for line in lines)
    assert all(line[:2].isdigit() and line[2] == ":" for line in lines)
    assert after_the_warning(result.stderr) == b""
    log = (tmp_path / "log" / "supalink.log").read_bytes()
    for text in (result.stdout, log):
        assert all(secret not in text for secret in SECRET_BYTES)


def test_a_wrong_password_ends_it_with_one_line_and_exit_1(
    pg: PostgresServer, tmp_path: Path
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    result = run_monitor(tmp_path, "--uri", pg.uri(password=wrong), "--json")
    assert result.returncode == 1
    assert after_the_warning(result.stderr).count(b"\n") == 1
    assert b"password authentication failed" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    [error] = kinds(events, "error")
    assert error["permanent"] is True
    assert error["source"] == "pool"
    assert wrong.encode() not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], b"give a profile NAME or --uri URI\n"),
        (["name", "--uri", "postgresql://h/db"], b"not both"),
        (["--uri", "postgresql://u:p%zz#?@h/db"], b"cannot be read: invalid percent-encoded"),
        (["--uri", "postgresql://h/db", "--sslrootcert", "/no/such/ca.crt"], b"no such file"),
        (["--uri", "postgresql://h/db", "--duration", "0"], b"--duration must be"),
        (["--uri", "postgresql://h/db", "--channel", "x" * 64], b"longer than 63 bytes"),
    ],
    ids=["nothing", "both", "bad-uri", "no-ca", "zero-duration", "long-channel"],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, argv: list[str], message: bytes) -> None:
    result = run_monitor(tmp_path, *argv)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.count(b"\n") == 1
    assert message in result.stderr
    assert b"p%zz" not in result.stderr  # libpq quotes the password fragment; we do not


@pytest.mark.slow
def test_a_saved_profile_is_monitored_with_its_password_from_the_keyring(
    pg: PostgresServer, tmp_path: Path, secret_service: SecretService
) -> None:
    from keyring.backends.SecretService import Keyring

    from supalink.paths import AppPaths
    from supalink.profiles.model import Profile
    from supalink.profiles.repository import open_repository
    from supalink.profiles.secrets import KeyringSecretStore

    name = f"local-{uuid.uuid4().hex[:6]}"
    repository = open_repository(AppPaths.under(tmp_path), KeyringSecretStore(Keyring()))
    profile = Profile(
        name, host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    )
    repository.save(profile, SPECIAL_PASSWORD)
    try:
        result = run_monitor(tmp_path, name, "--duration", "1", "--json")
    finally:
        repository.remove(name)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert kinds(events, "health")[0]["status"] == "healthy"
    assert all(secret not in result.stdout + result.stderr for secret in SECRET_BYTES)


@pytest.mark.slow
def test_listen_through_a_transaction_pooler_exits_1_saying_why(
    transaction_bouncer: Pgbouncer, tmp_path: Path
) -> None:
    result = run_monitor(tmp_path, "--uri", transaction_bouncer.uri(), "--channel", "jobs")
    assert result.returncode == 1
    assert after_the_warning(result.stderr).count(b"\n") == 1
    assert b"transaction-mode pooler" in result.stderr
    assert b"listener error (not retrying): LISTEN needs" in result.stdout

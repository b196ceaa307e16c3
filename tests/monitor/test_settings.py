"""Settings, connection parameters, and which failures are worth retrying (real errors)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from supalink.errors import Kind, UsageError
from supalink.logs import SecretMasker
from supalink.monitor.failures import FailureKind, classify, describe
from supalink.monitor.server_view import compute_sizes_for
from supalink.monitor.settings import (
    MonitorSettings,
    PoolSettings,
    check_channel,
    session_kwargs,
)
from supalink.profiles import Mode, Target, UriError
from tests.support.pgbouncer import Pgbouncer
from tests.support.ports import free_port
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer


def test_the_monitor_keeps_a_pool_of_its_own_size_with_the_guides_timeouts() -> None:
    pool = PoolSettings()
    # The smallest pool that shows what it must, not the guide's min 5, max 20 for an app.
    assert (pool.min_size, pool.max_size, pool.max_idle) == (1, 2, 60.0)
    assert pool.server_connections(listening=True) == 3  # the listener included
    assert pool.server_connections(listening=False) == 2
    assert (pool.connect_timeout, pool.statement_timeout, pool.health_interval) == (10, 60, 60)
    settings = MonitorSettings()
    assert settings.log_capacity == 10_000
    assert settings.stats_interval == 1.0
    assert settings.batch_interval == 0.1
    assert settings.effective_health_timeout == 10


def test_session_kwargs_name_the_monitor_bound_the_connect_and_keep_alive() -> None:
    target = Target.from_conninfo("postgresql://u@h/db")
    kwargs = session_kwargs(target, PoolSettings(connect_timeout=0.2))
    assert kwargs["application_name"] == "supalink-monitor"
    assert kwargs["connect_timeout"] == 1  # never 0, which libpq reads as "wait forever"
    assert kwargs["keepalives"] == 1
    assert "prepare_threshold" not in kwargs
    assert "tcp_user_timeout" not in kwargs  # the pool's connections keep the kernel's
    listener = session_kwargs(target, PoolSettings(), listen_check_timeout=3.0)
    assert listener["application_name"] == "supalink-monitor/listen"
    assert listener["tcp_user_timeout"] == 3000  # libpq takes milliseconds


def test_the_default_listener_finds_a_silent_peer_within_15_seconds() -> None:
    settings = MonitorSettings()
    assert settings.listener_silence_bound == 13.0  # a 10 s quiet spell, then 3 s to answer
    assert settings.listener_silence_bound <= 15 - 2  # a margin for a loaded machine
    with pytest.raises(UsageError, match="listener check timeout"):
        MonitorSettings(listener_check_timeout=0)


def test_a_ca_file_asks_for_verify_full_unless_the_uri_says_otherwise(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    target = Target.from_conninfo("postgresql://u@h/db", sslrootcert=ca)
    assert session_kwargs(target, PoolSettings())["sslmode"] == "verify-full"
    assert session_kwargs(target, PoolSettings())["sslrootcert"] == str(ca)
    explicit = Target.from_conninfo("postgresql://u@h/db?sslmode=verify-ca", sslrootcert=ca)
    assert session_kwargs(explicit, PoolSettings())["sslmode"] == "verify-ca"


def test_the_transaction_pooler_gets_no_prepared_statements() -> None:
    target = Target.from_conninfo("host=h", mode=Mode.TRANSACTION)
    assert session_kwargs(target, PoolSettings())["prepare_threshold"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"min_size": 6, "max_size": 5},
        {"max_size": 0},
        {"min_size": -1},
        {"connect_timeout": 0},
        {"statement_timeout": float("inf")},
        {"application_name": "x" * 60},
    ],
)
def test_impossible_pool_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        PoolSettings(**changes)  # type: ignore[arg-type]


def test_an_unreadable_uri_is_refused_without_quoting_the_password() -> None:
    with pytest.raises(UriError) as caught:
        Target.from_conninfo("postgresql://user:se%cret@host/db")
    assert caught.value.kind is Kind.BAD_INPUT
    message = str(caught.value)
    assert "invalid percent-encoded token" in message
    assert "%25" in message
    assert "se%cret" not in message
    assert "cret" not in message


def test_the_password_is_found_for_masking(pg: PostgresServer) -> None:
    assert Target.from_conninfo(pg.uri()).password == SPECIAL_PASSWORD
    assert SPECIAL_PASSWORD in Target.from_conninfo(pg.uri()).secrets
    assert Target.from_conninfo("host=h user=u").password is None


@pytest.mark.parametrize("name", ["jobs", "Jobs With Spaces", 'quote"d', "é" * 31, "x" * 63])
def test_any_channel_name_up_to_63_bytes_is_fine(name: str) -> None:
    assert check_channel(name) == name


@pytest.mark.parametrize("name", ["", "nul\x00", "x" * 64, "é" * 32])
def test_channel_names_postgres_would_mangle_are_refused(name: str) -> None:
    with pytest.raises(UsageError):
        check_channel(name)


def _connect_error(uri: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        psycopg.connect(uri, connect_timeout=5)
    return caught.value


def test_real_failures_are_sorted_into_transient_and_permanent(
    pg: PostgresServer, pgbouncer: Pgbouncer
) -> None:
    cases = {
        "wrong password": (_connect_error(pg.uri(password="nope")), FailureKind.PERMANENT),
        "wrong password via pgbouncer": (
            _connect_error(pgbouncer.uri(password="nope")),
            FailureKind.PERMANENT,
        ),
        "missing database": (_connect_error(pg.uri(dbname="nowhere")), FailureKind.PERMANENT),
        "untrusted certificate": (
            _connect_error(pg.uri(sslrootcert=pg.tls.other_ca_cert)),
            FailureKind.PERMANENT,
        ),
        "nobody listening": (_connect_error(pg.uri(port=free_port())), FailureKind.TRANSIENT),
    }
    masker = SecretMasker()
    masker.add_secret(SPECIAL_PASSWORD)
    for name, (error, expected) in cases.items():
        assert classify(error) is expected, name
        line = describe(error, masker)
        assert "\n" not in line
        assert SPECIAL_PASSWORD not in line
    assert classify(TimeoutError()) is FailureKind.TRANSIENT


def test_compute_sizes_are_recognised_by_their_connection_limit() -> None:
    assert [size.name for size in compute_sizes_for(60)] == ["Nano", "Micro"]
    assert [size.name for size in compute_sizes_for(90)] == ["Small"]
    assert [size.name for size in compute_sizes_for(500)] == ["12XL", "16XL"]
    assert compute_sizes_for(100) == ()

"""Each failure, produced for real where this machine can: the step it stops at, the kind,
and a message that names what to change."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from supalink.probe import ProbeResult, Remedy
from supalink.probe.results import DiagnosisKind
from supalink.probe.runner import KNOWN_HOST
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode
from tests.probe.fakes import ALL_STEPS, FakeResolver, names, route_checker, run
from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import PostgresServer, local_profile
from tests.support.supavisor import DIRECT_HOST, POOLER_HOST, REF, FakeSupavisor

Kind = DiagnosisKind


def stopped_at(result: ProbeResult, step: str, kind: DiagnosisKind) -> str:
    """Asserts the test stopped at `step` with `kind`; returns message + hint for wording checks."""
    assert not result.ok
    assert names(result) == ALL_STEPS[: ALL_STEPS.index(step) + 1]
    assert [s.ok for s in result.steps] == [True] * (len(result.steps) - 1) + [False]
    assert result.diagnosis is not None
    assert result.diagnosis.kind is kind, result.diagnosis
    assert result.server is None
    assert result.diagnosis.message
    assert result.diagnosis.hint
    assert "\n" not in result.diagnosis.hint  # one line
    return f"{result.diagnosis.message} | {result.diagnosis.hint}"


def test_wrong_ca(pg: PostgresServer) -> None:
    profile = local_profile(pg, sslrootcert=str(pg.tls.other_ca_cert))
    result = run(profile, pg.password)[0]
    text = stopped_at(result, "tls", Kind.TLS_FAILED)
    assert "'Supalink Test CA'" in text  # who signed the server's certificate
    assert "holds 'Some Other CA'" in text  # what the given CA file holds
    assert str(pg.tls.other_ca_cert) in text
    # What to give, as data: the CLI names --sslrootcert, the window its CA field.
    assert result.diagnosis is not None
    assert result.diagnosis.remedy is Remedy.CA_FILE
    assert "--" not in text


def test_missing_ca_file(pg: PostgresServer) -> None:
    profile = local_profile(pg, sslrootcert="/nonexistent/prod-ca-2021.crt")
    text = stopped_at(run(profile, pg.password)[0], "tls", Kind.TLS_FAILED)
    assert "/nonexistent/prod-ca-2021.crt does not exist" in text


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("folder", "cannot be read: it is a folder, not a file"),
        ("loop", "cannot be read: too many levels of symbolic links (a symlink loop)"),
        ("not a certificate", "holds no certificate that can be read"),
    ],
)
def test_a_ca_file_that_cannot_be_read_says_why(
    pg: PostgresServer, tmp_path: Path, fault: str, said: str
) -> None:
    cafile = tmp_path / "prod-ca-2021.crt"
    if fault == "folder":
        cafile.mkdir()
    elif fault == "loop":
        (tmp_path / "other.crt").symlink_to(cafile)
        cafile.symlink_to(tmp_path / "other.crt")
    else:
        cafile.write_text("not a certificate\n")
    profile = local_profile(pg, sslrootcert=str(cafile))
    text = stopped_at(run(profile, pg.password)[0], "tls", Kind.TLS_FAILED)
    assert f"{cafile} {said}, so the server's certificate" in text


def test_host_name_mismatch(pg: PostgresServer) -> None:
    resolver = FakeResolver(ipv4={"wrong.example.test": ["127.0.0.1"]})
    profile = local_profile(pg, host="wrong.example.test")
    result, _ = run(profile, pg.password, resolver=resolver)
    text = stopped_at(result, "tls", Kind.TLS_FAILED)
    assert "certificate is for localhost, 127.0.0.1, ::1, not for wrong.example.test" in text
    assert "verify-ca" in text


def test_verify_full_against_a_server_without_ssl(nossl_pg: PostgresServer) -> None:
    text = stopped_at(run(local_profile(nossl_pg), nossl_pg.password)[0], "tls", Kind.TLS_FAILED)
    assert "does not offer TLS, but sslmode=verify-full requires it" in text


def test_wrong_password(pg: PostgresServer) -> None:
    text = stopped_at(run(local_profile(pg), "wrong password")[0], "auth", Kind.AUTH_FAILED)
    assert f"refused the password for user '{pg.role}'" in text


def test_wrong_password_through_pgbouncer(pgbouncer: Pgbouncer) -> None:
    profile = local_profile(pgbouncer.server, port=pgbouncer.port)
    stopped_at(run(profile, "wrong password")[0], "auth", Kind.AUTH_FAILED)


def test_no_password_at_all(pg: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/nonexistent/pgpass")
    text = stopped_at(run(local_profile(pg), None)[0], "auth", Kind.AUTH_FAILED)
    assert "none was given" in text


def test_missing_database(pg: PostgresServer) -> None:
    profile = local_profile(pg, database="no_such_db")
    text = stopped_at(run(profile, pg.password)[0], "auth", Kind.DATABASE_MISSING)
    assert "'no_such_db' does not exist" in text


@pytest.mark.slow
@pytest.mark.parametrize(
    ("port_fixture", "step", "wording"),
    [
        ("silent_port", "tls", "accepted the TCP connection but did not answer the TLS request"),
        ("blackhole_port", "tcp", "did not answer the TCP connection"),
    ],
    ids=["accepts-and-stays-silent", "drops-the-tcp-connect"],
)
def test_silence_is_a_timeout_within_the_timeout_plus_one_second(
    pg: PostgresServer, request: pytest.FixtureRequest, port_fixture: str, step: str, wording: str
) -> None:
    port = request.getfixturevalue(port_fixture)
    started = time.monotonic()
    result, _ = run(local_profile(pg, port=port), pg.password, timeout=2)
    elapsed = time.monotonic() - started
    text = stopped_at(result, step, Kind.TIMEOUT)
    assert 1.9 <= elapsed < 3.0, elapsed
    assert wording in text
    assert "within 2 s" in text


def test_refused_port(pg: PostgresServer, refused_port: int) -> None:
    result, _ = run(local_profile(pg, port=refused_port), pg.password)
    text = stopped_at(result, "tcp", Kind.CONNECTION_REFUSED)
    assert f"127.0.0.1 port {refused_port} refused the connection" in text


@pytest.fixture
def app_slots_taken(small_pg: PostgresServer) -> Iterator[None]:
    """Every slot an ordinary role may use is taken: only the superuser-reserved ones are left."""
    held = [psycopg.connect(small_pg.uri()) for _ in range(2)]
    yield
    for conn in held:
        conn.close()


@pytest.fixture
def all_slots_taken(small_pg: PostgresServer) -> Iterator[None]:
    held = [small_pg.admin_connect() for _ in range(5)]
    yield
    for conn in held:
        conn.close()


def test_only_reserved_slots_left(small_pg: PostgresServer, app_slots_taken: None) -> None:
    text = stopped_at(
        run(local_profile(small_pg), small_pg.password)[0], "auth", Kind.TOO_MANY_CONNECTIONS
    )
    assert "remaining connection slots are reserved" in text


def test_every_slot_taken(small_pg: PostgresServer, all_slots_taken: None) -> None:
    text = stopped_at(
        run(local_profile(small_pg), small_pg.password)[0], "auth", Kind.TOO_MANY_CONNECTIONS
    )
    assert "too many clients already" in text


def _pooler_profile(server: PostgresServer, port: int) -> Profile:
    return Profile(
        "sb",
        Mode.SESSION,
        ref=REF,
        region="eu-central-1",
        pooler_index=0,
        port=port,
        user="postgres",
        sslmode="verify-ca",
        sslrootcert=str(server.ca_cert),
    )


def test_tenant_not_found(pg: PostgresServer, fake_supavisor: FakeSupavisor) -> None:
    resolver = FakeResolver(ipv4={POOLER_HOST: ["127.0.0.1"]})
    profile = _pooler_profile(pg, fake_supavisor.port)
    result, _ = run(profile, pg.password, resolver=resolver)
    text = stopped_at(result, "auth", Kind.TENANT_NOT_FOUND)
    assert "wrong pooler index (aws-N) or user not in the form postgres.<ref>" in text
    assert f"postgres.{REF}" in text  # the user the pooler was asked for


def test_dns_not_found() -> None:
    profile = Profile("direct", Mode.DIRECT, ref=REF)
    resolver = FakeResolver(ipv4={KNOWN_HOST: ["104.18.38.10"]})  # the rest of DNS works
    result, _ = run(profile, "secret", resolver=resolver)
    text = stopped_at(result, "dns", Kind.DNS_NOT_FOUND)
    assert f"{DIRECT_HOST} does not resolve" in text
    assert "project ref" in text


def test_no_name_resolving_says_offline_not_region_or_pooler() -> None:
    """A laptop without network answers 'no such name' for every name: the profile's
    region and pooler are not what is wrong."""
    profile = Profile("pooler", Mode.SESSION, ref=REF, region="eu-central-1", pooler_index=0)
    resolver = FakeResolver()
    result, _ = run(profile, "secret", resolver=resolver)
    text = stopped_at(result, "dns", Kind.OFFLINE)
    assert "seems to be offline" in text
    assert "network connection" in text
    assert result.diagnosis is not None
    assert "region" not in result.diagnosis.hint
    assert "pooler" not in result.diagnosis.hint
    assert (KNOWN_HOST, socket.AF_INET) in resolver.lookups


def test_dns_server_unreachable() -> None:
    profile = Profile("direct", Mode.DIRECT, ref=REF)
    resolver = FakeResolver(failure="Temporary failure in name resolution")
    text = stopped_at(run(profile, None, resolver=resolver)[0], "dns", Kind.DNS_NOT_FOUND)
    assert "Temporary failure in name resolution" in text
    assert "network connection" in text


def test_dns_that_never_answers_is_a_timeout() -> None:
    profile = Profile("direct", Mode.DIRECT, ref=REF)
    started = time.monotonic()
    result, _ = run(profile, None, resolver=FakeResolver(hang=True), timeout=1)
    assert time.monotonic() - started < 2.0
    stopped_at(result, "dns", Kind.TIMEOUT)


def test_direct_mode_from_an_ipv4_only_network_says_use_the_session_pooler() -> None:
    profile = Profile("direct", Mode.DIRECT, ref=REF)
    resolver = FakeResolver(ipv6={DIRECT_HOST: ["2600:1f18::1"]})
    checker = route_checker(False)
    result, _ = run(profile, None, resolver=resolver, route_checker=checker)
    text = stopped_at(result, "route", Kind.IPV6_UNREACHABLE)
    assert "use the session pooler" in text
    assert checker.asked == ["2600:1f18::1"]  # type: ignore[attr-defined]


def test_an_invalid_profile_is_bad_input_not_a_diagnosis() -> None:
    from supalink.profiles.model import ProfileError

    with pytest.raises(ProfileError, match="ref"):
        run(Profile("bad", Mode.DIRECT, ref="NOT-A-REF"), None)

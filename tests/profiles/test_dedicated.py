"""The dedicated pooler (PgBouncer, Micro compute and up) as a fourth mode: db.<ref>.supabase.co
on port 6543, the plain role, transaction pooling with prepared statements, no LISTEN."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from supalink.probe.diagnosis import Attempt, from_connect_error
from supalink.probe.results import StepName
from supalink.profiles import Mode, Profile, build_uri, parse_uri
from tests.support.cli import run_cli

REF = "mnbvcxzlkjhgfdsapoiu"
HOST = f"db.{REF}.supabase.co"
DASHBOARD_URI = f"postgresql://postgres:[YOUR-PASSWORD]@{HOST}:6543/postgres"


def test_what_each_mode_supports() -> None:
    assert [m for m in Mode if m.on_shared_pooler] == [Mode.SESSION, Mode.TRANSACTION]
    assert [m for m in Mode if m.on_direct_host] == [Mode.DIRECT, Mode.DEDICATED]
    assert [m for m in Mode if not m.supports_listen] == [Mode.TRANSACTION, Mode.DEDICATED]
    assert [m for m in Mode if not m.prepares] == [Mode.TRANSACTION]
    assert [m.default_port for m in Mode] == [5432, 5432, 6543, 6543]
    assert "no LISTEN" in Mode.DEDICATED.summary
    assert "IPv6" in Mode.DEDICATED.summary


def test_a_dedicated_profile_needs_no_region_and_logs_in_with_the_plain_role() -> None:
    profile = Profile("d", Mode.DEDICATED, ref=REF).validated()
    endpoint = profile.endpoint()
    assert (endpoint.host, endpoint.port, endpoint.user) == (HOST, 6543, "postgres")
    agent = Profile("d", Mode.DEDICATED, ref=REF, user="agent_ro").validated()
    assert agent.endpoint().user == "agent_ro"
    assert build_uri(profile, "p@ss") == (
        f"postgresql://postgres:p%40ss@{HOST}:6543/postgres?sslmode=verify-full"
    )


def test_the_dashboards_dedicated_uri_parses_as_dedicated() -> None:
    parsed = parse_uri(DASHBOARD_URI)
    assert parsed.password is None
    assert (parsed.profile.mode, parsed.profile.ref, parsed.profile.port) == (
        Mode.DEDICATED,
        REF,
        None,
    )
    assert parsed.summary()["user"] == "postgres"
    assert parse_uri(f"postgresql://postgres@{HOST}:5432/postgres").profile.mode is Mode.DIRECT
    assert parse_uri(f"postgresql://postgres@{HOST}/postgres").profile.mode is Mode.DIRECT


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, text=True)


def test_url_and_parse_know_the_dedicated_mode(tmp_path: Path) -> None:
    url = run("url", "--ref", REF, "--mode", "dedicated", home=tmp_path)
    assert url.returncode == 0, url.stderr
    assert url.stdout == f"postgresql://postgres@{HOST}:6543/postgres?sslmode=verify-full\n"
    parsed = run("parse", DASHBOARD_URI, "--json", home=tmp_path)
    assert parsed.returncode == 0, parsed.stderr
    assert '"mode": "dedicated"' in parsed.stdout


def diagnose(profile: Profile, text: str) -> tuple[str, str]:
    endpoint = profile.endpoint()
    attempt = Attempt(profile, endpoint.host, endpoint.port, endpoint.user, endpoint.database)
    found = from_connect_error(text, StepName.AUTH, attempt)
    assert found is not None
    return found.message, found.hint


def test_the_probe_hints_know_the_dedicated_pooler() -> None:
    dedicated = Profile("d", Mode.DEDICATED, ref=REF)
    _, hint = diagnose(dedicated, 'FATAL:  password authentication failed for user "postgres"')
    assert "the dedicated pooler takes the plain role name" in hint
    _, hint = diagnose(dedicated, "FATAL:  sorry, too many clients already")
    assert "dedicated pooler's client limit" in hint


@pytest.mark.parametrize("mode", [Mode.SESSION, Mode.TRANSACTION])
def test_tenant_not_found_suggests_signing_in_for_the_exact_host(mode: Mode) -> None:
    pooled = Profile("p", mode, ref=REF, region="eu-west-1", pooler_index=0)
    message, hint = diagnose(pooled, "FATAL:  Tenant or user not found")
    assert "does not know the user" in message
    assert "sign in to Supabase with an access token" in hint
    assert "the API gives the exact host" in hint

"""`supalink config write --profile` warns when the profile logs in as a role that bypasses
row level security (Supabase's `postgres`, a BYPASSRLS role, a superuser), names the
command that gives the agent a role of its own, and writes anyway; an agent-sized login
is not warned about, and a database that cannot be reached does not hold the write up."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from supalink.profiles import Profile
from tests.roles.conftest import ADMIN_PASSWORD, admin, home, repository_under, supabase
from tests.support.cli import run_cli
from tests.support.postgres import PostgresServer

__all__ = ["admin", "home", "supabase"]  # the Supabase-like project's fixtures, used here
BYPASS_PASSWORD = "bypass-p@ss é"


def write(home: Path, cfg: Path, profile: str) -> subprocess.CompletedProcess[str]:
    argv = ["config", "write", "--client", "claude", "--config", str(cfg), "--profile", profile]
    return run_cli(*argv, home=home, timeout=120, text=True)


def assert_written(result: subprocess.CompletedProcess[str], cfg: Path, profile: str) -> None:
    assert result.returncode == 0, result.stderr
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert entry["args"][:3] == ["mcp-serve", "--profile", profile]


def role_warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "row level security" in line]


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "claude_desktop_config.json"


def make_role(pg: PostgresServer, attributes: str) -> str:
    name = f"login_{uuid.uuid4().hex[:8]}"
    with pg.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN " + attributes + " PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(BYPASS_PASSWORD)
            )
        )
    return name


@pytest.fixture
def made_roles(pg: PostgresServer) -> Iterator[list[str]]:
    """Logins a test makes (cluster-wide, uniquely named), dropped at the end."""
    names: list[str] = []
    yield names
    with pg.admin_connect() as conn:
        for name in names:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def save(home: Path, profile: Profile, password: str | None) -> str:
    repository_under(home).save(profile, password, save_password=password is not None)
    return profile.name


def local(pg: PostgresServer, name: str, user: str, **changes: object) -> Profile:
    return Profile(
        name, host="127.0.0.1", port=pg.port, user=user, sslrootcert=str(pg.ca_cert)
    ).replace(**changes)


def test_an_admin_login_that_bypasses_rls_is_warned_about_and_the_entry_is_written(
    home: Path, admin: str, cfg: Path
) -> None:
    result = write(home, cfg, admin)
    assert_written(result, cfg, admin)
    (line,) = role_warnings(result.stderr)
    assert line.startswith(f"warning: profile {admin!r} logs in as 'admin_")
    assert "bypasses row level security and can change everything" in line
    assert "an agent that reads untrusted text should not hold it" in line
    assert line.endswith(
        f"`supalink role create {admin}`, then `supalink config write --profile {admin}-agent`"
    )
    assert ADMIN_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("attributes", "power"),
    [
        ("BYPASSRLS", "(it reads every row)"),
        ("SUPERUSER", "and can change everything"),
    ],
)
def test_a_bypassrls_or_superuser_role_is_warned_about(
    home: Path,
    pg: PostgresServer,
    made_roles: list[str],
    cfg: Path,
    secret_service: object,
    attributes: str,
    power: str,
) -> None:
    made_roles.append(role := make_role(pg, attributes))
    name = save(home, local(pg, "Reader One", role), BYPASS_PASSWORD)
    result = write(home, cfg, name)
    assert_written(result, cfg, name)
    (line,) = role_warnings(result.stderr)
    assert f"logs in as {role!r}, which bypasses row level security {power}" in line
    assert line.endswith(
        "`supalink role create 'Reader One'`, then "
        "`supalink config write --profile 'Reader One-agent'`"
    )
    assert BYPASS_PASSWORD not in result.stdout + result.stderr


def test_the_app_role_is_not_warned_about(
    home: Path, pg: PostgresServer, cfg: Path, secret_service: object
) -> None:
    name = save(home, local(pg, "app", pg.role), pg.password)
    result = write(home, cfg, name)
    assert_written(result, cfg, name)
    assert role_warnings(result.stderr) == []


def test_postgres_is_warned_about_without_asking_the_server(
    home: Path, cfg: Path, secret_service: object
) -> None:
    """Supabase's admin login is known by its name: even with the database out of reach."""
    profile = Profile("sb", ref="abcdefghijklmnopqrst", user="postgres", port=closed_port())
    name = save(home, profile, "pw")
    result = write(home, cfg, name)
    assert_written(result, cfg, name)
    (line,) = role_warnings(result.stderr)
    assert "logs in as 'postgres', which bypasses row level security and can change" in line


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_does_not_hold_up_the_write(
    home: Path, pg: PostgresServer, cfg: Path, secret_service: object
) -> None:
    name = save(home, local(pg, "gone", "someone", port=closed_port()), "pw")
    result = write(home, cfg, name)
    assert_written(result, cfg, name)
    assert role_warnings(result.stderr) == []


@pytest.mark.slow
def test_a_server_that_never_answers_costs_the_short_timeout_only(
    home: Path, pg: PostgresServer, cfg: Path, secret_service: object
) -> None:
    """A listener that takes the connection and says nothing (a hung server, a black hole
    behind a firewall): the write waits a few seconds, not the profile's connect timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = int(silent.getsockname()[1])
        name = save(home, local(pg, "silent", "someone", port=port, connect_timeout=120), "pw")
        started = time.monotonic()
        result = write(home, cfg, name)
        elapsed = time.monotonic() - started
    assert_written(result, cfg, name)
    assert role_warnings(result.stderr) == []
    assert elapsed < 15

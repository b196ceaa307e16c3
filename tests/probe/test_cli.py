"""`supalink test` as a user runs it: output, exit codes, and the password nowhere in it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.cli import run_cli
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.secret_service import SecretService

STEPS = ["parse", "dns", "route", "tcp", "tls", "auth", "query"]


def supalink(
    *args: str, home: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    result = run_cli(*args, home=home, env={"PGPASSFILE": "/nonexistent"}, stdin=stdin)
    log = home / "log" / "supalink.log"
    written = log.read_bytes() if log.exists() else b""
    assert leaks(result.stdout + result.stderr + written) == []
    return result


def leaks(data: bytes) -> list[str]:
    forms = {SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe=""), quote(SPECIAL_PASSWORD)}
    return [form for form in forms if form.encode() in data]


def as_json(result: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1, lines  # exactly one object
    data: dict[str, Any] = json.loads(lines[0])
    assert set(data) == {"ok", "steps", "diagnosis", "server"}
    return data


def test_readable_success_with_ticks_and_the_psql_command(
    pg: PostgresServer, tmp_path: Path
) -> None:
    result = supalink("test", "--uri", pg.uri("::1"), home=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    for name, line in zip(STEPS, lines, strict=False):
        assert line.startswith(f"✓ {name}"), line
        assert " ms  " in line
    assert "connections: " in result.stdout.decode()
    assert "pooler: none (a direct connection)" in lines
    assert lines[-1].startswith("psql: PGPASSWORD=**** psql 'postgresql://supalink_app@[::1]:")
    # The password was on the command line: said once, as for `profile add` and `monitor`.
    assert result.stderr.decode().startswith("warning: the password in --uri is on the command")
    assert len(result.stderr.splitlines()) == 1


def test_json_success(pg: PostgresServer, tmp_path: Path) -> None:
    result = supalink("test", "--uri", pg.uri(), "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    data = as_json(result)
    assert data["ok"] is True
    assert data["diagnosis"] is None
    assert [step["name"] for step in data["steps"]] == STEPS
    assert data["server"]["user"] == pg.role
    assert data["server"]["encrypted"] is True


def _uri_for(pg: PostgresServer, user: str) -> str:
    return pg.uri().replace(f"{pg.role}:", f"{user}:", 1)


def test_failure_exits_1_with_the_diagnosis(pg: PostgresServer, tmp_path: Path) -> None:
    uri = _uri_for(pg, "nobody")  # the special password, for a role that does not exist
    readable = supalink("test", "--uri", uri, home=tmp_path)
    assert readable.returncode == 1
    text = readable.stdout.decode()
    assert "✗ auth" in text
    assert "\nauth_failed: the server refused the password for user 'nobody'" in text
    assert "\nhint: check the database password" in text
    data = as_json(supalink("test", "--uri", uri, "--json", home=tmp_path))
    assert data["ok"] is False
    assert data["server"] is None
    assert data["diagnosis"]["kind"] == "auth_failed"
    assert data["steps"][-1]["name"] == "auth"
    assert data["steps"][-1]["ok"] is False


@pytest.mark.slow
def test_timeout_option_is_honoured(pg: PostgresServer, silent_port: int, tmp_path: Path) -> None:
    uri = pg.uri(port=silent_port)
    result = supalink("test", "--uri", uri, "--timeout", "2", "--json", home=tmp_path)
    assert result.returncode == 1
    data = as_json(result)
    assert data["diagnosis"]["kind"] == "timeout"
    assert sum(step["ms"] for step in data["steps"]) < 3000


def test_sslrootcert_option_replaces_the_uris(pg: PostgresServer, tmp_path: Path) -> None:
    uri = pg.uri(sslrootcert=pg.tls.other_ca_cert)
    wrong = as_json(supalink("test", "--uri", uri, "--json", home=tmp_path))
    assert wrong["diagnosis"]["kind"] == "tls_failed"
    assert wrong["diagnosis"]["remedy"] == "ca_file"
    assert wrong["diagnosis"]["hint"].endswith(" with --sslrootcert")  # the CLI's own flag
    fixed = supalink(
        "test", "--uri", uri, "--sslrootcert", str(pg.ca_cert), "--json", home=tmp_path
    )
    assert fixed.returncode == 0, fixed.stdout


def test_password_from_stdin(pg: PostgresServer, tmp_path: Path) -> None:
    bare = pg.uri().replace(f":{quote(pg.password, safe='')}@", "@", 1)
    assert "@127.0.0.1" in bare
    assert "p%40ss" not in bare
    result = supalink(
        "test", "--uri", bare, "--password-stdin", "--json", home=tmp_path, stdin=SPECIAL_PASSWORD
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["test"],
        ["test", "local", "--uri", "postgresql://u@h/db"],
        ["test", "--uri", "mysql://root@localhost/db"],
        ["test", "--uri", "postgresql://u@h/db", "--timeout", "0"],
        ["test", "--uri", "postgresql://u@h/db", "--timeout", "soon"],
        ["test", "no-such-profile"],
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str], tmp_path: Path) -> None:
    result = supalink(*args, home=tmp_path)
    assert result.returncode == 2
    assert result.stdout == b""
    assert len(result.stderr.decode().strip().splitlines()) == 1


def test_a_saved_profile(pg: PostgresServer, secret_service: SecretService, tmp_path: Path) -> None:
    added = supalink("profile", "add", "local", "--uri", pg.uri(), home=tmp_path)
    assert added.returncode == 0, added.stderr
    result = supalink("test", "local", "--json", home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert as_json(result)["ok"] is True
    readable = supalink("test", "local", home=tmp_path)
    assert readable.returncode == 0
    assert b"psql: PGPASSWORD=**** psql 'postgresql://supalink_app@127.0.0.1:" in readable.stdout

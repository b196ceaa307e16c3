"""The `supalink` entry as a user writes it and Claude Desktop starts it: `config write` for a
saved profile (password in the real Secret Service) or a URI, then `config verify` runs the
real `supalink mcp-serve` through the MCP SDK's stdio client against the real verify-full
server, and reports that it refused a write and a stacked COMMIT."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.mcp.test_config_cli import assert_no_password, config
from tests.support.cli import SUPALINK
from tests.support.postgres import PostgresServer
from tests.support.profiles import add_profile_with_cli
from tests.support.secret_service import SecretService
from tests.support.tls import TlsFiles

VERIFIED = (
    "supabase: the server answered query 'select 1' and refused a write and several "
    "statements in one query in "
)
WRITE = "'create temporary table supalink_verify_probe (x int)'"
STACKED = "'select 1; commit; select 1'"


def assert_both_refused(stdout: str) -> None:
    first, write, stacked = stdout.splitlines()
    assert first.startswith(VERIFIED), stdout
    assert write.startswith(f"  refused a write: {WRITE}"), stdout
    assert stacked.startswith(f"  refused several statements in one query: {STACKED}"), stdout


@pytest.mark.slow
def test_a_profiles_entry_runs_supalinks_server_and_verify_proves_it_read_only(
    tmp_path: Path, pg: PostgresServer, secret_service: SecretService
) -> None:
    home, cfg = tmp_path / "home", tmp_path / "Claude" / "claude_desktop_config.json"
    name = add_profile_with_cli(home, pg)
    target = ("--client", "claude", "--config", str(cfg))
    written = config("write", *target, "--profile", name, home=home)
    assert written.returncode == 0, written.stderr
    assert written.stderr == ""  # the keyring holds the password, the profile names its CA
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert entry == {
        "command": SUPALINK,
        "args": ["mcp-serve", "--profile", name],
        "env": {"SUPALINK_HOME": str(home)},  # the portable home the profile was saved under
    }

    verified = config("verify", *target, home=home)
    assert verified.returncode == 0, verified.stderr
    assert_both_refused(verified.stdout)
    assert_no_password(cfg.read_text(), written.stdout, verified.stdout, verified.stderr)


@pytest.mark.slow
def test_with_writes_allowed_verify_sends_no_write_and_says_writes_are_allowed(
    tmp_path: Path, pg: PostgresServer, secret_service: SecretService
) -> None:
    home, cfg = tmp_path / "home", tmp_path / "c.json"
    name = add_profile_with_cli(home, pg)
    target = ("--client", "claude", "--config", str(cfg))
    written = config("write", *target, "--profile", name, "--allow-writes", home=home)
    assert written.returncode == 0, written.stderr
    assert written.stderr == (
        "warning: --allow-writes: writes are allowed: the agent can change and delete data\n"
    )
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert entry["args"] == ["mcp-serve", "--profile", name, "--allow-writes"]

    verified = config("verify", *target, home=home)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.splitlines() == [
        verified.stdout.splitlines()[0],
        "  writes are allowed: the agent can change data (no write was tried)",
    ]
    assert verified.stdout.startswith(
        "supabase: the server answered query 'select 1'; writes are allowed in "
    )


@pytest.mark.slow
def test_a_uri_entry_carries_the_uri_in_env_and_verify_proves_it_read_only(
    tmp_path: Path, pg: PostgresServer, tls_files: TlsFiles
) -> None:
    home, cfg = tmp_path / "home", tmp_path / "c.json"
    target = ("--client", "cursor", "--config", str(cfg))
    written = config(
        "write",
        *target,
        "--uri",
        "-",
        "--sslrootcert",
        str(pg.ca_cert),
        home=home,
        stdin=pg.uri(sslmode=None),
    )
    assert written.returncode == 0, written.stderr
    assert "warning: the database password is written into the config file" in written.stderr
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert entry["args"] == ["mcp-serve", "--uri-env", "SUPALINK_DATABASE_URI"]
    assert entry["env"]["SUPALINK_DATABASE_URI"].endswith(f"sslrootcert={pg.ca_cert}")
    assert cfg.stat().st_mode & 0o777 == 0o600

    verified = config("verify", *target, home=home)
    assert verified.returncode == 0, verified.stderr
    assert_both_refused(verified.stdout)
    assert_no_password(written.stdout, written.stderr, verified.stdout, verified.stderr)

    # The same entry with the wrong CA: verify fails, says why, and shows no password.
    rewritten = config(
        "write",
        *target,
        "--uri",
        "-",
        "--sslrootcert",
        str(tls_files.other_ca_cert),
        "--yes",
        home=home,
        stdin=pg.uri(sslmode=None),
    )
    assert rewritten.returncode == 0, rewritten.stderr
    failed = config("verify", *target, home=home)
    assert failed.returncode == 1
    assert "certificate" in failed.stderr
    assert_no_password(failed.stdout, failed.stderr)

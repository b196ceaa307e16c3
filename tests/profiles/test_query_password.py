"""A password given as ?password= is the password everywhere: masked in every output,
saved in the keyring by `profile add --uri`, used by `test --uri`, and an MCP config that
holds it is the owner's alone (0600)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from urllib.parse import quote

from tests.profiles.test_cli import leaks, supalink
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.secret_service import SecretService


def query_uri(pg: PostgresServer) -> str:
    return (
        f"postgresql://{pg.role}@127.0.0.1:{pg.port}/postgres"
        f"?password={quote(pg.password, safe='')}&sslmode=verify-full"
        f"&sslrootcert={quote(str(pg.ca_cert), safe='/')}"
    )


def _files(home: Path) -> bytes:
    return b"".join(path.read_bytes() for path in home.rglob("*") if path.is_file())


def test_parse_takes_the_query_password_and_never_prints_it(tmp_path: Path) -> None:
    from supalink.profiles import parse_uri

    uri = f"postgresql://u@h:5433/db?password={quote(SPECIAL_PASSWORD, safe='')}&sslmode=require"
    parsed = parse_uri(uri)
    assert parsed.password == SPECIAL_PASSWORD
    assert "password" not in parsed.ignored_parameters
    assert parsed.profile.sslmode == "require"
    for extra in ([], ["--json"]):
        result = supalink("parse", uri, *extra, home=tmp_path)
        assert result.returncode == 0, result.stderr
        assert leaks(result.stdout + result.stderr, SPECIAL_PASSWORD) == []


def test_a_plus_in_a_query_password_stays_a_plus() -> None:
    from supalink.profiles import parse_uri

    assert parse_uri("postgresql://u@h/db?password=a+b%2Bc").password == "a+b+c"


def test_profile_add_saves_the_query_password_in_the_keyring_and_test_uses_it(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer
) -> None:
    name = f"query-{uuid.uuid4().hex[:6]}"
    added = supalink("profile", "add", name, "--uri", query_uri(pg), home=tmp_path)
    assert added.returncode == 0, added.stderr
    assert b"password saved in Secret Service" in added.stdout
    shown = supalink("profile", "show", name, "--json", home=tmp_path)
    assert json.loads(shown.stdout)["password_saved"] is True
    tested = supalink("test", name, "--json", home=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    outputs = added.stdout + added.stderr + shown.stdout + tested.stdout + tested.stderr
    assert leaks(outputs + _files(tmp_path), pg.password) == []


def test_test_uri_connects_with_the_query_password(tmp_path: Path, pg: PostgresServer) -> None:
    for extra in ([], ["--json"]):
        tested = supalink("test", "--uri", query_uri(pg), *extra, home=tmp_path)
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert leaks(tested.stdout + tested.stderr + _files(tmp_path), pg.password) == []


def test_config_write_with_a_query_password_makes_the_file_private(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text('{"other": {"kept": true}}\n')
    config.chmod(0o644)
    password = "Qu3ry-Pass-w0rd"
    uri = f"postgresql://u@db.example.com:5432/postgres?password={password}&sslmode=require"
    written = supalink(
        "config",
        "write",
        "--client",
        "cursor",
        "--config",
        str(config),
        "--yes",
        "--uri",
        uri,
        home=tmp_path,
    )
    assert written.returncode == 0, written.stderr
    assert config.stat().st_mode & 0o777 == 0o600
    assert password.encode() in config.read_bytes()  # asked for: the warning says so
    assert b"password is written into the config file" in written.stderr
    output = written.stdout + written.stderr
    assert password.encode() not in output
    assert b"?password=****&sslmode=require" in output  # the rest of the URI is kept
    log_file = tmp_path / "log" / "supalink.log"
    assert password.encode() not in log_file.read_bytes()


def test_monitor_masks_a_query_password(tmp_path: Path) -> None:
    password = "Qu3ry-Pass-w0rd"
    uri = f"postgresql://u@127.0.0.1:1/postgres?password={password}&connect_timeout=1"
    watched = supalink("monitor", "--duration", "1", "--uri", uri, home=tmp_path)
    assert password.encode() not in watched.stdout + watched.stderr + _files(tmp_path)

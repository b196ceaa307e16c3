"""Server entries for a URI: its TLS settings, the templates' shapes, bad input."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.errors import SupalinkError, UsageError
from supalink.mcp import EntryWarning, PlannedEntry, ServerEntry, entry_for_uri, uri_target
from supalink.mcp.templates import build_entry
from tests.support.postgres import SPECIAL_PASSWORD

USERINFO = f"supalink_app:{quote(SPECIAL_PASSWORD, safe='')}"
URI = f"postgresql://{USERINFO}@127.0.0.1:5432/postgres"


def entry_uri(planned: PlannedEntry) -> str:
    """The URI the entry's server gets: in Supalink's server's env, else the last argument."""
    return planned.entry.env.get("SUPALINK_DATABASE_URI") or planned.entry.args[-1]


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "prod ca-2021.crt"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


def test_the_ca_and_verify_full_go_in_the_query_and_the_userinfo_is_untouched(ca: Path) -> None:
    target = uri_target(URI + "?application_name=x", ca)
    planned = entry_for_uri(target)
    assert entry_uri(planned) == (
        f"{URI}?application_name=x&sslmode=verify-full&sslrootcert={quote(str(ca), safe='/')}"
    )
    assert target.sslmode == "verify-full"
    assert target.sslrootcert == str(ca)
    assert set(planned.secrets) == {SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe="")}
    assert planned.warnings == (EntryWarning.CREDENTIALS_IN_FILE,)


def test_a_relative_ca_path_is_made_absolute(ca: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ca.parent)
    assert uri_target(URI, Path(ca.name)).sslrootcert == str(ca)


def test_the_uris_own_settings_are_kept_and_the_flag_wins(ca: Path, tmp_path: Path) -> None:
    kept = entry_for_uri(uri_target(URI + "?sslmode=verify-ca&sslrootcert=/etc/ca.crt"))
    assert entry_uri(kept) == URI + "?sslmode=verify-ca&sslrootcert=/etc/ca.crt"
    replaced = entry_for_uri(uri_target(URI + "?sslrootcert=/etc/ca.crt&sslmode=require", ca))
    assert entry_uri(replaced) == URI + f"?sslmode=require&sslrootcert={quote(str(ca), safe='/')}"


def test_without_a_ca_it_warns_that_verify_full_will_fail() -> None:
    target = uri_target(URI)
    planned = entry_for_uri(target)
    assert entry_uri(planned) == URI + "?sslmode=verify-full"
    assert target.sslrootcert is None
    assert planned.warnings == (EntryWarning.NO_CA, EntryWarning.CREDENTIALS_IN_FILE)
    assert "verify" in str(EntryWarning.NO_CA)
    no_tls = uri_target(URI.replace(USERINFO, "u") + "?sslmode=disable")
    assert entry_for_uri(no_tls).warnings == ()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("mysql://u:p@h/db", "must start with postgresql://"),
        ("postgresql://u:p#ss@h/db", "percent-encode it in the password as %23"),
        ("postgresql://u:100%@h/db", "not percent-encoded"),
    ],
)
def test_bad_uris_are_bad_input(uri: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        uri_target(uri)


def test_a_missing_ca_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no CA certificate file at"):
        uri_target(URI, tmp_path / "absent.crt")


def test_a_uri_without_a_password_carries_no_secret() -> None:
    planned = entry_for_uri(uri_target("postgres://u@h/db"))
    assert planned.secrets == ()
    assert EntryWarning.CREDENTIALS_IN_FILE not in planned.warnings


def test_template_shapes(ca: Path) -> None:
    uri = entry_uri(entry_for_uri(uri_target(URI, ca)))
    assert build_entry("reference", uri).as_json() == {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-postgres", uri],
    }
    assert build_entry("postgres-mcp", uri).as_json("stdio") == {
        "type": "stdio",
        "command": "uvx",
        "args": ["postgres-mcp", "--access-mode=restricted"],
        "env": {"DATABASE_URI": uri},
    }
    guide = build_entry("guide", uri, "verify-full").as_json()
    assert guide == {
        "command": "mcp-server-postgres",
        "args": [uri],
        "env": {"PGSSLMODE": "verify-full", "PGCONNECT_TIMEOUT": "10", "PGAPPNAME": "supalink"},
    }
    assert "--connection-string" not in guide["args"]
    assert "PGSSLROOTCERT" not in guide["env"]
    with pytest.raises(UsageError, match="unknown template"):
        build_entry("nope", uri)


def test_entries_read_back_as_a_client_reads_them() -> None:
    entry = ServerEntry.from_json({"type": "stdio", "command": "x", "args": ["a"]}, "e")
    assert entry == ServerEntry("x", ("a",), {})
    assert ServerEntry.from_json({"command": "x"}, "e").args == ()
    for bad, message in [
        ([], "is not an object"),
        ({"type": "http", "url": "https://h"}, "not one started over stdio"),
        ({"command": ""}, "has no command"),
        ({"command": "x", "args": "a b"}, "args must be a list of strings"),
        ({"command": "x", "env": {"A": 1}}, "env must map names to strings"),
    ]:
        with pytest.raises(SupalinkError, match=message):
            ServerEntry.from_json(bad, "e")


def test_a_client_librarys_parameters_stay_in_the_entry_as_written(ca: Path) -> None:
    planned = entry_for_uri(uri_target(URI + "?pgbouncer=true&connection_limit=1", ca))
    assert entry_uri(planned) == (
        f"{URI}?pgbouncer=true&connection_limit=1&sslmode=verify-full"
        f"&sslrootcert={quote(str(ca), safe='/')}"
    )

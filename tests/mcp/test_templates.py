"""Server entries for a URI: its TLS settings, the templates' shapes, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.errors import Kind, SupalinkError, UsageError
from supalink.mcp import EntryWarning, PlannedEntry, ServerEntry, entry_for_uri, uri_target
from supalink.mcp.templates import (
    PasswordInseparable,
    PasswordNotUtf8,
    build_entry,
    entry_secrets,
    split_password,
)
from supalink.profiles import UriError
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
    with pytest.raises(UriError, match=message) as caught:
        uri_target(uri)
    assert caught.value.kind is Kind.BAD_INPUT


def test_a_missing_ca_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no CA certificate file at"):
        uri_target(URI, tmp_path / "absent.crt")


def test_a_uri_without_a_password_carries_no_secret() -> None:
    planned = entry_for_uri(uri_target("postgres://u@h/db"))
    assert planned.secrets == ()
    assert EntryWarning.CREDENTIALS_IN_FILE not in planned.warnings


def test_template_shapes(ca: Path) -> None:
    uri = entry_uri(entry_for_uri(uri_target(URI, ca)))
    # A server that takes the URI as an argument gets it without the password (argv is any
    # local user's to read), and the password in PGPASSWORD, which node-postgres reads then.
    bare = uri.replace(USERINFO, "supalink_app")
    assert build_entry("reference", uri).as_json() == {
        "command": "npx",
        "args": ["-y", "@modelcontextprotocol/server-postgres", bare],
        "env": {"PGPASSWORD": SPECIAL_PASSWORD},
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
        "args": [bare],
        "env": {
            "PGSSLMODE": "verify-full",
            "PGCONNECT_TIMEOUT": "10",
            "PGAPPNAME": "supalink",
            "PGPASSWORD": SPECIAL_PASSWORD,
        },
    }
    assert build_entry("reference", bare).env == {}  # no password: nothing to move
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


@pytest.mark.parametrize(
    ("uri", "bare", "password"),
    [
        (
            URI + "?sslmode=require",
            "postgresql://supalink_app@127.0.0.1:5432/postgres?sslmode=require",
            SPECIAL_PASSWORD,
        ),
        ("postgres://u:p%3Fw@h/db", "postgres://u@h/db", "p?w"),
        # Written as they are, '/' and '@' stay in the password (the last '@' ends it).
        ("postgresql://u:pa/ss@h/db", "postgresql://u@h/db", "pa/ss"),
        ("postgresql://u:p@ss@h:5432/db", "postgresql://u@h:5432/db", "p@ss"),
        # libpq takes ?password= over the userinfo's, in whatever spelling of its name.
        (
            "postgresql://u:x@h/db?pass%77ord=q%20r&sslmode=disable",
            "postgresql://u@h/db?sslmode=disable",
            "q r",
        ),
        ("postgresql://u@h/db?password=only", "postgresql://u@h/db", "only"),
        (
            "postgresql://postgres:postgres@h/postgres",
            "postgresql://postgres@h/postgres",
            "postgres",
        ),
        ("postgresql://u@h/db", "postgresql://u@h/db", None),
        ("postgresql://u:@h/db", "postgresql://u@h/db", None),
        ("postgresql://me@corp@h/db", "postgresql://me@corp@h/db", None),
    ],
)
def test_the_password_is_taken_out_of_the_uri(uri: str, bare: str, password: str | None) -> None:
    assert split_password(uri) == (bare, password)


@pytest.mark.parametrize(
    ("uri", "error"),
    [
        # libpq would read 'pa?ss' as the password, a URL parser a query: refused, not argv.
        ("postgresql://u:pa?ss@h/db", PasswordInseparable),
        ("postgresql://u:%FF@h/db", PasswordNotUtf8),
    ],
)
def test_a_password_that_cannot_be_taken_out_is_refused_without_saying_it(
    uri: str, error: type[UsageError]
) -> None:
    with pytest.raises(error) as raised:
        split_password(uri)
    assert "pa?ss" not in str(raised.value)
    assert "%FF" not in str(raised.value)
    with pytest.raises(error):
        build_entry("reference", uri)


def test_no_entry_of_a_uri_puts_the_password_in_argv(ca: Path) -> None:
    for template in ("supalink", "reference", "guide", "postgres-mcp"):
        planned = entry_for_uri(uri_target(URI, ca), template)
        for secret in planned.secrets:
            assert all(secret not in arg for arg in planned.entry.args), template
        # What the file holds is still masked wherever it is shown.
        assert SPECIAL_PASSWORD in entry_secrets(planned.entry)


@pytest.mark.parametrize("client", ["claude", "claude-code"])
def test_a_password_in_an_entrys_env_is_masked_as_the_file_writes_it(
    tmp_path: Path, client: str
) -> None:
    """PGPASSWORD holds the password as it is: in the file's JSON a '"' in it is written
    '\\"', which the diff and `config show` must mask too."""
    from supalink.mcp import CLIENTS, ConfigWriter

    planned = entry_for_uri(uri_target(URI), "reference")
    plan = ConfigWriter(tmp_path / "backups").plan_write(
        CLIENTS[client], tmp_path / "config.json", planned
    )
    preview = plan.preview()
    assert '"PGPASSWORD": "****"' in preview
    for form in (SPECIAL_PASSWORD, json.dumps(SPECIAL_PASSWORD)[1:-1], 'p@ss:w/rd%#?& é\\"'):
        assert form not in preview
    written = json.dumps(SPECIAL_PASSWORD, ensure_ascii=False)[1:-1]
    assert written.encode() in (plan.new or b"")  # the file itself holds it (asked first)

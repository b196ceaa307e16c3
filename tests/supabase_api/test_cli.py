"""`supalink supabase login|logout|projects` and `profile add --from-project` as a person runs
them: the CLI in this process, the real Secret Service, the API's loopback stand-in. The token is
in no output and in no file under SUPALINK_HOME (settings, log), as bytes."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from supalink.paths import AppPaths
from supalink.profiles import KeyringSecretStore, SecretKind
from supalink.supabase_api import save_token, saved_token
from tests.support.cli import run_cli
from tests.support.supabase_api import (
    HEALTHY_HOST,
    HEALTHY_REF,
    PAUSED_REF,
    TOKEN,
    UNHEALTHY_REF,
    Reply,
    StandIn,
)

PASSWORD = "db-pass:@/?#% word"
LOGIN = "supalink supabase login --token-stdin"


@pytest.fixture
def signed_in(keyring: KeyringSecretStore) -> KeyringSecretStore:
    save_token(keyring, TOKEN)
    return keyring


def run(
    *args: str, home: Path, api: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = run_cli(*args, home=home, env={"SUPALINK_SUPABASE_API": api}, stdin=stdin, text=True)
    assert TOKEN not in result.stdout + result.stderr
    return result


def assert_no_token_on_disk(home: Path) -> None:
    files = [path for path in home.rglob("*") if path.is_file()]
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def profile_names(home: Path, api: str) -> list[str]:
    listed = run("profile", "list", "--json", home=home, api=api)
    return [row["name"] for row in json.loads(listed.stdout)]


@pytest.mark.slow
def test_login_projects_logout(
    keyring: KeyringSecretStore, stand_in: StandIn, tmp_path: Path
) -> None:
    login = run(
        "supabase", "login", "--token-stdin", home=tmp_path, api=stand_in.url, stdin=TOKEN + "\n"
    )
    assert login.returncode == 0, login.stderr
    assert login.stdout.startswith("signed in to Supabase: the token sees 3 projects; it is kept")
    assert saved_token(keyring) == TOKEN

    table = run("supabase", "projects", home=tmp_path, api=stand_in.url)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["REF", "NAME", "REGION", "STATUS", "POSTGRES"]
    assert lines[1].split() == [
        HEALTHY_REF,
        "shop",
        "ap-southeast-2",
        "ACTIVE_HEALTHY",
        "17.4.1.054",
    ]
    as_json = json.loads(
        run("supabase", "projects", "--json", home=tmp_path, api=stand_in.url).stdout
    )
    assert [row["ref"] for row in as_json] == [HEALTHY_REF, PAUSED_REF, UNHEALTHY_REF]
    assert set(as_json[0]) == {"ref", "name", "region", "status", "postgres_version"}

    logout = run("supabase", "logout", home=tmp_path, api=stand_in.url)
    assert logout.stdout.startswith("signed out of Supabase")
    assert keyring.get("supabase", SecretKind.ACCESS_TOKEN) is None
    after = one_line(run("supabase", "projects", home=tmp_path, api=stand_in.url))
    assert "not signed in to Supabase" in after
    assert (
        f"sign in with `{LOGIN}` (make a token at https://supabase.com/dashboard/account/tokens)"
        in after
    )
    assert_no_token_on_disk(tmp_path)
    assert "GET /v1/projects: 200" in AppPaths.under(tmp_path).log_file.read_text()


def test_a_rejected_token_is_not_saved(
    keyring: KeyringSecretStore, stand_in: StandIn, tmp_path: Path
) -> None:
    wrong = "sbp_" + "e" * 40
    result = run("supabase", "login", "--token-stdin", home=tmp_path, api=stand_in.url, stdin=wrong)
    assert one_line(result) == (
        "supalink supabase: Supabase rejected the access token (401): it is wrong, expired or "
        "revoked\n"
    )
    assert wrong not in result.stderr
    assert keyring.get("supabase", SecretKind.ACCESS_TOKEN) is None


def test_login_needs_the_token_on_stdin(keyring: KeyringSecretStore, tmp_path: Path) -> None:
    empty = run(
        "supabase", "login", "--token-stdin", home=tmp_path, api="http://127.0.0.1:9", stdin=""
    )
    assert empty.returncode == 2
    assert "standard input was empty" in empty.stderr
    bare = run("supabase", "login", home=tmp_path, api="http://127.0.0.1:9")
    assert bare.returncode == 2


@pytest.mark.parametrize(
    ("mode", "port"),
    [("session", 5432), ("transaction", 6543), ("direct", 5432), ("dedicated", 6543)],
)
def test_profile_add_from_project_holds_the_apis_host_port_and_user(
    signed_in: KeyringSecretStore, stand_in: StandIn, tmp_path: Path, mode: str, port: int
) -> None:
    added = run(
        "profile",
        "add",
        "shop",
        "--from-project",
        HEALTHY_REF,
        "--mode",
        mode,
        "--password-stdin",
        home=tmp_path,
        api=stand_in.url,
        stdin=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    shown = json.loads(
        run("profile", "show", "shop", "--json", "--reveal", home=tmp_path, api=stand_in.url).stdout
    )
    on_direct_host = mode in ("direct", "dedicated")
    host = f"db.{HEALTHY_REF}.supabase.co" if on_direct_host else HEALTHY_HOST
    user = "postgres" if on_direct_host else f"postgres.{HEALTHY_REF}"
    assert (shown["mode"], shown["host"], shown["port"], shown["user"]) == (mode, host, port, user)
    assert (shown["ref"], shown["region"], shown["password_saved"]) == (
        HEALTHY_REF,
        "ap-southeast-2",
        True,
    )
    assert_no_token_on_disk(tmp_path)
    # The ref lives in the keyring: the settings file holds it only inside the API's host.
    settings = AppPaths.under(tmp_path).settings_file.read_bytes()
    assert HEALTHY_HOST.encode() in settings or on_direct_host
    assert HEALTHY_REF.encode() not in settings
    logged = AppPaths.under(tmp_path).log_file.read_text()
    assert HEALTHY_REF not in logged
    asked = {"dedicated": "pgbouncer", "direct": None}.get(mode, "pooler")
    assert asked is None or f"GET /v1/projects/{{ref}}/config/database/{asked}: 200" in logged


def test_profile_add_from_project_without_a_mode_takes_the_session_pooler(
    signed_in: KeyringSecretStore, stand_in: StandIn, tmp_path: Path
) -> None:
    added = run(
        "profile", "add", "shop", "--from-project", HEALTHY_REF, home=tmp_path, api=stand_in.url
    )
    assert added.returncode == 0, added.stderr
    shown = json.loads(
        run("profile", "show", "shop", "--json", home=tmp_path, api=stand_in.url).stdout
    )
    assert (shown["mode"], shown["port"]) == ("session", 5432)


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("paused", f"project 'old blog' ({PAUSED_REF}) is paused (status INACTIVE)"),
        (
            "unhealthy",
            f"project 'flaky' ({UNHEALTHY_REF}) is not healthy (status ACTIVE_UNHEALTHY)",
        ),
        ("forbidden", "(403): it lacks database_pooling_config_read"),
        ("rate limited", "(429): try again in 120 s"),
        ("unreachable", "cannot reach the Supabase Management API at http://127.0.0.1:"),
        ("rejected", f"(401): it is wrong, expired or revoked; sign in again with `{LOGIN}`"),
        ("unknown", "no project 'abcdefghijklmnopqrst' among those the access token can see"),
        ("no dedicated pooler", f"project {HEALTHY_REF!r} has no dedicated pooler"),
    ],
)
def test_each_api_error_is_one_line_and_saves_nothing(
    signed_in: KeyringSecretStore, stand_in: StandIn, tmp_path: Path, case: str, words: str
) -> None:
    ref, api = HEALTHY_REF, stand_in.url
    pooler = f"/v1/projects/{HEALTHY_REF}/config/database/pooler"
    if case == "paused":
        ref = PAUSED_REF
    elif case == "unhealthy":
        ref = UNHEALTHY_REF
    elif case == "forbidden":
        body = {"message": "Forbidden", "missing_permissions": ["database_pooling_config_read"]}
        stand_in.queue(pooler, Reply(403, body))
    elif case == "rate limited":
        stand_in.queue("/v1/projects", Reply(429, {"message": "slow"}, {"Retry-After": "120"}))
    elif case == "unreachable":
        api = _closed_port()
    elif case == "rejected":
        stand_in.token = "sbp_" + "0" * 40
    elif case == "unknown":
        ref = "abcdefghijklmnopqrst"
    elif case == "no dedicated pooler":
        del stand_in.pgbouncers[HEALTHY_REF]
    mode = "dedicated" if case == "no dedicated pooler" else "session"
    result = run(
        "profile",
        "add",
        "shop",
        "--from-project",
        ref,
        "--mode",
        mode,
        "--password-stdin",
        home=tmp_path,
        api=api,
        stdin=PASSWORD,
    )
    message = one_line(result)
    assert message.startswith("supalink profile: ")
    assert words in message
    assert PASSWORD not in message
    assert profile_names(tmp_path, stand_in.url) == []
    assert_no_token_on_disk(tmp_path)


def test_a_short_rate_limit_is_waited_out(
    signed_in: KeyringSecretStore, stand_in: StandIn, tmp_path: Path
) -> None:
    stand_in.queue("/v1/projects", Reply(429, None, {"Retry-After": "1"}))
    listed = run("supabase", "projects", "--json", home=tmp_path, api=stand_in.url)
    assert listed.returncode == 0, listed.stderr
    assert [path for path, _ in stand_in.requests] == ["/v1/projects", "/v1/projects"]


def test_a_plain_http_api_elsewhere_is_refused_before_the_token_is_read(
    signed_in: KeyringSecretStore, stand_in: StandIn, tmp_path: Path
) -> None:
    result = run("supabase", "projects", home=tmp_path, api="http://api.example.org")
    assert result.returncode == 2
    assert "plain http:// is only for a loopback host" in result.stderr


def test_from_project_takes_no_other_connection_fields(
    signed_in: KeyringSecretStore, stand_in: StandIn, tmp_path: Path
) -> None:
    result = run(
        "profile",
        "add",
        "shop",
        "--from-project",
        HEALTHY_REF,
        "--pooler-index",
        "0",
        home=tmp_path,
        api=stand_in.url,
    )
    assert result.returncode == 2
    assert "leave out --pooler-index" in result.stderr
    assert stand_in.requests == []


@pytest.mark.slow
@pytest.mark.parametrize("template", ["supalink", "reference"])
def test_an_mcp_config_written_for_a_filled_profile_holds_no_token(
    keyring: KeyringSecretStore, stand_in: StandIn, tmp_path: Path, template: str
) -> None:
    login = run("supabase", "login", "--token-stdin", home=tmp_path, api=stand_in.url, stdin=TOKEN)
    assert login.returncode == 0, login.stderr
    added = run(
        "profile",
        "add",
        "shop",
        "--from-project",
        HEALTHY_REF,
        "--password-stdin",
        home=tmp_path,
        api=stand_in.url,
        stdin=PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    config = tmp_path / "claude_desktop_config.json"
    written = run(
        "config",
        "write",
        "--client",
        "claude",
        "--config",
        str(config),
        "--profile",
        "shop",
        "--template",
        template,
        "--yes",
        home=tmp_path,
        api=stand_in.url,
    )
    assert written.returncode == 0, written.stderr
    entry = json.loads(config.read_text())["mcpServers"]["supabase"]
    assert entry  # written, and below: no token in it nor anywhere under SUPALINK_HOME
    assert TOKEN not in config.read_text()
    if template == "reference":  # the URI in the file is the API's exact host
        assert f"@{HEALTHY_HOST}:5432/" in config.read_text()
    assert_no_token_on_disk(tmp_path)

"""`supalink url`, `parse` and `profile` as a user runs them: outputs, exit codes, no leaks."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.cli import run_cli
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.secret_service import SecretService

REF = "zyxwvutsrqponmlkjihg"
SESSION_URI = (
    f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-0-eu-west-2.pooler.supabase.com:5432/postgres"
)


def supalink(
    *args: str, home: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """In this process; `env` is the whole environment when given."""
    return run_cli(*args, home=home, stdin=stdin, environ=env)


def leaks(data: bytes, *secrets: str) -> list[str]:
    found = []
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            if form.encode() in data:
                found.append(form)
    return found


def test_url_prints_the_uri_alone_with_the_password_masked(tmp_path: Path) -> None:
    result = supalink(
        "url",
        "--ref",
        REF,
        "--mode",
        "transaction",
        "--region",
        "eu-west-2",
        "--pooler-index",
        "1",
        "--password-stdin",
        home=tmp_path,
        stdin=SPECIAL_PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == (
        f"postgresql://postgres.{REF}:****@aws-1-eu-west-2.pooler.supabase.com:6543/postgres"
        "?sslmode=verify-full\n"
    )
    assert leaks(result.stdout + result.stderr, SPECIAL_PASSWORD) == []


def test_url_reveal_and_no_password(tmp_path: Path) -> None:
    revealed = supalink(
        "url",
        "--ref",
        REF,
        "--mode",
        "direct",
        "--password-stdin",
        "--reveal",
        home=tmp_path,
        stdin=SPECIAL_PASSWORD,
    )
    assert quote(SPECIAL_PASSWORD, safe="").encode() in revealed.stdout
    bare = supalink("url", "--ref", REF, "--mode", "direct", home=tmp_path)
    assert bare.stdout.decode() == (
        f"postgresql://postgres@db.{REF}.supabase.co:5432/postgres?sslmode=verify-full\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["url", "--ref", "TOO-SHORT", "--mode", "direct"],
        ["url", "--ref", REF, "--mode", "sideways"],
        ["url", "--ref", REF, "--mode", "session", "--region", "moon-1", "--pooler-index", "0"],
        ["url", "--ref", REF, "--mode", "session", "--pooler-index", "0"],
        ["parse", "mysql://root@localhost/db"],
        ["parse", "postgresql://u:100%@h/db"],
        ["profile", "show", "no-such-profile"],
    ],
    ids=["bad-ref", "bad-mode", "bad-region", "no-region", "scheme", "percent", "missing"],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = supalink(*args, home=tmp_path)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.count(b"\n") == 1


def test_parse_json_gives_the_fields_and_never_the_password(tmp_path: Path) -> None:
    uri = SESSION_URI.replace("[YOUR-PASSWORD]", quote(SPECIAL_PASSWORD, safe=""))
    result = supalink("parse", uri, "--json", home=tmp_path)
    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        "ref": REF,
        "mode": "session",
        "host": "aws-0-eu-west-2.pooler.supabase.com",
        "port": 5432,
        "user": f"postgres.{REF}",
        "database": "postgres",
        "region": "eu-west-2",
        "pooler_index": 0,
    }
    assert leaks(result.stdout + result.stderr, SPECIAL_PASSWORD) == []


def test_profile_lifecycle_keeps_secrets_in_the_keyring(
    tmp_path: Path, secret_service: SecretService
) -> None:
    name = f"prod-{uuid.uuid4().hex[:6]}"
    added = supalink(
        "profile",
        "add",
        name,
        "--uri",
        SESSION_URI,
        "--password-stdin",
        home=tmp_path,
        stdin=SPECIAL_PASSWORD,
    )
    assert added.returncode == 0, added.stderr
    assert b"password saved in Secret Service" in added.stdout

    listed = supalink("profile", "list", "--json", home=tmp_path)
    assert json.loads(listed.stdout) == [
        {
            "name": name,
            "environment": None,
            "kind": "supabase",
            "mode": "session",
            "region": "eu-west-2",
            "password_saved": True,
            "locked": None,
        }
    ]
    shown = supalink("profile", "show", name, "--json", home=tmp_path)
    summary = json.loads(shown.stdout)
    assert summary["ref"] == "****"
    assert summary["user"] == "postgres.****"
    revealed = supalink("profile", "show", name, "--json", "--reveal", home=tmp_path)
    assert json.loads(revealed.stdout)["ref"] == REF

    outputs = added.stdout + added.stderr + listed.stdout + shown.stdout + shown.stderr
    files = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert leaks(outputs + files, SPECIAL_PASSWORD, REF) == []
    assert (tmp_path / "log" / "supalink.log").exists()

    removed = supalink("profile", "remove", name, home=tmp_path)
    assert removed.returncode == 0
    from keyring.backends.SecretService import Keyring

    assert Keyring().get_password("supalink", f"{name} (database password)") is None
    assert Keyring().get_password("supalink", f"{name} (project ref)") is None
    assert json.loads(supalink("profile", "list", "--json", home=tmp_path).stdout) == []


def test_without_a_keyring_nothing_is_saved_and_the_message_is_plain(tmp_path: Path) -> None:
    bare_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home")}
    result = supalink(
        "profile",
        "add",
        "prod",
        "--uri",
        SESSION_URI,
        "--password-stdin",
        home=tmp_path / "supalink",
        stdin="pw-nowhere",
        env=bare_env,
    )
    assert result.returncode == 1
    assert b"no usable keyring" in result.stderr
    assert result.stderr.count(b"\n") == 1
    assert not (tmp_path / "supalink" / "config" / "settings.json").exists()
    everything = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"pw-nowhere" not in everything

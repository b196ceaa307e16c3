"""A password saved in the keyring whose entry was deleted behind Supalink's back: every
command that needs it says the keyring entry is missing. Real Secret Service, the CLI
in this process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from supalink.profiles.secrets import SERVICE, SecretKind, account_name
from tests.support.cli import run_cli
from tests.support.postgres import PostgresServer
from tests.support.profiles import save_profile
from tests.support.secret_service import SecretService


def supalink(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, stdin=stdin, timeout=120, text=True)


@pytest.fixture
def lost(tmp_path: Path, pg: PostgresServer, secret_service: SecretService) -> str:
    """A profile saved with its password, whose keyring entry another program deleted."""
    from keyring.backends.SecretService import Keyring

    name = save_profile(tmp_path, pg, prefix="lost")
    backend = Keyring()
    assert backend.get_password(SERVICE, account_name(name, SecretKind.PASSWORD)) is not None
    backend.delete_password(SERVICE, account_name(name, SecretKind.PASSWORD))
    return name


def missing(name: str) -> str:
    return f"the keyring entry for the password of profile {name!r} is missing"


def test_profile_show_says_the_keyring_entry_is_missing(tmp_path: Path, lost: str) -> None:
    shown = supalink(tmp_path, "profile", "show", lost, "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["password_saved"] is False
    assert record["password_missing_from_keyring"] is True
    [warning] = shown.stderr.splitlines()
    assert warning.startswith(f"warning: {missing(lost)} (Secret")
    text = supalink(tmp_path, "profile", "show", lost)
    assert "password_saved                 False" in text.stdout
    assert "password_missing_from_keyring  True" in text.stdout


def test_test_says_the_keyring_entry_is_missing_not_that_none_was_given(
    tmp_path: Path, lost: str
) -> None:
    result = supalink(tmp_path, "test", lost)
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"supalink test: {missing(lost)} (")
    assert line.endswith("save the password again, or give it with --password-stdin")
    assert "no password" not in line


def test_with_password_stdin_test_connects_without_the_keyring_entry(
    tmp_path: Path, lost: str, pg: PostgresServer
) -> None:
    result = supalink(tmp_path, "test", lost, "--password-stdin", stdin=pg.password)
    assert result.returncode == 0, result.stdout + result.stderr
    assert pg.password not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["monitor", "{name}", "--duration", "5"],
        ["config", "write", "--client", "claude", "--config", "{cfg}", "--profile", "{name}"],
        ["mcp-serve", "--profile", "{name}"],
    ],
    ids=["monitor", "config-write", "mcp-serve"],
)
def test_the_other_commands_say_so_too(tmp_path: Path, lost: str, command: list[str]) -> None:
    cfg = tmp_path / "claude.json"
    args = [part.format(name=lost, cfg=cfg) for part in command]
    result = supalink(tmp_path, *args)
    assert result.returncode == 1, result.stderr
    assert missing(lost) in result.stderr
    assert not cfg.exists()


def test_a_profile_saved_without_a_password_is_not_said_to_miss_one(
    tmp_path: Path, pg: PostgresServer, secret_service: SecretService
) -> None:
    name = save_profile(tmp_path, pg, with_password=False, prefix="nopw")
    shown = supalink(tmp_path, "profile", "show", name, "--json")
    assert json.loads(shown.stdout)["password_missing_from_keyring"] is False
    assert shown.stderr == ""

"""The environment label on the command line: `profile add --environment`, shown by `profile
list` and `profile show` (text and JSON); `config write --allow-writes` for a production
profile wants its name (typed on a terminal, or --confirm-production), and refuses without."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.support.cli import environment_for, run_cli, spawn_argv
from tests.support.ports import free_port
from tests.support.secret_service import SecretService


def supalink(*argv: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*argv, home=home, text=True)


def add(home: Path, environment: str | None, *, password: str | None = None) -> str:
    """A custom-host profile nothing listens at (the write's login check is refused at
    once), labelled `environment`; its name."""
    name = f"{environment or 'plain'}-{uuid.uuid4().hex[:6]}"
    argv = ["profile", "add", name, "--host", "127.0.0.1", "--port", str(free_port())]
    argv += ["--environment", environment] if environment else []
    argv += ["--password-stdin"] if password else ["--no-save-password"]
    added = run_cli(*argv, home=home, stdin=password, text=True)
    assert added.returncode == 0, added.stderr
    return name


def test_add_labels_a_profile_and_list_and_show_say_it(
    tmp_path: Path, secret_service: SecretService
) -> None:
    prod, plain = add(tmp_path, "production"), add(tmp_path, None)

    listed = json.loads(supalink("profile", "list", "--json", home=tmp_path).stdout)
    assert {row["name"]: row["environment"] for row in listed} == {prod: "production", plain: None}
    lines = supalink("profile", "list", home=tmp_path).stdout.splitlines()
    assert f"{prod}  [production] (custom; password not saved)" in lines
    assert f"{plain}  (custom; password not saved)" in lines

    shown = json.loads(supalink("profile", "show", prod, "--json", home=tmp_path).stdout)
    assert shown["environment"] == "production"
    text = supalink("profile", "show", prod, home=tmp_path).stdout.splitlines()
    assert [line.split() for line in text if line.startswith("environment")] == [
        ["environment", "production"]
    ]
    plain_text = supalink("profile", "show", plain, home=tmp_path).stdout.splitlines()
    assert [line.split() for line in plain_text if line.startswith("environment")] == [
        ["environment", "-"]
    ]


def test_an_environment_not_one_of_the_three_is_a_usage_error(tmp_path: Path) -> None:
    refused = supalink("profile", "add", "x", "--host", "h", "--environment", "prod", home=tmp_path)
    assert refused.returncode == 2
    assert "invalid choice: 'prod'" in refused.stderr
    assert "'production', 'staging', 'development'" in refused.stderr
    assert not list(tmp_path.rglob("*.json"))  # nothing saved


# ----- config write --------------------------------------------------------------------


def write_argv(cfg: Path, name: str, *extra: str) -> list[str]:
    return [
        "config",
        "write",
        "--client",
        "claude",
        "--config",
        str(cfg),
        "--profile",
        name,
        *extra,
    ]


def entry_args(cfg: Path) -> list[str]:
    args: list[str] = json.loads(cfg.read_text())["mcpServers"]["supabase"]["args"]
    return args


@pytest.fixture
def prod(tmp_path: Path, secret_service: SecretService) -> str:
    return add(tmp_path, "production", password="pw")


def test_writes_for_production_without_a_terminal_are_refused_naming_the_flag(
    tmp_path: Path, prod: str
) -> None:
    cfg = tmp_path / "claude.json"
    refused = supalink(*write_argv(cfg, prod, "--allow-writes"), home=tmp_path)
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.splitlines()[-1] == (
        f"supalink config: error: profile {prod!r} is marked production: to let its agent "
        f"change data, confirm with --confirm-production {prod} (on a terminal it is asked for)"
    )
    assert not cfg.exists()

    wrong = supalink(
        *write_argv(cfg, prod, "--allow-writes", "--confirm-production", "staging"), home=tmp_path
    )
    assert wrong.returncode == 2
    assert f"--confirm-production 'staging' is not the profile's name {prod!r}" in wrong.stderr
    assert not cfg.exists()

    confirmed = supalink(
        *write_argv(cfg, prod, "--allow-writes", "--confirm-production", prod), home=tmp_path
    )
    assert confirmed.returncode == 0, confirmed.stderr
    assert entry_args(cfg) == ["mcp-serve", "--profile", prod, "--allow-writes"]


def test_read_only_production_and_writable_staging_are_not_asked(tmp_path: Path, prod: str) -> None:
    cfg = tmp_path / "claude.json"
    read_only = supalink(*write_argv(cfg, prod), home=tmp_path)
    assert read_only.returncode == 0, read_only.stderr
    assert entry_args(cfg) == ["mcp-serve", "--profile", prod]

    staging = add(tmp_path, "staging", password="pw")
    other = tmp_path / "other.json"
    writable = supalink(*write_argv(other, staging, "--allow-writes"), home=tmp_path)
    assert writable.returncode == 0, writable.stderr
    assert entry_args(other)[-1] == "--allow-writes"
    # The flag is for a production profile's writes only: elsewhere it is a mistake.
    stray = supalink(*write_argv(other, prod, "--confirm-production", prod), home=tmp_path)
    assert stray.returncode == 2
    assert "--confirm-production goes with --allow-writes" in stray.stderr


def test_a_dry_run_for_production_asks_nothing(tmp_path: Path, prod: str) -> None:
    cfg = tmp_path / "claude.json"
    dry = supalink(*write_argv(cfg, prod, "--allow-writes", "--dry-run"), home=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stderr
    assert not cfg.exists()


def on_a_terminal(argv: list[str], home: Path, typed: str) -> subprocess.CompletedProcess[str]:
    """The console script with a terminal for stdin, on which `typed` and Enter are keyed."""
    controller, terminal = os.openpty()
    try:
        process = subprocess.Popen(
            spawn_argv(*argv),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment_for(home),
            text=True,
        )
        os.write(controller, typed.encode() + b"\n")  # kept by the terminal until read
        out, err = process.communicate(timeout=60)
    finally:
        os.close(terminal)
        with contextlib.suppress(OSError):
            os.close(controller)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


@pytest.mark.slow
def test_on_a_terminal_the_profiles_name_is_typed_to_confirm(tmp_path: Path, prod: str) -> None:
    cfg = tmp_path / "claude.json"
    argv = write_argv(cfg, prod, "--allow-writes")
    mistyped = on_a_terminal(argv, tmp_path, "yes")
    assert mistyped.returncode == 1, mistyped.stderr
    assert f"Profile {prod!r} is marked production" in mistyped.stderr
    assert "Type the profile's name to confirm:" in mistyped.stderr
    assert f"not written: 'yes' is not the profile's name {prod!r}" in mistyped.stderr
    assert not cfg.exists()

    typed = on_a_terminal(argv, tmp_path, prod)
    assert typed.returncode == 0, typed.stderr
    assert entry_args(cfg) == ["mcp-serve", "--profile", prod, "--allow-writes"]

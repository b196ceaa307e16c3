"""The keyring launcher: the password comes from the real Secret Service, the server gets the
process (stdio, signals, exit code), and a bare client environment still reaches the keyring."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from supalink.profiles.uris import parse_uri
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.profiles import save_profile, save_profile_to
from tests.support.secret_service import SecretService

SUPALINK = str(Path(sys.executable).with_name("supalink"))

FAKE_SERVER = """
import json, os, signal, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))
print(json.dumps({"argv": sys.argv[1:], "env_uri": os.environ.get("DATABASE_URI"),
                  "env_password": os.environ.get("PGPASSWORD"), "pid": os.getpid()}),
      flush=True)
line = sys.stdin.readline()
print("echo:" + line.strip(), flush=True)
if line.strip() == "wait":
    signal.pause()
sys.exit(7)
"""


@pytest.fixture
def fake_server(tmp_path: Path) -> Path:
    script = tmp_path / "fake_server.py"
    script.write_text(FAKE_SERVER)
    return script


def launcher(name: str, *server: str, uri_env: str | None = None) -> list[str]:
    extra = ["--uri-env", uri_env] if uri_env else []
    return [SUPALINK, "mcp-run", "--profile", name, *extra, "--", *server]


def test_uri_goes_last_in_argv_without_its_password_and_stdio_and_exit_code_pass_through(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer, fake_server: Path
) -> None:
    name = save_profile(tmp_path, pg)
    result = subprocess.run(
        launcher(name, sys.executable, str(fake_server), "--flag"),
        input=b"hello\n",
        capture_output=True,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
        timeout=30,
        check=False,
    )
    assert result.returncode == 7
    first, second = result.stdout.decode().splitlines()
    seen = json.loads(first)
    assert seen["argv"][0] == "--flag"
    parsed = parse_uri(seen["argv"][-1])
    assert parsed.password is None  # argv is any local user's to read
    assert seen["env_password"] == SPECIAL_PASSWORD  # the environment is the server's own
    assert parsed.profile.sslrootcert == str(pg.ca_cert)
    assert second == "echo:hello"
    assert result.stderr == b""


def test_uri_in_an_environment_variable(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer, fake_server: Path
) -> None:
    name = save_profile(tmp_path, pg)
    result = subprocess.run(
        launcher(name, sys.executable, str(fake_server), uri_env="DATABASE_URI"),
        input=b"\n",
        capture_output=True,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
        timeout=30,
        check=False,
    )
    seen = json.loads(result.stdout.decode().splitlines()[0])
    assert seen["argv"] == []
    assert parse_uri(seen["env_uri"]).password == SPECIAL_PASSWORD
    assert seen["env_password"] is None


def test_the_server_replaces_the_launcher_and_gets_its_signals(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer, fake_server: Path
) -> None:
    name = save_profile(tmp_path, pg)
    process = subprocess.Popen(
        launcher(name, sys.executable, str(fake_server)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
    )
    assert process.stdout is not None
    assert process.stdin is not None
    seen = json.loads(process.stdout.readline())
    assert seen["pid"] == process.pid  # exec: no launcher process left in between
    process.stdin.write(b"wait\n")
    process.stdin.flush()
    assert process.stdout.readline() == b"echo:wait\n"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 42
    process.communicate()


@pytest.mark.parametrize("problem", ["no-password", "no-profile", "no-keyring"])
def test_missing_secrets_give_one_clear_line_and_non_zero_exit(
    tmp_path: Path,
    secret_service: SecretService,
    pg: PostgresServer,
    fake_server: Path,
    problem: str,
) -> None:
    env = {**os.environ, "SUPALINK_HOME": str(tmp_path)}
    name = "never-saved"
    if problem == "no-password":
        name = save_profile(tmp_path, pg, with_password=False)
    if problem == "no-keyring":
        name = save_profile(tmp_path, pg)
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SUPALINK_HOME": str(tmp_path)}
    result = subprocess.run(
        launcher(name, sys.executable, str(fake_server)),
        capture_output=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("supalink mcp-run: ")
    expected = {
        "no-password": "has no password in the keyring",
        "no-profile": "no profile named",
        "no-keyring": "no usable keyring",
    }[problem]
    assert expected in lines[0]


@pytest.fixture
def user_session_bus(secret_service: SecretService) -> Iterator[Path]:
    """Make the test Secret Service the user's session bus at /run/user/<uid>/bus,
    where the launcher looks when a client gives it no D-Bus address."""
    runtime = Path(f"/run/user/{os.getuid()}")
    bus = runtime / "bus"
    if bus.exists() or bus.is_symlink():
        pytest.fail(f"{bus} already exists (a real session?); this test would use it")
    created_runtime = not runtime.exists()
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    bus.symlink_to(secret_service.runtime_dir / "bus")
    yield bus
    bus.unlink()
    if created_runtime:
        runtime.rmdir()


def test_bare_client_environment_finds_the_session_bus(
    tmp_path: Path, user_session_bus: Path, pg: PostgresServer, fake_server: Path
) -> None:
    # A client gives only PATH and HOME: settings come from the platform folders under HOME.
    home = tmp_path / "home"
    name = save_profile_to(home / ".config" / "supalink" / "settings.json", pg)
    result = subprocess.run(
        launcher(name, sys.executable, str(fake_server)),
        input=b"\n",
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(home)},
        timeout=30,
        check=False,
    )
    assert result.returncode == 7, result.stderr
    seen = json.loads(result.stdout.decode().splitlines()[0])
    assert parse_uri(seen["argv"][-1]).password is None
    assert seen["env_password"] == SPECIAL_PASSWORD

"""No password in a server's argv, which any local user reads: the keyring launcher and the
entries of servers that take their URI as an argument (the reference server, under both of
its names) give it the URI without the password and the password in PGPASSWORD. Checked as
another user would look (`nobody` reading /proc/PID/cmdline and running `ps`) while real
servers run, and each of them still answers `select 1`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from supalink.mcp import Host, ServerEntry, entry_for_profile
from supalink.mcp.launch_env import Finder
from supalink.mcp.templates import PASSWORD_ENV
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore
from supalink.profiles.settings import SettingsFile
from supalink.profiles.uris import parse_uri
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.profiles import save_profile
from tests.support.reference_server import ReferenceServer
from tests.support.secret_service import SecretService

SUPALINK = str(Path(sys.executable).with_name("supalink"))
# Every form the password could take in a command line: as it is, percent-encoded (as URIs
# carry it, with and without '/' kept), and its ASCII start, which `ps` shows as it is where
# it would print the 'é' as '?'.
PASSWORD_FORMS = (
    SPECIAL_PASSWORD,
    quote(SPECIAL_PASSWORD, safe=""),
    quote(SPECIAL_PASSWORD, safe="/"),
    SPECIAL_PASSWORD[:9],
)
# A server that takes its URI as its last argument, connects with it (libpq, which reads
# PGPASSWORD when the URI has no password), then waits, its argv on show, until told to go.
ARGV_SERVER = """
import json, os, sys
import psycopg
uri = sys.argv[-1]
with psycopg.connect(uri) as conn:
    one = conn.execute("select 1").fetchone()[0]
print(json.dumps({"argv": sys.argv[1:], "pid": os.getpid(), "select_1": one,
                  "password_env": "PGPASSWORD" in os.environ}), flush=True)
sys.stdin.readline()
"""
# Each process's command line read by `nobody` from /proc, NUL-separated arguments joined
# by spaces: what any local user can read.
READ_CMDLINES = r"""
for f in /proc/[0-9]*/cmdline; do tr '\000' ' ' < "$f" 2>/dev/null; echo; done
"""


def seen_by_nobody() -> dict[str, str]:
    """Every process's arguments as the user `nobody` sees them: /proc/PID/cmdline and ps
    (`ww`: never cut at a terminal's width)."""
    proc = subprocess.run(
        ["runuser", "-u", "nobody", "--", "sh", "-c", READ_CMDLINES],
        capture_output=True,
        timeout=30,
        check=True,
    )
    ps = subprocess.run(
        ["runuser", "-u", "nobody", "--", "ps", "-ww", "-eo", "args"],
        capture_output=True,
        timeout=30,
        check=True,
    )
    return {
        "/proc/PID/cmdline": proc.stdout.decode("utf-8", "replace"),
        "ps -ww -eo args": ps.stdout.decode("utf-8", "replace"),
    }


def assert_no_password(seen: dict[str, str], server_marker: str) -> None:
    """No command line that reaches this test's server shows the password. Only those lines
    are read: other tests running beside this one may carry the same test password in
    their own arguments (`supalink parse '…?password=…'`), on purpose."""
    for where, text in seen.items():
        ours = [line for line in text.splitlines() if server_marker in line]
        assert ours, f"{where} does not show the server: wrong process?"
        for form in PASSWORD_FORMS:
            assert not [line for line in ours if form in line], f"the password is in {where}"


def test_the_launcher_gives_the_uri_without_its_password_and_the_server_connects(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer
) -> None:
    name = save_profile(tmp_path, pg)
    script = tmp_path / "argv_server.py"
    script.write_text(ARGV_SERVER)
    process = subprocess.Popen(
        [SUPALINK, "mcp-run", "--profile", name, "--", sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
    )
    try:
        assert process.stdout is not None
        started = json.loads(process.stdout.readline() or b"{}")
        assert started.get("select_1") == 1, process.stderr.read() if process.stderr else ""
        assert started["pid"] == process.pid  # the launcher became the server
        assert started["password_env"]
        uri = started["argv"][-1]
        parsed = parse_uri(uri)
        assert parsed.password is None
        assert parsed.profile.sslrootcert == str(pg.ca_cert)
        own = Path(f"/proc/{process.pid}/cmdline")
        as_nobody = subprocess.run(
            ["runuser", "-u", "nobody", "--", "cat", str(own)],
            capture_output=True,
            timeout=30,
            check=True,
        ).stdout.decode("utf-8", "replace")
        assert uri in as_nobody
        assert_no_password(seen_by_nobody(), f"@127.0.0.1:{pg.port}/")
        for form in PASSWORD_FORMS:
            assert form not in as_nobody
    finally:
        process.communicate(b"\n", timeout=30)
    assert process.returncode == 0


def profile_target(tmp_path: Path, name: str) -> Any:
    from keyring.backends.SecretService import Keyring

    from supalink.paths import AppPaths

    repository = ProfileRepository(
        SettingsFile(AppPaths.under(tmp_path).settings_file), KeyringSecretStore(Keyring())
    )
    return repository.keyring_target(name)


async def select_1_and_look(entry: ServerEntry, env: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """Start the entry as a client does (the MCP SDK's stdio client), run `select 1` with
    its `query` tool, and look at every command line while the server is still up."""
    from mcp.client.stdio import StdioServerParameters, stdio_client

    from mcp import ClientSession

    params = StdioServerParameters(command=entry.command, args=list(entry.args), env=env)
    with tempfile.TemporaryFile("w+") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await asyncio.wait_for(
                session.call_tool("query", {"sql": "select 1 as one"}), 30
            )
            seen = await asyncio.to_thread(seen_by_nobody)
    return result, seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("template", "server"),
    [("keyring", "reference"), ("keyring", "guide"), ("reference", None), ("guide", None)],
    ids=["launcher-reference", "launcher-guide", "reference", "guide"],
)
def test_the_reference_server_connects_with_no_password_in_any_command_line(
    tmp_path: Path,
    secret_service: SecretService,
    pg: PostgresServer,
    reference_server: ReferenceServer,
    monkeypatch: pytest.MonkeyPatch,
    template: str,
    server: str | None,
) -> None:
    """The entries `config write` plans, started as a client starts them: the launcher in
    front of the reference server (`npx`, and `mcp-server-postgres` as the guide names it),
    and those servers on their own, whose file then holds the password in `env`."""
    environment = reference_server.environment()
    monkeypatch.setenv("PATH", environment["PATH"])  # where the entry's command is found
    name = save_profile(tmp_path, pg)
    planned = entry_for_profile(
        profile_target(tmp_path, name),
        password_in_keyring=True,
        template=template,
        server=server,
        finder=Finder(Host.current()),
    )
    entry = planned.entry
    if template == "keyring":
        assert planned.secrets == ()
        assert PASSWORD_ENV not in entry.env
    else:
        assert entry.env[PASSWORD_ENV] == SPECIAL_PASSWORD  # in the file, never in argv
    for form in PASSWORD_FORMS:
        assert all(form not in arg for arg in entry.args)
        assert form not in entry.command
    env = {**environment, "SUPALINK_HOME": str(tmp_path), **entry.env}
    result, seen = asyncio.run(select_1_and_look(entry, env))
    answer = "".join(getattr(part, "text", "") for part in result.content)
    assert not result.is_error, answer
    assert json.loads(answer) == [{"one": 1}]
    assert_no_password(seen, f"@127.0.0.1:{pg.port}/")

"""`verify` runs the real reference server from npm against the real verify-full test server."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.mcp import ServerEntry, entry_for_uri, uri_target
from supalink.mcp.verify import VerifyReport, verify_entry
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.reference_server import ReferenceServer
from tests.support.tls import TlsFiles


def verify(entry: ServerEntry, reference_server: ReferenceServer, **options: float) -> VerifyReport:
    env = reference_server.environment()
    return asyncio.run(verify_entry(entry, base_env=env, timeout=options.get("timeout", 60)))


def assert_no_password(report: VerifyReport) -> None:
    text = report.summary + report.answer + report.stderr + report.describe()
    for form in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe="")):
        assert form not in text


@pytest.mark.slow
@pytest.mark.parametrize("template", ["reference", "guide"])
def test_the_template_answers_select_1_with_verify_full(
    template: str, pg: PostgresServer, reference_server: ReferenceServer, tmp_path: Path
) -> None:
    # A CA path that needs percent-encoding in the URI: node-postgres must decode it.
    ca = tmp_path / "Supabase CA %1" / "prod-ca-2021.crt"
    ca.parent.mkdir()
    shutil.copy(pg.ca_cert, ca)
    entry = entry_for_uri(uri_target(pg.uri(sslmode=None), ca), template).entry
    report = verify(entry, reference_server)
    assert report.ok, report.describe()
    assert report.tools == ("query",)
    assert '"?column?": 1' in report.answer
    assert report.summary == "the server answered query 'select 1'"
    assert_no_password(report)


@pytest.mark.parametrize(
    ("shape", "finding"),
    [
        # The original guide: the server takes no --connection-string flag ...
        ("connection-string", "TypeError"),
        # ... and node-postgres ignores PGSSLROOTCERT, so the CA must be in the URI.
        ("pgsslrootcert", "unable to verify the first certificate"),
    ],
)
def test_the_guides_original_shape_fails_as_designed(
    shape: str, finding: str, pg: PostgresServer, reference_server: ReferenceServer
) -> None:
    uri = pg.uri(sslmode=None)
    env = {"PGSSLMODE": "verify-full", "PGSSLROOTCERT": str(pg.ca_cert)}
    args = ("--connection-string", uri) if shape == "connection-string" else (uri,)
    report = verify(ServerEntry("mcp-server-postgres", args, env), reference_server)
    assert not report.ok
    assert finding in report.describe()
    assert_no_password(report)


def test_a_wrong_ca_is_reported(
    pg: PostgresServer, tls_files: TlsFiles, reference_server: ReferenceServer
) -> None:
    target = uri_target(pg.uri(sslmode=None), tls_files.other_ca_cert)
    report = verify(entry_for_uri(target, "reference").entry, reference_server)
    assert not report.ok
    assert report.summary.startswith("calling query with 'select 1' failed:")
    assert "certificate" in report.summary
    assert_no_password(report)


def test_a_missing_command_is_named_with_how_to_install_it(
    pg: PostgresServer, reference_server: ReferenceServer
) -> None:
    entry = ServerEntry("mcp-server-postgres", (pg.uri(),))
    env = {"PATH": "/nonexistent", "HOME": str(Path.home())}
    report = asyncio.run(verify_entry(entry, base_env=env, timeout=30))
    assert not report.ok
    assert report.summary == (
        "command not found: mcp-server-postgres "
        "(install it with `npm install -g @modelcontextprotocol/server-postgres`)"
    )


def test_the_servers_stderr_is_reported_masked() -> None:
    script = "import sys; sys.stderr.write('cannot connect to ' + sys.argv[1] + '\\n'); sys.exit(3)"
    uri = f"postgresql://u:{quote(SPECIAL_PASSWORD, safe='')}@h/db"
    report = asyncio.run(verify_entry(ServerEntry(sys.executable, ("-c", script, uri)), timeout=30))
    assert not report.ok
    assert report.summary.startswith("initialize failed:")
    assert "cannot connect to postgresql://u:****@h/db" in report.stderr
    assert "server stderr:\ncannot connect to" in report.describe()
    assert_no_password(report)


def test_the_timeout_is_honoured() -> None:
    silent = ServerEntry(sys.executable, ("-c", "import time; time.sleep(60)"))
    started = time.monotonic()
    report = asyncio.run(verify_entry(silent, timeout=1))
    # The SDK's shutdown gives the server 2 s after stdin closes, then terminates it.
    assert time.monotonic() - started < 8
    assert not report.ok
    assert report.summary == "no answer within 1 s during initialize"


def test_a_server_without_a_sql_tool_is_reported(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(
        "from mcp.server.mcpserver import MCPServer\n"
        "app = MCPServer('no-sql')\n"
        "@app.tool()\n"
        "def hello() -> str:\n"
        "    return 'hi'\n"
        "app.run()\n"
    )
    report = asyncio.run(verify_entry(ServerEntry(sys.executable, (str(server),)), timeout=30))
    assert not report.ok, report
    assert report.summary == "the server offers no SQL tool (tools: ('hello',))"


# A stand-in for `supalink mcp-serve` (verify knows Supalink's server by its args): it
# records each SQL text it is sent, and refuses or runs what is not a plain select.
GUARDED_SERVER = """
import sys
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

log, mode = sys.argv[1], sys.argv[2]
app = MCPServer("guarded")

@app.tool()
def query(sql: str) -> str:
    with open(log, "a") as seen:
        seen.write(sql + "\\n")
    plain = sql.strip().lower() == "select 1"
    if not plain and (mode == "refuse" or (mode == "half" and ";" in sql)):
        raise ToolError("refused: the server is read-only")
    return '[{"?column?": 1}]'

app.run()
"""


def guarded(tmp_path: Path, mode: str, *serve: str) -> tuple[ServerEntry, Path]:
    script, log = tmp_path / "guarded.py", tmp_path / "seen.log"
    script.write_text(GUARDED_SERVER)
    return ServerEntry(sys.executable, (str(script), str(log), mode, "mcp-serve", *serve)), log


def test_supalinks_server_must_refuse_a_write_and_a_stacked_commit(tmp_path: Path) -> None:
    entry, log = guarded(tmp_path, "refuse", "--profile", "p")
    report = asyncio.run(verify_entry(entry, timeout=30))
    assert report.ok, report.describe()
    assert report.summary == (
        "the server answered query 'select 1' and refused a write and several statements in "
        "one query"
    )
    assert [check.sql for check in report.guard] == [
        "create temporary table supalink_verify_probe (x int)",
        "select 1; commit; select 1",
    ]
    assert all(check.refused for check in report.guard)
    said = "(Error executing tool query: refused: the server is read-only)"  # the SDK's words
    assert report.details() == [
        f"refused a write: 'create temporary table supalink_verify_probe (x int)' {said}",
        f"refused several statements in one query: 'select 1; commit; select 1' {said}",
    ]
    assert not report.writes_allowed
    assert log.read_text().splitlines() == ["select 1", *(check.sql for check in report.guard)]


@pytest.mark.parametrize(
    ("mode", "accepted"),
    [
        ("accept", "a write and several statements in one query"),
        ("half", "a write"),  # refuses only the stacked text
    ],
)
def test_a_server_that_runs_what_it_must_refuse_fails_verify(
    tmp_path: Path, mode: str, accepted: str
) -> None:
    entry, _ = guarded(tmp_path, mode, "--uri-env", "SUPALINK_DATABASE_URI")
    report = asyncio.run(verify_entry(entry, timeout=30))
    assert not report.ok
    assert report.summary == f"the server accepted {accepted}, which it must refuse"
    assert "ACCEPTED a write: 'create temporary table" in report.describe()


def test_with_writes_allowed_no_write_is_sent_and_the_report_says_so(tmp_path: Path) -> None:
    entry, log = guarded(tmp_path, "accept", "--profile", "p", "--allow-writes")
    report = asyncio.run(verify_entry(entry, timeout=30))
    assert report.ok, report.describe()
    assert report.writes_allowed
    assert report.guard == ()
    assert report.summary == "the server answered query 'select 1'; writes are allowed"
    assert report.details() == [
        "writes are allowed: the agent can change data (no write was tried)"
    ]
    assert log.read_text() == "select 1\n"


def test_other_servers_are_sent_select_1_only(tmp_path: Path) -> None:
    script, log = tmp_path / "guarded.py", tmp_path / "seen.log"
    script.write_text(GUARDED_SERVER)
    entry = ServerEntry(sys.executable, (str(script), str(log), "accept"))
    report = asyncio.run(verify_entry(entry, timeout=30))
    assert report.ok, report.describe()
    assert (report.guard, report.writes_allowed) == ((), False)
    assert report.describe() == "the server answered query 'select 1'"
    assert log.read_text() == "select 1\n"

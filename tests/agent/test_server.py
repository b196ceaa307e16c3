"""`supalink mcp-serve` as a client starts it: a real process, the MCP SDK's client on its
stdio, the password from the real Secret Service, the real SSL server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from supalink.agent import read_entries
from supalink.paths import AppPaths
from tests.agent.conftest import ROWS, Victim
from tests.support.cli import SUPALINK, run_cli
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.profiles import save_profile
from tests.support.secret_service import SecretService
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

TOOLS = {"query", "list_schemas", "list_tables", "describe_table", "explain", "notifications"}


class Client:
    def __init__(self, session: Any) -> None:
        self.session = session

    async def call(self, tool: str, **arguments: Any) -> tuple[bool, str]:
        result = await self.session.call_tool(tool, arguments)
        text = "\n".join(block.text for block in result.content if getattr(block, "text", None))
        return bool(result.is_error), text

    async def data(self, tool: str, **arguments: Any) -> Any:
        is_error, text = await self.call(tool, **arguments)
        assert not is_error, text
        match = re.search(r"<(untrusted-data-[0-9a-f]{32})>\n(.*)\n</\1>", text, re.DOTALL)
        assert match, text
        return json.loads(match.group(2))


@asynccontextmanager
async def served(args: Sequence[str], env: dict[str, str]) -> AsyncIterator[Client]:
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=SUPALINK, args=list(args), env=env)
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield Client(session)


def environment(home: Path) -> dict[str, str]:
    return {**os.environ, "SUPALINK_HOME": str(home)}


@pytest.mark.slow
def test_every_tool_answers_through_the_real_server_and_no_password_is_in_its_process(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer, victim: Victim
) -> None:
    name = save_profile(tmp_path, pg)
    schema = victim.schema

    def notify(*payloads: str) -> None:
        """In one transaction: sent apart, the second could still be on its way to the
        server's listen connection when the call that should bring both is answered."""
        with pg.admin_connect() as conn, conn.transaction():
            for payload in payloads:
                conn.execute("SELECT pg_notify(%s, %s)", (f"{schema}_ch", payload))

    async def scenario() -> dict[str, Any]:
        found: dict[str, Any] = {}
        async with served(["mcp-serve", "--profile", name], environment(tmp_path)) as client:
            listing = await client.session.list_tools()
            found["tools"] = {tool.name for tool in listing.tools}
            found["query"] = await client.data(
                "query",
                sql=f"select id, name from {schema}.items where id <= $1 order by id",
                params=[2],
            )
            found["schemas"] = await client.data("list_schemas")
            found["tables"] = await client.data("list_tables", schema=schema)
            found["table"] = await client.data("describe_table", schema=schema, table="items")
            found["missing"] = await client.call("describe_table", schema=schema, table="nope")
            found["plan"] = await client.data("explain", sql=f"delete from {schema}.items")
            channel = f"{schema}_ch"
            found["first"] = await client.data("notifications", channel=channel)
            await asyncio.to_thread(notify, "one", "two")
            found["queued"] = await client.data("notifications", channel=channel, wait_seconds=5)
            asyncio.get_running_loop().call_later(
                0.3, lambda: asyncio.ensure_future(asyncio.to_thread(notify, "late"))
            )
            started = time.monotonic()
            found["waited"] = await client.data("notifications", channel=channel, wait_seconds=10)
            found["waited_for"] = time.monotonic() - started
            entries = list(read_entries(AppPaths.under(tmp_path).audit_file))
            pid = entries[-1].pid
            found["cmdline"] = Path(f"/proc/{pid}/cmdline").read_bytes()
            found["environ"] = Path(f"/proc/{pid}/environ").read_bytes()
        return found

    found = asyncio.run(scenario())
    assert found["tools"] == TOOLS
    assert found["query"]["columns"] == ["id", "name"]
    assert found["query"]["rows"] == [list(row) for row in ROWS[:2]]
    assert found["query"]["truncated"] is False
    assert schema in [row["schema"] for row in found["schemas"]]
    tables = {row["name"]: row for row in found["tables"]}
    assert sorted(tables) == ["items", "side_log"]
    items = tables["items"]
    assert items["kind"] == "table"
    assert items["can_select"] is True
    table = found["table"]
    assert [column["name"] for column in table["columns"]] == ["id", "name"]
    assert table["columns"][0]["type"] == "integer"
    assert table["rls_enabled"] is False
    assert [c["type"] for c in table["constraints"]] == ["primary key"]
    assert "items_pkey" in [index["name"] for index in table["indexes"]]
    assert found["missing"][0] is True
    assert found["plan"]["plan"][0]["Plan"]["Node Type"] == "ModifyTable"
    assert found["first"]["notifications"] == []
    assert [n["payload"] for n in found["queued"]["notifications"]] == ["one", "two"]
    assert [n["payload"] for n in found["waited"]["notifications"]] == ["late"]
    assert found["waited_for"] < 5.0  # woken by the arrival, not by the 10 s wait
    for secret in (pg.password, quote(pg.password, safe="")):
        assert secret.encode() not in found["cmdline"]
        assert secret.encode() not in found["environ"]
    assert b"mcp-serve" in found["cmdline"]
    # Every call is in the audit, with the profile's name.
    entries = list(read_entries(AppPaths.under(tmp_path).audit_file, profile=name))
    calls = [entry for entry in entries if not entry.is_login]
    assert [entry.tool for entry in calls][:3] == ["query", "list_schemas", "list_tables"]
    assert calls[0].statement is not None
    assert "items" in calls[0].statement


@pytest.mark.slow
def test_rows_stop_at_the_limit_and_a_slow_statement_at_the_timeout(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer
) -> None:
    name = save_profile(tmp_path, pg)
    args = ["mcp-serve", "--profile", name, "--max-rows", "3", "--statement-timeout", "0.5"]

    async def scenario() -> dict[str, Any]:
        async with served(args, environment(tmp_path)) as client:
            many = await client.data("query", sql="select g from generate_series(1, 100000) g")
            _, many_text = await client.call("query", sql="select g from generate_series(1, 9) g")
            started = time.monotonic()
            slow = await client.call("query", sql="select pg_sleep(10)")
            elapsed = time.monotonic() - started
            after = await client.data("query", sql="select 1 as still")
        return {"many": many, "text": many_text, "slow": slow, "elapsed": elapsed, "after": after}

    found = asyncio.run(scenario())
    assert found["many"]["rows"] == [[1], [2], [3]]
    assert found["many"]["truncated"] is True
    assert found["text"].startswith("Truncated: only the first 3 rows are shown")
    is_error, text = found["slow"]
    assert is_error
    assert "statement timeout" in text
    assert found["elapsed"] < 5.0  # the 0.5 s limit, with a margin
    assert found["after"]["rows"] == [[1]]


@pytest.mark.slow
def test_the_server_keeps_serving_across_a_database_restart(
    tmp_path: Path,
    secret_service: SecretService,
    system_tools: SystemTools,
    services_root: Path,
    tls_files: TlsFiles,
) -> None:
    server = start_postgres(
        system_tools, services_root / f"agent-{uuid.uuid4().hex[:8]}", tls_files
    )
    try:
        name = save_profile(tmp_path, server)

        async def scenario() -> list[Any]:
            async with served(["mcp-serve", "--profile", name], environment(tmp_path)) as client:
                before = await client.data("query", sql="select pg_backend_pid() as pid")
                await asyncio.to_thread(server.stop, "fast")
                await asyncio.to_thread(server.start)
                after = await client.data("query", sql="select pg_backend_pid() as pid")
                return [before["rows"], after["rows"]]

        before, after = asyncio.run(scenario())
        assert before != after  # a new backend answered, on the same session with the agent
    finally:
        if server.is_running():
            server.stop("immediate")


def test_a_uri_from_the_environment(tmp_path: Path, pg: PostgresServer, victim: Victim) -> None:
    env = {**environment(tmp_path), "AGENT_DATABASE_URI": pg.uri()}

    async def scenario() -> Any:
        async with served(["mcp-serve", "--uri-env", "AGENT_DATABASE_URI"], env) as client:
            return await client.data("query", sql=f"select count(*) from {victim.schema}.items")

    assert asyncio.run(scenario())["rows"] == [[len(ROWS)]]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no such profile", "no profile"),
        ("no saved password", "no password in the keyring"),
        ("no URI in the variable", "holds no connection URI"),
        ("no keyring reachable", "keyring"),
    ],
)
def test_a_server_that_cannot_start_says_why_in_one_line(
    tmp_path: Path,
    secret_service: SecretService,
    pg: PostgresServer,
    case: str,
    expected: str,
) -> None:
    env = environment(tmp_path)
    args = ["mcp-serve", "--profile", "nobody"]
    if case == "no saved password":
        args[-1] = save_profile(tmp_path, pg, with_password=False)
    elif case == "no URI in the variable":
        args = ["mcp-serve", "--uri-env", "UNSET_AGENT_URI"]
        env.pop("UNSET_AGENT_URI", None)
    elif case == "no keyring reachable":
        args[-1] = save_profile(tmp_path, pg)
        env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={tmp_path / 'no-bus'}"
    result = run_cli(*args, environ=env, text=True)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0].lower() or expected in lines[0], lines[0]
    assert lines[0].startswith("supalink mcp-serve")
    assert result.stdout == ""
    assert pg.password not in result.stderr


def test_mcp_serve_flags_are_checked_before_anything_starts(tmp_path: Path) -> None:
    for args in (
        ["mcp-serve"],
        ["mcp-serve", "--profile", "x", "--max-rows", "0"],
        ["mcp-serve", "--profile", "x", "--statement-timeout", "soon"],
        ["mcp-serve", "--uri-env", "X", "--sslrootcert", "ca.pem"],
    ):
        result = run_cli(*args, environ=environment(tmp_path), text=True)
        assert result.returncode == 2, (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_psycopg_is_what_answers(pg: PostgresServer) -> None:
    """The fixture's server is reachable as the tests above assume."""
    with psycopg.connect(pg.uri()) as conn:
        assert conn.execute("select 1").fetchone() == (1,)

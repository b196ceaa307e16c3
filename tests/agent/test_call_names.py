"""What a call may name and ask for, through the real server and the SDK's client: a tool or
an argument the listing does not have is JSON-RPC's invalid params (-32602), never a tool's
answer nor silently ignored; `wait_seconds` stays under the Node SDK's 60 s request timeout
and a value outside its range, null among them, is refused rather than clamped."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from supalink.agent import Outcome, read_entries
from supalink.paths import AppPaths
from tests.agent.test_server import environment, served
from tests.support.postgres import PostgresServer

INVALID_PARAMS = -32602


async def _refused(client: Any, tool: str, arguments: dict[str, Any]) -> tuple[int, str]:
    from mcp import MCPError

    with pytest.raises(MCPError) as caught:
        await client.session.call_tool(tool, arguments)
    return caught.value.code, caught.value.message


@pytest.mark.slow
def test_unknown_names_are_invalid_params_and_wait_seconds_stays_under_a_minute(
    tmp_path: Path, pg: PostgresServer
) -> None:
    env = {**environment(tmp_path), "AGENT_DATABASE_URI": pg.uri()}
    channel = f"names_{uuid.uuid4().hex[:8]}"

    async def scenario() -> dict[str, Any]:
        found: dict[str, Any] = {}
        async with served(["mcp-serve", "--uri-env", "AGENT_DATABASE_URI"], env) as client:
            listing = await client.session.list_tools()
            found["schemas"] = {tool.name: tool.input_schema for tool in listing.tools}
            found["unknown tool"] = await _refused(client, "drop_everything", {})
            found["one extra"] = await _refused(client, "query", {"sql": "select 1", "timeout": 5})
            found["several extra"] = await _refused(
                client, "list_schemas", {f"x{n}": n for n in range(7)}
            )
            found["still serving"] = await client.data("query", sql="select 1 as one")
            found["51"] = await client.call("notifications", channel=channel, wait_seconds=51)
            found["null"] = await client.call("notifications", channel=channel, wait_seconds=None)
            found["-1"] = await client.call("notifications", channel=channel, wait_seconds=-1)
            found["text"] = await client.call("notifications", channel=channel, wait_seconds="5")
            # 50 is taken; a notification already waiting answers it at once.
            await client.data("notifications", channel=channel)
            with pg.admin_connect() as conn:
                conn.execute("SELECT pg_notify(%s, 'ready')", (channel,))
            found["50"] = await client.data("notifications", channel=channel, wait_seconds=50)
        return found

    found = asyncio.run(scenario())
    for schema in found["schemas"].values():
        assert schema["additionalProperties"] is False
    assert found["schemas"]["notifications"]["properties"]["wait_seconds"]["maximum"] == 50
    assert found["unknown tool"] == (INVALID_PARAMS, "Unknown tool: 'drop_everything'")
    assert found["one extra"] == (
        INVALID_PARAMS,
        "Unknown argument for tool 'query': 'timeout' (it takes: sql, params)",
    )
    assert found["several extra"] == (
        INVALID_PARAMS,
        "Unknown arguments for tool 'list_schemas': 'x0', 'x1', 'x2', 'x3', 'x4' and 2 more "
        "(it takes: none)",
    )
    assert found["still serving"]["rows"] == [[1]]
    assert found["51"] == (True, "wait_seconds must be from 0 to 50 seconds")
    assert found["-1"] == (True, "wait_seconds must be from 0 to 50 seconds")
    assert found["null"] == (True, "wait_seconds must be a number of seconds (leave it out for 0)")
    assert found["text"] == found["null"]
    assert [n["payload"] for n in found["50"]["notifications"]] == ["ready"]
    # The refused calls are in the audit, as bad input.
    entries = [e for e in read_entries(AppPaths.under(tmp_path).audit_file) if not e.is_login]
    bad = [(e.tool, e.error) for e in entries if e.outcome is Outcome.BAD_INPUT]
    assert ("drop_everything", "Unknown tool: 'drop_everything'") in bad
    assert any(tool == "query" and "'timeout'" in (error or "") for tool, error in bad)

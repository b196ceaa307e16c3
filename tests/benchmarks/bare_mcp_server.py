"""The baseline of the mcp-serve benchmarks: the least an MCP server on the official SDK can
be. The SDK's lowlevel server over stdio with one `query` tool that runs the SQL with
psycopg on one connection; the URI in argv. No keyring, no pool, no guard, no audit log.

    python tests/benchmarks/bare_mcp_server.py URI

It connects while the client initializes (as `supalink mcp-serve` opens its pool in the
background), so the baseline is as quick as such a server gets.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import psycopg
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)
from psycopg.rows import dict_row

QUERY_TOOL = Tool(
    name="query",
    description="Run a SQL query",
    input_schema={
        "type": "object",
        "properties": {"sql": {"type": "string"}},
        "required": ["sql"],
    },
)


async def serve(uri: str) -> None:
    connecting = asyncio.create_task(
        psycopg.AsyncConnection.connect(uri, autocommit=True, row_factory=dict_row)
    )

    async def list_tools(_: Any, __: PaginatedRequestParams | None) -> ListToolsResult:
        return ListToolsResult(tools=[QUERY_TOOL])

    async def call_tool(_: Any, params: CallToolRequestParams) -> CallToolResult:
        sql = str((params.arguments or {}).get("sql", ""))
        try:
            conn = await connecting
            cursor = await conn.execute(sql)
            rows = await cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            return CallToolResult(content=[TextContent(text=str(error))], is_error=True)
        return CallToolResult(content=[TextContent(text=json.dumps(rows, default=str))])

    server: Server[Any] = Server("bare", on_list_tools=list_tools, on_call_tool=call_tool)
    try:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        if connecting.done() and not connecting.exception():
            await connecting.result().close()
        else:
            connecting.cancel()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: bare_mcp_server.py URI")
    asyncio.run(serve(sys.argv[1]))

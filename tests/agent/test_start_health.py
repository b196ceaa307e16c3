"""A client that only starts the server and reads `initialize` (Claude Code's health check)
learns whether the server can reach its database: a wrong password, an unknown database and
a closed port are said in the instructions, and by every call, without the password."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from supalink.agent.server import INSTRUCTIONS
from tests.support.cli import SUPALINK
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

WRONG_PASSWORD = "wrong-pw-7Qz"
FAILING = "Every tool call fails until this is fixed: "


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago, and nothing here
    listens on ports it did not choose)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def start_and_call(uri: str, home: Path) -> dict[str, Any]:
    """Start `mcp-serve` as a client does, keep `initialize`'s answer, then call `query`."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {**os.environ, "SUPALINK_HOME": str(home), "AGENT_DATABASE_URI": uri}
    params = StdioServerParameters(
        command=SUPALINK, args=["mcp-serve", "--uri-env", "AGENT_DATABASE_URI"], env=env
    )
    home.mkdir(parents=True, exist_ok=True)
    stderr_path = home / "stderr.log"
    with stderr_path.open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            hello = await session.initialize()
            result = await session.call_tool("query", {"sql": "select 1 as one"})
    text = "\n".join(str(getattr(block, "text", "")) for block in result.content)
    return {
        "instructions": hello.instructions or "",
        "is_error": bool(result.is_error),
        "text": text,
        "stderr": stderr_path.read_bytes(),
    }


REFUSED = "the database refused this login: "
UNREACHABLE = "the database cannot be reached ("


@pytest.mark.slow
@pytest.mark.parametrize(
    ("case", "lead", "detail"),
    [
        ("wrong password", REFUSED, "password authentication failed"),
        ("unknown database", REFUSED, 'database "no_such_db_32" does not exist'),
        ("closed port", UNREACHABLE, "Connection refused) after "),
    ],
)
def test_a_failed_start_is_said_in_initialize_and_by_every_call(
    tmp_path: Path, pg: PostgresServer, case: str, lead: str, detail: str
) -> None:
    if case == "wrong password":
        uri = pg.uri(password=WRONG_PASSWORD)
    elif case == "unknown database":
        uri = pg.uri(dbname="no_such_db_32")
    else:
        uri = pg.uri(port=closed_port())
    found = asyncio.run(start_and_call(uri, tmp_path / "home"))
    told, answer = found["instructions"], found["text"]
    assert told.startswith(FAILING + lead), told
    assert told.endswith(INSTRUCTIONS)
    assert found["is_error"]
    assert answer.startswith(lead), answer
    if case == "closed port":  # each call's answer comes from an attempt of its own
        assert "Connection refused) after " in answer
        assert answer.endswith("attempts; the server keeps trying"), answer
    else:
        assert detail in answer
        assert answer.endswith("fix the profile in Supalink, then restart the client")
        assert told == f"{FAILING}{answer}. {INSTRUCTIONS}"
    assert detail in told
    # Said in the client's log too, once.
    assert found["stderr"].count(lead.encode()) == 1, found["stderr"]
    for secret in (WRONG_PASSWORD, pg.password):
        for said in (told, answer):
            assert secret.encode() not in said.encode()
        assert secret.encode() not in found["stderr"]


def test_a_good_start_says_the_usual_instructions_and_answers(
    tmp_path: Path, pg: PostgresServer
) -> None:
    found = asyncio.run(start_and_call(pg.uri(), tmp_path / "home"))
    assert found["instructions"] == INSTRUCTIONS
    assert not found["is_error"], found["text"]
    assert '"rows": [[1]]' in found["text"] or "[[1]]" in found["text"], found["text"]
    assert found["stderr"] == b""


@pytest.mark.slow
def test_a_database_that_comes_up_after_the_start_is_served(
    tmp_path: Path, system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> None:
    """A refused port is said, and tried again: once the server answers, calls are served."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    server = start_postgres(system_tools, services_root / f"late-{uuid.uuid4().hex[:8]}", tls_files)
    try:
        server.stop("fast")
        env = {**os.environ, "SUPALINK_HOME": str(tmp_path), "AGENT_DATABASE_URI": server.uri()}
        params = StdioServerParameters(
            command=SUPALINK, args=["mcp-serve", "--uri-env", "AGENT_DATABASE_URI"], env=env
        )

        async def scenario() -> tuple[str, bool, bool]:
            with open(os.devnull, "w") as errlog:
                async with (
                    stdio_client(params, errlog=errlog) as (read, write),
                    ClientSession(read, write) as session,
                ):
                    hello = await session.initialize()
                    down = await session.call_tool("query", {"sql": "select 1"})
                    await asyncio.to_thread(server.start)
                    deadline = time.monotonic() + 20  # backoff is 2 s at most
                    up = await session.call_tool("query", {"sql": "select 1"})
                    while up.is_error and time.monotonic() < deadline:
                        up = await session.call_tool("query", {"sql": "select 1"})
                    return hello.instructions or "", bool(down.is_error), bool(up.is_error)

        told, down_failed, up_failed = asyncio.run(scenario())
        assert told.startswith(FAILING + UNREACHABLE), told
        assert down_failed
        assert not up_failed
    finally:
        if server.is_running():
            server.stop("immediate")

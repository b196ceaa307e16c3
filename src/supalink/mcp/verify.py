"""Prove a written server entry works: start it as the client would and ask it `select 1`.

A config that parses is not a config that works: the command may be missing, the
URI may be rejected, the CA may not reach the TLS layer. This starts the server
from the entry exactly as written, speaks MCP to it with the official SDK, and
reports what the server said, its stderr included, with secrets masked.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from supalink.logs import SecretMasker
from supalink.mcp.templates import (
    REFERENCE_BINARY,
    REFERENCE_PACKAGE,
    ServerEntry,
    entry_secrets,
)

DEFAULT_TIMEOUT: Final = 30.0
PROBE_SQL: Final = "select 1"
# The reference server calls its tool `query`; postgres-mcp calls it `execute_sql`.
QUERY_TOOLS: Final = ("query", "execute_sql")
_STDERR_LIMIT: Final = 4000


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    summary: str  # one line, masked
    tools: tuple[str, ...] = ()
    answer: str = ""  # the query tool's text answer, masked
    stderr: str = ""  # the server's stderr, masked and trimmed to its end
    elapsed: float = 0.0

    def describe(self) -> str:
        lines = [self.summary]
        if not self.ok and self.stderr.strip():
            lines += ["server stderr:", self.stderr.rstrip()]
        return "\n".join(lines)


def _pick_tool(tools: Sequence[Any]) -> Any | None:
    by_name = {tool.name: tool for tool in tools}
    for name in QUERY_TOOLS:
        if name in by_name:
            return by_name[name]
    for tool in tools:
        if "sql" in (tool.input_schema or {}).get("properties", {}):
            return tool
    return None


def _text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "text", None))


def _leaf(error: BaseException) -> BaseException:
    """The first real error inside task-group wrappers."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _hint(entry: ServerEntry) -> str:
    if entry.command == REFERENCE_BINARY:
        return f" (install it with `npm install -g {REFERENCE_PACKAGE}`)"
    if entry.command in ("npx", "uvx"):
        return f" (install {'Node.js' if entry.command == 'npx' else 'uv'} and put it on PATH)"
    return ""


async def verify_entry(
    entry: ServerEntry,
    *,
    base_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    secrets: Iterable[str] = (),
) -> VerifyReport:
    """Start the server, initialize, list tools, run `select 1`; never raises for a failure.

    The server's environment is `base_env` (the caller's environment by default) with the
    entry's `env` on top, as MCP clients do.
    """
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    masker = SecretMasker()
    masker.add_secrets([*secrets, *entry_secrets(entry)])
    env = {**(os.environ if base_env is None else base_env), **entry.env}
    params = StdioServerParameters(command=entry.command, args=list(entry.args), env=env)
    started = time.monotonic()
    stage = "starting the server"
    tools: tuple[str, ...] = ()
    # (ok, summary, answer, when answered); reported once the server has been shut down, so
    # its stderr is complete.
    outcome: tuple[bool, str, str, float] | None = None
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            async with (
                asyncio.timeout(timeout),
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                stage = "initialize"
                await session.initialize()
                stage = "tools/list"
                listing = await session.list_tools()
                tools = tuple(tool.name for tool in listing.tools)
                tool = _pick_tool(listing.tools)
                if tool is None:
                    summary = f"the server offers no SQL tool (tools: {tools})"
                    outcome = (False, summary, "", time.monotonic())
                else:
                    stage = f"calling {tool.name} with {PROBE_SQL!r}"
                    result = await session.call_tool(tool.name, {"sql": PROBE_SQL})
                    answer = _text_of(result)
                    if result.is_error:
                        outcome = (False, f"{stage} failed: {answer}", answer, time.monotonic())
                    else:
                        summary = f"the server answered {tool.name} {PROBE_SQL!r}"
                        outcome = (True, summary, answer, time.monotonic())
        except TimeoutError:
            # The deadline may fall in the SDK's shutdown grace, after the answer came.
            if outcome is None:
                summary = f"no answer within {timeout:g} s during {stage}"
                outcome = (False, summary, "", time.monotonic())
        except Exception as error:  # anything the server or the SDK raised is the finding
            leaf = _leaf(error)
            if isinstance(leaf, FileNotFoundError) and stage == "starting the server":
                summary = f"command not found: {entry.command}{_hint(entry)}"
            else:
                summary = f"{stage} failed: {type(leaf).__name__}: {leaf}"
            outcome = outcome or (False, summary, "", time.monotonic())
        assert outcome is not None
        ok, summary, answer, answered = outcome
        errlog.flush()
        errlog.seek(0)
        stderr = errlog.read()[-_STDERR_LIMIT:]
    return VerifyReport(
        ok,
        masker.mask(summary),
        tools,
        masker.mask(answer),
        masker.mask(stderr),
        answered - started,
    )

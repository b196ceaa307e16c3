"""Prove a written server entry works: start it as the client would and ask it `select 1`;
for Supalink's own server, also prove that it refuses what a read-only server must.

A config that parses is not a config that works: the command may be missing, the
URI may be rejected, the CA may not reach the TLS layer. This starts the server
from the entry exactly as written, speaks MCP to it with the official SDK, and
reports what the server said, its stderr included, with secrets masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from supalink import __version__
from supalink.logs import SecretMasker
from supalink.mcp.clients import Host
from supalink.mcp.launch_env import Finder, client_environment, launched_command
from supalink.mcp.processes import child_groups, kill_groups
from supalink.mcp.templates import (
    ALLOW_WRITES_ARG,
    REFERENCE_BINARY,
    REFERENCE_PACKAGE,
    ServerEntry,
    entry_secrets,
    serve_args,
)
from supalink.profiles.defaults import VERIFY_CLIENT_NAME

Environment = Literal["client", "shell"]
# A Node.js script (npx, mcp-server-postgres) whose `#!/usr/bin/env node` found no node:
# the shells' and env's own words for it, on Linux, macOS and the BSDs.
_NODE_MISSING: Final = re.compile(
    r"env: '?node'?: No such file|/usr/bin/env: .node.|node: not found|env: node: No such"
)
NODE_MISSING_HINT: Final = (
    " (Node.js is not on the PATH the server was started with: install Node.js, or use "
    "Supalink's own server, which needs none)"
)
DEFAULT_TIMEOUT: Final = 30.0
# How long past the budget a server that has not left is given before it is killed.
KILL_AFTER: Final = 0.1
PROBE_SQL: Final = "select 1"
# What a read-only server must refuse, each harmless if it ran: a temporary table goes with
# the session, and the stacked COMMIT (how the reference server is escaped) is followed by
# a select only.
GUARD_PROBES: Final = (
    ("a write", "create temporary table supalink_verify_probe (x int)"),
    ("several statements in one query", "select 1; commit; select 1"),
)
# The reference server calls its tool `query`; postgres-mcp calls it `execute_sql`.
QUERY_TOOLS: Final = ("query", "execute_sql")
_STDERR_LIMIT: Final = 4000
LOADING_STAGE: Final = "loading the MCP client"
STARTING_STAGE: Final = "starting the server"
_ANSWER_SHOWN: Final = 200


@dataclass(frozen=True)
class GuardCheck:
    """One probe a read-only server must refuse, and what it did with it."""

    what: str  # "a write", ...
    sql: str
    refused: bool  # answered with a tool error
    answer: str = ""  # the server's words, masked

    def describe(self) -> str:
        verdict = "refused" if self.refused else "ACCEPTED"
        said = " ".join(self.answer.split())
        if len(said) > _ANSWER_SHOWN:
            said = said[:_ANSWER_SHOWN] + "…"
        return f"{verdict} {self.what}: {self.sql!r}" + (f" ({said})" if said else "")


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    summary: str  # one line, masked
    tools: tuple[str, ...] = ()
    answer: str = ""  # the query tool's text answer, masked
    stderr: str = ""  # the server's stderr, masked and trimmed to its end
    elapsed: float = 0.0
    # Supalink's own server: what it did with each guard probe, none when writes are allowed.
    guard: tuple[GuardCheck, ...] = ()
    writes_allowed: bool = False  # Supalink's server started with writes allowed: none tried

    def details(self) -> list[str]:
        """A line for each guard probe, or one saying why none was sent."""
        lines = [check.describe() for check in self.guard]
        if self.writes_allowed:
            lines.append("writes are allowed: the agent can change data (no write was tried)")
        return lines

    def describe(self) -> str:
        lines = [self.summary, *self.details()]
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


def _server_environment(
    entry: ServerEntry, base_env: Mapping[str, str] | None, environment: Environment, host: Host
) -> dict[str, str] | str:
    """The environment to start the server with, or why the client could not start it."""
    if base_env is not None:
        return {**base_env, **entry.env}
    if environment == "shell":
        return {**os.environ, **entry.env}
    env = client_environment(host, os.environ, entry.env)
    return _found_only_in_the_shell(entry, host, env) or env


def _found_only_in_the_shell(entry: ServerEntry, host: Host, env: Mapping[str, str]) -> str | None:
    """Why the client will not find the entry's command when the caller's shell does (an
    nvm, fnm, Volta or Homebrew folder on the terminal's PATH only); None otherwise."""
    name = launched_command(entry)
    if host.path(name).is_absolute() or shutil.which(name, path=env.get("PATH", "")):
        return None
    found = Finder(host).find(name, os.environ.get("PATH"))
    if found is None:
        return None  # found nowhere: starting it says so
    return (
        f"command found only in your shell: {name} is {found}, but the PATH a desktop "
        f"client gives the servers it starts ({env.get('PATH', '')}) does not have it; "
        f"write the command as {found} (supalink config write does)"
    )


def _with_node_hint(outcome: _Outcome, stderr: str) -> _Outcome:
    if outcome.ok or not _NODE_MISSING.search(stderr):
        return outcome
    return replace(outcome, summary=f"{outcome.summary}{NODE_MISSING_HINT}")


def _hint(entry: ServerEntry) -> str:
    command = launched_command(entry)  # for the keyring launcher, the server it starts
    if Path(command).name == REFERENCE_BINARY:
        return f" (install it with `npm install -g {REFERENCE_PACKAGE}`)"
    if Path(command).name in ("npx", "uvx"):
        return f" (install {'Node.js' if Path(command).name == 'npx' else 'uv'} and put it on PATH)"
    return ""


async def _load_sdk() -> tuple[Any, Any, Any]:
    """The SDK's client session, server parameters and stdio client, imported on a thread
    of its own: the import takes ~0.5 s, several on a busy machine, and must neither hold
    the loop (a window's) nor outlast the budget. A daemon thread: a process that gave up
    waiting may end before the import does."""
    loop = asyncio.get_running_loop()
    loaded: asyncio.Future[tuple[Any, Any, Any]] = loop.create_future()

    def settle(result: tuple[Any, Any, Any] | None, error: BaseException | None) -> None:
        if loaded.done():  # given up on
            return
        if error is not None:
            loaded.set_exception(error)
        else:
            assert result is not None
            loaded.set_result(result)

    def load() -> None:
        result: tuple[Any, Any, Any] | None = None
        error: BaseException | None = None
        try:
            from mcp.client.session import ClientSession
            from mcp.client.stdio import StdioServerParameters, stdio_client

            result = (ClientSession, StdioServerParameters, stdio_client)
        except BaseException as failure:  # reported by the awaiting side
            error = failure
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=load, name="supalink-load-mcp-sdk", daemon=True).start()
    return await loaded


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    summary: str
    answer: str = ""
    guard: tuple[GuardCheck, ...] = ()
    writes_allowed: bool = False
    answered: float = field(default_factory=time.monotonic)


def _guard_summary(guard: Sequence[GuardCheck]) -> tuple[bool, str]:
    accepted = [check.what for check in guard if not check.refused]
    if accepted:
        return False, f"the server accepted {' and '.join(accepted)}, which it must refuse"
    return True, f"and refused {' and '.join(check.what for check in guard)}"


class _Conversation:
    """The calls verify makes once the server is up; `stage` says which one is under way,
    for a failure or a timeout to name."""

    def __init__(self, entry: ServerEntry) -> None:
        self.entry = entry
        self.stage = STARTING_STAGE
        self.tools: tuple[str, ...] = ()

    async def run(self, session: Any) -> _Outcome:
        self.stage = "initialize"
        await session.initialize()
        self.stage = "tools/list"
        listing = await session.list_tools()
        self.tools = tuple(tool.name for tool in listing.tools)
        tool = _pick_tool(listing.tools)
        if tool is None:
            return _Outcome(False, f"the server offers no SQL tool (tools: {self.tools})")
        result = await self._call(session, tool.name, PROBE_SQL)
        answer = _text_of(result)
        if result.is_error:
            return _Outcome(False, f"{self.stage} failed: {answer}", answer)
        summary = f"the server answered {tool.name} {PROBE_SQL!r}"
        own_args = serve_args(self.entry)
        if own_args is None:
            return _Outcome(True, summary, answer)
        if ALLOW_WRITES_ARG in own_args:
            return _Outcome(True, f"{summary}; writes are allowed", answer, writes_allowed=True)
        guard = []
        for what, sql in GUARD_PROBES:
            refusal = await self._call(session, tool.name, sql)
            guard.append(GuardCheck(what, sql, bool(refusal.is_error), _text_of(refusal)))
        ok, said = _guard_summary(guard)
        return _Outcome(ok, f"{summary} {said}" if ok else said, answer, tuple(guard))

    async def _call(self, session: Any, tool: str, sql: str) -> Any:
        self.stage = f"calling {tool} with {sql!r}"
        return await session.call_tool(tool, {"sql": sql})


async def verify_entry(
    entry: ServerEntry,
    *,
    base_env: Mapping[str, str] | None = None,
    environment: Environment = "client",
    timeout: float = DEFAULT_TIMEOUT,
    secrets: Iterable[str] = (),
    started: float | None = None,
    host: Host | None = None,
) -> VerifyReport:
    """Start the server, initialize, list tools, run `select 1`; for Supalink's own server
    without writes allowed, send the guard probes too. Never raises for a failure.

    The server's environment is, with `environment` "client" (the default), the one a
    desktop client starts servers with on this OS (launch_env.client_environment), or with
    "shell" the caller's own; `base_env` instead of either; the entry's `env` on top, as
    MCP clients do. The `timeout` counts from `started` (on `time.monotonic`'s clock;
    default: now), loading the SDK included: a command counts from its own start.
    """
    if started is None:
        started = time.monotonic()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout - (time.monotonic() - started)
    masker = SecretMasker()
    masker.add_secrets([*secrets, *entry_secrets(entry)])
    env = _server_environment(entry, base_env, environment, host or Host.current())
    if isinstance(env, str):  # the client will not find the command
        return VerifyReport(False, masker.mask(env), (), "", "", 0.0, (), False)
    conversation = _Conversation(entry)
    # Reported once the server has been shut down, so its stderr is complete.
    outcome: _Outcome | None = None
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        kill: asyncio.TimerHandle | None = None
        try:
            async with asyncio.timeout_at(deadline):
                conversation.stage = LOADING_STAGE
                client_session, server_parameters, stdio_client = await _load_sdk()
                from mcp.types import Implementation

                conversation.stage = STARTING_STAGE
                params = server_parameters(command=entry.command, args=list(entry.args), env=env)
                before = child_groups()
                async with stdio_client(params, errlog=errlog) as (read, write):
                    # The SDK's shutdown waits up to 2 s for the server to leave after its
                    # stdin closes, and 2 s more after a SIGTERM: past the budget, its
                    # process group is killed instead.
                    kill = loop.call_at(deadline + KILL_AFTER, kill_groups, child_groups() - before)
                    # Named so, the agent's server records its calls as Supalink's own.
                    client_info = Implementation(name=VERIFY_CLIENT_NAME, version=__version__)
                    async with client_session(read, write, client_info=client_info) as session:
                        outcome = await conversation.run(session)
        except TimeoutError:
            # The deadline may fall in the SDK's shutdown grace, after the answer came.
            if outcome is None:
                outcome = _Outcome(
                    False, f"no answer within {timeout:g} s during {conversation.stage}"
                )
        except Exception as error:  # anything the server or the SDK raised is the finding
            leaf = _leaf(error)
            if isinstance(leaf, FileNotFoundError) and conversation.stage == STARTING_STAGE:
                summary = f"command not found: {entry.command}{_hint(entry)}"
            else:
                summary = f"{conversation.stage} failed: {type(leaf).__name__}: {leaf}"
            outcome = outcome or _Outcome(False, summary)
        finally:
            if kill is not None:
                kill.cancel()
        errlog.flush()
        errlog.seek(0)
        stderr = errlog.read()[-_STDERR_LIMIT:]
    outcome = _with_node_hint(outcome, stderr)
    guard = tuple(
        GuardCheck(check.what, check.sql, check.refused, masker.mask(check.answer))
        for check in outcome.guard
    )
    return VerifyReport(
        outcome.ok,
        masker.mask(outcome.summary),
        conversation.tools,
        masker.mask(outcome.answer),
        masker.mask(stderr),
        outcome.answered - started,
        guard,
        outcome.writes_allowed,
    )

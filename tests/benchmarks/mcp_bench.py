"""`supalink mcp-serve` against a bare SDK server (bare_mcp_server.py), and both beside the
reference server (`mcp-server-postgres`, Node.js), each driven by the SDK's stdio client as
`supalink config verify` drives a written entry.

mcp_first_answer_ratio: spawn, initialize, tools/list and the first `query` answer, for
`supalink mcp-serve --profile NAME` (the password read from the Secret Service inside the
process) over the bare server (the URI in argv); mcp_rss_ratio: the resident memory of
the two at that moment. mcp_query_ratio: the median latency of `query` `select 1` in a
running session, the same two; mcp_rows_ratio: the same for 10,000 narrow rows, Supalink's
started with `--max-rows 10000`. Runs are interleaved, so a slow moment hits every server
alike; all of them reach the same verify-full PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks.figures import median, rss_mb
from tests.benchmarks.services import Services
from tests.benchmarks.startup import compile_package

HERE = Path(__file__).resolve().parent
BARE_SERVER = HERE / "bare_mcp_server.py"
PROBE_SQL = "select 1"
WARM_QUERIES = 20
# mcp_rows_ratio: a table of the benchmark's own, read whole by every server.
ROWS_TABLE = "supalink_bench_rows"
ROW_COUNT = 10_000
ROWS_SQL = f"select id, status from {ROWS_TABLE} order by id limit {ROW_COUNT}"
WARM_ROW_QUERIES = 3
STDERR_SHOWN = 3000


@dataclass(frozen=True)
class McpServer:
    """One server as a client's config would start it."""

    label: str
    command: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Servers:
    supalink: McpServer
    bare: McpServer
    reference: McpServer | None
    reference_missing: str = ""  # why there is no reference server

    def each(self) -> list[McpServer]:
        found = [self.bare, self.supalink]
        return found if self.reference is None else [*found, self.reference]


def _reference(uri: str) -> tuple[McpServer | None, str]:
    """The reference server's binary from the test suite's npm cache (run directly: through
    `npx -y` each start would add npm's resolving); None and why when Node.js or the package
    cannot be had here."""
    from supalink.mcp.templates import REFERENCE_BINARY
    from tests.support.reference_server import install_reference_server

    try:
        installed = install_reference_server()
    except Exception as error:  # no npx, no registry: reported, not failed
        return None, f"{type(error).__name__}: {error}".strip()[:300]
    env = installed.environment()
    return McpServer("reference", str(installed.bin_dir / REFERENCE_BINARY), (uri,), env), ""


@contextlib.contextmanager
def servers(services: Services, *serve_flags: str) -> Iterator[Servers]:
    """The three servers, with a saved profile (its password in the Secret Service) for
    Supalink's under a SUPALINK_HOME of their own; `serve_flags` go to `mcp-serve`."""
    from supalink.mcp.templates import SERVE_COMMAND, supalink_command

    assert services.pg is not None
    compile_package()
    uri = services.pg.uri()
    with tempfile.TemporaryDirectory(prefix="supalink-bench-home-") as home:
        name = services.save_profile(Path(home))
        env = {**os.environ, "SUPALINK_HOME": home}
        command, prefix = supalink_command()
        supalink = McpServer(
            "supalink", command, (*prefix, SERVE_COMMAND, "--profile", name, *serve_flags), env
        )
        bare = McpServer("bare", sys.executable, (str(BARE_SERVER), uri), dict(os.environ))
        reference, missing = _reference(uri)
        yield Servers(supalink, bare, reference, missing)


def _text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content if getattr(block, "text", None))


@contextlib.asynccontextmanager
async def _session(server: McpServer) -> AsyncIterator[Any]:
    """A client session, not yet initialized; a failure carries the server's stderr. On
    leaving, the SDK closes the server's stdin and waits up to 2 s for it to exit (the
    reference server never does, so each of its starts costs 2 s of wall time, unmeasured)."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=server.command, args=list(server.args), env=server.env)
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        try:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                yield session
        except Exception as error:
            errlog.seek(0)
            stderr = errlog.read()[-STDERR_SHOWN:]
            raise RuntimeError(f"{server.label} failed: {error!r}\nstderr:\n{stderr}") from error


async def _query(session: Any, server: McpServer) -> None:
    result = await session.call_tool("query", {"sql": PROBE_SQL})
    text = _text_of(result)
    if result.is_error or "1" not in text:
        raise RuntimeError(f"{server.label} answered {PROBE_SQL!r} with: {text[:500]}")


def _children() -> set[int]:
    """This process's children, from /proc (Linux): the SDK's client does not say the pid
    of the server it spawned."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The command name may hold spaces: the fields start after its closing parenthesis.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():
                found.add(int(entry.name))
    return found


@dataclass(frozen=True)
class FirstAnswer:
    seconds: float  # from spawning the server to the client holding its first `query` answer
    rss_mb: float  # the server's resident memory then


async def _first_answer(server: McpServer) -> FirstAnswer:
    before = _children()
    started = time.perf_counter()
    async with _session(server) as session:
        await session.initialize()
        listing = await session.list_tools()
        if "query" not in {tool.name for tool in listing.tools}:
            raise RuntimeError(f"{server.label} has no query tool")
        await _query(session, server)
        seconds = time.perf_counter() - started  # before the server is shut down
        spawned = _children() - before
        if len(spawned) != 1:
            raise RuntimeError(f"{server.label}: not one new child process but {spawned}")
        return FirstAnswer(seconds, rss_mb(spawned.pop()))


async def _first_answers(each: list[McpServer], runs: int) -> dict[str, list[FirstAnswer]]:
    for server in each:  # warm: bytecode written, files in the page cache, npm resolved
        await _first_answer(server)
    found: dict[str, list[FirstAnswer]] = {server.label: [] for server in each}
    for _ in range(runs):  # interleaved
        for server in each:
            found[server.label].append(await _first_answer(server))
    return found


@contextlib.asynccontextmanager
async def _running(each: list[McpServer]) -> AsyncIterator[list[tuple[McpServer, Any]]]:
    """A session with each server, all open at once, initialized and listed as a client
    does (the SDK's client wants the listing too)."""
    async with contextlib.AsyncExitStack() as stack:
        sessions = []
        for server in each:
            session = await stack.enter_async_context(_session(server))
            await session.initialize()
            await session.list_tools()
            sessions.append((server, session))
        yield sessions


async def _latencies(each: list[McpServer], queries: int) -> dict[str, list[float]]:
    """One `select 1` to each server in turn."""
    async with _running(each) as sessions:
        for _ in range(WARM_QUERIES):  # the pools filled, the catalog caches warm
            for server, session in sessions:
                await _query(session, server)
        times: dict[str, list[float]] = {server.label: [] for server in each}
        for _ in range(queries):
            for server, session in sessions:
                started = time.perf_counter()
                await _query(session, server)
                times[server.label].append(time.perf_counter() - started)
    return times


async def _all_rows(session: Any, server: McpServer) -> None:
    result = await session.call_tool("query", {"sql": ROWS_SQL})
    text = _text_of(result)
    # The last row's id, and for Supalink's the whole count, untruncated.
    whole = f'"row_count":{ROW_COUNT},"truncated":false' in text
    if result.is_error or str(ROW_COUNT) not in text or (server.label == "supalink" and not whole):
        raise RuntimeError(f"{server.label} answered {ROWS_SQL!r} with: {text[:500]}")


async def _row_latencies(each: list[McpServer], runs: int) -> dict[str, list[float]]:
    """The whole table from each server in turn."""
    async with _running(each) as sessions:
        for _ in range(WARM_ROW_QUERIES):
            for server, session in sessions:
                await _all_rows(session, server)
        times: dict[str, list[float]] = {server.label: [] for server in each}
        for _ in range(runs):
            for server, session in sessions:
                started = time.perf_counter()
                await _all_rows(session, server)
                times[server.label].append(time.perf_counter() - started)
    return times


def _versus_reference(
    figures: dict[str, Any], found: Servers, key: str, medians: dict[str, float]
) -> None:
    figures[f"{key}_reference_available"] = found.reference is not None
    if found.reference is None:
        figures[f"{key}_reference_missing"] = found.reference_missing
        return
    reference = medians["reference"]
    figures[f"{key}_vs_reference_ratio"] = medians["supalink"] / reference
    figures[f"{key}_bare_vs_reference_ratio"] = medians["bare"] / reference


def first_answer(services: Services, runs: int) -> dict[str, Any]:
    with servers(services) as found:
        answers = asyncio.run(_first_answers(found.each(), runs))
    medians = {label: median([a.seconds for a in each]) for label, each in answers.items()}
    rss = {label: median([a.rss_mb for a in each]) for label, each in answers.items()}
    figures: dict[str, Any] = {
        "mcp_first_answer_ratio": medians["supalink"] / medians["bare"],
        "mcp_first_answer_runs": runs,
        **{f"mcp_first_answer_{label}_s": value for label, value in medians.items()},
        "mcp_rss_ratio": rss["supalink"] / rss["bare"],
        **{f"mcp_rss_{label}_mb": value for label, value in rss.items()},
    }
    _versus_reference(figures, found, "mcp_first_answer", medians)
    return figures


def _make_rows_table(services: Services) -> None:
    """The table mcp_rows_ratio reads, owned by the superuser, readable by the servers'
    login: an id and a short status, as a narrow table of a real database has."""
    from psycopg import sql

    assert services.pg is not None
    with services.pg.admin_connect() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {ROWS_TABLE}")
        conn.execute(
            f"CREATE TABLE {ROWS_TABLE} AS SELECT id, "
            "(array['active','pending','closed','archived'])[1 + id % 4] AS status "
            f"FROM generate_series(1, {ROW_COUNT}) AS id"
        )
        conn.execute(f"ALTER TABLE {ROWS_TABLE} ADD PRIMARY KEY (id)")
        conn.execute(
            sql.SQL("GRANT SELECT ON {} TO {}").format(
                sql.Identifier(ROWS_TABLE), sql.Identifier(services.pg.role)
            )
        )
        conn.execute(f"ANALYZE {ROWS_TABLE}")


def rows(services: Services, runs: int) -> dict[str, Any]:
    _make_rows_table(services)
    with servers(services, "--max-rows", str(ROW_COUNT)) as found:
        times = asyncio.run(_row_latencies(found.each(), runs))
    medians = {label: median(values) for label, values in times.items()}
    figures: dict[str, Any] = {
        "mcp_rows_ratio": medians["supalink"] / medians["bare"],
        "mcp_rows_runs": runs,
        "mcp_rows_count": ROW_COUNT,
        **{f"mcp_rows_{label}_ms": value * 1000 for label, value in medians.items()},
    }
    _versus_reference(figures, found, "mcp_rows", medians)
    return figures


def query(services: Services, queries: int) -> dict[str, Any]:
    with servers(services) as found:
        times = asyncio.run(_latencies(found.each(), queries))
    medians = {label: median(values) for label, values in times.items()}
    figures: dict[str, Any] = {
        "mcp_query_ratio": medians["supalink"] / medians["bare"],
        "mcp_query_count": queries,
        **{f"mcp_query_{label}_ms": value * 1000 for label, value in medians.items()},
    }
    _versus_reference(figures, found, "mcp_query", medians)
    return figures


def _reference_detail(figures: dict[str, Any], key: str, value: str) -> str:
    if not figures.get(f"{key}_reference_available"):
        return f"reference server unavailable: {figures.get(f'{key}_reference_missing', '?')}"
    return (
        f"reference {value} (supalink x{figures[f'{key}_vs_reference_ratio']:.2f}, "
        f"bare x{figures[f'{key}_bare_vs_reference_ratio']:.2f})"
    )


def first_answer_detail(f: dict[str, Any]) -> str:
    """The table's words for mcp_first_answer_ratio."""
    reference = f.get("mcp_first_answer_reference_s", 0.0)
    return (
        f"supalink {f['mcp_first_answer_supalink_s'] * 1000:.0f} ms, "
        f"bare {f['mcp_first_answer_bare_s'] * 1000:.0f} ms, "
        + _reference_detail(f, "mcp_first_answer", f"{reference * 1000:.0f} ms")
        + f" (median of {f['mcp_first_answer_runs']})"
    )


def query_detail(f: dict[str, Any]) -> str:
    """The table's words for mcp_query_ratio."""
    reference = f.get("mcp_query_reference_ms", 0.0)
    return (
        f"supalink {f['mcp_query_supalink_ms']:.2f} ms, bare {f['mcp_query_bare_ms']:.2f} ms, "
        + _reference_detail(f, "mcp_query", f"{reference:.2f} ms")
        + f" (median of {f['mcp_query_count']})"
    )


def rss_detail(f: dict[str, Any]) -> str:
    """The table's words for mcp_rss_ratio."""
    reference = f.get("mcp_rss_reference_mb")
    beside = "" if reference is None else f", reference {reference:.1f} MB"
    return (
        f"supalink {f['mcp_rss_supalink_mb']:.1f} MB, bare {f['mcp_rss_bare_mb']:.1f} MB"
        f"{beside}, after the first answer (median of {f['mcp_first_answer_runs']})"
    )


def rows_detail(f: dict[str, Any]) -> str:
    """The table's words for mcp_rows_ratio."""
    reference = f.get("mcp_rows_reference_ms", 0.0)
    return (
        f"supalink {f['mcp_rows_supalink_ms']:.1f} ms, bare {f['mcp_rows_bare_ms']:.1f} ms, "
        + _reference_detail(f, "mcp_rows", f"{reference:.1f} ms")
        + f", {f['mcp_rows_count']:,} rows (median of {f['mcp_rows_runs']})"
    )


def first_answer_vs_reference_detail(f: dict[str, Any]) -> str:
    """The table's words for mcp_first_answer_vs_reference_ratio."""
    return (
        f"supalink {f['mcp_first_answer_supalink_s'] * 1000:.0f} ms, reference "
        f"{f['mcp_first_answer_reference_s'] * 1000:.0f} ms (median of "
        f"{f['mcp_first_answer_runs']})"
    )

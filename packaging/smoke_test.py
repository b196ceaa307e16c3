"""Smoke-test a frozen Supalink bundle: packaging/build.sh runs this after PyInstaller.

Fails loudly (the frozen app's own output, exit 1) when the bundle does not start, does
not open its main window, lost its resources or hidden imports, cannot see the OS keyring,
cannot serve MCP (`mcp-serve`: initialize and the six tools over stdio), or (on Linux)
cannot open its window on Xvfb or connect to a real verify-full PostgreSQL, where its MCP
server must also answer a query and refuse a write. Prints the bundle's size and the
frozen app's start times.

    .venv/bin/python packaging/smoke_test.py dist/supalink/supalink
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TIMED_RUNS = 5
# What `--self-check` prints on its keyring line when the OS store was found.
EXPECTED_KEYRING = {
    "linux": "Secret Service",
    "darwin": "macOS Keychain",
    "win32": "Windows Credential Manager",
}


# Modules nothing imports statically, or only from C code: the spec and its hook name them.
HIDDEN_MODULES = (
    "uuid",
    "psycopg_binary",
    "psycopg_pool",
    "keyring.backends.SecretService",
    "keyring.backends.libsecret",
    "keyring.backends.kwallet",
    "keyring.backends.chainer",
    "secretstorage",
    "jeepney.io.blocking",
    "qasync",
    "mcp.client.session",
    "mcp.client.stdio",
    "supalink.agent.server",
    "supalink.agent.tools",
    "supalink.agent.session",
    "supalink.agent.stdio",
    "mcp.server.lowlevel",
    "mcp.server.stdio",
    "mcp_types",
    "anyio._backends._asyncio",
)
# What `supalink mcp-serve` offers an agent.
SERVER_TOOLS = (
    "query",
    "list_schemas",
    "list_tables",
    "describe_table",
    "explain",
    "notifications",
)
URI_VARIABLE = "SUPALINK_SMOKE_DATABASE_URI"
# Nothing listens there: initialize and tools/list must answer without the database.
NO_DATABASE_URI = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"
MCP_TIMEOUT = 60.0


class SmokeTestFailure(Exception):
    """The bundle is broken; the message carries what the frozen app printed."""


def run_frozen(
    executable: Path,
    *args: str,
    env: dict[str, str] | None = None,
    platform: str = "offscreen",
    wrapper: tuple[str, ...] = (),
) -> tuple[float, str]:
    """Run the frozen app (offscreen unless told); return its wall time and output, or raise."""
    environment = {**os.environ, **(env or {}), "QT_QPA_PLATFORM": platform}
    started = time.perf_counter()
    try:
        result = subprocess.run(
            [*wrapper, str(executable), *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise SmokeTestFailure(f"{executable} {' '.join(args)} did not exit in 120 s") from error
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SmokeTestFailure(
            f"{executable} {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
    return elapsed, result.stdout


def self_check_lines(output: str) -> dict[str, str]:
    lines = (line.partition(": ") for line in output.splitlines() if ": " in line)
    return {key: value for key, _, value in lines}


def check_self_check(
    executable: Path,
    env: dict[str, str] | None = None,
    platform: str = "offscreen",
    wrapper: tuple[str, ...] = (),
) -> dict[str, str]:
    _, output = run_frozen(executable, "--self-check", env=env, platform=platform, wrapper=wrapper)
    report = self_check_lines(output)
    if report.get("windows") != "main, monitor" or report.get("qt platform") != platform:
        raise SmokeTestFailure(
            f"--self-check did not open the main and monitor windows on {platform}:\n{output}"
        )
    return report


def check_x11(executable: Path) -> str:
    """On Linux, the bundled xcb plugin must load against a real X server when one can be had."""
    if sys.platform != "linux":
        return f"x11: not applicable on {sys.platform}"
    if shutil.which("xvfb-run") is None:
        return "x11: not checked (no xvfb-run; apt-get install xvfb xauth)"
    check_self_check(executable, platform="xcb", wrapper=("xvfb-run", "--auto-servernum"))
    return "x11: the main window opened on Xvfb through the bundled xcb plugin"


def bundle_size(folder: Path) -> int:
    return sum(
        path.lstat().st_size for path in folder.rglob("*") if path.is_file() or path.is_symlink()
    )


def check_contents(folder: Path) -> None:
    """What the spec adds by hand, which a broken hook or path would silently drop."""
    internal = folder / "_internal"
    root = internal if internal.is_dir() else folder
    wanted = [
        root / "supalink" / "resources" / "icons" / "supalink.svg",
        root / "supalink" / "resources" / "icons" / "hicolor" / "256x256" / "apps" / "supalink.png",
    ]
    missing = [str(path) for path in wanted if not path.exists()]
    if not list(root.glob("keyring-*.dist-info/entry_points.txt")):
        missing.append(f"{root}/keyring-*.dist-info/entry_points.txt (keyring's backends)")
    if missing:
        raise SmokeTestFailure("the bundle lacks:\n" + "\n".join(missing))


def check_frozen_modules(executable: Path) -> None:
    """The hidden imports and every subcommand (imported by name) are in the frozen archive."""
    from PyInstaller.archive.readers import CArchiveReader

    from supalink.commands import COMMAND_MODULES

    archive = CArchiveReader(str(executable))
    frozen = set(archive.open_embedded_archive("PYZ.pyz").toc)
    wanted = [*HIDDEN_MODULES, *(f"supalink.commands.{name}" for name in COMMAND_MODULES)]
    missing = [name for name in wanted if name not in frozen]
    if missing:
        raise SmokeTestFailure("the frozen archive lacks modules: " + ", ".join(missing))


def check_libpq(report: dict[str, str]) -> None:
    """The frozen psycopg must use psycopg_binary's own libpq, not fall back to the system's."""
    import psycopg

    if psycopg.pq.__impl__ != "binary":
        raise SmokeTestFailure("the build venv lacks psycopg[binary]: nothing to bundle")
    built = psycopg.pq.version()
    expected = f"{built // 10000}.{built % 100}"
    if report.get("libpq") != expected:
        found = report.get("libpq")
        raise SmokeTestFailure(f"frozen libpq is {found}, psycopg_binary's is {expected}")


def check_keyring(executable: Path) -> str:
    """The frozen app must find the OS keyring backend through the entry points it carries."""
    expected = EXPECTED_KEYRING.get(sys.platform)
    if expected is None:
        return f"keyring: not checked on {sys.platform}"
    if sys.platform != "linux":
        found = check_self_check(executable)["keyring"]
    else:
        # A real, unlocked gnome-keyring on a private D-Bus: the one the test suite uses.
        sys.path.insert(0, str(REPO))
        from tests.support.secret_service import SecretService
        from tests.support.system_tools import ensure_system_tools

        tools = ensure_system_tools()
        with tempfile.TemporaryDirectory(prefix="supalink-smoke-") as scratch:
            service = SecretService(tools.dbus_daemon, tools.gnome_keyring_daemon, Path(scratch))
            service.start()
            try:
                found = check_self_check(executable, env=service.environment())["keyring"]
            finally:
                service.stop()
    if expected not in found:
        raise SmokeTestFailure(f"the frozen app's keyring is {found!r}, expected {expected}")
    return f"keyring: {found}"


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[tuple[str, str]]:
    """A real verify-full PostgreSQL (the test suite's, with its awkward password) for the
    length of the block: its app role's URI and password."""
    sys.path.insert(0, str(REPO))
    from tests.support.accounts import service_account
    from tests.support.postgres import PostgresServer
    from tests.support.system_tools import ensure_system_tools
    from tests.support.tls import make_tls_files

    tools = ensure_system_tools()
    with tempfile.TemporaryDirectory(prefix="supalink-smoke-") as scratch:
        root = Path(scratch)
        root.chmod(0o755)  # the server runs unprivileged
        tls = make_tls_files(tools.openssl, root / "tls")
        server = PostgresServer(tools.pg_bindir, root / "pg", service_account(), tls)
        server.init()
        server.start()
        try:
            server.create_role()
            yield server.uri("127.0.0.1", sslrootcert=tls.ca_cert), server.password
        finally:
            server.stop("immediate")


def check_database(executable: Path, uri: str, password: str) -> str:
    """Frozen psycopg (C implementation, bundled libpq, OpenSSL) and psycopg_pool: `supalink
    monitor` opens its pool and LISTENs on a real verify-full PostgreSQL, reports healthy,
    and never prints the password."""
    _, output = run_frozen(
        executable, "monitor", "--uri", uri, "--channel", "smoke", "--duration", "2", "--json"
    )
    if password in output:
        raise SmokeTestFailure("`supalink monitor` printed the database password")
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    healthy = [e for e in events if e["event"] == "health" and e["status"] == "healthy"]
    listening = [e for e in events if e["event"] == "listening"]
    if not healthy or not listening:
        raise SmokeTestFailure(f"`supalink monitor` was not healthy and listening:\n{output}")
    return "database: `supalink monitor` pooled, listened and was healthy on verify-full TLS"


async def _serve_without_database(executable: Path, home: str) -> tuple[list[str], float]:
    """initialize and tools/list with the SDK's stdio client, the URI pointing at nothing:
    the server answers both before its pool has a connection. (A query would wait for one
    for 15 s before its tool error.)"""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=str(executable),
        args=["mcp-serve", "--uri-env", URI_VARIABLE],
        env={**os.environ, URI_VARIABLE: NO_DATABASE_URI, "SUPALINK_HOME": home},
    )
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog:
        started = time.perf_counter()
        try:
            async with (
                asyncio.timeout(MCP_TIMEOUT),
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                listing = await session.list_tools()
                listed = time.perf_counter() - started
        except Exception as error:
            errlog.seek(0)
            raise SmokeTestFailure(
                f"the frozen `mcp-serve` did not answer over stdio: {error!r}\n"
                f"--- stderr\n{errlog.read()[-4000:]}"
            ) from error
    return [tool.name for tool in listing.tools], listed


def _verify_with_database(executable: Path, uri: str, home: str, password: str) -> list[str]:
    """What `supalink config verify` proves of a written entry: select 1 answered, a write and
    a stacked COMMIT refused. The frozen server, the source tree's verifier."""
    from supalink.mcp.templates import SERVE_COMMAND, ServerEntry
    from supalink.mcp.verify import verify_entry

    entry = ServerEntry(
        str(executable),
        (SERVE_COMMAND, "--uri-env", URI_VARIABLE),
        {URI_VARIABLE: uri, "SUPALINK_HOME": home},
    )
    report = asyncio.run(verify_entry(entry, timeout=MCP_TIMEOUT, secrets=[password]))
    if not report.ok:
        raise SmokeTestFailure(f"the frozen `mcp-serve` failed verify:\n{report.describe()}")
    if password in report.stderr or password in report.answer:
        raise SmokeTestFailure("the frozen `mcp-serve` printed the database password")
    return list(report.tools)


def check_mcp_serve(executable: Path, database: tuple[str, str] | None = None) -> str:
    """The frozen executable serves MCP: `mcp-serve --help`, initialize and the six tools over
    stdio with no database, and with one (`database`: URI, password) what verify proves."""
    _, usage = run_frozen(executable, "mcp-serve", "--help")
    if "--uri-env" not in usage or "--profile" not in usage:
        raise SmokeTestFailure(f"`mcp-serve --help` does not read as its usage:\n{usage}")
    with tempfile.TemporaryDirectory(prefix="supalink-smoke-home-") as home:
        tools, listed = asyncio.run(_serve_without_database(executable, home))
        if sorted(tools) != sorted(SERVER_TOOLS):
            raise SmokeTestFailure(f"the frozen `mcp-serve` lists {tools}, not {SERVER_TOOLS}")
        took = f"spawn to tools/list {listed:.2f} s"
        if database is None:
            return f"mcp-serve: initialize and the six tools over stdio ({took}; no database)"
        uri, password = database
        tools = _verify_with_database(executable, uri, home, password)
        if sorted(tools) != sorted(SERVER_TOOLS):
            raise SmokeTestFailure(f"the frozen `mcp-serve` lists {tools}, not {SERVER_TOOLS}")
    return (
        f"mcp-serve: the six tools over stdio ({took}), select 1 answered and a write and "
        "a stacked COMMIT refused on verify-full TLS"
    )


def check_with_database(executable: Path) -> list[str]:
    """On Linux, `monitor` and `mcp-serve` against one throwaway PostgreSQL; elsewhere
    `mcp-serve` without a database."""
    if sys.platform != "linux":
        return [f"database: not checked on {sys.platform}", check_mcp_serve(executable)]
    with throwaway_postgres() as (uri, password):
        return [
            check_database(executable, uri, password),
            check_mcp_serve(executable, (uri, password)),
        ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: smoke_test.py PATH/TO/FROZEN/supalink", file=sys.stderr)
        return 2
    executable = Path(argv[0])
    # Windows: the windowed supalink.exe has no console; the console twin prints.
    for candidate in (executable.with_name("supalink-cli.exe"), executable.with_suffix(".exe")):
        if sys.platform == "win32" and candidate.exists():
            executable = candidate
            break
    folder = executable.parent
    try:
        if not executable.is_file() or not os.access(executable, os.X_OK):
            raise SmokeTestFailure(f"{executable} is not an executable file")
        check_contents(folder)
        check_frozen_modules(executable)
        report = check_self_check(executable)
        check_libpq(report)
        keyring_line = check_keyring(executable)
        x11_line = check_x11(executable)
        database_lines = check_with_database(executable)
        serve_times = [run_frozen(executable, "mcp-serve", "--help")[0] for _ in range(TIMED_RUNS)]
        version_times = [run_frozen(executable, "--version")[0] for _ in range(TIMED_RUNS)]
        check_times = [run_frozen(executable, "--self-check")[0] for _ in range(TIMED_RUNS)]
    except SmokeTestFailure as failure:
        print(f"smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    size = bundle_size(folder)
    print(f"smoke test passed: {executable}")
    print(f"  versions: {', '.join(f'{k} {v}' for k, v in report.items() if k != 'keyring')}")
    print(f"  {keyring_line}")
    print(f"  {x11_line}")
    for line in database_lines:
        print(f"  {line}")
    print(f"  bundle size: {size / 2**20:.0f} MiB ({size} bytes) in {folder}")
    print(
        f"  frozen start, --version (process start to exit): median "
        f"{statistics.median(version_times):.2f} s over {TIMED_RUNS} runs"
    )
    print(
        f"  frozen start, --self-check (start, main window shown offscreen, exit): median "
        f"{statistics.median(check_times):.2f} s, best {min(check_times):.2f} s "
        f"over {TIMED_RUNS} runs"
    )
    print(
        f"  frozen start, mcp-serve --help (the server's command loaded): median "
        f"{statistics.median(serve_times):.2f} s over {TIMED_RUNS} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

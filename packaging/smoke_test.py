"""Smoke-test a frozen Supalink bundle: packaging/build.sh runs this after PyInstaller.

Fails loudly (the frozen app's own output, exit 1) when the bundle does not start, does
not open its main window, lost its resources or hidden imports, cannot see the OS keyring,
or (on Linux) cannot open its window on Xvfb or connect to a real verify-full PostgreSQL.
Prints the bundle's size and the frozen app's start time.

    .venv/bin/python packaging/smoke_test.py dist/supalink/supalink
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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
)


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


def check_database(executable: Path) -> str:
    """Frozen psycopg (C implementation, bundled libpq, OpenSSL) and psycopg_pool: `supalink
    monitor` opens its pool and LISTENs on a real verify-full PostgreSQL with the test suite's
    awkward password, reports healthy, and never prints the password."""
    if sys.platform != "linux":
        return f"database: not checked on {sys.platform}"
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
            uri = server.uri("127.0.0.1", sslrootcert=tls.ca_cert)
            _, output = run_frozen(
                executable,
                "monitor",
                "--uri",
                uri,
                "--channel",
                "smoke",
                "--duration",
                "2",
                "--json",
            )
        finally:
            server.stop("immediate")
    if server.password in output:
        raise SmokeTestFailure("`supalink monitor` printed the database password")
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    healthy = [e for e in events if e["event"] == "health" and e["status"] == "healthy"]
    listening = [e for e in events if e["event"] == "listening"]
    if not healthy or not listening:
        raise SmokeTestFailure(f"`supalink monitor` was not healthy and listening:\n{output}")
    return "database: `supalink monitor` pooled, listened and was healthy on verify-full TLS"


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
        database_line = check_database(executable)
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
    print(f"  {database_line}")
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
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

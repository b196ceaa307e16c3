"""Session fixtures: real PostgreSQL, pgbouncer, a Secret Service and Qt, all on loopback."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before any QApplication exists: tests never need a screen.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from tests.support.pgbouncer import Pgbouncer, running_pgbouncer
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.qt_loop import BackgroundTaskFailures
from tests.support.reference_server import ReferenceServer, install_reference_server
from tests.support.scratch import scratch_root
from tests.support.secret_service import SecretService
from tests.support.system_tools import SystemTools, ensure_system_tools
from tests.support.tls import TlsFiles, make_tls_files

# This machine forbids writing bytecode (PYTHONDONTWRITEBYTECODE=1): every worker then
# compiled all of src/ and rewrote every test module at each run (about 5 s of its 7 s of
# collection), and every CLI process a test starts compiled what it imports. Written where
# Python writes it (__pycache__, git-ignored, atomic), as an installed app has it.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# pytest's own temporary folders (tmp_path; the workers' are under the controller's) on a
# memory file system too, before its tmpdir plugin is configured (tests/support/scratch.py).
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(scratch_root()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests for another OS are deselected, not skipped: a skip means something is missing."""
    foreign = {"macos": "darwin", "windows": "win32"}
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        needs = [os_ for marker, os_ in foreign.items() if item.get_closest_marker(marker)]
        (drop if needs and sys.platform not in needs else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def system_tools() -> SystemTools:
    return ensure_system_tools()


@pytest.fixture(scope="session")
def services_root() -> Iterator[Path]:
    # Not under pytest's tmp folder: that is 0700 root, and the servers run unprivileged.
    root = Path(tempfile.mkdtemp(prefix="supalink-services-", dir=scratch_root()))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def tls_files(system_tools: SystemTools, services_root: Path) -> TlsFiles:
    return make_tls_files(system_tools.openssl, services_root / "tls")


@pytest.fixture(scope="session")
def pg(
    system_tools: SystemTools, services_root: Path, tls_files: TlsFiles
) -> Iterator[PostgresServer]:
    """The SSL server: verify-full with `tls_files.ca_cert`, the special-character password."""
    server = start_postgres(system_tools, services_root / "pg", tls_files)
    yield server
    if server.is_running():
        server.stop("immediate")


@pytest.fixture(scope="session")
def pgbouncer(
    system_tools: SystemTools, services_root: Path, pg: PostgresServer
) -> Iterator[Pgbouncer]:
    with running_pgbouncer(system_tools, services_root / "pgbouncer", pg) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
def reference_server() -> ReferenceServer:
    """`@modelcontextprotocol/server-postgres` from the npm registry, cached across runs."""
    return install_reference_server()


@pytest.fixture(scope="session")
def _session_secret_service(
    system_tools: SystemTools, services_root: Path
) -> Iterator[SecretService]:
    service = SecretService(
        system_tools.dbus_daemon, system_tools.gnome_keyring_daemon, services_root / "secrets"
    )
    service.start()
    saved = {key: os.environ.get(key) for key in service.environment()}
    os.environ.update(service.environment())
    yield service
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    service.stop()


@pytest.fixture
def secret_service(_session_secret_service: SecretService) -> SecretService:
    """gnome-keyring on a private bus, one per worker; this process and its children are
    pointed at it. Each test that uses it first checks that it still serves an unlocked
    default collection: a test that broke it fails the next ones with the reason."""
    problem = _session_secret_service.problem()
    if problem is not None:
        pytest.fail(f"the Secret Service of this worker cannot serve: {problem}")
    return _session_secret_service


@pytest.fixture(autouse=True)
def _collect_between_tests() -> Iterator[None]:
    """Once the app's loop has turned the automatic collector off (ui/event_loop.py), tests
    that run no loop still collect between them, on the main thread."""
    yield
    if not gc.isenabled():
        from supalink.ui.event_loop import collect_due_generations

        collect_due_generations()


@pytest.fixture
def qasync_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """The app's own qasync loop on the test QApplication.

    Fails the test when a background task raised.
    """
    from supalink.app.qt import build_event_loop

    loop = build_event_loop(qapp)
    failures = BackgroundTaskFailures()
    loop.set_task_factory(failures.task_factory)  # type: ignore[arg-type]
    loop.set_exception_handler(failures.exception_handler)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)
    # The app collects garbage on the main thread only (ui/event_loop.py): what the test
    # left in cycles, Qt objects among them, goes here, not in some later thread.
    gc.collect()
    problems = failures.report()
    if problems:
        pytest.fail("background work failed:\n" + "\n".join(problems))

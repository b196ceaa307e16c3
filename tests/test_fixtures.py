"""The fixtures themselves: the real services behave as the rest of the suite assumes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.support.pgbouncer import Pgbouncer
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.secret_service import SecretService
from tests.support.system_tools import SystemTools


def _whoami(uri: str) -> tuple[str, bool]:
    with psycopg.connect(uri, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_special_password_has_every_awkward_character() -> None:
    assert set("@:/%#?& é\"'") <= set(SPECIAL_PASSWORD)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_verify_full_with_test_ca_over_ipv4_and_ipv6(pg: PostgresServer, host: str) -> None:
    user, encrypted = _whoami(pg.uri(host))
    assert user == pg.role
    assert encrypted is True


def test_verify_full_fails_with_another_ca(pg: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(pg.uri(sslrootcert=pg.tls.other_ca_cert), connect_timeout=10)


def test_wrong_password_is_refused(pg: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg.uri(password="not-it"), connect_timeout=10)


def test_special_password_through_pgbouncer(pgbouncer: Pgbouncer) -> None:
    with psycopg.connect(pgbouncer.uri(), connect_timeout=10) as conn:
        assert conn.info.port == pgbouncer.port
        assert conn.pgconn.ssl_in_use
        row = conn.execute("SELECT current_user").fetchone()
    assert row == (pgbouncer.server.role,)


def test_pgbouncer_listens_on_ipv6(pgbouncer: Pgbouncer) -> None:
    with psycopg.connect(pgbouncer.uri("::1"), connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_listen_notify_through_pgbouncer(pgbouncer: Pgbouncer) -> None:
    channel = f"fixture_{uuid.uuid4().hex[:8]}"
    payload = 'héllo {"n": 1}'

    async def roundtrip() -> tuple[str, str]:
        async with await psycopg.AsyncConnection.connect(
            pgbouncer.uri(), autocommit=True
        ) as listener:
            await listener.execute(f"LISTEN {channel}")
            async with await psycopg.AsyncConnection.connect(
                pgbouncer.uri(), autocommit=True
            ) as sender:
                await sender.execute("SELECT pg_notify(%s, %s)", (channel, payload))
            async for notify in listener.notifies(timeout=10, stop_after=1):
                return notify.channel, notify.payload
        raise AssertionError("no notification arrived")

    assert asyncio.run(roundtrip()) == (channel, payload)


def test_keyring_round_trips_through_secret_service(secret_service: SecretService) -> None:
    from keyring.backends import SecretService as backend_module

    backend = backend_module.Keyring()
    service, username = "supalink-fixture-test", uuid.uuid4().hex
    backend.set_password(service, username, SPECIAL_PASSWORD)
    try:
        assert backend.get_password(service, username) == SPECIAL_PASSWORD
    finally:
        backend.delete_password(service, username)
    assert backend.get_password(service, username) is None


def test_default_keyring_backend_is_the_secret_service(secret_service: SecretService) -> None:
    """A child with the fixture's environment picks the real Secret Service, not plaintext."""
    code = "import json, keyring; k = keyring.get_keyring(); print(json.dumps(type(k).__module__))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **secret_service.environment()},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == "keyring.backends.SecretService"


def test_a_secret_service_starts_serving_an_unlocked_default_collection(
    system_tools: SystemTools, tmp_path: Path
) -> None:
    service = SecretService(
        system_tools.dbus_daemon, system_tools.gnome_keyring_daemon, tmp_path / "secrets"
    )
    service.start()
    try:
        assert service.problem() is None  # at once: no call may race its start
    finally:
        service.stop()
    assert service.problem() == "not started"


def test_a_bus_without_its_secret_service_says_so_and_starts_no_other(
    system_tools: SystemTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the system's session config the bus started another gnome-keyring on demand
    (the real HOME, no password, no login keyring), and every call was 'Prompt dismissed'."""
    from contextlib import closing

    import secretstorage

    service = SecretService(
        system_tools.dbus_daemon, system_tools.gnome_keyring_daemon, tmp_path / "secrets"
    )
    service.start()
    try:
        keyring_daemon = service.processes[1]
        keyring_daemon.terminate()
        keyring_daemon.wait(timeout=10)
        assert service.problem() == "gnome-keyring-daemon exited 0"
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.bus_address)
        with (
            closing(secretstorage.dbus_init()) as connection,
            pytest.raises(secretstorage.SecretServiceNotAvailableException) as raised,
        ):
            secretstorage.get_default_collection(connection)
        assert "was not provided by any .service files" in str(raised.value)
    finally:
        service.stop()


def test_qasync_loop_fixture_runs_coroutines(qasync_loop: asyncio.AbstractEventLoop) -> None:
    async def answer() -> int:
        await asyncio.sleep(0.01)
        return 42

    assert qasync_loop.run_until_complete(answer()) == 42


def test_background_failures_are_reported() -> None:
    """The qasync_loop fixture's guard sees a task that raised and was never awaited."""
    from tests.support.qt_loop import BackgroundTaskFailures

    failures = BackgroundTaskFailures()
    loop = asyncio.new_event_loop()
    loop.set_task_factory(failures.task_factory)  # type: ignore[arg-type]

    async def boom() -> None:
        raise ValueError("lost in the background")

    async def main() -> None:
        orphan = loop.create_task(boom(), name="orphan")
        await asyncio.sleep(0.01)
        assert orphan.done()

    loop.run_until_complete(main())
    loop.close()
    assert failures.report() == ["task orphan raised ValueError('lost in the background')"]

"""The login is read before the first call: what it can do beyond a role made by Supalink
is said on stderr (the client's MCP log), in the audit and by `supalink role show`, such a
login is served read-only whatever the entry asks, and the login's own limits (statement
timeout, connection limit) are the server's ceilings."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from supalink.agent import read_entries
from supalink.agent.connections import Unavailable
from supalink.agent.options import ServeOptions
from supalink.agent.session import AgentDatabase, DatabaseError
from supalink.paths import AppPaths
from supalink.profiles import Profile
from tests.agent.conftest import Login, LoginFactory, Victim
from tests.agent.test_cancel import Served
from tests.agent.test_session import with_database
from tests.support.cli import run_cli
from tests.support.postgres import PostgresServer
from tests.support.secret_service import SecretService


def text_of(answer: dict[str, Any]) -> tuple[bool, str]:
    result = answer["result"]
    return bool(result.get("isError")), "\n".join(c.get("text", "") for c in result["content"])


def test_a_privileged_login_is_served_read_only_and_says_what_it_can_still_do(
    tmp_path: Path, make_login: LoginFactory, victim: Victim, secret_service: SecretService
) -> None:
    login = make_login("BYPASSRLS", "CREATEROLE")
    with victim.pg.admin_connect() as conn:
        conn.execute(f'GRANT INSERT ON {victim.schema}.items TO "{login.name}"')
    before = victim.snapshot()
    server = Served(login, tmp_path / "home", ["--allow-writes"])
    try:
        server.query(5, f"insert into {victim.schema}.items values (77, 'x')")
        refused, text = text_of(server.answer(5))
        server.query(6, f"select count(*) from {victim.schema}.items")
        counted, _ = text_of(server.answer(6))
    finally:
        server.close()
    assert refused, text
    assert "can do more than an agent needs" in text
    assert not counted
    assert victim.snapshot() == before
    stderr = server.stderr_path.read_text()
    assert f"this login ({login.name}) can do more than an agent needs" in stderr
    assert "writes were asked for and are not allowed" in stderr
    assert "BYPASSRLS" in stderr
    assert "CREATEROLE" in stderr
    logins = [e for e in read_entries(AppPaths.under(tmp_path / "home").audit_file) if e.is_login]
    assert len(logins) == 1
    assert any(power.startswith("BYPASSRLS") for power in logins[0].powers)
    assert any(power.startswith("CREATEROLE") for power in logins[0].powers)
    assert logins[0].writes is False
    # `supalink role show` gives the same list.
    shown = role_show(tmp_path / "home", login)
    assert shown["powers"]["excess"] == list(logins[0].powers)


def role_show(home: Path, login: Login) -> dict[str, Any]:
    from keyring.backends.SecretService import Keyring

    from supalink.profiles.repository import ProfileRepository
    from supalink.profiles.secrets import KeyringSecretStore
    from supalink.profiles.settings import SettingsFile

    name = f"p-{login.name}"
    repository = ProfileRepository(
        SettingsFile(AppPaths.under(home).settings_file), KeyringSecretStore(Keyring())
    )
    profile = Profile(
        name,
        host="127.0.0.1",
        port=login.pg.port,
        user=login.name,
        sslrootcert=str(login.pg.ca_cert),
    )
    repository.save(profile, login.password, save_password=True)
    shown = run_cli("role", "show", name, "--json", home=home, text=True)
    assert shown.returncode == 0, shown.stderr
    found: dict[str, Any] = json.loads(shown.stdout)
    return found


def test_a_role_made_for_an_agent_is_served_as_asked_and_says_nothing(
    tmp_path: Path, make_login: LoginFactory, victim: Victim, secret_service: SecretService
) -> None:
    login = make_login()
    with victim.pg.admin_connect() as conn:
        conn.execute(f'GRANT INSERT, DELETE ON {victim.schema}.items TO "{login.name}"')
    server = Served(login, tmp_path / "home", ["--allow-writes"])
    try:
        server.query(5, f"insert into {victim.schema}.items values (78, 'y')")
        failed, text = text_of(server.answer(5))
        server.query(6, f"delete from {victim.schema}.items where id = 78")
        server.answer(6)
    finally:
        server.close()
    assert not failed, text
    assert "can do more" not in server.stderr_path.read_text()
    shown = role_show(tmp_path / "home", login)
    assert shown["powers"]["excess"] == []


def test_the_roles_statement_timeout_is_the_ceiling(make_login: LoginFactory) -> None:
    login = make_login(settings={"statement_timeout": "1s"})

    async def body(database: AgentDatabase) -> tuple[str, float, Any]:
        started = time.monotonic()
        try:
            await database.run("select pg_sleep(4)")
            message = "it ran"
        except DatabaseError as error:
            message = str(error)
        took = time.monotonic() - started
        return message, took, (await database.run("show statement_timeout")).rows

    # The server's own limit is 60 s: the role's 1 s wins.
    message, took, shown = with_database(login.target(), ServeOptions(statement_timeout=60), body)
    assert "statement timeout" in message
    assert took < 3.5  # 1 s, with a margin for a loaded machine; 4 s if not honoured
    assert shown == [["1s"]]


@pytest.mark.slow
def test_with_a_connection_limit_of_five_the_pool_leaves_the_listener_one(
    make_login: LoginFactory, pg: PostgresServer
) -> None:
    login = make_login(limit=5)

    async def scenario() -> dict[str, Any]:
        from supalink.agent.listen import AgentListener

        database = AgentDatabase(login.target(), ServeOptions())
        listener = AgentListener(login.target())
        second = AgentDatabase(login.target(), ServeOptions())
        await database.open()
        try:
            await listener.collect("jobs", 0)
            calls = [database.run("select pg_sleep(1.5)") for _ in range(8)]
            running = asyncio.gather(*calls)
            await asyncio.sleep(0.5)
            busy = len(login.backends())
            await second.open()
            started = time.monotonic()
            try:
                await second.run("select 1")
                crowded = "it ran"
            except Unavailable as error:
                crowded = str(error)
            crowded_after = time.monotonic() - started
            results = await running
            heard = await listener.collect("jobs", 0)
            assert database.plan is not None
            return {
                "pool": database.plan.pool_max_size,
                "busy": busy,
                "results": len(results),
                "crowded": crowded,
                "crowded_after": crowded_after,
                "heard": heard.channel,
            }
        finally:
            await second.close()
            await listener.close()
            await database.close()

    found = asyncio.run(scenario())
    assert found["pool"] == 4
    assert found["busy"] <= 5
    assert found["results"] == 8  # every call ran, four at a time
    assert "connection limit" in found["crowded"], found["crowded"]
    assert found["crowded_after"] < 3.0  # not the 15 s wait
    assert found["heard"] == "jobs"

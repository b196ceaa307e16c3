"""supalink.roles as the window will call it: a lost connection half-way and a keyring that
refuses leave neither a role nor a profile; a role made and used through pgbouncer, its
rotation retried while the pooler still holds the old secret; the SCRAM secret Supalink
computes is one PostgreSQL accepts (the logins above prove it), and names are refused
before any SQL."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from supalink import roles
from supalink.paths import AppPaths
from supalink.profiles import (
    MemorySecretStore,
    ProfileRepository,
    SecretKind,
    SecretStoreError,
    Target,
)
from supalink.profiles.settings import SettingsFile
from supalink.roles.errors import LoginNotAccepted, ServerRefused
from supalink.roles.spec import role_name_problem
from tests.roles.conftest import ADMIN_PASSWORD, Supabase, repository_under
from tests.roles.test_role_cli import assert_no_profile, count
from tests.support.monitoring import wait_for
from tests.support.pgbouncer import Pgbouncer, running_pgbouncer
from tests.support.system_tools import SystemTools


def admin_target(home: Path, admin: str) -> Target:
    repository = repository_under(home)
    return Target.from_profile(repository.load(admin).profile, repository.password_value(admin))


@pytest.mark.parametrize(
    "name", ["Agent", "1agent", "agent-x", "pg_reader", "public", "a" * 64, "é", ""]
)
def test_names_are_refused_before_any_sql(name: str) -> None:
    assert role_name_problem(name) is not None
    with pytest.raises(roles.InvalidRoleName):
        roles.RoleSpec(name, "p")


def test_default_names_are_plain_identifiers() -> None:
    assert roles.default_role_name("Prod DB") == "prod_db_agent"
    assert roles.default_role_name("1st") == "agent_1st_agent"
    assert role_name_problem(roles.default_role_name("x" * 80)) is None


def test_a_connection_lost_half_way_leaves_no_role_and_no_profile(
    home: Path, admin: str, supabase: Supabase
) -> None:
    repository = repository_under(home)
    spec = roles.RoleSpec(supabase.role_name(), "lost")
    plan = asyncio.run(roles.plan_create(admin_target(home, admin), spec, repository))
    # The admin's own backend ends between two statements of the transaction.
    cut = sql.SQL("SELECT pg_terminate_backend(pg_backend_pid())").format()
    statements = (*plan.statements[:3], cut, *plan.statements[3:])
    with pytest.raises(ServerRefused) as refused:
        asyncio.run(roles.apply(dataclasses.replace(plan, statements=statements), repository))
    assert "nothing was changed" in str(refused.value)
    assert plan.password not in str(refused.value)
    assert not supabase.role_exists(spec.name)
    assert_no_profile(home, "lost")


def test_the_agent_profile_cannot_replace_the_admins_own(
    home: Path, admin: str, supabase: Supabase
) -> None:
    spec = roles.RoleSpec(supabase.role_name(), admin, replace=True)
    with pytest.raises(roles.InvalidSpec, match="cannot be the admin's own"):
        asyncio.run(roles.plan_create(admin_target(home, admin), spec, repository_under(home)))


class RefusingStore(MemorySecretStore):
    description = "a keyring that refuses"

    def set(self, profile: str, kind: SecretKind, value: str) -> None:
        raise SecretStoreError("the keyring is locked")


def test_a_keyring_that_refuses_leaves_no_role(
    tmp_path: Path, home: Path, admin: str, supabase: Supabase
) -> None:
    spec = roles.RoleSpec(supabase.role_name(), "unsaved")
    plan = asyncio.run(roles.plan_create(admin_target(home, admin), spec))
    settings = AppPaths.under(tmp_path / "other").settings_file
    repository = ProfileRepository(SettingsFile(settings), RefusingStore())
    with pytest.raises(SecretStoreError):
        asyncio.run(roles.apply(plan, repository))
    assert not supabase.role_exists(spec.name)
    assert repository.names() == []
    assert not settings.exists()


class Bouncer:
    """A pgbouncer of this test's own, whose userlist the test keeps."""

    def __init__(self, bouncer: Pgbouncer, supabase: Supabase) -> None:
        self.bouncer = bouncer
        self.supabase = supabase
        self.roles: list[str] = [bouncer.server.role]
        self.mtime = 0

    def allow(self, *names: str) -> None:
        """(Re)load the SCRAM secrets of `names` (and those before) from the server."""
        self.roles += [name for name in names if name not in self.roles]
        with self.supabase.pg.admin_connect() as conn:
            found = conn.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s)", (self.roles,)
            ).fetchall()
        userlist = "".join(f'"{name}" "{secret}"\n' for name, secret in found)
        userlist_file = self.bouncer.root / "userlist.txt"
        userlist_file.write_text(userlist)
        # pgbouncer skips a userlist whose size and mtime (whole seconds) are unchanged, and a
        # rotated secret is as long as the old one: give each write a later second of its own.
        self.mtime = max(int(time.time()), self.mtime + 1)
        os.utime(userlist_file, (self.mtime, self.mtime))
        assert self.bouncer.process is not None
        reloads = self.reloads()
        self.bouncer.process.send_signal(signal.SIGHUP)
        # pgbouncer logs the SIGHUP and re-reads the userlist in the same event-loop turn,
        # before it takes the next client: once the line is there, the new secrets are.
        wait_for(lambda: self.reloads() > reloads, 5.0, "pgbouncer to reload its userlist")

    def reloads(self) -> int:
        log = self.bouncer.logfile
        return log.read_text().count("got SIGHUP, re-reading config") if log.exists() else 0


@pytest.fixture
def bouncer(
    system_tools: SystemTools, services_root: Path, supabase: Supabase
) -> Iterator[Bouncer]:
    root = services_root / f"roles-bouncer-{uuid.uuid4().hex[:6]}"
    with running_pgbouncer(system_tools, root, supabase.pg) as running:
        yield Bouncer(running, supabase)


def test_through_pgbouncer_the_role_is_made_used_rotated_with_retries_and_dropped(
    home: Path, supabase: Supabase, bouncer: Bouncer, secret_service: object
) -> None:
    bouncer.allow(supabase.admin)
    repository = repository_under(home)
    admin = "pooled-admin"
    repository.save(supabase.admin_profile(admin, port=bouncer.bouncer.port), ADMIN_PASSWORD)
    spec = roles.RoleSpec(supabase.role_name(), "pooled-agent", schemas=("app",))
    plan = asyncio.run(roles.plan_create(admin_target(home, admin), spec, repository))
    asyncio.run(roles.apply(plan, repository))
    bouncer.allow(spec.name)

    agent = Target.from_profile(
        repository.load("pooled-agent").profile, repository.password_value("pooled-agent")
    )
    assert agent.params["port"] == bouncer.bouncer.port
    with psycopg.connect(**agent.connection_kwargs(), autocommit=True) as conn:
        assert count(conn, "app.notes") == 3
        assert count(conn, "app.hidden") == 0
        conn.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM app.notes")
    report = asyncio.run(roles.describe(agent))
    assert [str(t) for t in report.rls_hidden] == ["app.hidden", "app.members_only"]

    # The pooler keeps the old secret until it reloads: the new login is retried meanwhile.
    waits: list[float] = []

    async def reload_then_wait(seconds: float) -> None:
        waits.append(seconds)
        bouncer.allow()

    rotated = asyncio.run(roles.rotate(repository, "pooled-agent", sleep=reload_then_wait))
    assert rotated.attempts >= 2  # pgbouncer may take a turn or two to reload
    assert waits == [0.5, 1.0, 2.0, 4.0][: rotated.attempts - 1]
    fresh = Target.from_profile(
        repository.load("pooled-agent").profile, repository.password_value("pooled-agent")
    )
    with psycopg.connect(**fresh.connection_kwargs(), autocommit=True) as conn:
        assert count(conn, "app.notes") == 3

    waits.clear()

    async def never_reloads(seconds: float) -> None:
        waits.append(seconds)

    with pytest.raises(LoginNotAccepted) as failed:
        asyncio.run(roles.rotate(repository, "pooled-agent", attempts=3, sleep=never_reloads))
    assert failed.value.attempts == 3
    assert waits == [0.5, 1.0]

    drop = asyncio.run(roles.plan_drop(repository, "pooled-agent"))
    asyncio.run(roles.drop(drop, repository))
    assert not supabase.role_exists(spec.name)
    assert_no_profile(home, "pooled-agent")


def test_the_agent_profile_logs_in_as_role_dot_ref_on_the_shared_pooler_only() -> None:
    from supalink.profiles import Mode, Profile
    from supalink.roles.links import agent_profile

    ref = "abcdefghijklmnopqrst"
    pooled = Profile("p", mode=Mode.SESSION, ref=ref, region="eu-west-1", pooler_index=0)
    assert agent_profile(pooled, "p-agent", "reader").endpoint().user == f"reader.{ref}"
    direct = pooled.replace(mode=Mode.DIRECT)
    assert agent_profile(direct, "p-agent", "reader").endpoint().user == "reader"
    kept = agent_profile(pooled.replace(sslrootcert="/ca.crt"), "p-agent", "reader")
    assert (kept.ref, kept.region, kept.pooler_index, kept.sslrootcert) == (
        ref,
        "eu-west-1",
        0,
        "/ca.crt",
    )

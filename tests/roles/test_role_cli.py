"""`supalink role` as a user runs it against the Supabase-like database: the SQL previewed
with the password masked, the role created in one step and reading exactly what it was
given, `role show` predicting what RLS lets it see, rotate and drop leaving nothing behind,
and no password anywhere on the screen or on disk."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest

from supalink.paths import AppPaths
from supalink.profiles import KeyringSecretStore, SecretKind, Target
from tests.roles.conftest import ADMIN_PASSWORD, Supabase, repository_under
from tests.support.cli import run_cli


def role(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_cli("role", *args, home=home, timeout=120, text=True)


def agent_connect(home: Path, profile: str) -> psycopg.Connection[tuple[Any, ...]]:
    repository = repository_under(home)
    target = Target.from_profile(
        repository.load(profile).profile, repository.password_value(profile)
    )
    return psycopg.connect(**target.connection_kwargs(), autocommit=True)


def count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def assert_nowhere(secret: str, home: Path, *outputs: str) -> None:
    """The secret is in no output, nor in the settings file or the log file (as bytes)."""
    paths = AppPaths.under(home)
    needle = secret.encode()
    for output in outputs:
        assert needle not in output.encode()
    for path in (paths.settings_file, paths.log_file):
        if path.exists():
            assert needle not in path.read_bytes(), path


def assert_no_profile(home: Path, name: str) -> None:
    assert name not in repository_under(home).names()
    for kind in SecretKind:
        assert KeyringSecretStore().get(name, kind) is None


def test_create_previews_masked_then_runs_and_the_role_reads_only_what_it_was_given(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    dry = role("create", admin, "--name", name, "--dry-run", home=home)
    assert dry.returncode == 0, dry.stderr
    assert (
        f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE' in dry.stdout
    )
    assert "CONNECTION LIMIT 5 PASSWORD '****';" in dry.stdout
    assert "SCRAM" not in dry.stdout
    assert not supabase.role_exists(name)
    assert_no_profile(home, f"{admin}-agent")

    unconfirmed = role("create", admin, "--name", name, home=home)
    assert unconfirmed.returncode == 1
    assert "confirm with --yes" in unconfirmed.stderr
    assert not supabase.role_exists(name)

    created = role("create", admin, "--name", name, "--yes", home=home)
    assert created.returncode == 0, created.stderr
    agent = f"{admin}-agent"
    assert f"profile {agent!r} logs in as it" in created.stdout
    password = repository_under(home).password_value(agent)
    assert password is not None
    assert len(password) >= 43
    assert_nowhere(password, home, dry.stdout, dry.stderr, created.stdout, created.stderr)
    saved = repository_under(home).load(agent).profile
    assert (saved.user, saved.host, saved.port, saved.database, saved.sslrootcert) == (
        name,
        "127.0.0.1",
        supabase.pg.port,
        supabase.database,
        str(supabase.pg.ca_cert),
    )

    with agent_connect(home, agent) as conn:
        assert count(conn, "public.notes") == 3
        # Whatever it sets in its session, it has no right to write.
        conn.execute("SET default_transaction_read_only = off")
        for statement in (
            "INSERT INTO public.notes VALUES (9, 'x')",
            "UPDATE public.notes SET body = 'x'",
            "CREATE TABLE public.mine (id int)",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM app.notes")
        settings = dict(
            conn.execute(
                "SELECT name, reset_val FROM pg_settings WHERE name IN"
                " ('statement_timeout', 'idle_in_transaction_session_timeout')"
            ).fetchall()
        )
        assert settings == {
            "statement_timeout": "30000",
            "idle_in_transaction_session_timeout": "60000",
        }
    with supabase.connect() as conn:
        conn.execute(f'SET ROLE "{supabase.admin}"')
        conn.execute(f'CREATE TABLE public."later_{name}" (id int)')  # default privileges
    with agent_connect(home, agent) as conn:
        assert count(conn, f'public."later_{name}"') == 0  # readable: no error
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
    with supabase.connect() as conn:
        conn.execute(f'DROP TABLE public."later_{name}"')


def test_show_predicts_the_rls_outcome_and_says_what_public_gives(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    agent = f"{admin}-agent"
    assert role("create", admin, "--name", name, "--yes", home=home).returncode == 0
    shown = role("show", agent, "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["login"] == name
    assert report["bypasses_rls"] is False
    assert report["is_superuser"] is False
    assert report["rls_hidden"] == ["public.hidden", "public.members_only"]
    assert report["writable"] == []
    assert report["net_exposed"] is True
    assert report["public_temporary"] is True
    assert report["public_large_objects"] is True
    assert "default_transaction_read_only=on" in report["settings"]
    with agent_connect(home, agent) as conn:
        seen = {table: count(conn, table) for table in report["readable"]}
    assert seen == {
        "net.http_request_queue": 1,
        "public.hidden": 0,  # RLS on, no policy: predicted
        "public.members_only": 0,  # a policy for authenticated only: predicted
        "public.notes": 3,
        "public.open_posts": 2,  # a policy for everyone
        "public.writable": 3,
    }
    text = role("show", agent, home=home)
    assert text.returncode == 0, text.stderr
    assert (
        "public.hidden: row level security is on and no policy applies to "
        f"{name}, so it sees no rows there; to let it read, for example: "
        f'CREATE POLICY "{name}_read" ON "public"."hidden" FOR SELECT TO "{name}" USING (true);'
    ) in text.stdout
    assert "headers and API keys included" in text.stdout
    assert "bypasses row level security" not in text.stdout


def test_show_on_the_admin_says_it_bypasses_rls_and_can_change_everything(
    home: Path, admin: str, supabase: Supabase
) -> None:
    shown = role("show", admin, home=home)
    assert shown.returncode == 0, shown.stderr
    assert (
        f"warning: {supabase.admin} bypasses row level security and can change everything"
    ) in shown.stdout
    assert ADMIN_PASSWORD not in shown.stdout + shown.stderr


def test_write_grants_only_on_the_write_tables_and_no_read_only_default(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    created = role(
        "create",
        admin,
        "--name",
        name,
        "--as",
        "writer",
        "--table",
        "app.notes",
        "--write",
        "app.writable",
        "--connection-limit",
        "2",
        "--yes",
        home=home,
    )
    assert created.returncode == 0, created.stderr
    with agent_connect(home, "writer") as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        conn.execute("INSERT INTO app.writable VALUES (10, 'new')")
        conn.execute("UPDATE app.writable SET body = 'changed' WHERE id = 10")
        conn.execute("DELETE FROM app.writable WHERE id = 10")
        assert count(conn, "app.notes") == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO app.notes VALUES (10, 'new')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM app.hidden")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM public.notes")
    with supabase.connect() as conn:
        conn.execute(f'SET ROLE "{supabase.admin}"')
        conn.execute(f'CREATE TABLE app."serial_{name}" (id serial PRIMARY KEY, body text)')
    serial = role(
        "create",
        admin,
        "--name",
        supabase.role_name(),
        "--as",
        "serial-writer",
        "--write",
        f"app.serial_{name}",
        "--yes",
        home=home,
    )
    assert serial.returncode == 0, serial.stderr
    assert f'GRANT USAGE ON SEQUENCE "app"."serial_{name}_id_seq"' in serial.stdout
    with agent_connect(home, "serial-writer") as conn:
        conn.execute(f"INSERT INTO app.\"serial_{name}\" (body) VALUES ('x')")
    with supabase.connect() as conn:
        conn.execute(f'DROP TABLE app."serial_{name}"')
    report = json.loads(role("show", "writer", "--json", home=home).stdout)
    assert report["readable"] == ["app.notes", "app.writable", "net.http_request_queue"]
    assert report["writable"] == ["app.writable"]
    assert report["connection_limit"] == 2


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--name", "Agent"], 2, "--name: 'Agent' is not a role name"),
        (["--name", "a-b"], 2, "--name:"),
        (["--name", "pg_agent"], 2, "pg_ are PostgreSQL's own"),
        (["--name", "a" * 64], 2, "at most 63 bytes"),
        (["--schema", "nope"], 2, "no such schema in the database: nope"),
        (["--table", "app.nope"], 2, "no such table in the database: app.nope"),
        (["--table", "nodot"], 2, "--table/--write: 'nodot' is not a table"),
        (["--connection-limit", "0"], 2, "--connection-limit:"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(
    home: Path, admin: str, supabase: Supabase, args: list[str], code: int, said: str
) -> None:
    before = AppPaths.under(home).settings_file.read_bytes()
    if "--name" not in args:
        args = [*args, "--name", supabase.role_name()]
    refused = role("create", admin, *args, "--yes", home=home)
    assert refused.returncode == code, refused.stderr
    assert said in refused.stderr
    assert len(refused.stderr.splitlines()) == 1, refused.stderr
    assert refused.stdout == ""
    assert AppPaths.under(home).settings_file.read_bytes() == before
    assert_no_profile(home, f"{admin}-agent")


@pytest.mark.slow
def test_a_login_without_createrole_and_an_existing_role_are_refused(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    assert role("create", admin, "--name", name, "--yes", home=home).returncode == 0
    agent = f"{admin}-agent"
    # The agent's own login cannot create roles.
    refused = role("create", agent, "--name", supabase.role_name(), "--yes", home=home)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"supalink role: the login {name!r} cannot create roles (it has no CREATEROLE): "
        "use an admin profile (on Supabase, the postgres login)"
    )
    assert_no_profile(home, f"{agent}-agent")
    again = role("create", admin, "--name", name, "--as", "second", "--yes", home=home)
    assert again.returncode == 1
    assert "already exists: replace it with --replace" in again.stderr
    assert_no_profile(home, "second")
    other = role(
        "create", admin, "--name", supabase.anon, "--as", "second", "--replace", "--yes", home=home
    )
    assert other.returncode == 1
    assert "Supalink did not make it" in other.stderr
    assert supabase.role_exists(supabase.anon)
    replaced = role(
        "create", admin, "--name", name, "--replace", "--schema", "app", "--yes", home=home
    )
    assert replaced.returncode == 0, replaced.stderr
    with agent_connect(home, agent) as conn:
        assert count(conn, "app.notes") == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM public.notes")


@pytest.mark.slow
def test_rotate_changes_the_password_in_the_database_and_the_keyring(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    agent = f"{admin}-agent"
    assert role("create", admin, "--name", name, "--yes", home=home).returncode == 0
    old = repository_under(home).password_value(agent)
    rotated = role("rotate", agent, home=home)
    assert rotated.returncode == 0, rotated.stderr
    assert f"new password for role {name!r} saved for profile {agent!r}" in rotated.stdout
    new = repository_under(home).password_value(agent)
    assert new is not None
    assert old is not None
    assert new != old
    assert_nowhere(new, home, rotated.stdout, rotated.stderr)
    with agent_connect(home, agent) as conn:
        assert count(conn, "public.notes") == 3
    stale = Target.from_profile(repository_under(home).load(agent).profile, old)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**stale.connection_kwargs()).close()
    not_agent = role("rotate", admin, home=home)
    assert not_agent.returncode == 2
    assert "is not an agent profile Supalink made" in not_agent.stderr


@pytest.mark.slow
def test_drop_asks_then_leaves_nothing_behind_and_refuses_a_role_that_owns_something(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    agent = f"{admin}-agent"
    assert role("create", admin, "--name", name, "--yes", home=home).returncode == 0
    with supabase.connect() as conn:
        conn.execute(f'CREATE TABLE public."owned_{name}" (id int)')
        conn.execute(f'ALTER TABLE public."owned_{name}" OWNER TO "{name}"')
    owning = role("drop", agent, "--yes", home=home)
    assert owning.returncode == 1
    assert f"the role {name!r} owns objects: table owned_{name}" in owning.stderr
    assert supabase.role_exists(name)
    with supabase.connect() as conn:
        conn.execute(f'DROP TABLE public."owned_{name}"')

    unconfirmed = role("drop", agent, home=home)
    assert unconfirmed.returncode == 1
    assert f'DROP ROLE "{name}";' in unconfirmed.stdout
    assert supabase.role_exists(name)
    dropped = role("drop", agent, "--yes", home=home)
    assert dropped.returncode == 0, dropped.stderr
    assert not supabase.role_exists(name)
    assert_no_profile(home, agent)
    settings = json.loads(AppPaths.under(home).settings_file.read_text())
    assert agent not in json.dumps(settings)
    with supabase.connect() as conn:
        acl = conn.execute(
            "SELECT count(*) FROM pg_default_acl WHERE defaclacl::text LIKE %s", (f"%{name}%",)
        ).fetchone()
    assert acl == (0,)

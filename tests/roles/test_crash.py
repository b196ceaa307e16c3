"""kill -9 at every step of `supalink role create|rotate|drop`: the real command, stopped at
a step (supalink.roles.journal.checkpoint, set in a child started with `python -c`) and
killed with SIGKILL, leaves the old state, the new one, or a journal entry; the next command
(`role show`) settles it in one step and says which, and then everything agrees: the
database, the keyring and the settings file. While a rotation is half-done the agent's new
password is found pending (what a login tries first)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from supalink.profiles import KeyringSecretStore, SecretKind
from supalink.roles.journal import pending_login_password
from tests.roles.agents import comment_of, create_agent, journal_files, logs_in, stored_links
from tests.roles.conftest import Supabase, repository_under
from tests.roles.test_role_cli import assert_no_profile, role

PAUSED = (
    "import sys\n"
    "from supalink.roles import journal\n"
    "journal.PAUSE_AT = sys.argv[1]\n"
    "from supalink.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


def killed_at(step: str, *args: str, home: Path) -> None:
    """Run `supalink role ARGS` until it stops at `step`, then SIGKILL it."""
    process = subprocess.Popen(
        [sys.executable, "-c", PAUSED, step, "role", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SUPALINK_HOME": str(home)},
    )
    timer = threading.Timer(60, process.kill)  # a step never reached fails, not hangs
    timer.start()
    said: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            said.append(line)
            if line.strip() == f"paused at {step}":
                break
        else:
            pytest.fail(f"never paused at {step}: {''.join(said)}")
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        timer.cancel()
        process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


def settled_by_the_next_command(home: Path, admin: str) -> str:
    """`role show` (any role command) settles the entry; what it said on stderr."""
    shown = role("show", admin, "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    assert journal_files(home) == []
    return shown.stderr


def pending_secrets() -> list[str]:
    """The pending entries in the keyring: none once a change is settled."""
    import secretstorage

    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        labels = [item.get_label() for item in collection.get_all_items()]
    finally:
        connection.close()
    return [label for label in labels if "agent role change" in label]


CREATE_UNDONE = ["create:journaled", "create:pending", "create:executed"]
CREATE_FINISHED = ["create:committed", "create:database", "create:saved", "create:linked"]


@pytest.mark.slow
@pytest.mark.parametrize("step", CREATE_UNDONE + CREATE_FINISHED)
def test_create_killed_at_each_step(step: str, home: Path, admin: str, supabase: Supabase) -> None:
    name = supabase.role_name()
    killed_at(step, "create", admin, "--name", name, "--as", "agent", "--yes", home=home)
    assert len(journal_files(home)) == 1
    in_database = step in CREATE_FINISHED
    assert supabase.role_exists(name) == in_database
    saved = step in ("create:saved", "create:linked")
    assert ("agent" in repository_under(home).names()) == saved
    assert ("agent" in stored_links(home)) == (step == "create:linked")

    said = settled_by_the_next_command(home, admin)
    if in_database:
        assert f"finished creating role {name!r} (profile 'agent'), interrupted at " in said
        assert "the database had the role; its profile and password are saved now" in said
        link = stored_links(home)["agent"]
        assert comment_of(supabase, name) == f"supalink agent {link['id']}"
        assert logs_in(home, "agent")
        assert role("rotate", "agent", home=home).returncode == 0
    else:
        assert f"undid creating role {name!r} (profile 'agent')" in said
        assert "the database never had the role; nothing of it is left" in said
        assert not supabase.role_exists(name)
        assert_no_profile(home, "agent")
        assert stored_links(home) == {}
    assert pending_secrets() == []
    assert role("show", admin, home=home).stderr == ""  # settled once


ROTATE_UNDONE = ["rotate:journaled", "rotate:pending", "rotate:executed"]
ROTATE_FINISHED = ["rotate:committed", "rotate:database", "rotate:saved"]


@pytest.mark.slow
@pytest.mark.parametrize("step", ROTATE_UNDONE + ROTATE_FINISHED)
def test_rotate_killed_at_each_step(step: str, home: Path, admin: str, supabase: Supabase) -> None:
    create_agent(home, admin, supabase, "agent")
    old = repository_under(home).password_value("agent")
    killed_at(step, "rotate", "agent", home=home)
    assert len(journal_files(home)) == 1
    new = pending_login_password(repository_under(home), "agent")
    saved = repository_under(home).password_value("agent")
    if step == "rotate:journaled":
        assert new is None
    else:
        assert new is not None
        assert new != old
    if step in ROTATE_UNDONE:
        assert saved == old
        assert logs_in(home, "agent")  # the database has the old password still
    elif step == "rotate:saved":
        assert saved == new
        assert logs_in(home, "agent")
    else:  # the database has the new one, the profile the old: a login tries both
        assert saved == old
        assert not logs_in(home, "agent")
        assert logs_in(home, "agent", new)

    said = settled_by_the_next_command(home, admin)
    now = repository_under(home).password_value("agent")
    if step in ROTATE_UNDONE:
        assert "undid rotating the password of role" in said
        assert "the database never had the new password; the profile keeps its own" in said
        assert now == old
    else:
        assert "finished rotating the password of role" in said
        assert "the database had the new password; the keyring has it now" in said
        assert now == new
    assert logs_in(home, "agent")
    assert pending_login_password(repository_under(home), "agent") is None
    assert pending_secrets() == []
    assert role("rotate", "agent", home=home).returncode == 0


DROP_UNDONE = ["drop:journaled", "drop:executed"]
DROP_FINISHED = ["drop:committed", "drop:database", "drop:removed"]


@pytest.mark.slow
@pytest.mark.parametrize("step", DROP_UNDONE + DROP_FINISHED)
def test_drop_killed_at_each_step(step: str, home: Path, admin: str, supabase: Supabase) -> None:
    name = create_agent(home, admin, supabase, "agent")
    killed_at(step, "drop", "agent", "--yes", home=home)
    assert len(journal_files(home)) == 1
    assert supabase.role_exists(name) == (step in DROP_UNDONE)
    assert ("agent" in repository_under(home).names()) == (step != "drop:removed")
    assert "agent" in stored_links(home)

    said = settled_by_the_next_command(home, admin)
    if step in DROP_UNDONE:
        assert f"undid dropping role {name!r} (profile 'agent')" in said
        assert "the database had not dropped it; the role and the profile are as they were" in said
        assert supabase.role_exists(name)
        assert logs_in(home, "agent")
        assert role("drop", "agent", "--yes", home=home).returncode == 0
    else:
        assert f"finished dropping role {name!r} (profile 'agent')" in said
        assert (
            "the database had dropped it; the profile and its keyring entries are removed now"
            in said
        )
    assert not supabase.role_exists(name)
    assert_no_profile(home, "agent")
    assert stored_links(home) == {}
    assert KeyringSecretStore().get("agent", SecretKind.PASSWORD) is None


@pytest.mark.slow
def test_a_change_that_cannot_be_settled_yet_holds_up_only_its_own_profile(
    home: Path, admin: str, supabase: Supabase
) -> None:
    create_agent(home, admin, supabase, "agent")
    create_agent(home, admin, supabase, "other")
    killed_at("rotate:executed", "rotate", "agent", home=home)
    # The admin's password is gone from the keyring: the database cannot be asked.
    repository = repository_under(home)
    password = repository.password_value(admin)
    assert password is not None
    KeyringSecretStore().delete(admin, SecretKind.PASSWORD)
    held = role("rotate", "agent", home=home)
    assert held.returncode == 1
    lines = held.stderr.splitlines()
    assert len(lines) == 2, held.stderr
    assert "warning: rotating the password of role" in lines[0]
    assert "is not settled yet" in lines[0]
    assert "the next `supalink role` command tries again" in lines[0]
    assert "interrupted at" in lines[1]
    assert "is not settled yet; nothing was changed: the next `supalink role` command" in lines[1]
    assert len(journal_files(home)) == 1
    other = role("show", "other", "--json", home=home)
    assert other.returncode == 0, other.stderr
    assert "is not settled yet" in other.stderr
    KeyringSecretStore().set(admin, SecretKind.PASSWORD, password)
    said = settled_by_the_next_command(home, admin)
    assert "undid rotating the password of role" in said
    assert logs_in(home, "agent")

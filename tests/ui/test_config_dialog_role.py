"""Write config for a login that bypasses row level security: the dialog says so (found out
in the background), offers a read-only role for the agent, shows its SQL with the password
masked, creates it in one step and then writes the new agent profile's entry; the app's
own login is not warned about, and the roles' errors are worded for the window."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from pytestqt.qtbot import QtBot

from supalink.mcp import Host
from supalink.profiles import Profile, Target
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from supalink.ui.role_dialog import OFFER, PLAN_TASK, RoleDialog
from supalink.ui.role_offer import RIGHTS_TASK
from supalink.ui.tasks import TaskRunner
from tests.roles.conftest import ADMIN_PASSWORD, Supabase, supabase
from tests.support.postgres import PostgresServer

__all__ = ["supabase"]  # the Supabase-like project's fixture, used here


def claude_host(tmp_path: Path) -> Host:
    return Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"


def until(
    loop: asyncio.AbstractEventLoop, condition: Callable[[], object], timeout: float = 30
) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    loop.run_until_complete(asyncio.wait_for(wait(), timeout))


class RecordingTasks(TaskRunner):
    """The app's task runner, keeping the last task started under each name: a test can
    tell a check that ran to its end from one that never ran."""

    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, asyncio.Task[Any]] = {}

    def run(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = super().run(name, coro)
        self.started[name] = task
        return task


def checked(loop: asyncio.AbstractEventLoop, tasks: TaskRunner) -> None:
    """The background check of the login's rights was started, and ran to its end: not
    cancelled, no error."""
    assert isinstance(tasks, RecordingTasks)
    assert RIGHTS_TASK in tasks.started, "the login's rights were never checked"
    task = tasks.started[RIGHTS_TASK]
    until(loop, task.done)
    assert not task.cancelled()
    assert task.exception() is None, task.exception()


@contextmanager
def login_bypassing_rls(pg: PostgresServer) -> Iterator[tuple[str, str]]:
    """A login role on the test server that bypasses row level security (as Supabase's
    supabase_read_only_user does), and its password; dropped afterwards."""
    role, password = f"reads_all_{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    with pg.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN BYPASSRLS PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    try:
        yield role, password
    finally:
        with pg.admin_connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def open_dialog(
    qtbot: QtBot, app_context: AppContext, tmp_path: Path, profile: Profile, password: str | None
) -> ConfigDialog:
    if not isinstance(app_context.tasks, RecordingTasks):
        app_context.tasks = RecordingTasks()
    app_context.repository.save(profile, password)
    dialog = ConfigDialog(
        app_context.tasks,
        app_context.backup_dir,
        Target.from_profile(profile, password),
        password_in_keyring=True,
        host=claude_host(tmp_path),
        repository=app_context.repository,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def admin_dialog(
    qtbot: QtBot, app_context: AppContext, tmp_path: Path, supabase: Supabase
) -> ConfigDialog:
    # The role's name comes from the profile's and carries the project's suffix, so the
    # fixture drops it at the end.
    name = f"Admin {supabase.suffix} {uuid.uuid4().hex[:4]}"
    return open_dialog(qtbot, app_context, tmp_path, supabase.admin_profile(name), ADMIN_PASSWORD)


def offered(loop: asyncio.AbstractEventLoop, dialog: ConfigDialog) -> RoleDialog:
    until(loop, dialog.role_row.isVisible)
    assert dialog.role_button.text() == OFFER
    dialog.role_button.click()
    assert dialog.role_dialog is not None
    return dialog.role_dialog


def test_an_admin_login_is_offered_a_read_only_role_and_the_agents_entry_is_written(
    qtbot: QtBot,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    supabase: Supabase,
    tmp_path: Path,
) -> None:
    dialog = admin_dialog(qtbot, app_context, tmp_path, supabase)
    admin = dialog.profile.name
    assert not dialog.role_row.isVisible()  # found out in the background, not at once
    role_dialog = offered(qasync_loop, dialog)
    warning = dialog.role_warning.text()
    assert f"logs in as {supabase.admin!r}, which bypasses row level security and can " in warning
    assert "An agent that reads untrusted text should not hold it" in warning
    assert "--" not in warning

    until(qasync_loop, role_dialog.create_button.isEnabled)
    role = role_dialog.role_name.text()
    assert role == admin.lower().replace(" ", "_") + "_agent"
    assert role_dialog.profile_name.text() == f"{admin}-agent"
    sql = role_dialog.preview.toPlainText()
    assert f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS' in sql
    assert "PASSWORD '****'" in sql
    assert "SCRAM" not in sql
    assert ADMIN_PASSWORD not in sql
    assert not supabase.role_exists(role)
    dialog.grab().save(str(tmp_path / "config_dialog_warning.png"))
    role_dialog.grab().save(str(tmp_path / "role_dialog.png"))

    role_dialog.create_button.click()
    until(qasync_loop, lambda: not role_dialog.isVisible())
    assert supabase.role_exists(role)
    agent = f"{admin}-agent"
    assert dialog.profile.name == agent
    assert dialog.windowTitle() == f"Write MCP client config for {agent}"
    assert not dialog.role_row.isVisible()
    assert f"Created the role {role!r}" in dialog.status.text()
    assert dialog.planned is not None
    assert dialog.planned.entry.args == ("mcp-serve", "--profile", agent)
    assert dialog.write()
    written = json.loads(config_file(tmp_path).read_text())["mcpServers"]["supabase"]
    assert written["args"] == ["mcp-serve", "--profile", agent]
    dialog.grab().save(str(tmp_path / "config_dialog_agent.png"))

    # The new profile logs in as the role, with the password the keyring holds.
    repository = app_context.repository
    target = Target.from_profile(repository.load(agent).profile, repository.password_value(agent))
    with psycopg.connect(**target.connection_kwargs()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)
        assert conn.execute("SELECT count(*) FROM public.notes").fetchone() == (3,)


def test_an_existing_profile_name_is_worded_for_the_window_and_another_name_is_planned(
    qtbot: QtBot,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    supabase: Supabase,
    tmp_path: Path,
) -> None:
    dialog = admin_dialog(qtbot, app_context, tmp_path, supabase)
    taken = supabase.admin_profile(f"{dialog.profile.name}-agent")
    app_context.repository.save(taken, "x")
    role_dialog = offered(qasync_loop, dialog)
    until(qasync_loop, lambda: not app_context.tasks.is_running(PLAN_TASK))
    assert role_dialog.notes.text() == (
        f"a profile named {taken.name!r} already exists: choose another name for the new profile"
    )
    assert not role_dialog.create_button.isEnabled()

    role_dialog.role_name.setText("Not A Role")
    role_dialog.replan()
    assert role_dialog.notes.text().startswith("Role name: ")
    assert "--" not in role_dialog.notes.text()

    role_dialog.role_name.setText(f"other_{supabase.suffix}_{uuid.uuid4().hex[:4]}")
    role_dialog.profile_name.setText(f"{taken.name} 2")
    role_dialog.replan()
    until(qasync_loop, role_dialog.create_button.isEnabled)
    assert role_dialog.notes.text() == ""
    role_dialog.reject()  # nothing made
    assert not supabase.role_exists(role_dialog.role_name.text())
    assert dialog.profile.name != f"{taken.name} 2"


def test_the_app_role_is_not_warned_about(
    qtbot: QtBot,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    tmp_path: Path,
) -> None:
    """The check asks the server: a login there that bypasses row level security is warned
    about, so the app role's silence is the check's answer, not its absence."""
    profile = Profile("App", host="127.0.0.1", port=pg.port, user=pg.role)
    profile = profile.replace(sslrootcert=str(pg.ca_cert))
    dialog = open_dialog(qtbot, app_context, tmp_path, profile, pg.password)
    assert app_context.tasks.is_running(RIGHTS_TASK)
    checked(qasync_loop, app_context.tasks)
    assert not dialog.role_row.isVisible()
    assert dialog.write_button.isEnabled()

    with login_bypassing_rls(pg) as (role, password):
        reads_all = profile.replace(name="Reads all", user=role)
        dialog = open_dialog(qtbot, app_context, tmp_path, reads_all, password)
        assert not dialog.role_row.isVisible()  # not known by its name: the server says
        checked(qasync_loop, app_context.tasks)
        assert dialog.role_row.isVisible()
        warning = dialog.role_warning.text()
        assert f"logs in as {role!r}, which bypasses row level security" in warning
        dialog.reject()


def test_postgres_is_warned_about_at_once_even_out_of_reach(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    profile = Profile("sb", ref="abcdefghijklmnopqrst", user="postgres", port=port)
    dialog = open_dialog(qtbot, app_context, tmp_path, profile, "pw")
    assert dialog.role_row.isVisible()
    assert "logs in as 'postgres', which bypasses row level security and can change" in (
        dialog.role_warning.text()
    )
    assert dialog.write_button.isEnabled()  # a warning, not a refusal


def test_an_unreachable_server_says_nothing(
    qtbot: QtBot, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    profile = Profile("gone", host="127.0.0.1", port=port, user="someone")
    dialog = open_dialog(qtbot, app_context, tmp_path, profile, "pw")
    checked(qasync_loop, app_context.tasks)
    assert not dialog.role_row.isVisible()
    assert dialog.write_button.isEnabled()


def test_closing_the_dialog_while_the_role_is_planned_stops_the_work(
    qtbot: QtBot,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    supabase: Supabase,
    tmp_path: Path,
) -> None:
    dialog = admin_dialog(qtbot, app_context, tmp_path, supabase)
    role_dialog = offered(qasync_loop, dialog)
    assert app_context.tasks.is_running(PLAN_TASK)
    dialog.reject()
    assert not role_dialog.isVisible()
    assert not app_context.tasks.is_running(PLAN_TASK)
    qasync_loop.run_until_complete(asyncio.sleep(0.2))  # the cancelled plan ends quietly
    assert not supabase.role_exists(role_dialog.role_name.text())

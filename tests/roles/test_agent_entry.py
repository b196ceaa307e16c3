"""The agent's profile end to end with Supalink's own MCP server: its entry is written and
verifies (a select answered, a write and a stacked COMMIT refused), and with the server's
guard turned off its writes are still refused, by the database itself."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.agent.test_server import environment, served
from tests.mcp.test_config_cli import config
from tests.mcp.test_supalink_entry_verify import assert_both_refused
from tests.roles.conftest import Supabase, repository_under
from tests.roles.test_role_cli import assert_nowhere, role


@pytest.mark.slow
def test_the_agent_profiles_entry_verifies_and_the_database_refuses_its_writes(
    tmp_path: Path, home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    created = role("create", admin, "--name", name, "--yes", home=home)
    assert created.returncode == 0, created.stderr
    agent = f"{admin}-agent"
    cfg = tmp_path / "claude_desktop_config.json"
    target = ("--client", "claude", "--config", str(cfg))
    written = config("write", *target, "--profile", agent, home=home)
    assert written.returncode == 0, written.stderr
    assert json.loads(cfg.read_text())["mcpServers"]["supabase"]["args"] == [
        "mcp-serve",
        "--profile",
        agent,
    ]
    verified = config("verify", *target, home=home)
    assert verified.returncode == 0, verified.stderr
    assert_both_refused(verified.stdout)

    async def scenario() -> dict[str, tuple[bool, str]]:
        args = ["mcp-serve", "--profile", agent, "--allow-writes"]
        async with served(args, environment(home)) as client:
            return {
                "read": await client.call("query", sql="select count(*) from public.notes"),
                "insert": await client.call(
                    "query", sql="insert into public.notes values (99, 'agent')"
                ),
                "delete": await client.call("query", sql="delete from public.notes"),
                "hidden": await client.call("query", sql="select count(*) from public.hidden"),
            }

    found = asyncio.run(scenario())
    assert found["read"][0] is False
    for call in ("insert", "delete"):
        is_error, text = found[call]
        assert is_error, text
        assert "permission denied for table notes" in text
    assert found["hidden"][0] is False
    with supabase.connect() as conn:
        assert conn.execute("SELECT count(*) FROM public.notes").fetchone() == (3,)
    password = repository_under(home).password_value(agent)
    assert password is not None
    assert_nowhere(password, home, written.stdout, written.stderr, verified.stdout, cfg.read_text())

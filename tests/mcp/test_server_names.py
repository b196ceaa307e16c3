"""A server name that no client's file should hold as a key: bad input, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from supalink.mcp import DEFAULT_SERVER_NAME, BadServerName, check_server_name
from tests.support.cli import run_cli

URI = "postgresql://supalink_app:secret-pw@127.0.0.1:5432/postgres"
OTHER = '{\n  "globalShortcut": "Ctrl+Space"\n}\n'
BAD_NAMES = {
    "": "is empty",
    "   ": "is blank",
    "\t": "is blank",
    "db\nother": "holds control characters",
    "db\x1b[2J": "holds control characters",
    "db\x7f": "holds control characters",
    "db\u2028x": "holds control characters",
}


@pytest.mark.parametrize(("name", "problem"), BAD_NAMES.items())
def test_bad_names_are_refused_with_the_reason(name: str, problem: str) -> None:
    with pytest.raises(BadServerName) as raised:
        check_server_name(name)
    assert (raised.value.name, raised.value.problem) == (name, problem)


@pytest.mark.parametrize("name", [DEFAULT_SERVER_NAME, "my db", "prod-ä", "Supabase (prod)"])
def test_good_names_pass(name: str) -> None:
    assert check_server_name(name) == name


@pytest.mark.parametrize("action", ["write", "remove", "verify", "show"])
@pytest.mark.parametrize(
    ("name", "problem"),
    [("", "is empty"), (" ", "is blank"), ("a\x01b", "holds control characters")],
)
def test_the_cli_says_so_in_one_line_exits_2_and_writes_nothing(
    tmp_path: Path, action: str, name: str, problem: str
) -> None:
    cfg = tmp_path / "claude_desktop_config.json"
    cfg.write_text(OTHER)
    extra = ["--uri", "-"] if action == "write" else ["--yes"] if action == "remove" else []
    argv = ["config", action, "--client", "claude", "--config", str(cfg), "--server-name", name]
    result = run_cli(*argv, *extra, home=tmp_path / "home", stdin=URI + "\n", text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"supalink config: error: --server-name {name!r} {problem}\n"
    assert result.stdout == ""
    assert cfg.read_text() == OTHER
    assert [p.name for p in cfg.parent.iterdir() if p != cfg.parent / "home"] == [cfg.name]
    assert not [p for p in (tmp_path / "home").rglob("*") if "backup" in p.name]

"""The README's terminal examples: each is a command line Supalink accepts, and those that
need no database, keyring or network run as shown."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from supalink.cli import build_parser
from tests.support.cli import run_cli

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[list[str]]:
    """The command lines of the README's block of `supalink` examples, comments left out."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.DOTALL)
    [block] = [block for block in blocks if "supalink parse" in block]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_no_example_reads_like_a_shell_pipe() -> None:
    assert all("|" not in argv for argv in examples())


@pytest.mark.parametrize("argv", examples(), ids=lambda argv: " ".join(argv[1:3]))
def test_each_example_is_a_command_line_supalink_accepts(argv: list[str]) -> None:
    assert argv[0] == "supalink"
    args = build_parser().parse_args(argv[1:])
    assert args.command is not None


@pytest.mark.parametrize("command", ["url", "parse"])
def test_the_examples_that_need_nothing_else_run_as_shown(tmp_path: Path, command: str) -> None:
    [argv] = [argv for argv in examples() if argv[1] == command]
    result = run_cli(*argv[1:], home=tmp_path, text=True)
    assert result.returncode == 0, result.stderr
    assert "abcdefghijklmnopqrst" in result.stdout

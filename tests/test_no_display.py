"""`supalink` with no display: one line saying so and where to go, not Qt's SIGABRT."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from supalink.app.launch import NO_DISPLAY, display_problem
from tests.support.profiles import SUPALINK

DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def run_headless(
    tmp_path: Path, argv: list[str], extra: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """`supalink ARGV` with no display variable but those in `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES}
    env |= {"SUPALINK_HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path), **extra}
    return subprocess.run(
        [SUPALINK, *argv], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.mark.parametrize(
    ("argv", "extra"),
    [([], {}), (["--demo"], {}), ([], {"QT_QPA_PLATFORM": "xcb"})],
    ids=["app", "demo", "xcb-asked"],
)
def test_without_a_display_it_says_so_in_one_line_and_exits_1(
    tmp_path: Path, argv: list[str], extra: dict[str, str]
) -> None:
    result = run_headless(tmp_path, argv, extra, timeout=60)
    assert result.returncode == 1, (result.returncode, result.stderr)  # -6 was Qt's SIGABRT
    assert result.stderr == f"supalink: {NO_DISPLAY}\n"
    assert "`supalink --help`" in NO_DISPLAY
    assert "`supalink --self-check`" in NO_DISPLAY
    assert result.stdout == ""
    # The demo refused before it started a server: nothing left in the temporary folder.
    assert [path.name for path in tmp_path.iterdir() if path.name != "home"] == []


def test_self_check_still_runs_without_a_display(tmp_path: Path) -> None:
    result = run_headless(tmp_path, ["--self-check"], {}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "qt platform: offscreen" in result.stdout


@pytest.mark.parametrize(
    ("environ", "platform", "refused"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"DISPLAY": ""}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen:fontengine=freetype"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;minimal"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_what_counts_as_a_display(environ: dict[str, str], platform: str, *, refused: bool) -> None:
    assert (display_problem(environ, platform) is not None) is refused

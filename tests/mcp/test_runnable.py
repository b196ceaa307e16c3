"""`config write` checks that a template's server can start where the client starts it:
for postgres-mcp, uvx and a Python >= 3.12 that uv has. Fake `uvx` and `uv` on a temporary
PATH stand in for the machine's (a real uv, when there is one, answers the same question)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path, PurePath
from urllib.parse import quote

from supalink.mcp.clients import Host
from supalink.mcp.launch_env import LINUX_GUI_PATH, Finder, absolute_entry
from supalink.mcp.runnable import check_python, python_requirement
from supalink.mcp.templates import ServerEntry, build_entry, keyring_entry
from tests.support.cli import run_cli
from tests.support.postgres import SPECIAL_PASSWORD

URI = f"postgresql://u:{quote(SPECIAL_PASSWORD, safe='')}@127.0.0.1:5432/postgres"
UVX = "#!/bin/sh\nexit 0\n"
# As uv 0.9 answers `uv python find '>=3.12'` with only 3.11 at hand.
UV_311 = """#!/bin/sh
env > "$(dirname "$0")/uv-env"
echo "error: No interpreter found for Python >=3.12 in managed installations or search path" >&2
exit 2
"""
UV_GOOD = """#!/bin/sh
env > "$(dirname "$0")/uv-env"
[ "$1 $2 $3" = "python find >=3.12" ] || exit 9
echo /opt/python/3.12.8/bin/python3.12
"""
UV_SLOW = "#!/bin/sh\nexec sleep 30\n"


def tools(folder: Path, **scripts: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, script in scripts.items():
        path = folder / name
        path.write_text(script)
        path.chmod(0o755)
    return folder


def only_in(folder: Path) -> Finder:
    """A finder that sees the programs in `folder` only, not the machine's."""

    def is_program(path: PurePath) -> bool:
        return Path(path).parent == folder and os.access(path, os.X_OK)

    return Finder(Host.current(), is_program=is_program)


def planned(folder: Path, template: str = "postgres-mcp") -> tuple[Finder, ServerEntry]:
    finder = only_in(folder)
    entry, _ = absolute_entry(build_entry(template, URI), finder, str(folder))
    return finder, entry


def test_what_needs_a_python_and_which() -> None:
    finder = Finder(Host.current())
    assert python_requirement(build_entry("postgres-mcp", URI), finder) == (
        "postgres-mcp",
        ">=3.12",
    )
    assert python_requirement(build_entry("reference", URI), finder) is None
    launched = keyring_entry("p", "postgres-mcp")
    assert python_requirement(launched, finder) == ("postgres-mcp", ">=3.12")


def test_uv_with_only_311_is_told_without_the_password(tmp_path: Path) -> None:
    folder = tools(tmp_path / "bin", uvx=UVX, uv=UV_311)
    finder, entry = planned(folder)
    checked = check_python(entry, finder, {"PATH": str(folder), "HOME": str(tmp_path)})
    assert checked is not None
    assert not checked.ok
    assert checked.uv == folder / "uv"
    assert checked.detail.startswith("error: No interpreter found for Python >=3.12")
    assert checked.install_version == "3.12"
    # uv ran with the client's environment (its PATH), never the entry's URI and password.
    seen = (folder / "uv-env").read_text()
    assert f"PATH={LINUX_GUI_PATH}\n" in seen
    assert SPECIAL_PASSWORD not in seen
    assert "DATABASE_URI" not in seen


def test_uv_with_a_312_is_fine(tmp_path: Path) -> None:
    folder = tools(tmp_path / "bin", uvx=UVX, uv=UV_GOOD)
    finder, entry = planned(folder)
    checked = check_python(entry, finder, {"PATH": str(folder)})
    assert checked is not None
    assert checked.ok
    assert checked.found == "/opt/python/3.12.8/bin/python3.12"


def test_no_uvx_no_uv_and_a_uv_that_hangs(tmp_path: Path) -> None:
    nothing = tools(tmp_path / "empty")
    finder, entry = planned(nothing)
    assert check_python(entry, finder, {"PATH": str(nothing)}) is None
    lone = tools(tmp_path / "lone", uvx=UVX)
    finder, entry = planned(lone)
    checked = check_python(entry, finder, {"PATH": str(lone)})
    assert checked is not None
    assert (checked.uv, checked.ok) == (None, False)
    slow = tools(tmp_path / "slow", uvx=UVX, uv=UV_SLOW)
    finder, entry = planned(slow)
    checked = check_python(entry, finder, {"PATH": str(slow)}, timeout=0.3)
    assert checked is not None
    assert checked.timed_out


def write(tmp_path: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    home = tmp_path / "home"
    env = {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}", "HOME": str(home)}
    return run_cli(
        "config",
        "write",
        "--client",
        "claude",
        "--config",
        str(tmp_path / "c.json"),
        "--uri",
        URI,
        "--template",
        "postgres-mcp",
        "--dry-run",
        home=home,
        env=env,
        text=True,
    )


def test_config_write_says_what_is_missing_before_writing(tmp_path: Path) -> None:
    folder = tools(tmp_path / "bin", uvx=UVX, uv=UV_311)
    result = write(tmp_path, folder)
    assert result.returncode == 0, result.stderr
    assert (
        "warning: postgres-mcp needs Python >=3.12: uv finds none where Claude Desktop starts "
        "it (`uv python find '>=3.12'` (error: No interpreter found for Python >=3.12 in "
        "managed installations or search path)); uvx will try to download one at the "
        "server's first start, which fails offline or with downloads turned off; install one "
        "now with `uv python install 3.12`"
    ) in result.stderr
    assert SPECIAL_PASSWORD not in result.stdout + result.stderr
    good = tools(tmp_path / "good", uvx=UVX, uv=UV_GOOD)
    fine = write(tmp_path, good)
    assert fine.returncode == 0, fine.stderr
    assert "needs Python" not in fine.stderr
    assert (
        "python: /opt/python/3.12.8/bin/python3.12 (postgres-mcp needs Python >=3.12; found by uv)"
        in fine.stdout
    )


def test_the_real_uv_answers_the_same_question(tmp_path: Path) -> None:
    uv = Path(sys.executable).with_name("uv")  # the test extra's, in this venv
    assert uv.exists(), "uv is a test dependency: pip install -e '.[test]'"
    folder = tools(tmp_path / "bin", uvx=UVX)
    (folder / "uv").symlink_to(uv)
    finder, entry = planned(folder)
    checked = check_python(entry, finder, dict(os.environ))
    assert checked is not None
    assert checked.uv is not None
    assert not checked.timed_out
    assert checked.ok == (checked.found is not None)

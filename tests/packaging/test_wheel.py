"""The wheel that `pip install .` and `pipx install .` build: contents, entry point, and a run.

The install test puts the wheel into a fresh venv and borrows the test venv's packages for the
dependencies (pip's resolver and a 100 MB Qt download are not what is under test here);
packaging/check-install.sh does the full `pip install .` and `pipx install .` from PyPI.
"""

from __future__ import annotations

import email.parser
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from supalink import __version__
from tests.packaging.files import ICON_SIZES, REPO
from tests.support.secret_service import SecretService


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (built,) = out.glob("supalink-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_the_package_and_every_icon(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    icons = "supalink/resources/icons"
    expected = {
        "supalink/__init__.py",
        "supalink/cli.py",
        "supalink/app/__init__.py",
        "supalink/py.typed",
        "supalink/agent/server.py",  # `supalink mcp-serve`, what a client's entry runs
        "supalink/commands/mcp_serve.py",
        f"{icons}/supalink.svg",
        f"{icons}/supalink.ico",
        f"{icons}/supalink.icns",
        *(f"{icons}/hicolor/{size}x{size}/apps/supalink.png" for size in ICON_SIZES),
    }
    assert expected <= names
    assert not [name for name in names if name.startswith(("tests/", "packaging/"))]


@pytest.mark.slow
def test_wheel_declares_the_console_script_and_no_build_tool_at_run_time(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    info = f"supalink-{__version__}.dist-info"
    entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\nsupalink = supalink.cli:main" in entry_points
    metadata = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
    requires = [line.lower() for line in metadata.get_all("Requires-Dist") or []]
    runtime = [line for line in requires if "extra ==" not in line]
    assert "pyinstaller>=6.10; extra == 'packaging'" in requires
    assert not [line for line in runtime if line.startswith("pyinstaller")]
    assert any(line.startswith("pyside6-essentials") for line in runtime)


@pytest.mark.slow
def test_installed_wheel_puts_supalink_on_path_and_its_self_check_opens_the_window(
    wheel: Path, tmp_path: Path, secret_service: SecretService
) -> None:
    venv = tmp_path / "fresh venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(venv / "bin" / "python"),
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # Dependencies from the test venv, after the fresh venv's own site-packages on sys.path.
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path / "home"),
        **secret_service.environment(),
    }
    env.pop("PYTHONPATH", None)

    check = subprocess.run(
        ["supalink", "--self-check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.resources, supalink; print(supalink.__file__); "
            "print(importlib.resources.files('supalink').joinpath('resources/icons/supalink.svg')"
            ".is_file())",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )

    assert check.returncode == 0, check.stdout + check.stderr
    report = dict(line.split(": ", 1) for line in check.stdout.splitlines())
    assert report["supalink"] == __version__
    assert report["windows"] == "main, monitor"
    assert report["keyring"].startswith("Secret Service")
    module, has_icon = where.stdout.splitlines()
    assert Path(module).is_relative_to(venv), "supalink came from the repository, not the wheel"
    assert has_icon == "True"

"""The quality gates run inside the one pytest run: lint, format, strict types."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "gate",
    [
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--no-cache", "--check", "."],
        # strict, on src/ and tests/, from pyproject.toml; 10-20 s without its cache
        pytest.param(["mypy"], marks=pytest.mark.slow),
    ],
    ids=["ruff-lint", "ruff-format", "mypy-strict"],
)
def test_quality_gate(gate: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *gate],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_top_level_layout_is_as_designed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    top = {name.split("/")[0] for name in tracked}
    allowed = {"pyproject.toml", "src", "resources", "tests", "packaging", "README.md", ".ci"}
    allowed |= {".gitignore"}
    assert top <= allowed, f"unexpected top-level entries: {sorted(top - allowed)}"


def test_only_ui_and_app_import_qt() -> None:
    """The capability packages stay Qt-free so the CLI and tests drive them without a GUI."""
    qt_names = ("PySide6", "qasync")
    offenders = []
    for path in (REPO / "src" / "supalink").rglob("*.py"):
        relative = path.relative_to(REPO / "src" / "supalink")
        if relative.parts[0] in ("ui", "app"):
            continue
        text = path.read_text()
        offenders += [f"{relative}: {name}" for name in qt_names if f"import {name}" in text]
        offenders += [f"{relative}: {name}" for name in qt_names if f"from {name}" in text]
    assert offenders == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    command = ci.strip().splitlines()[-1]
    assert f"```sh\n{command}\n```" in readme
    assert "pytest" in command


def test_readme_images_exist_and_the_metainfo_shows_the_same_screenshots() -> None:
    import re

    readme = (REPO / "README.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert {Path(image).name for image in images} >= {
        "main-window.png",
        "failed-test.png",
        "config-diff.png",
        "monitor.png",
    }
    for image in images:
        assert (REPO / image).is_file(), image
    metainfo = (REPO / "packaging/linux/io.github.supalink.Supalink.metainfo.xml").read_text()
    for image in images:
        assert Path(image).name in metainfo

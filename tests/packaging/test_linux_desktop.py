"""The Linux .desktop file, AppStream metainfo and the script that installs them for a user."""

from __future__ import annotations

import configparser
import os
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from supalink import __version__
from tests.packaging.files import (
    APP_ID,
    DESKTOP_FILE,
    ICON_SIZES,
    ICONS,
    LINUX,
    METAINFO_FILE,
    REPO,
)
from tests.packaging.validators import LinuxValidators

INSTALLER = LINUX / "install-desktop-entry.sh"


def desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    assert parser.sections() == ["Desktop Entry"]
    return parser["Desktop Entry"]


def project() -> dict[str, object]:
    with (REPO / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]  # type: ignore[no-any-return]


def test_desktop_file_passes_desktop_file_validate(linux_validators: LinuxValidators) -> None:
    result = subprocess.run(
        [str(linux_validators.desktop_file_validate), str(DESKTOP_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    # It prints hints and errors alike; a clean file prints nothing.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_metainfo_passes_appstreamcli(linux_validators: LinuxValidators) -> None:
    result = subprocess.run(
        [str(linux_validators.appstreamcli), "validate", "--no-net", "--no-color", METAINFO_FILE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Infos and pedantic notes are allowed (appstream 0.16 does not know <developer> yet).
    warnings = [line for line in result.stdout.splitlines() if line.startswith(("W:", "E:"))]
    assert warnings == []


def test_desktop_entry_starts_the_console_script_with_the_shipped_icon() -> None:
    entry = desktop_entry(DESKTOP_FILE)
    scripts = project()["scripts"]
    assert isinstance(scripts, dict)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == entry["TryExec"] == "supalink"
    assert "supalink" in scripts
    assert entry["Terminal"] == "false"
    assert entry["Icon"] == "supalink"
    for size in ICON_SIZES:
        assert (ICONS / "hicolor" / f"{size}x{size}" / "apps" / "supalink.png").is_file()
    assert set(entry["Categories"].rstrip(";").split(";")) >= {"Development", "Database"}


def test_metainfo_names_the_desktop_file_binary_version_and_licence() -> None:
    component = ET.parse(METAINFO_FILE).getroot()  # noqa: S314 (our own committed file)
    assert component.tag == "component"
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    launchable = component.find("launchable")
    assert launchable is not None
    assert launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP_FILE.name
    assert component.findtext("provides/binary") == "supalink"
    assert component.findtext("project_license") == project()["license"]
    assert component.findtext("name") == desktop_entry(DESKTOP_FILE)["Name"]
    releases = [release.get("version") for release in component.iterfind("releases/release")]
    assert releases[0] == __version__, "add a <release> for the new version, newest first"


@pytest.fixture
def user_data(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share"), "HOME": str(tmp_path)}


def run_installer(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(INSTALLER), *args], env=env, capture_output=True, text=True, check=False
    )


def test_installer_adds_a_valid_menu_entry_for_a_path_with_spaces(
    tmp_path: Path, user_data: dict[str, str], linux_validators: LinuxValidators
) -> None:
    folder = tmp_path / "my apps"
    folder.mkdir()
    executable = folder / "supalink"
    executable.write_text("#!/bin/sh\nexit 0\n")
    executable.chmod(0o755)

    result = run_installer(user_data, str(executable))

    assert result.returncode == 0, result.stderr
    share = Path(user_data["XDG_DATA_HOME"])
    installed = share / "applications" / DESKTOP_FILE.name
    validated = subprocess.run(
        [str(linux_validators.desktop_file_validate), str(installed)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (validated.returncode, validated.stdout) == (0, "")
    entry = desktop_entry(installed)
    assert entry["Exec"] == f'"{executable}"'
    assert entry["TryExec"] == str(executable)
    assert entry["Name"] == desktop_entry(DESKTOP_FILE)["Name"]
    for size in ICON_SIZES:
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "supalink.png"
        source = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "supalink.png"
        assert icon.read_bytes() == source.read_bytes()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / "supalink.svg").is_file()
    assert (share / "metainfo" / METAINFO_FILE.name).read_bytes() == METAINFO_FILE.read_bytes()

    removed = run_installer(user_data, "--remove")

    assert removed.returncode == 0, removed.stderr
    assert not installed.exists()
    assert list(share.rglob("supalink.*")) == []


def test_installer_refuses_what_is_not_an_executable(
    tmp_path: Path, user_data: dict[str, str]
) -> None:
    not_executable = tmp_path / "supalink"
    not_executable.write_text("")
    quote = tmp_path / 'say "hi"'
    quote.mkdir()
    (quote / "supalink").write_text("#!/bin/sh\n")
    (quote / "supalink").chmod(0o755)

    for path in (not_executable, quote / "supalink", tmp_path / "missing"):
        result = run_installer(user_data, str(path))
        assert result.returncode == 2, (path, result.stderr)
        assert len(result.stderr.splitlines()) == 1
    assert not (Path(user_data["XDG_DATA_HOME"]) / "applications").exists()

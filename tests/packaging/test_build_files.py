"""The PyInstaller spec, its hook, the Windows version file, build.sh and its smoke test.

PyInstaller itself runs in packaging/build.sh, not here: a build takes a minute.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import runpy
import stat
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from supalink import __version__
from tests.packaging.files import APP_ID, ICONS, PACKAGING, REPO

SPEC = PACKAGING / "supalink.spec"


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"packaging_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spec_strings() -> set[str]:
    tree = ast.parse(SPEC.read_text(), filename=str(SPEC))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_spec_names_the_modules_analysis_cannot_see() -> None:
    strings = spec_strings()
    # Imported by name (subcommands), from C (psycopg), or found through entry points (keyring).
    assert {
        "supalink",
        "psycopg_binary",
        "psycopg_pool",
        "keyring.backends",
        "keyring",
        "jeepney",
        "jeepney.io.blocking",
        "secretstorage",
        "qasync",
        "mcp.client.session",
        "mcp.client.stdio",
    } <= strings
    source = SPEC.read_text()
    assert 'collect_submodules("supalink")' in source
    assert 'collect_submodules("keyring.backends")' in source
    assert 'copy_metadata("keyring")' in source  # keyring's entry points live in its metadata


def test_spec_puts_resources_where_the_wheel_does_and_names_the_bundle() -> None:
    strings = spec_strings()
    assert {"resources", "supalink/resources", "hooks", "supalink", APP_ID} <= strings
    assert {"supalink.ico", "supalink.icns", "version_info.txt"} <= strings
    for name in ("supalink.ico", "supalink.icns"):
        assert (ICONS / name).is_file()


def test_psycopg_binary_hook_adds_uuid_and_only_the_private_module_that_exists() -> None:
    hook = runpy.run_path(str(PACKAGING / "hooks" / "hook-psycopg_binary.py"))
    spec = importlib.util.find_spec("psycopg_binary")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    has_uuid_module = any(
        any(Path(folder).glob("_uuid.*")) for folder in spec.submodule_search_locations
    )
    assert "uuid" in hook["hiddenimports"]
    assert ("psycopg_binary._uuid" in hook["hiddenimports"]) == has_uuid_module


def test_windows_version_file_carries_the_package_version() -> None:
    tree = ast.parse((PACKAGING / "windows" / "version_info.txt").read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    keywords = {
        keyword.arg: ast.literal_eval(keyword.value)
        for call in calls
        if ast.unparse(call.func) == "FixedFileInfo"
        for keyword in call.keywords
        if keyword.arg in ("filevers", "prodvers")
    }
    numbers = tuple(int(part) for part in __version__.split("."))
    padded = (*numbers, *(0,) * (4 - len(numbers)))
    assert keywords == {"filevers": padded, "prodvers": padded}
    strings = {
        ast.literal_eval(call.args[0]): ast.literal_eval(call.args[1])
        for call in calls
        if ast.unparse(call.func) == "StringStruct"
    }
    assert strings["FileVersion"] == strings["ProductVersion"] == __version__
    assert strings["OriginalFilename"] == "supalink.exe"


@pytest.mark.parametrize(
    "script",
    ["build.sh", "render-icons.sh", "linux/install-desktop-entry.sh"],
)
def test_shell_scripts_are_executable_strict_bash(script: str) -> None:
    path = PACKAGING / script
    assert path.stat().st_mode & stat.S_IXUSR
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_build_script_installs_pyinstaller_from_the_packaging_extra_and_builds_the_spec() -> None:
    text = (PACKAGING / "build.sh").read_text()
    assert "pip\" install -e '.[packaging]'" in text
    assert "packaging/supalink.spec" in text
    assert "--distpath dist --workpath build" in text
    assert "packaging/smoke_test.py dist/supalink/supalink" in text
    ignored = (REPO / ".gitignore").read_text().split()
    assert {"dist/", "build/"} <= set(ignored)


def fake_app(tmp_path: Path, output: str, code: int = 0) -> Path:
    script = tmp_path / "supalink"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{output}'\necho 'on stderr' >&2\nexit {code}\n")
    script.chmod(0o755)
    return script


def test_smoke_test_fails_loudly_with_the_apps_own_output(tmp_path: Path) -> None:
    smoke = load_script(PACKAGING / "smoke_test.py")

    with pytest.raises(smoke.SmokeTestFailure) as crashed:
        smoke.check_self_check(fake_app(tmp_path, "Traceback: boom\n", code=3))
    assert "exited 3" in str(crashed.value)
    assert "Traceback: boom" in str(crashed.value)
    assert "on stderr" in str(crashed.value)

    with pytest.raises(smoke.SmokeTestFailure, match="did not open the main and monitor windows"):
        smoke.check_self_check(fake_app(tmp_path, "qt platform: offscreen\nwindows: none\n"))

    report = smoke.check_self_check(
        fake_app(
            tmp_path, "keyring: Secret Service\nqt platform: offscreen\nwindows: main, monitor\n"
        )
    )
    assert report["keyring"] == "Secret Service"


def test_smoke_test_command_exits_1_on_a_folder_that_is_no_bundle(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke_test.py"), str(fake_app(tmp_path, ""))],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("smoke test FAILED: the bundle lacks:")
    assert result.stdout == ""


def test_make_icns_refuses_an_image_of_the_wrong_size() -> None:
    make_icns = load_script(PACKAGING / "make_icns.py")
    png_32 = (ICONS / "hicolor" / "32x32" / "apps" / "supalink.png").read_bytes()

    with pytest.raises(ValueError, match="the 16 px image is 32x32"):
        make_icns.pack({16: png_32})
    packed = make_icns.pack({32: png_32})
    assert packed[:4] == b"icns"
    assert packed.count(png_32) == 2  # the 32 px slot and the 16@2x slot

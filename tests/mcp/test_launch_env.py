"""The environment a desktop client starts servers with, and finding a command where a
person's shell would have: on real folders laid out as each installer lays them out."""

from __future__ import annotations

import os
from pathlib import Path, PurePath, PureWindowsPath

import pytest

from supalink.mcp.clients import Host
from supalink.mcp.launch_env import (
    LINUX_GUI_PATH,
    MACOS_GUI_PATH,
    Finder,
    client_environment,
)

CALLER = {
    "HOME": "/home/ada",
    "USER": "ada",
    "LANG": "en_GB.UTF-8",
    "PATH": "/home/ada/.nvm/versions/node/v20.11.1/bin:/usr/bin:/bin",
    "NVM_DIR": "/home/ada/.nvm",
    "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus",
    "XDG_RUNTIME_DIR": "/run/user/1000",
    "PGPASSWORD": "never-passed-on",
    "SSH_AUTH_SOCK": "/tmp/ssh-agent",
}


def program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_macos_gives_launchds_path_and_none_of_the_shells_variables() -> None:
    env = client_environment(Host("darwin", {}, PurePath("/Users/ada")), CALLER)
    assert env == {
        "HOME": "/home/ada",
        "USER": "ada",
        "LANG": "en_GB.UTF-8",
        "PATH": MACOS_GUI_PATH,
    }


def test_linux_keeps_the_desktop_sessions_bus_and_the_entrys_env_goes_on_top() -> None:
    env = client_environment(
        Host("linux", {}, PurePath("/home/ada")), CALLER, {"PATH": "/opt/x", "A": "1"}
    )
    assert env["DBUS_SESSION_BUS_ADDRESS"] == "unix:path=/run/user/1000/bus"
    assert env["XDG_RUNTIME_DIR"] == "/run/user/1000"
    assert (env["PATH"], env["A"]) == ("/opt/x", "1")
    assert "PGPASSWORD" not in env
    assert "SSH_AUTH_SOCK" not in env
    assert client_environment(Host("linux", {}, PurePath("/")), CALLER)["PATH"] == LINUX_GUI_PATH


def test_windows_keeps_the_registry_path_and_the_system_folders() -> None:
    caller = {"Path": r"C:\Windows;C:\nodejs", "SystemRoot": r"C:\Windows", "GIT_X": "1"}
    env = client_environment(Host("win32", {}, PureWindowsPath("C:/")), caller)
    assert env == {"PATH": r"C:\Windows;C:\nodejs", "SYSTEMROOT": r"C:\Windows"}


def test_a_command_on_the_callers_path_is_found_there_not_resolved_through_links(
    tmp_path: Path,
) -> None:
    real = program(tmp_path / "lib" / "node_modules" / "pg-server" / "dist" / "index.js")
    link = tmp_path / "bin" / "mcp-server-postgres"
    link.parent.mkdir()
    link.symlink_to(real)
    finder = Finder(Host("linux", {}, tmp_path / "home"))
    assert finder.find("mcp-server-postgres", f"/nowhere:{tmp_path / 'bin'}") == link


@pytest.mark.parametrize(
    ("layout", "alias"),
    [
        (".nvm/versions/node/v20.11.1/bin/npx", "20"),
        (".nvm/versions/node/v20.11.1/bin/npx", "v20.11.1"),
        (".nvm/versions/node/v22.1.0/bin/npx", "22.1"),
        (".volta/bin/npx", None),
        (".local/share/fnm/aliases/default/bin/npx", None),
        (".local/share/mise/shims/npx", None),
        (".asdf/shims/npx", None),
    ],
)
def test_node_installers_folders_are_searched_beyond_path(
    tmp_path: Path, layout: str, alias: str | None
) -> None:
    home = tmp_path / "home"
    expected = program(home / layout)
    if alias is not None:
        (home / ".nvm" / "alias").mkdir(parents=True)
        (home / ".nvm" / "alias" / "default").write_text(alias + "\n")
        program(home / ".nvm" / "versions" / "node" / "v18.0.0" / "bin" / "npx")  # not default
    finder = Finder(Host("linux", {}, home))
    assert finder.find("npx", str(tmp_path / "empty")) == expected  # (this machine has one)


def test_uv_in_local_bin_and_fnm_on_macos(tmp_path: Path) -> None:
    home = tmp_path / "home"
    uvx = program(home / ".local" / "bin" / "uvx")
    npx = program(home / "Library/Application Support/fnm/aliases/default/bin/npx")
    finder = Finder(Host("darwin", {}, home))
    assert (finder.find("uvx", ""), finder.find("npx", "")) == (uvx, npx)


def test_a_file_that_is_not_executable_or_is_missing_is_not_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "uvx").write_text("not executable")
    finder = Finder(Host("linux", {}, home))
    assert finder.find("uvx", "") is None
    assert finder.find(str(tmp_path / "missing"), "") is None
    assert finder.find(os.fspath(program(tmp_path / "abs")), "") == tmp_path / "abs"


def test_on_windows_npx_is_found_as_npx_cmd_in_the_users_npm_folder() -> None:
    appdata = PureWindowsPath(r"C:\Users\ada\AppData\Roaming")
    there = {appdata / "npm" / "npx.cmd"}
    finder = Finder(
        Host("win32", {"APPDATA": str(appdata)}, PureWindowsPath(r"C:\Users\ada")),
        is_program=lambda path: path in there,
    )
    assert finder.find("npx", r"C:\Windows") == appdata / "npm" / "npx.cmd"

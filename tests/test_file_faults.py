"""File-system faults met by every command that reads or writes a file Supalink owns or edits:
one line on stderr naming the file and the cause, exit 1, nothing changed, no temporary file
left; and a log file on a full disk costs no `--- Logging error ---` on stderr. Real files and
mounts; the commands in this process, but where only a process shows the fault."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from supalink.files import atomic_write_bytes
from supalink.paths import AppPaths
from supalink.profiles import MemorySecretStore, Profile, ProfileRepository
from supalink.profiles.settings import SettingsFile
from tests.support.cli import SUPALINK, run_cli, spawn_cli
from tests.support.file_faults import (
    FAULTS,
    READ_FAULTS,
    Fault,
    faulty,
    fill,
    make_read_only,
    snapshot,
    tmpfs,
    without_root_powers,
)
from tests.support.postgres import PostgresServer
from tests.support.profiles import save_profile
from tests.support.secret_service import SecretService
from tests.support.signals import wait_until_caught

ORIGINAL = (
    b'{\n  "globalShortcut": "Ctrl+Space",\n'
    b'  "mcpServers": {\n    "supabase": {"command": "npx", "args": ["-y", "old"]}\n  }\n}\n'
)
# No password and no CA warning: what the command says on stderr is its error alone.
URI = "postgresql://u@127.0.0.1:1/db?sslmode=require"
CONFIG_CHANGES = {
    # Supalink's own server: started by absolute path, no command to look for (and warn of).
    "write": ["write", "--uri", URI, "--template", "supalink", "--yes"],
    "remove": ["remove", "--yes"],
}
ADD_P2 = ["add", "p2", "--host", "127.0.0.1", "--port", "5432", "--user", "u"]
PROFILE_CHANGES = {
    "add": [*ADD_P2, "--no-save-password"],
    "remove": ["remove", "p1"],
    "rename": ["rename", "p1", "p3"],
}


def supalink(
    *argv: str, home: Path, unprivileged: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """In this process; as a process of its own without root's powers for the permission
    faults (root ignores permission bits, and this process runs as root)."""
    if unprivileged:
        return spawn_cli(*argv, home=home, through=without_root_powers)
    return run_cli(*argv, home=home)


def launcher(*argv: str, home: Path) -> subprocess.CompletedProcess[bytes]:
    """`mcp-run` as a process: it replaces itself with the server it starts."""
    return spawn_cli("mcp-run", *argv, home=home)


def one_line(command: str, fault: Fault, path: Path) -> bytes:
    return f"supalink {command}: cannot {fault.action} {path}: {fault.cause}\n".encode()


def no_temporary_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith(".tmp")]


# ----- the MCP client's config file ------------------------------------------------------
@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
@pytest.mark.parametrize("change", CONFIG_CHANGES)
def test_a_config_change_that_meets_a_fault_says_so_and_changes_nothing(
    tmp_path: Path, fault: Fault, change: str
) -> None:
    home = tmp_path / "home"
    path = tmp_path / "client" / "claude_desktop_config.json"
    args = ["config", *CONFIG_CHANGES[change], "--client", "claude", "--config", str(path)]
    with faulty(fault, path, lambda: path.write_bytes(ORIGINAL)):
        before = snapshot(path.parent)
        result = supalink(*args, home=home, unprivileged=fault.unprivileged)
        after = snapshot(path.parent)
    assert (result.returncode, result.stderr) == (1, one_line("config", fault, path))
    assert after == before
    assert no_temporary_files(path.parent) == []
    # The backup of a file that was left as it was is gone again.
    assert list((home / "data").rglob("*.bak")) == []


@pytest.mark.parametrize("fault", READ_FAULTS, ids=lambda fault: fault.name)
@pytest.mark.parametrize("action", ["verify", "show"])
def test_reading_a_config_file_that_cannot_be_read_says_why(
    tmp_path: Path, fault: Fault, action: str
) -> None:
    path = tmp_path / "client" / "claude_desktop_config.json"
    args = ["config", action, "--client", "claude", "--config", str(path)]
    with faulty(fault, path, lambda: path.write_bytes(ORIGINAL)):
        before = snapshot(path.parent)
        result = supalink(*args, home=tmp_path / "home", unprivileged=fault.unprivileged)
        assert snapshot(path.parent) == before
    assert (result.returncode, result.stderr) == (1, one_line("config", fault, path))
    assert result.stdout == b""


# ----- the settings file -----------------------------------------------------------------
def add_first_profile(home: Path) -> None:
    """Profile p1 in the settings file, no secret of it anywhere."""
    repository = ProfileRepository(
        SettingsFile(AppPaths.under(home).settings_file), MemorySecretStore()
    )
    profile = Profile("p1", host="127.0.0.1", port=5432, user="u")
    repository.save(profile, None, save_password=False)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
@pytest.mark.parametrize("change", PROFILE_CHANGES)
def test_a_profile_change_that_meets_a_fault_says_so_and_changes_nothing(
    tmp_path: Path, fault: Fault, change: str
) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    with faulty(fault, path, lambda: add_first_profile(home)):
        before = snapshot(path.parent)
        result = supalink(
            "profile", *PROFILE_CHANGES[change], home=home, unprivileged=fault.unprivileged
        )
        after = snapshot(path.parent)
    assert (result.returncode, result.stderr) == (1, one_line("profile", fault, path))
    assert result.stdout == b""
    assert after == before
    assert no_temporary_files(path.parent) == []


@pytest.mark.parametrize("fault", READ_FAULTS, ids=lambda fault: fault.name)
def test_listing_profiles_from_a_settings_file_that_cannot_be_read_says_why(
    tmp_path: Path, fault: Fault
) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    with faulty(fault, path, lambda: add_first_profile(home)):
        result = supalink("profile", "list", home=home, unprivileged=fault.unprivileged)
    assert (result.returncode, result.stderr) == (1, one_line("profile", fault, path))


# ----- the audit log --------------------------------------------------------------------
@pytest.mark.parametrize("fault", READ_FAULTS, ids=lambda fault: fault.name)
@pytest.mark.parametrize("follow", [False, True], ids=["last calls", "follow"])
def test_reading_an_audit_log_that_cannot_be_read_says_why(
    tmp_path: Path, fault: Fault, follow: bool
) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).audit_file
    with faulty(fault, path, lambda: path.write_bytes(b"")):
        before = snapshot(path.parent)
        argv = ["audit", "--follow"] if follow else ["audit"]
        result = supalink(*argv, home=home, unprivileged=fault.unprivileged)
        assert snapshot(path.parent) == before
    # commands/audit.py words it itself (with the OS's own words for the cause).
    assert result.returncode == 1
    assert result.stderr.startswith(f"supalink audit: cannot read the audit log {path}: ".encode())
    assert result.stderr.count(b"\n") == 1


# ----- the atomic writer itself ----------------------------------------------------------
@pytest.mark.parametrize("read_only", [False, True], ids=["full disk", "read-only"])
def test_the_atomic_writer_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, read_only: bool
) -> None:
    folder = tmp_path / "place"
    path = folder / "file.json"
    with tmpfs(folder):
        path.write_bytes(ORIGINAL)
        if read_only:
            make_read_only(folder)
        else:
            fill(folder)
        cause = "Read-only file system" if read_only else "No space left on device"
        with pytest.raises(OSError, match=cause) as raised:
            atomic_write_bytes(path, b"x" * 100_000)
        assert raised.value.errno == (errno.EROFS if read_only else errno.ENOSPC)
        assert path.read_bytes() == ORIGINAL
        left = ["file.json"] if read_only else ["file.json", "padding"]
        assert sorted(entry.name for entry in folder.iterdir()) == left


def test_the_atomic_writer_leaves_a_folder_in_the_files_place_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "file.json"
    path.mkdir()
    (path / "inside.txt").write_bytes(ORIGINAL)
    before = snapshot(tmp_path)
    with pytest.raises(IsADirectoryError):
        atomic_write_bytes(path, b"new")
    assert snapshot(tmp_path) == before


def test_the_atomic_writer_refuses_a_symlink_loop_and_leaves_it(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    before = snapshot(tmp_path)
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        atomic_write_bytes(tmp_path / "a", b"new")
    assert snapshot(tmp_path) == before


# ----- mcp-run's server command ----------------------------------------------------------
def test_mcp_run_names_a_server_command_that_is_no_program(tmp_path: Path) -> None:
    script = tmp_path / "server.sh"
    script.write_text("echo not executable\n")
    cases = {
        tmp_path: "it is a folder, not a program",
        script: "permission denied (it is not executable)",
        tmp_path / "missing": "no such file or folder",
    }
    for command, cause in cases.items():
        # No such profile either: the program is checked first, without the keyring.
        result = launcher("--profile", "nobody", "--", str(command), home=tmp_path)
        expected = f"supalink mcp-run: cannot start {command}: {cause}\n"
        assert (result.returncode, result.stderr.decode()) == (1, expected)
        assert result.stdout == b""


def test_mcp_run_names_a_file_that_is_no_program_once_it_has_the_password(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer
) -> None:
    name = save_profile(tmp_path, pg)
    junk = tmp_path / "server"
    junk.write_bytes(b"\x00\x01 no interpreter line, no binary header\n")
    junk.chmod(0o755)
    result = launcher("--profile", name, "--", str(junk), home=tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"supalink mcp-run: cannot start {junk}: it is not a program this system can run\n"
    )
    assert pg.password.encode() not in result.stderr


def test_mcp_run_names_a_missing_program_on_the_path(tmp_path: Path) -> None:
    result = launcher("--profile", "nobody", "--", "no-such-server", home=tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "supalink mcp-run: cannot find 'no-such-server' on PATH or in the usual places; "
        "install it or give its absolute path in the client's config\n"
    )


# ----- the log file ----------------------------------------------------------------------
@pytest.mark.parametrize("read_only", [False, True], ids=["full disk", "read-only"])
def test_a_log_file_that_cannot_be_written_costs_nothing_on_stderr(
    tmp_path: Path, read_only: bool
) -> None:
    home = tmp_path / "home"
    log_dir = AppPaths.under(home).log_dir
    with tmpfs(log_dir):
        (log_dir / "supalink.log").write_bytes(b"")
        if read_only:
            make_read_only(log_dir)
        else:
            fill(log_dir)
        # A process: what it says includes the last flush of the log at its exit.
        result = spawn_cli("profile", *PROFILE_CHANGES["add"], home=home)
    assert result.stderr == b""
    assert (result.returncode, result.stdout) == (0, b"saved profile 'p2' (password not saved)\n")


LOGGING_CHILD = """
import logging, sys
from pathlib import Path
from supalink.logs import SecretMasker, configure_logging
configure_logging(Path(sys.argv[1]), SecretMasker())
for number in range(200):
    logging.getLogger("supalink.test").warning("record %d %s", number, "x" * 1000)
print("still running")
"""


@pytest.mark.parametrize("existing", [True, False], ids=["log file there", "no log file"])
@pytest.mark.parametrize("read_only", [False, True], ids=["full disk", "read-only"])
def test_logging_to_a_file_that_cannot_be_written_neither_raises_nor_prints(
    tmp_path: Path, read_only: bool, existing: bool
) -> None:
    log_dir = tmp_path / "log"
    with tmpfs(log_dir):
        if existing:
            (log_dir / "supalink.log").write_bytes(b"")
        if read_only:
            make_read_only(log_dir)
        else:
            fill(log_dir)
        result = subprocess.run(
            [sys.executable, "-c", LOGGING_CHILD, str(log_dir / "supalink.log")],
            capture_output=True,
            timeout=60,
            check=False,
        )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"still running\n", b"")


@pytest.mark.slow
@pytest.mark.parametrize("fault", READ_FAULTS, ids=lambda fault: fault.name)
def test_the_app_that_cannot_read_its_settings_opens_and_says_why(
    tmp_path: Path, fault: Fault
) -> None:
    """The window opens (default theme) and says the sentence itself (tested in
    tests/ui/test_file_faults_ui.py): a person who started it from a menu sees no stderr.
    Here: it runs, prints no traceback and quits cleanly on SIGTERM."""
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    with faulty(fault, path, lambda: add_first_profile(home)):
        command = [SUPALINK]
        with subprocess.Popen(
            without_root_powers(command) if fault.unprivileged else command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "SUPALINK_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
        ) as app:
            try:
                # Its SIGTERM handler in place (a loaded machine may take seconds to get
                # there), then still running.
                assert wait_until_caught(app, signal.SIGTERM), "SIGTERM never handled"
                with pytest.raises(subprocess.TimeoutExpired):
                    app.wait(timeout=1)  # still running: the window is open
                app.send_signal(signal.SIGTERM)
                _, stderr = app.communicate(timeout=30)
            finally:
                app.kill()
    assert app.returncode == 0, stderr
    assert b"Traceback" not in stderr


def test_the_words_of_a_file_fault_have_one_home() -> None:
    from tests.test_layers import definitions

    for name in ("FileFault", "os_error_cause", "file_faults"):
        assert [home.split(":")[0] for home in definitions(name)] == ["errors.py"], name


def test_a_settings_file_that_is_not_valid_on_a_read_only_file_system_says_both(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    with tmpfs(path.parent):
        path.write_bytes(b"{not json")
        make_read_only(path.parent)
        result = supalink("profile", "list", home=home)
    assert (result.returncode, result.stderr.decode()) == (
        1,
        f"supalink profile: cannot write {path}: the file system is read-only "
        "(it is not valid, and was to be set aside)\n",
    )

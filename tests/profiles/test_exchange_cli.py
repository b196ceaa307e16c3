"""`supalink profile export|import` as a person runs them: stdout and files, exit codes, one
sentence per bad file, nothing written on one, passwords asked on a real terminal (a pty)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from supalink.paths import AppPaths
from tests.support.cli import environment_for, run_cli, spawn_argv, spawn_cli
from tests.support.file_faults import fill, tmpfs, without_root_powers
from tests.support.secret_service import SecretService

REF = "teamsharedrefabcdefg"
PASSWORD = "alices-pw-9931"
TYPED = "bobs-typed-pw-2207"


def cli(
    home: Path, *args: str, stdin: str | bytes | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, stdin=stdin, text=True)


def names(home: Path) -> list[str]:
    listed = cli(home, "profile", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return [row["name"] for row in json.loads(listed.stdout)]


def remove_all(home: Path) -> None:
    for name in names(home):
        assert cli(home, "profile", "remove", name).returncode == 0


def add_profiles(home: Path) -> tuple[str, str]:
    """A Supabase profile and a custom-host one, both with their password saved."""
    suffix = uuid.uuid4().hex[:6]
    prod, local = f"prod-{suffix}", f"local-{suffix}"
    uri = f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-0-eu-west-2.pooler.supabase.com:5432/postgres"
    for args in (
        ("profile", "add", prod, "--uri", uri, "--password-stdin"),
        ("profile", "add", local, "--host", "db.example.com", "--password-stdin"),
    ):
        added = cli(home, *args, stdin=PASSWORD)
        assert added.returncode == 0, added.stderr
    return prod, local


@pytest.fixture
def alice(tmp_path: Path, secret_service: SecretService) -> Iterator[tuple[Path, str, str]]:
    home = tmp_path / "alice"
    prod, local = add_profiles(home)
    yield home, prod, local
    remove_all(home)


def test_export_to_stdout_then_import_from_stdin(
    alice: tuple[Path, str, str], tmp_path: Path
) -> None:
    home, prod, local = alice
    exported = run_cli("profile", "export", home=home)
    assert exported.returncode == 0, exported.stderr
    assert PASSWORD.encode() not in exported.stdout + exported.stderr
    assert json.loads(exported.stdout)["supalink_profiles"] == 1
    assert exported.stderr == b"exported 2 profiles (no passwords)\n"
    remove_all(home)  # Bob's machine: no entry of Alice's in its keyring

    bob = tmp_path / "bob"
    try:
        imported = cli(bob, "profile", "import", "-", stdin=exported.stdout)
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout == (
            f"imported profile {prod!r} (password not saved)\n"
            f"imported profile {local!r} (password not saved)\n"
        )
        assert "no password was asked (not on a terminal)" in imported.stderr
        shown = json.loads(cli(bob, "profile", "show", prod, "--json", "--reveal").stdout)
        assert (shown["ref"], shown["mode"], shown["password_saved"]) == (REF, "session", False)
    finally:
        remove_all(bob)


# keyring's own choice with no bus (its fail backend), or the Secret Service backend with
# nobody answering: either way the Supabase profile is locked.
LOCKED_KEYRINGS = {
    "no-keyring": {},
    "not-answering": {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"},
}


@pytest.mark.parametrize("variant", list(LOCKED_KEYRINGS))
def test_a_locked_profile_is_exported_without_its_ref(
    alice: tuple[Path, str, str], tmp_path: Path, variant: str
) -> None:
    home, prod, local = alice
    env = {"DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'nobody'}"}
    exported = run_cli("profile", "export", home=home, env={**env, **LOCKED_KEYRINGS[variant]})
    assert exported.returncode == 0, exported.stderr
    logged = AppPaths.under(home).log_file.read_bytes()
    for secret in (REF, PASSWORD):
        assert secret.encode() not in exported.stdout + exported.stderr + logged
    [prod_item, local_item] = json.loads(exported.stdout)["profiles"]
    assert (prod_item["name"], prod_item["supabase"], "ref" in prod_item) == (prod, True, False)
    assert local_item["name"] == local
    warning, summary = exported.stderr.decode().splitlines()
    assert warning.startswith(
        f"warning: profile {prod!r} was exported without its project ref (locked: "
    )
    assert warning.endswith("whoever imports it is asked for it")
    assert summary == "exported 2 profiles (no passwords)"


def test_export_named_profiles_to_a_file(alice: tuple[Path, str, str], tmp_path: Path) -> None:
    home, _, local = alice
    target = tmp_path / "shared.json"
    target.write_text("an older export")
    written = cli(home, "profile", "export", local, "--output", str(target))
    assert written.returncode == 0, written.stderr
    assert written.stdout == ""
    assert written.stderr == f"exported 1 profile to {target} (no passwords)\n"
    [item] = json.loads(target.read_text())["profiles"]
    assert item["name"] == local
    assert list(tmp_path.glob(".shared.json.*")) == []  # the temporary file went in its place

    unknown = cli(home, "profile", "export", local, "nobody")
    assert unknown.returncode == 2
    assert unknown.stdout == ""
    assert unknown.stderr == (
        "supalink profile: error: no profile named 'nobody' (see `supalink profile list`)\n"
    )
    folder = cli(home, "profile", "export", "--output", str(tmp_path))
    assert folder.returncode == 1
    assert (
        folder.stderr == f"supalink profile: cannot write {tmp_path}: it is a folder, not a file\n"
    )


def test_names_saved_already_are_refused_unless_replace(alice: tuple[Path, str, str]) -> None:
    home, prod, local = alice
    exported = run_cli("profile", "export", home=home).stdout
    settings = AppPaths.under(home).settings_file
    before = settings.read_bytes()
    refused = cli(home, "profile", "import", "-", stdin=exported)
    assert refused.returncode == 2
    assert refused.stderr == (
        f"supalink profile: error: profiles named {prod!r}, {local!r} are saved here already; "
        "nothing was imported (give --replace to replace them)\n"
    )
    assert settings.read_bytes() == before
    replaced = cli(home, "profile", "import", "-", "--replace", stdin=exported)
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout == (
        f"replaced profile {prod!r} (password saved)\nreplaced profile {local!r} (password saved)\n"
    )


BAD_FILES = {
    "not JSON": (b"{oops", 2, "is not a file of exported Supalink profiles: it is not JSON"),
    "a newer version": (
        b'{"supalink_profiles": 7, "profiles": []}',
        2,
        "holds profiles in format 7, written by a newer Supalink",
    ),
    "a bad field": (
        b'{"supalink_profiles": 1, "profiles": [{"name": "x", "host": "h", "port": "1"}]}',
        2,
        "has a problem, nothing was imported: profile 1 ('x'): port: must be a whole number",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_one_sentence_and_nothing_is_written(tmp_path: Path, case: str) -> None:
    data, code, said = BAD_FILES[case]
    shared = tmp_path / "shared.json"
    shared.write_bytes(data)
    refused = cli(tmp_path, "profile", "import", str(shared))
    assert refused.returncode == code
    [line] = refused.stderr.splitlines()
    assert line.startswith(f"supalink profile: error: {shared} ")
    assert said in line
    assert refused.stdout == ""
    assert not AppPaths.under(tmp_path).settings_file.exists()


def test_a_folder_is_one_sentence(tmp_path: Path) -> None:
    refused = cli(tmp_path, "profile", "import", str(tmp_path))
    assert refused.returncode == 1
    assert refused.stderr == (
        f"supalink profile: cannot read {tmp_path}: it is a folder, not a file\n"
    )
    assert not AppPaths.under(tmp_path).settings_file.exists()


def test_an_unreadable_file_is_one_sentence(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    shared = tmp_path / "shared.json"
    shared.write_text('{"supalink_profiles": 1, "profiles": []}')
    shared.chmod(0)
    home = tmp_path / "home"
    home.mkdir(mode=0o777)
    refused = spawn_cli(
        "profile", "import", str(shared), home=home, through=without_root_powers, text=True
    )
    assert refused.returncode == 1
    assert refused.stderr == f"supalink profile: cannot read {shared}: permission denied\n"
    assert not AppPaths.under(home).settings_file.exists()


def test_a_full_disk_behind_stdout_is_one_sentence(
    alice: tuple[Path, str, str], tmp_path: Path
) -> None:
    home, _, _ = alice
    with tmpfs(tmp_path / "small") as small:
        fill(small)
        with (small / "padding").open("ab") as out:
            result = subprocess.run(
                spawn_argv("profile", "export"),
                stdout=out,
                stderr=subprocess.PIPE,
                env=environment_for(home),
                timeout=60,
                check=False,
            )
    assert result.returncode == 1
    assert result.stderr.decode() == (
        "supalink profile: cannot write standard output: no space left on the device\n"
    )


class Terminal:
    """The other end of a pty: what the process showed on it, and what is typed."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.seen = bytearray()
        self.read_up_to = 0  # each prompt is waited for after the last one

    def expect(self, text: str, timeout: float = 30) -> None:
        """Read until `text` shows, past what was waited for before. Only then is an answer
        typed: getpass flushes what was typed ahead as it turns the echo off."""
        deadline = time.monotonic() + timeout
        wanted = text.encode()
        while (found := self.seen.find(wanted, self.read_up_to)) < 0:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never showed; the terminal showed {bytes(self.seen)!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 4096)
                except OSError:  # the other end closed: the process ended
                    break
        assert found >= 0, bytes(self.seen)
        self.read_up_to = found + len(wanted)

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")


def test_on_a_terminal_each_password_and_a_missing_ref_are_asked(
    tmp_path: Path, secret_service: SecretService
) -> None:
    suffix = uuid.uuid4().hex[:6]
    prod, local = f"prod-{suffix}", f"local-{suffix}"
    shared = tmp_path / "shared.json"
    items = [
        # As a locked profile is exported: a Supabase profile without its ref.
        {"name": prod, "mode": "direct", "supabase": True},
        {"name": local, "host": "db.example.com", "supabase": False},
    ]
    shared.write_text(json.dumps({"supalink_profiles": 1, "profiles": items}))
    home = tmp_path / "bob"
    master, slave = pty.openpty()
    terminal = Terminal(master)
    with subprocess.Popen(
        spawn_argv("profile", "import", str(shared)),
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=environment_for(home),
        start_new_session=True,  # no controlling terminal but this one
    ) as process:
        os.close(slave)
        try:
            terminal.expect(f"project ref of {prod!r}")
            terminal.type("not-a-ref")
            terminal.expect("a project ref is 20 lowercase letters")
            terminal.expect(f"project ref of {prod!r}")
            terminal.type(REF)
            terminal.expect(f"password of {prod!r} (empty: leave it unsaved): ")
            terminal.type(TYPED)
            terminal.expect(f"password of {local!r}")
            terminal.type("")
            out, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
            os.close(master)
    seen = terminal.seen
    try:
        assert process.returncode == 0, bytes(seen)
        assert out.decode() == (
            f"imported profile {prod!r} (password saved)\n"
            f"imported profile {local!r} (password not saved)\n"
        )
        assert TYPED.encode() not in seen  # not echoed
        assert REF.encode() not in seen
        shown = json.loads(cli(home, "profile", "show", prod, "--json", "--reveal").stdout)
        assert (shown["ref"], shown["password_saved"]) == (REF, True)
    finally:
        remove_all(home)


def test_a_missing_ref_off_a_terminal_imports_nothing(tmp_path: Path) -> None:
    items = [
        {"name": "ok", "host": "db.example.com"},
        {"name": "prod", "mode": "direct", "supabase": True},
    ]
    data = json.dumps({"supalink_profiles": 1, "profiles": items})
    refused = cli(tmp_path, "profile", "import", "-", "--no-passwords", stdin=data)
    assert refused.returncode == 2
    assert refused.stderr == (
        "supalink profile: error: the project ref of profile 'prod' is not in the file (the "
        "keyring that held it was locked when it was exported) and must be entered; nothing "
        "was imported\n"
    )
    assert not AppPaths.under(tmp_path).settings_file.exists()

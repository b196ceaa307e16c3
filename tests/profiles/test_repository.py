"""Profiles saved through the real Secret Service: secrets in the keyring, the rest in the file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.errors import FileFault, Kind
from supalink.logs import SecretMasker, configure_logging
from supalink.paths import AppPaths
from supalink.profiles.model import Profile
from supalink.profiles.repository import Password, ProfileExists, ProfileNotFound, ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore, MemorySecretStore, SecretKind
from supalink.profiles.settings import SettingsError, SettingsFile
from supalink.profiles.supabase import Mode
from tests.support.file_faults import fill, make_read_only, tmpfs
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.secret_service import SecretService

REF = "qwertyuiopasdfghjklz"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def repository(tmp_path: Path, secret_service: SecretService) -> ProfileRepository:
    from keyring.backends.SecretService import Keyring

    return ProfileRepository(
        SettingsFile(tmp_path / "settings.json"), KeyringSecretStore(Keyring())
    )


def supabase_profile(name: str) -> Profile:
    return Profile(name, Mode.SESSION, ref=REF, region="eu-central-1", pooler_index=0)


def test_secrets_go_to_the_keyring_and_nowhere_else(
    repository: ProfileRepository, tmp_path: Path
) -> None:
    log_file = tmp_path / "log" / "supalink.log"
    handler = configure_logging(log_file, SecretMasker(), level=logging.DEBUG)
    try:
        name = unique("prod")
        repository.save(supabase_profile(name), SPECIAL_PASSWORD)
    finally:
        logging.getLogger("supalink").removeHandler(handler)
        handler.close()
    on_disk = repository.settings_file.path.read_bytes() + log_file.read_bytes()
    for secret in (SPECIAL_PASSWORD, quote(SPECIAL_PASSWORD, safe=""), REF):
        assert secret.encode() not in on_disk
    fresh = ProfileRepository(repository.settings_file, repository.secrets)
    saved = fresh.load(name)
    assert saved.profile == supabase_profile(name)
    assert saved.password_saved
    assert fresh.password(name) == Password(SPECIAL_PASSWORD, in_keyring=True)


def test_dont_save_password_keeps_none_and_removes_an_old_one(
    repository: ProfileRepository,
) -> None:
    name = unique("staging")
    repository.save(supabase_profile(name), "old-password")
    repository.save(supabase_profile(name), None, save_password=False, replace=True)
    assert repository.password(name) is None
    assert repository.secrets.get(name, SecretKind.PASSWORD) is None
    assert repository.load(name).profile.ref == REF


def test_remove_deletes_keyring_entries(repository: ProfileRepository) -> None:
    name = unique("gone")
    repository.save(supabase_profile(name), "pw-to-remove")
    repository.remove(name)
    assert repository.secrets.get(name, SecretKind.PASSWORD) is None
    assert repository.secrets.get(name, SecretKind.PROJECT_REF) is None
    with pytest.raises(ProfileNotFound):
        repository.load(name)


def test_rename_and_duplicate_carry_secrets(repository: ProfileRepository) -> None:
    old, new, copy = unique("a"), unique("b"), unique("c")
    repository.save(supabase_profile(old), "pw-carried")
    repository.rename(old, new)
    repository.duplicate(new, copy)
    assert repository.names() == [new, copy]
    assert repository.password_value(new) == repository.password_value(copy) == "pw-carried"
    assert repository.password(copy) == Password("pw-carried", in_keyring=True)
    assert repository.secrets.get(old, SecretKind.PASSWORD) is None


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    repository = ProfileRepository(SettingsFile(tmp_path / "s.json"), MemorySecretStore())
    repository.save(Profile("local", host="localhost"))
    with pytest.raises(ProfileExists, match="already exists") as refused:
        repository.save(Profile("local", host="localhost"))
    assert (refused.value.profile, refused.value.kind) == ("local", Kind.CONFLICT)


def test_custom_host_profile_without_password_needs_no_keyring(tmp_path: Path) -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    repository = ProfileRepository(
        SettingsFile(tmp_path / "s.json"), KeyringSecretStore(FailKeyring())
    )
    repository.save(Profile("local", host="localhost"), None, save_password=False)
    assert repository.load("local").profile.host == "localhost"
    repository.remove("local")
    assert repository.names() == []


def test_a_password_not_saved_is_held_for_this_session_only(tmp_path: Path) -> None:
    keyring = MemorySecretStore()
    repository = ProfileRepository(SettingsFile(tmp_path / "s.json"), keyring)
    repository.save(Profile("local", host="localhost"), None, save_password=False)
    repository.hold_password("local", "typed-only")
    assert repository.password("local") == Password("typed-only", in_keyring=False)
    assert keyring.get("local", SecretKind.PASSWORD) is None  # never in the keyring
    assert b"typed-only" not in (tmp_path / "s.json").read_bytes()
    repository.rename("local", "renamed")
    assert repository.password("renamed") == Password("typed-only", in_keyring=False)
    repository.remove("renamed")
    repository.save(Profile("renamed", host="localhost"), None, save_password=False)
    assert repository.password("renamed") is None  # a new profile of that name starts empty
    fresh = ProfileRepository(SettingsFile(tmp_path / "s.json"), keyring)
    assert fresh.password("renamed") is None


def test_the_keyring_comes_before_this_sessions_memory(tmp_path: Path) -> None:
    repository = ProfileRepository(SettingsFile(tmp_path / "s.json"), MemorySecretStore())
    repository.save(Profile("local", host="localhost"), "saved-one")
    repository.hold_password("local", "held-one")
    assert repository.password("local") == Password("saved-one", in_keyring=True)
    repository.save(Profile("local", host="localhost"), None, save_password=False, replace=True)
    assert repository.password("local") == Password("held-one", in_keyring=False)


# ----- several writers at once, and a settings write that fails ----------------------------


@pytest.mark.slow
def test_fifteen_parallel_profile_adds_all_land_with_their_passwords(
    tmp_path: Path, secret_service: SecretService
) -> None:
    from keyring.backends.SecretService import Keyring

    supalink = str(Path(sys.executable).with_name("supalink"))
    env = {**os.environ, "SUPALINK_HOME": str(tmp_path / "home")}
    names = [unique(f"p{number}") for number in range(15)]
    processes = [
        subprocess.Popen(
            [
                supalink,
                "profile",
                "add",
                name,
                "--host",
                "127.0.0.1",
                "--port",
                "5432",
                "--user",
                "u",
                "--password-stdin",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in names
    ]
    # All are started, then all get their passwords, then all are waited for: they overlap.
    for process, name in zip(processes, names, strict=True):
        assert process.stdin is not None
        process.stdin.write(f"pw-{name}\n")
        process.stdin.close()
    results = [finished(process) for process in processes]
    for process, (_, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
    stored = ProfileRepository(
        SettingsFile(AppPaths.under(tmp_path / "home").settings_file), KeyringSecretStore(Keyring())
    )
    assert sorted(stored.names()) == sorted(names)
    for name in names:
        assert stored.password_value(name) == f"pw-{name}"


def test_a_failed_settings_write_leaves_nothing_in_the_keyring(tmp_path: Path) -> None:
    secrets = MemorySecretStore()
    repository = ProfileRepository(SettingsFile(tmp_path / "settings.json"), secrets)
    # A user name that spells the ref out: the settings file refuses to hold it.
    spelled = supabase_profile("leaky").replace(user=f"reader.{REF}")
    with pytest.raises(SettingsError, match="secret"):
        repository.save(spelled, "pw")
    assert secrets.get("leaky", SecretKind.PROJECT_REF) is None
    assert secrets.get("leaky", SecretKind.PASSWORD) is None
    assert repository.names() == []
    # A replacement that fails puts the old secrets back.
    repository.save(supabase_profile("kept"), "old")
    with pytest.raises(SettingsError, match="secret"):
        repository.save(spelled.replace(name="kept"), "new", replace=True)
    assert secrets.get("kept", SecretKind.PASSWORD) == "old"
    assert secrets.get("kept", SecretKind.PROJECT_REF) == REF
    assert repository.record("kept").profile.user == "postgres"


def test_a_rename_whose_settings_write_fails_leaves_the_profile_as_it_was(
    repository: ProfileRepository,
) -> None:
    old = unique("named")
    repository.save(supabase_profile(old), "the-password")
    spelled = f"{old}-{REF}"  # a name that spells the ref out: the file refuses to hold it
    with pytest.raises(SettingsError, match="secret"):
        repository.rename(old, spelled)
    assert repository.names() == [old]
    assert repository.password_value(old) == "the-password"
    assert repository.secrets.get(spelled, SecretKind.PASSWORD) is None  # the copies went
    assert repository.secrets.get(spelled, SecretKind.PROJECT_REF) is None
    assert not repository.changes.journal.path.exists()


@pytest.mark.parametrize("change", ["remove", "rename"])
@pytest.mark.parametrize("read_only", [False, True], ids=["full disk", "read-only"])
def test_a_change_whose_settings_write_fails_keeps_the_password_in_the_keyring(
    tmp_path: Path, secret_service: SecretService, read_only: bool, change: str
) -> None:
    from keyring.backends.SecretService import Keyring

    folder = tmp_path / "config"
    with tmpfs(folder):
        repository = ProfileRepository(
            SettingsFile(folder / "settings.json"), KeyringSecretStore(Keyring())
        )
        name = unique("kept")
        repository.save(supabase_profile(name), "the-password")
        if read_only:
            make_read_only(folder)
        else:
            fill(folder)
        attempt = {"remove": lambda: repository.remove(name)}.get(
            change, lambda: repository.rename(name, f"{name}-renamed")
        )
        with pytest.raises(FileFault):
            attempt()
        again = ProfileRepository(
            SettingsFile(folder / "settings.json"), KeyringSecretStore(Keyring())
        )
        assert again.names() == [name]
        assert again.password_value(name) == "the-password"
        assert again.secrets.get(name, SecretKind.PROJECT_REF) == REF


def test_a_repository_keeps_what_another_process_saved_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    first = ProfileRepository(SettingsFile(path), MemorySecretStore())
    second = ProfileRepository(SettingsFile(path), MemorySecretStore())
    assert first.names() == second.names() == []  # both have read the file
    first.save(Profile("a", host="127.0.0.1"))
    second.save(Profile("b", host="127.0.0.1"))
    second.set_preference("theme", "dark")
    first.remove("a")
    assert ProfileRepository(SettingsFile(path), MemorySecretStore()).names() == ["b"]
    assert first.preference("theme") == "dark"


def finished(process: subprocess.Popen[str]) -> tuple[str, str]:
    """Its stdout and stderr once it exited (a few lines each: no pipe fills up)."""
    assert process.stdout is not None
    assert process.stderr is not None
    process.wait(timeout=120)
    with process.stdout, process.stderr:
        return process.stdout.read(), process.stderr.read()

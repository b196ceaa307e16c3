"""Profiles exported and imported (profiles/exchange.py) through repositories over the real
Secret Service: no password, token or locked ref in the bytes; the file checked whole before
anything is written; all or nothing."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from supalink.errors import FileFault, Kind
from supalink.profiles import (
    ImportClashes,
    ImportRefused,
    KeyringSecretStore,
    MemorySecretStore,
    NewerProfilesFile,
    NotAProfilesFile,
    Profile,
    ProfileNotFound,
    ProfileRepository,
    RefsNeeded,
    SecretKind,
    SecretStoreError,
    apply_import,
    export_profiles,
    read_import,
    read_import_file,
)
from supalink.profiles.settings import SettingsFile
from supalink.profiles.supabase import Mode
from supalink.supabase_api import forget_token, save_token
from tests.support.secret_service import SecretService
from tests.support.supabase_api import TOKEN

REF = "exchangerefabcdefghi"
PASSWORD = "pw-never-exported-7741"
OTHER_PASSWORD = "pw-of-the-custom-one-5120"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def keyring_repository(folder: Path) -> ProfileRepository:
    from keyring.backends.SecretService import Keyring

    return ProfileRepository(SettingsFile(folder / "settings.json"), KeyringSecretStore(Keyring()))


def memory_repository(folder: Path) -> ProfileRepository:
    return ProfileRepository(SettingsFile(folder / "settings.json"), MemorySecretStore())


def supabase_profile(name: str) -> Profile:
    return Profile(name, Mode.SESSION, ref=REF, region="eu-central-1", pooler_index=1)


def custom_profile(name: str) -> Profile:
    return Profile(name, host="db.example.com", port=6432, user="app", database="shop")


def document(*profiles: object, version: object = 1) -> bytes:
    return json.dumps({"supalink_profiles": version, "profiles": list(profiles)}).encode()


@pytest.fixture
def team(tmp_path: Path, secret_service: SecretService) -> Iterator[ProfileRepository]:
    """A Supabase and a custom-host profile with their passwords in the keyring, and a
    Supabase token saved there too; all removed at the end."""
    repository = keyring_repository(tmp_path / "alice")
    repository.save(supabase_profile(unique("prod")), PASSWORD)
    repository.save(custom_profile(unique("local")), OTHER_PASSWORD)
    save_token(repository.secrets, TOKEN)
    yield repository
    forget_token(repository.secrets)
    for name in repository.names():
        repository.remove(name)


def test_an_export_holds_the_profiles_and_refs_but_no_password_or_token(
    team: ProfileRepository,
) -> None:
    prod, local = team.names()
    exported = export_profiles(team)
    for secret in (PASSWORD, OTHER_PASSWORD, TOKEN):
        assert secret.encode() not in exported.data
    parsed = json.loads(exported.data)
    assert parsed["supalink_profiles"] == 1
    [first, second] = parsed["profiles"]
    assert (first["name"], first["ref"], first["supabase"]) == (prod, REF, True)
    assert (first["region"], first["pooler_index"], first["mode"]) == ("eu-central-1", 1, "session")
    assert (second["host"], second["port"], second["supabase"]) == ("db.example.com", 6432, False)
    assert "ref" not in second
    # Every field of the model travels, a new one too, with no code in the exchange.
    fields = {field.name for field in dataclasses.fields(Profile)}
    assert set(first) == fields | {"supabase"}
    assert set(second) == fields - {"ref"} | {"supabase"}
    for item in parsed["profiles"]:
        assert "password_saved" not in item
        assert "password" not in item
    assert exported.without_ref == {}
    # Named ones alone, in the order named.
    named = json.loads(export_profiles(team, [local, prod, local]).data)["profiles"]
    assert [item["name"] for item in named] == [local, prod]
    with pytest.raises(ProfileNotFound) as unknown:
        export_profiles(team, [local, "nobody-here"])
    assert unknown.value.kind is Kind.NOT_FOUND


def test_a_locked_profile_is_exported_without_its_ref(
    team: ProfileRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Secret Service backend with nobody answering on the bus: the keyring is locked."""
    from keyring.backends.SecretService import Keyring

    prod, local = team.names()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'nobody'}")
    locked = ProfileRepository(team.settings_file, KeyringSecretStore(Keyring()))
    exported = export_profiles(locked)
    assert REF.encode() not in exported.data
    for secret in (PASSWORD, OTHER_PASSWORD, TOKEN):
        assert secret.encode() not in exported.data
    assert list(exported.without_ref) == [prod]
    assert exported.without_ref[prod].startswith("locked: the keyring did not answer: ")
    [notice] = exported.notices()
    assert "whoever imports it is asked for it" in notice
    [item, _] = json.loads(exported.data)["profiles"]
    assert item["supabase"] is True
    assert "ref" not in item

    # Imported elsewhere: its ref must be entered, or nothing is saved.
    elsewhere = memory_repository(tmp_path / "bob")
    plan = read_import(exported.data, "shared.json", elsewhere)
    assert plan.needing_ref == [prod]
    with pytest.raises(RefsNeeded, match="must be entered; nothing was imported"):
        apply_import(elsewhere, plan)
    assert not elsewhere.settings_file.path.exists()
    imported = apply_import(elsewhere, plan, refs={prod: REF})
    assert elsewhere.load(prod).profile == supabase_profile(prod)
    assert imported.without_password == (prod, local)


def test_a_round_trip_into_a_fresh_settings_folder(team: ProfileRepository, tmp_path: Path) -> None:
    prod, local = team.names()
    before = {name: team.load(name).profile for name in (prod, local)}
    exported = export_profiles(team)
    for name in (prod, local):  # another person's machine: another keyring's entries
        team.remove(name)

    bob = keyring_repository(tmp_path / "bob")
    try:
        plan = read_import(exported.data, "shared.json", bob)
        imported = apply_import(bob, plan, passwords={prod: "bobs-own-password"})
        assert imported.names == (prod, local)
        assert imported.without_password == (local,)
        assert imported.replaced == ()
        for name in (prod, local):
            assert bob.load(name).profile == before[name]
        assert bob.password_value(prod) == "bobs-own-password"
        assert bob.record(prod).password_saved
        assert not bob.record(local).password_saved
        on_disk = bob.settings_file.path.read_bytes()
        assert REF.encode() not in on_disk  # the ref went to the keyring, as always
        assert bob.secrets.get(prod, SecretKind.PROJECT_REF) == REF
    finally:
        for name in bob.names():
            bob.remove(name)


def test_names_saved_already_are_refused_unless_replacing(
    team: ProfileRepository,
) -> None:
    prod, local = team.names()
    exported = export_profiles(team)
    settings = team.settings_file.path.read_bytes()
    with pytest.raises(ImportClashes) as clash:
        read_import(exported.data, "shared.json", team)
    assert clash.value.names == (prod, local)
    assert clash.value.kind is Kind.CONFLICT
    assert "saved here already; nothing was imported" in str(clash.value)
    assert team.settings_file.path.read_bytes() == settings

    plan = read_import(exported.data, "shared.json", team, replace=True)
    imported = apply_import(team, plan)  # no password given: each keeps its saved one
    assert imported.replaced == (prod, local)
    assert imported.without_password == ()
    assert team.password_value(prod) == PASSWORD
    assert team.password_value(local) == OTHER_PASSWORD


def test_every_problem_of_a_file_is_said_at_once_and_nothing_written(tmp_path: Path) -> None:
    repository = memory_repository(tmp_path)
    repository.save(custom_profile("kept"), None, save_password=False)
    settings = repository.settings_file.path.read_bytes()
    good = {"name": "fine", "host": "db.example.com", "supabase": False}
    data = document(
        good,
        {"name": "typed", "host": "db.example.com", "port": "5432"},
        {"name": "noref", "host": "db.example.com", "ref": REF},
        {"host": "db.example.com"},
        {"name": "fine", "host": "other.example.com"},
        {"name": "pooled", "mode": "direct", "supabase": True, "ref": "short"},
        {"name": "ca", "host": "db.example.com", "sslrootcert": str(tmp_path / "gone.pem")},
        "not an object",
        {"name": "many", "host": "db.example.com", "sslmode": "bogus", "connect_timeout": 0},
    )
    with pytest.raises(ImportRefused) as refused:
        read_import(data, "shared.json", repository)
    problems = refused.value.problems
    assert problems == (
        "profile 2 ('typed'): port: must be a whole number or nothing, not the text '5432'",
        "profile 3 ('noref'): ref: a custom-host profile has no project ref",
        "profile 4: name: a profile needs a name",
        "profile 5 ('fine'): the file holds this name more than once",
        "profile 6 ('pooled'): ref: a project ref is 20 lowercase letters and digits "
        "(Project Settings, General)",
        f"profile 7 ('ca'): sslrootcert: the CA certificate file {tmp_path / 'gone.pem'} "
        "does not exist",
        "profile 8: profile: must be an object",
        "profile 9 ('many'): sslmode: SSL mode is one of: disable, allow, prefer, require, "
        "verify-ca, verify-full",
        "profile 9 ('many'): connect timeout: the connect timeout is 1 to 600 seconds",
    )
    message = str(refused.value)
    assert message.startswith("shared.json has 9 problems, nothing was imported: ")
    assert "\n" not in message
    assert refused.value.kind is Kind.BAD_INPUT
    assert repository.settings_file.path.read_bytes() == settings


@pytest.mark.parametrize(
    ("data", "error", "said"),
    [
        (b"{not json", NotAProfilesFile, "it is not JSON (line 1 column 2: "),
        (b"\xff\xfe\x00", NotAProfilesFile, "it is not UTF-8 text"),
        (b"[]", NotAProfilesFile, 'it has no "supalink_profiles" version'),
        (b'{"schema_version": 1, "profiles": []}', NotAProfilesFile, "settings file"),
        (document(version="1"), NotAProfilesFile, "version is not a whole number"),
        (document(version=True), NotAProfilesFile, "version is not a whole number"),
        (document(version=2), NewerProfilesFile, "format 2, written by a newer Supalink"),
        (b'{"supalink_profiles": 1, "profiles": {}}', NotAProfilesFile, '"profiles" is not'),
    ],
)
def test_a_file_that_is_no_export_is_one_sentence(
    tmp_path: Path, data: bytes, error: type[Exception], said: str
) -> None:
    repository = memory_repository(tmp_path)
    with pytest.raises(error) as refused:
        read_import(data, "shared.json", repository)
    message = str(refused.value)
    assert message.startswith("shared.json ")
    assert said in message
    assert message.endswith("nothing was imported")
    assert "\n" not in message
    assert not repository.settings_file.path.exists()


def test_a_folder_or_a_missing_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(FileFault, match=r"it is a folder, not a file$"):
        read_import_file(tmp_path)
    with pytest.raises(FileFault, match=r"no such file or folder$"):
        read_import_file(tmp_path / "missing.json")


def test_a_save_that_fails_undoes_the_ones_before_it(tmp_path: Path) -> None:
    """The second profile's password meets a keyring that refuses: the first is removed."""

    class RefusingSecond(MemorySecretStore):
        def set(self, profile: str, kind: SecretKind, value: str) -> None:
            if profile == "second":
                from supalink.profiles.secrets import KeyringRefused

                raise KeyringRefused("a test keyring", "save", str(kind), "refused", locked=False)
            super().set(profile, kind, value)

    repository = ProfileRepository(SettingsFile(tmp_path / "settings.json"), RefusingSecond())
    repository.save(custom_profile("kept"), "kept-password")
    data = document(
        {"name": "first", "host": "one.example.com"}, {"name": "second", "host": "two.example.com"}
    )
    plan = read_import(data, "shared.json", repository)
    with pytest.raises(SecretStoreError, match="refused"):
        apply_import(repository, plan, passwords={"first": "p1", "second": "p2"})
    fresh = ProfileRepository(repository.settings_file, repository.secrets)
    assert fresh.names() == ["kept"]
    assert repository.secrets.get("first", SecretKind.PASSWORD) is None

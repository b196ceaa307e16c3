"""Repair as the app calls it (supalink.profiles.repair): what a keyring that failed halfway
left, the Supabase profiles whose ref is gone, a journal that is not one; on the real
Secret Service."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from pathlib import Path

import pytest

from supalink.profiles import parse_uri
from supalink.profiles.changes import Finding, Leftover
from supalink.profiles.journal import Journal, Pending, Step, fingerprint
from supalink.profiles.repairs import find_repairs, leftover_entries, repair
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore, SecretKind, SecretStoreError
from supalink.profiles.settings import SettingsFile
from tests.support.secret_service import SecretService

URI = "postgresql://postgres.{ref}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"
REF, OTHER_REF = "repairrepairrepairre", "otherotherotherother"
PASSWORD, PROJECT_REF = SecretKind.PASSWORD, SecretKind.PROJECT_REF


class RefusingDeletes:
    """The real store, except that it refuses to delete while `refusing` is set."""

    def __init__(self, inner: KeyringSecretStore) -> None:
        self.inner = inner
        self.refusing = False

    @property
    def description(self) -> str:
        return self.inner.description

    def get(self, profile: str, kind: SecretKind) -> str | None:
        return self.inner.get(profile, kind)

    def set(self, profile: str, kind: SecretKind, value: str) -> None:
        self.inner.set(profile, kind, value)

    def delete(self, profile: str, kind: SecretKind) -> None:
        if self.refusing:
            raise SecretStoreError("the keyring did not answer", "timed out")
        self.inner.delete(profile, kind)


@pytest.fixture
def store(secret_service: SecretService) -> RefusingDeletes:
    from keyring.backends.SecretService import Keyring

    return RefusingDeletes(KeyringSecretStore(Keyring()))


@pytest.fixture
def repository(tmp_path: Path, store: RefusingDeletes) -> ProfileRepository:
    return ProfileRepository(SettingsFile(tmp_path / "settings.json"), store)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def save(repository: ProfileRepository, name: str, ref: str = REF) -> None:
    repository.save(parse_uri(URI.format(ref=ref), name=name).profile, f"pw-{name}")


def test_a_keyring_that_fails_after_the_settings_leaves_entries_to_repair(
    repository: ProfileRepository, store: RefusingDeletes
) -> None:
    name = unique("gone")
    save(repository, name)
    store.refusing = True
    assert repository.remove(name) is False  # removed from the settings; its entries stay
    assert repository.names() == []
    assert leftover_entries(repository) == 2
    expected = Finding(Leftover.REMOVED, name, (PASSWORD, PROJECT_REF))
    assert find_repairs(repository).findings == (expected,)
    with pytest.raises(SecretStoreError):  # still refusing: it stays to repair
        repair(repository)
    assert leftover_entries(repository) == 2
    store.refusing = False
    assert repair(repository).findings == (expected,)
    assert leftover_entries(repository) == 0
    assert find_repairs(repository).findings == ()
    assert store.get(name, PASSWORD) is None
    assert store.get(name, PROJECT_REF) is None


def test_a_save_whose_keyring_fails_after_its_settings_opens_as_saved_and_is_finished(
    repository: ProfileRepository, store: RefusingDeletes
) -> None:
    name = unique("saved")
    save(repository, name)
    moved = parse_uri(URI.format(ref=OTHER_REF), name=name).profile.replace(database="other")
    store.refusing = True  # the staged entries cannot be deleted once moved in
    repository.save(moved, "pw-new", replace=True)
    fresh = ProfileRepository(repository.settings_file, store)
    assert fresh.load(name).profile == moved  # the staged ref, read through
    assert fresh.password_value(name) == "pw-new"
    [found] = find_repairs(fresh).findings
    assert (found.leftover, found.finishes) == (Leftover.SAVED, True)
    store.refusing = False
    assert repair(fresh).findings == (found,)
    assert store.get(name, PROJECT_REF) == OTHER_REF
    assert store.get(name, SecretKind.PROJECT_REF_BEING_SAVED) is None
    assert fresh.load(name).profile == moved
    assert repair(fresh).findings == ()  # once is enough, and twice is harmless


def test_a_profile_whose_ref_is_gone_is_removed_unless_every_ref_is(
    repository: ProfileRepository, store: RefusingDeletes
) -> None:
    lost, kept = unique("lost"), unique("kept")
    save(repository, lost)
    save(repository, kept, OTHER_REF)
    store.delete(lost, PROJECT_REF)  # by hand, or by an older Supalink killed halfway
    [found] = find_repairs(repository).findings
    assert found == Finding(Leftover.REF_MISSING, lost, (PASSWORD,))
    assert leftover_entries(repository) == 0  # a keyring read per profile: not for `list`
    assert repair(repository).findings == (found,)
    assert repository.names() == [kept]
    assert store.get(lost, PASSWORD) is None
    # With no Supabase profile's ref in the keyring, it is most likely another keyring.
    store.delete(kept, PROJECT_REF)
    assert find_repairs(repository).findings == ()
    assert repair(repository).findings == ()
    assert repository.names() == [kept]
    repository.remove(kept)


def test_a_journal_that_is_not_one_is_ignored(
    repository: ProfileRepository, caplog: pytest.LogCaptureFixture
) -> None:
    name = unique("fine")
    save(repository, name)
    journal = repository.changes.journal
    journal.path.write_text('{"pending": [{"step": "explode"}]}')
    with caplog.at_level(logging.WARNING, "supalink"):
        assert repository.load(name).profile.ref == REF
        assert find_repairs(repository).findings == ()
    assert "ignored the keyring journal" in caplog.text
    repository.remove(name)
    assert not journal.path.exists()


def test_the_journal_reads_back_what_it_wrote(
    tmp_path: Path, repository: ProfileRepository
) -> None:
    name = unique("noted")
    save(repository, name)
    record = repository.record(name)
    journal = Journal.beside(tmp_path / "settings.json")
    entries = (
        Pending(Step.ADD, "a", (PASSWORD,)),
        Pending(Step.SAVE, name, (PROJECT_REF,), record=fingerprint(record), drop=(PASSWORD,)),
        Pending(Step.RENAME, "b", (PASSWORD, PROJECT_REF), to="c"),
    )
    for entry in entries:
        journal.begin(entry)
    assert journal.pending() == entries
    staged = dataclasses.replace(entries[1], staged=True)
    journal.update(entries[1], staged)
    assert journal.pending() == (entries[0], staged, entries[2])
    for entry in (entries[0], staged, entries[2]):
        journal.end(entry)
    assert not journal.path.exists()
    assert journal.pending() == ()
    # The fingerprint of a record is the one of the record read back from the file.
    again = ProfileRepository(repository.settings_file, repository.secrets).record(name)
    assert fingerprint(again) == fingerprint(record)
    repository.remove(name)

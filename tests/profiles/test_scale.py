"""500 profiles (250 Supabase) cost a change no more keyring reads than 1 does: the settings
write reads no other profile's ref. Counted around the real Secret Service store."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest

from supalink.profiles import Profile, parse_uri
from supalink.profiles.repairs import leftover_entries
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore, SecretKind
from supalink.profiles.settings import ProfileRecord, Settings, SettingsFile
from supalink.profiles.supabase import Mode
from tests.support.secret_service import SecretService

URI = "postgresql://postgres.{ref}@aws-0-eu-central-1.pooler.supabase.com:5432/postgres"


class CountingStore:
    """The real keyring store, each call counted by what it did."""

    def __init__(self, inner: KeyringSecretStore) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    @property
    def description(self) -> str:
        return self.inner.description

    def get(self, profile: str, kind: SecretKind) -> str | None:
        self.calls["get"] += 1
        return self.inner.get(profile, kind)

    def set(self, profile: str, kind: SecretKind, value: str) -> None:
        self.calls["set"] += 1
        self.inner.set(profile, kind, value)

    def delete(self, profile: str, kind: SecretKind) -> None:
        self.calls["delete"] += 1
        self.inner.delete(profile, kind)


def with_profiles(path: Path, count: int) -> None:
    """`count` profiles in one settings write, every other one a Supabase profile (whose
    ref the keyring need not hold: a read of it is counted all the same)."""
    profiles = {}
    for number in range(count):
        name = f"other-{number}"
        if number % 2:
            profiles[name] = ProfileRecord(Profile(name, host="127.0.0.1"), False, False)
        else:
            pooled = Profile(name, Mode.SESSION, region="eu-central-1", pooler_index=0)
            profiles[name] = ProfileRecord(pooled, True, False)
    SettingsFile(path).save(Settings(profiles))


def keyring_calls(path: Path, suffix: str) -> dict[str, Counter[str]]:
    """What each change to one Supabase profile asked of the keyring, beside the others."""
    from keyring.backends.SecretService import Keyring

    store = CountingStore(KeyringSecretStore(Keyring()))
    repository = ProfileRepository(SettingsFile(path), store)
    name, renamed = f"scale-{suffix}", f"scaled-{suffix}"
    pooled = parse_uri(URI.format(ref="scalescalescalescale"), name=name).profile

    def counted(change: object) -> Counter[str]:
        store.calls.clear()
        assert callable(change)
        change()
        return Counter(store.calls)

    return {
        "add": counted(lambda: repository.save(pooled, "pw-1")),
        "new password": counted(lambda: repository.save(pooled, "pw-2", replace=True)),
        "new ref and region": counted(
            lambda: repository.save(
                pooled.replace(ref="refrefrefrefrefrefre", region="eu-west-2"), "pw-3", replace=True
            )
        ),
        "rename": counted(lambda: repository.rename(name, renamed)),
        "open": counted(lambda: repository.load(renamed) and repository.password(renamed)),
        "list": counted(lambda: (repository.records(), repository.locked())),
        "leftovers": counted(lambda: leftover_entries(repository)),
        "remove": counted(lambda: repository.remove(renamed)),
    }


@pytest.mark.slow
def test_a_change_reads_the_same_keyring_entries_beside_1_profile_or_500(
    tmp_path: Path, secret_service: SecretService
) -> None:
    alone, crowded = tmp_path / "one.json", tmp_path / "many.json"
    with_profiles(alone, 1)
    with_profiles(crowded, 500)
    suffix = uuid.uuid4().hex[:6]
    few = keyring_calls(alone, f"{suffix}-1")
    many = keyring_calls(crowded, f"{suffix}-500")
    assert many == few
    # And how few: the profile's own entries, read before they are written (a keyring that
    # does not answer refuses the change before it begins), and a save's staged ones.
    assert few["add"] == Counter(get=2, set=2)
    assert few["new password"] == Counter(get=2, set=1)
    assert few["new ref and region"] == Counter(get=4, set=4, delete=2)
    assert few["rename"] == Counter(get=2, set=2, delete=2)
    assert few["open"] == Counter(get=2)
    assert few["list"] == Counter(get=1)  # whether the keyring answers: one read for all
    assert few["leftovers"] == Counter()
    assert few["remove"] == Counter(get=1, delete=2)

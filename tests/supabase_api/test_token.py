"""The access token in the real Secret Service: entry `supabase (access token)`, no profile's."""

from __future__ import annotations

from pathlib import Path

import pytest

from supalink.profiles import KeyringSecretStore, Profile, ProfileRepository
from supalink.profiles.secrets import SERVICE
from supalink.profiles.settings import SettingsFile
from supalink.supabase_api import NotSignedIn, forget_token, save_token, saved_token
from supalink.supabase_api.errors import InvalidToken
from tests.support.secret_service import SecretService
from tests.support.supabase_api import TOKEN


@pytest.fixture
def store(secret_service: SecretService) -> KeyringSecretStore:
    from keyring.backends.SecretService import Keyring

    store = KeyringSecretStore(Keyring())
    forget_token(store)
    return store


def test_the_token_is_kept_under_its_own_entry(store: KeyringSecretStore) -> None:
    from keyring.backends.SecretService import Keyring

    with pytest.raises(NotSignedIn, match="no access token in Secret Service"):
        saved_token(store)
    save_token(store, TOKEN)
    assert Keyring().get_password(SERVICE, "supabase (access token)") == TOKEN
    assert saved_token(store) == TOKEN
    assert forget_token(store) is True
    assert forget_token(store) is False
    assert Keyring().get_password(SERVICE, "supabase (access token)") is None


def test_removing_a_profile_named_supabase_keeps_the_token(
    store: KeyringSecretStore, tmp_path: Path
) -> None:
    repository = ProfileRepository(SettingsFile(tmp_path / "settings.json"), store)
    repository.save(Profile("supabase", ref="abcdefghijklmnopqrst"), "pw-of-the-profile")
    save_token(store, TOKEN)
    try:
        repository.remove("supabase")
        assert saved_token(store) == TOKEN
    finally:
        forget_token(store)


@pytest.mark.parametrize("token", ["", "sbp_ 123", "sbp_\x00x", "sbp_é", "x" * 5000])
def test_what_cannot_be_a_token_is_refused_before_saving(
    store: KeyringSecretStore, token: str
) -> None:
    with pytest.raises(InvalidToken, match="the access token"):
        save_token(store, token)
    with pytest.raises(NotSignedIn):
        saved_token(store)

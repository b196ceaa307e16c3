"""The keyring store on a real Secret Service, and its refusal of plaintext or absent backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TypeVar

import pytest
from keyring.backend import KeyringBackend

from supalink.profiles.secrets import (
    SERVICE,
    KeyringSecretStore,
    SecretKind,
    SecretStoreError,
    account_name,
)
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.secret_service import SecretService


def secret_service_store() -> KeyringSecretStore:
    from keyring.backends.SecretService import Keyring

    return KeyringSecretStore(Keyring())


def test_round_trip_through_the_secret_service(secret_service: SecretService) -> None:
    store = secret_service_store()
    profile = f"prod-{uuid.uuid4().hex[:6]}"
    store.set(profile, SecretKind.PASSWORD, SPECIAL_PASSWORD)
    store.set(profile, SecretKind.PROJECT_REF, "abcdefghijklmnopqrst")
    assert store.get(profile, SecretKind.PASSWORD) == SPECIAL_PASSWORD
    assert store.get(profile, SecretKind.PROJECT_REF) == "abcdefghijklmnopqrst"
    assert store.description == "Secret Service (GNOME Keyring)"  # the program that answered
    store.delete(profile, SecretKind.PASSWORD)
    store.delete(profile, SecretKind.PASSWORD)  # deleting twice is fine
    assert store.get(profile, SecretKind.PASSWORD) is None


def test_entries_are_findable_by_a_person(secret_service: SecretService) -> None:
    """Seahorse shows the service and account: both say what the entry is."""
    from keyring.backends.SecretService import Keyring

    store = secret_service_store()
    store.set("Prod DB", SecretKind.PASSWORD, "pw-for-seahorse")
    try:
        assert Keyring().get_password(SERVICE, "Prod DB (database password)") == "pw-for-seahorse"
        assert account_name("Prod DB", SecretKind.PROJECT_REF) == "Prod DB (project ref)"
    finally:
        store.delete("Prod DB", SecretKind.PASSWORD)


Backend = TypeVar("Backend", bound=KeyringBackend)


def unregistered(cls: type[Backend]) -> type[Backend]:
    """Keep a test's backend out of keyring's registry: every KeyringBackend subclass is
    registered, and keyring's own detection (and its chainer) would then use it in every
    later test of the session.

    The backends below each say their `__init__` only to annotate it: keyring's own
    (KeyringBackend's) has no annotations, so constructing them would be an untyped call."""
    KeyringBackend._classes.discard(cls)
    return cls


@unregistered
class PlaintextFileKeyring(KeyringBackend):
    """Stands in for keyrings.alt's file backend (never installed here)."""

    priority = 1

    def __init__(self) -> None:
        KeyringBackend.__init__(self)

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("must not be used")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise AssertionError("must not be used")

    def delete_password(self, service: str, username: str) -> None:
        raise AssertionError("must not be used")


PlaintextFileKeyring.__module__ = "keyrings.alt.file"


def test_plaintext_backends_are_refused() -> None:
    store = KeyringSecretStore(PlaintextFileKeyring())
    with pytest.raises(SecretStoreError, match="plain files"):
        store.set("p", SecretKind.PASSWORD, "secret")
    assert store.description == "no usable keyring"
    assert not store.is_usable


def test_the_fail_backend_says_no_keyring_plainly() -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    store = KeyringSecretStore(FailKeyring())
    with pytest.raises(SecretStoreError, match="no usable keyring") as raised:
        store.get("p", SecretKind.PASSWORD)
    assert "gnome-keyring" in str(raised.value)


def test_a_chainer_of_nothing_usable_is_refused() -> None:
    from keyring.backends.chainer import ChainerBackend

    @unregistered
    class PlaintextOnlyChain(ChainerBackend):
        def __init__(self) -> None:
            ChainerBackend.__init__(self)

        @property
        def backends(self) -> list[KeyringBackend]:
            return [PlaintextFileKeyring()]

    assert not KeyringSecretStore(PlaintextOnlyChain()).is_usable


def test_a_plaintext_store_beside_the_os_keyring_is_never_read(
    secret_service: SecretService,
) -> None:
    """keyring's chainer reads through every backend it found: with keyrings.alt installed
    beside the Secret Service, a missing entry must not be looked for in its plain files."""
    from keyring.backends.chainer import ChainerBackend
    from keyring.backends.SecretService import Keyring

    @unregistered
    class SecretServiceThenPlaintext(ChainerBackend):
        def __init__(self) -> None:
            ChainerBackend.__init__(self)

        @property
        def backends(self) -> list[KeyringBackend]:
            return [Keyring(), PlaintextFileKeyring()]

    store = KeyringSecretStore(SecretServiceThenPlaintext())
    assert store.get("nobody", SecretKind.PASSWORD) is None
    assert store.description == "Secret Service (GNOME Keyring)"  # the program that answered


def test_no_session_bus_names_no_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside a desktop session nobody answers: the line says less, and says no guess."""
    from supalink.profiles.secret_service import provider

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert provider() is None


DIRECT_READ = """
import json, sys
from supalink.profiles.secrets import KeyringSecretStore, SecretKind

store = KeyringSecretStore(direct=True)
print(json.dumps({
    "password": store.get(sys.argv[1], SecretKind.PASSWORD),
    "missing": store.get(sys.argv[1], SecretKind.PROJECT_REF),
    "description": store.description,
    "usable": store.is_usable,
    "loaded": sorted({"keyring", "secretstorage", "cryptography"} & set(sys.modules)),
}))
"""


def test_the_direct_store_reads_keyrings_entries_without_loading_keyring(
    secret_service: SecretService, tmp_path: Path
) -> None:
    """What the app and the MCP servers read at start, read from the Secret Service itself:
    the entry keyring saved, the same description, and neither keyring nor cryptography
    (secretstorage's encrypted session) loaded for it."""
    store = secret_service_store()
    profile = f"direct-{uuid.uuid4().hex[:6]}"
    store.set(profile, SecretKind.PASSWORD, SPECIAL_PASSWORD)
    try:
        result = subprocess.run(
            [sys.executable, "-c", DIRECT_READ, profile],
            env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path)},  # no keyringrc.cfg
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        store.delete(profile, SecretKind.PASSWORD)
    assert json.loads(result.stdout) == {
        "password": SPECIAL_PASSWORD,
        "missing": None,
        "description": "Secret Service (GNOME Keyring)",
        "usable": True,
        "loaded": [],
    }


def test_the_direct_store_saves_and_deletes_through_keyring(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    store = KeyringSecretStore(direct=True)
    profile = f"direct-{uuid.uuid4().hex[:6]}"
    store.set(profile, SecretKind.PASSWORD, "first")
    store.set(profile, SecretKind.PASSWORD, SPECIAL_PASSWORD)  # replaced, not added
    assert store.get(profile, SecretKind.PASSWORD) == SPECIAL_PASSWORD
    assert secret_service_store().get(profile, SecretKind.PASSWORD) == SPECIAL_PASSWORD
    store.delete(profile, SecretKind.PASSWORD)
    assert store.get(profile, SecretKind.PASSWORD) is None

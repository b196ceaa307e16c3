"""The OS keyring: the one home of project refs and database passwords.

Never falls back to a plaintext store: keyrings.alt's file backends, the null
backend and the fail backend all count as "no usable keyring".
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import MutableMapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from supalink import sentences
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "supalink"

# Module prefixes of backends that do not keep secrets in an OS store.
_UNSAFE_BACKENDS = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")
_SECRET_SERVICE_MODULES = ("keyring.backends.SecretService", "keyring.backends.libsecret")
_BACKEND_NAMES = {
    "keyring.backends.kwallet": "KWallet",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.Windows": "Windows Credential Manager",
}


class SecretKind(StrEnum):
    PASSWORD = "database password"  # noqa: S105 (a label, not a password)
    PROJECT_REF = "project ref"
    # The Supabase personal access token, one per user, under the account "supabase".
    ACCESS_TOKEN = "access token"  # noqa: S105 (a label, not a token)
    # A replaced profile's new secrets until its settings are written (profiles/changes.py);
    # no profile name's entries end in ", being saved)".
    PASSWORD_BEING_SAVED = "database password, being saved"  # noqa: S105 (a label)
    PROJECT_REF_BEING_SAVED = "project ref, being saved"


# A profile's own entries: removing a profile named "supabase" must not sign the user out.
PROFILE_KINDS = (SecretKind.PASSWORD, SecretKind.PROJECT_REF)
BEING_SAVED = {
    SecretKind.PASSWORD: SecretKind.PASSWORD_BEING_SAVED,
    SecretKind.PROJECT_REF: SecretKind.PROJECT_REF_BEING_SAVED,
}


class SecretStoreError(SupalinkError):
    """No usable keyring, or the keyring refused; the message says what to do, `reason`
    what went wrong in a few words (for a list's line or a tooltip)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class NoUsableKeyring(SecretStoreError):
    """No OS keyring to keep secrets in: none is available, or its backend did not start
    (`detail`: the backend's own error)."""

    def __init__(self, why: str, detail: str | None = None) -> None:
        super().__init__(sentences.keyring_unusable(why, detail), sentences.no_usable_keyring(why))
        self.why = why


class KeyringRefused(SecretStoreError):
    """The keyring (`store`, as a person knows it) failed to `action` an entry: `error` is
    its error's type and text (never the secret), `locked` whether it is a locked keyring."""

    def __init__(self, store: str, action: str, kind: str, error: str, *, locked: bool) -> None:
        reason = sentences.keyring_refused(store, action, kind, error)
        super().__init__(sentences.keyring_refused_whole(reason, locked=locked), reason)
        self.locked = locked


def account_name(profile: str, kind: SecretKind) -> str:
    """How an entry is labelled in Keychain Access, Seahorse or Credential Manager."""
    return f"{profile} ({kind})"


class SecretStore(Protocol):
    @property
    def description(self) -> str: ...

    def get(self, profile: str, kind: SecretKind) -> str | None: ...

    def set(self, profile: str, kind: SecretKind, value: str) -> None: ...

    def delete(self, profile: str, kind: SecretKind) -> None: ...


def describe_backend(backend: KeyringBackend) -> str:
    """The store in a person's words; for the Secret Service, the program that answers it
    (GNOME Keyring, KeePassXC, KWallet…): naming every possible one reads as if all were
    in use."""
    module = type(backend).__module__
    if module in _SECRET_SERVICE_MODULES:
        return _describe_secret_service()
    return _BACKEND_NAMES.get(module, f"{type(backend).__name__} ({module})")


def _describe_secret_service() -> str:
    from supalink.profiles.secret_service import provider

    program = provider()
    return f"Secret Service ({program})" if program else "Secret Service"


def unusable_reason(backend: KeyringBackend) -> str | None:
    """Why this backend must not hold secrets, or None when it is an OS store."""
    chained = getattr(backend, "backends", None)
    if chained is not None:
        usable = [b for b in chained if unusable_reason(b) is None]
        return None if usable else "no OS keyring backend is available"
    module = type(backend).__module__
    if module.startswith(_UNSAFE_BACKENDS[2]):
        return f"{type(backend).__name__} from keyrings.alt stores secrets in plain files"
    if module.startswith(_UNSAFE_BACKENDS[:2]):
        return "no OS keyring backend is available"
    return None


class KeyringSecretStore:
    """Secrets in the OS keyring under the service name `supalink`.

    With `direct` (the app, the MCP servers), on Linux where keyring would pick the Secret
    Service, reads and the store's description and usability go to the Secret Service
    itself (secret_service.py, keyring's own entries): importing keyring and probing every
    backend costs about 0.3 s, which the MCP launcher would add to every server start, and
    keyring's backend loads cryptography, some 10 MB the app would keep for the rest of its
    run. Saving and deleting, and anything unusual (a locked collection, no Secret Service
    answering), go through the keyring library.
    """

    def __init__(self, backend: KeyringBackend | None = None, *, direct: bool = False) -> None:
        self._backend = backend
        self._direct = direct and backend is None and _default_is_secret_service()
        self._answering: bool | None = None  # the Secret Service's, asked once

    def _secret_service_answers(self) -> bool:
        """In `direct` mode, whether the Secret Service is there to be asked directly."""
        if self._direct and self._answering is None:
            from supalink.profiles import secret_service

            self._answering = secret_service.is_available()
        return self._direct and bool(self._answering)

    def _usable_backend(self) -> KeyringBackend:
        if self._backend is None:
            import keyring

            try:
                self._backend = keyring.get_keyring()
            except Exception as error:  # a backend named in PYTHON_KEYRING_BACKEND failed to start
                why = f"its backend did not start: {type(error).__name__}"
                raise NoUsableKeyring(why, str(error)) from None
        chained = getattr(self._backend, "backends", None)
        if chained:
            # keyring's chainer reads through every backend it found: a missing entry would
            # be looked for in a plain-file store (keyrings.alt) too. Only the OS stores.
            safe = [backend for backend in chained if unusable_reason(backend) is None]
            if safe:
                self._backend = safe[0]  # the chainer lists them by priority, highest first
        reason = unusable_reason(self._backend)
        if reason:
            raise NoUsableKeyring(reason)
        return self._backend

    @property
    def description(self) -> str:
        if self._secret_service_answers():
            return _describe_secret_service()
        try:
            return describe_backend(self._usable_backend())
        except SecretStoreError:
            return "no usable keyring"

    @property
    def is_usable(self) -> bool:
        if self._secret_service_answers():
            return True
        try:
            self._usable_backend()
        except SecretStoreError:
            return False
        return True

    def get(self, profile: str, kind: SecretKind) -> str | None:
        if self._direct:
            from supalink.profiles import secret_service

            try:
                return secret_service.read(SERVICE, account_name(profile, kind))
            except Exception:  # locked, or not there: the keyring library asks, or says why
                self._direct = False
        backend = self._usable_backend()
        try:
            value: str | None = backend.get_password(SERVICE, account_name(profile, kind))
        except Exception as error:
            raise _refused(backend, "read", kind, error) from None
        return value

    def set(self, profile: str, kind: SecretKind, value: str) -> None:
        backend = self._usable_backend()
        try:
            backend.set_password(SERVICE, account_name(profile, kind), value)
        except Exception as error:
            raise _refused(backend, "save", kind, error) from None
        log.info("saved the %s of profile %r in %s", kind, profile, describe_backend(backend))

    def delete(self, profile: str, kind: SecretKind) -> None:
        from keyring.errors import PasswordDeleteError

        backend = self._usable_backend()
        try:
            backend.delete_password(SERVICE, account_name(profile, kind))
        except PasswordDeleteError:
            return  # already absent
        except Exception as error:
            raise _refused(backend, "delete", kind, error) from None


def _default_is_secret_service() -> bool:
    """True when keyring would pick the Secret Service without being told otherwise."""
    from importlib.util import find_spec

    if sys.platform != "linux" or os.environ.get("PYTHON_KEYRING_BACKEND"):
        return False
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    if (Path(config_home) / "python_keyring" / "keyringrc.cfg").exists():
        return False
    # On KDE keyring ranks KWallet above the Secret Service, when python-dbus can reach it.
    desktops = os.environ.get("XDG_CURRENT_DESKTOP", "").split(":")
    return "KDE" not in desktops or find_spec("dbus") is None


def _refused(
    backend: KeyringBackend, action: str, kind: SecretKind, error: Exception
) -> SecretStoreError:
    # Keyring errors never carry the secret; the type says locked/dismissed/unreachable.
    name = type(error).__name__
    locked = "Locked" in name or "Dismissed" in name or "Prompt dismissed" in str(error)
    store = describe_backend(backend)
    return KeyringRefused(store, action, kind, f"{name}: {error}", locked=locked)


class MemorySecretStore:
    """Secrets for this process only: for "don't save" and for tests of callers."""

    # Read after "Saved in" and "Keyring:": memory is where it is, for this session.
    description = "memory, for this session only"

    def __init__(self) -> None:
        self._values: dict[tuple[str, SecretKind], str] = {}

    def get(self, profile: str, kind: SecretKind) -> str | None:
        return self._values.get((profile, kind))

    def set(self, profile: str, kind: SecretKind, value: str) -> None:
        self._values[(profile, kind)] = value

    def delete(self, profile: str, kind: SecretKind) -> None:
        self._values.pop((profile, kind), None)


def find_session_bus(env: MutableMapping[str, str], uid: int | None = None) -> str | None:
    """Point D-Bus clients (the Secret Service) at the user's session bus when the process
    that started us left it out: MCP clients start servers with a bare environment."""
    if sys.platform != "linux" or env.get("DBUS_SESSION_BUS_ADDRESS"):
        return env.get("DBUS_SESSION_BUS_ADDRESS")
    uid = os.getuid() if uid is None else uid
    candidates = [Path(env["XDG_RUNTIME_DIR"]) / "bus"] if env.get("XDG_RUNTIME_DIR") else []
    candidates.append(Path(f"/run/user/{uid}/bus"))
    for candidate in candidates:
        try:
            if stat.S_ISSOCK(candidate.stat().st_mode):
                env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={candidate}"
                return env["DBUS_SESSION_BUS_ADDRESS"]
        except OSError:
            continue
    return None

"""What the profile repository refuses or cannot do, one class each, with the data to say
it (the profile's name, the keyring's description); the sentences are in sentences.py."""

from __future__ import annotations

from collections.abc import Sequence

from supalink import sentences
from supalink.errors import Conflict, NotFound, SupalinkError
from supalink.profiles.secrets import SecretStoreError


class ProfileNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(sentences.profile_not_found(name))
        self.profile = name


class ProfileExists(Conflict):
    """A new profile, or a new name, that another profile has."""

    def __init__(self, name: str) -> None:
        super().__init__(sentences.profile_exists(name))
        self.profile = name


class ProjectRefMissing(NotFound):
    """A Supabase profile whose ref is not in the keyring: it cannot open."""

    def __init__(self, name: str, store: str) -> None:
        super().__init__(sentences.project_ref_missing(name, store))
        self.profile = name
        self.store = store


class PasswordNotInKeyring(SupalinkError):
    """A process an MCP client started reads the keyring only: this session's password is
    in another process."""

    sentence = staticmethod(sentences.password_not_in_keyring)

    def __init__(self, name: str, store: str) -> None:
        super().__init__(self.sentence(name, store))
        self.profile = name
        self.store = store


class PasswordMissingFromKeyring(PasswordNotInKeyring):
    """The settings say the profile's password is in the keyring, and the keyring has no
    entry for it: deleted there by another program or by hand."""

    sentence = staticmethod(sentences.password_missing_from_keyring)


class ProfileLocked(SecretStoreError):
    """A Supabase profile whose ref is in a keyring that does not answer: it is listed, it
    cannot open, and nothing is written that would drop it."""

    def __init__(self, name: str, error: SecretStoreError) -> None:
        # The whole message, what to do included; the short reason for lists.
        super().__init__(sentences.profile_locked(name, str(error)), error.reason)
        self.profile = name


class ProfileNotSaved(SecretStoreError):
    """A change to a profile that the keyring refused before anything was written: it
    keeps `kinds` (password, project ref) and did not answer."""

    def __init__(self, name: str, kinds: Sequence[str], reason: str) -> None:
        super().__init__(sentences.profile_not_saved(name, kinds, reason), reason)
        self.profile = name
        self.kinds = tuple(kinds)

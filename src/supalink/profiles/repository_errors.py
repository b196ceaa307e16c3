"""What the profile repository refuses or cannot do, one class each, with the data to say
it (the profile's name, the keyring's description)."""

from __future__ import annotations

from supalink.errors import SupalinkError, UsageError
from supalink.profiles.secrets import SecretStoreError


class ProfileNotFound(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no profile named {name!r} (see `supalink profile list`)")
        self.profile = name


class ProfileExists(UsageError):
    """A new profile, or a new name, that another profile has."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a profile named {name!r} already exists")
        self.profile = name


class ProjectRefMissing(UsageError):
    """A Supabase profile whose ref is not in the keyring: it cannot open."""

    def __init__(self, name: str, store: str) -> None:
        super().__init__(
            f"the project ref of profile {name!r} is missing from the keyring ({store}); "
            "add the profile again"
        )
        self.profile = name
        self.store = store


class PasswordNotInKeyring(SupalinkError):
    """A process an MCP client started reads the keyring only: this session's password is
    in another process."""

    def __init__(self, name: str, store: str) -> None:
        super().__init__(
            f"profile {name!r} has no password in the keyring ({store}); save it in "
            "Supalink, then restart the client"
        )
        self.profile = name


class PasswordMissingFromKeyring(PasswordNotInKeyring):
    """The settings say the profile's password is in the keyring, and the keyring has no
    entry for it: deleted there by another program or by hand."""

    def __init__(self, name: str, store: str) -> None:
        SupalinkError.__init__(
            self,
            f"the keyring entry for the password of profile {name!r} is missing ({store}): "
            "it was deleted outside Supalink; save the password again",
        )
        self.profile = name
        self.store = store


class ProfileLocked(SecretStoreError):
    """A Supabase profile whose ref is in a keyring that does not answer: it is listed, it
    cannot open, and nothing is written that would drop it."""

    def __init__(self, name: str, error: SecretStoreError) -> None:
        # The whole message, what to do included; the short reason for lists.
        super().__init__(f"profile {name!r} is {locked_because(str(error))}", error.reason)
        self.profile = name


def locked_because(reason: str) -> str:
    """How a locked profile's state reads, in a list and in an error."""
    return f"locked: the keyring did not answer: {reason}"

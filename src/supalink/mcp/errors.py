"""What can stop a server entry from being planned or written. Each error carries its
facts; the CLI words them as its flags, the window in its own words."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from supalink.errors import SupalinkError, UsageError


class KeyringNeedsProfile(UsageError):
    """The keyring template reads a saved profile's password: a URI alone cannot use it."""

    def __init__(self) -> None:
        super().__init__("the keyring template needs a saved profile: its password is read there")


class LauncherServerWithoutKeyring(UsageError):
    """A server to start behind the launcher was chosen for another template."""

    def __init__(self) -> None:
        super().__init__("a server behind the launcher goes with the keyring template")


class WritesNeedSupalinkServer(UsageError):
    """Allowing writes was asked of a server that is not Supalink's: only its own server
    has a read-only guard that the entry can turn off."""

    def __init__(self, template: str) -> None:
        super().__init__(f"allowing writes goes with Supalink's own server, not {template!r}")
        self.template = template


class MissingCaFile(UsageError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"no CA certificate file at {path}")
        self.path = path


class BadServerName(UsageError):
    """A name no client's file should hold as a server's key: `problem` says why."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"server name {name!r} {problem}")
        self.name = name
        self.problem = problem


class PasswordNotSaved(SupalinkError):
    """The profile's password is needed and not at hand; `for_launcher`: the launcher would
    read it from the keyring, where it is not."""

    def __init__(self, profile: str, *, for_launcher: bool) -> None:
        if for_launcher:
            message = (
                f"profile {profile!r} has no password in the keyring, so the launcher would "
                "have nothing to start the server with: save the password, or pick another "
                "template"
            )
        else:
            message = f"profile {profile!r} has no saved password"
        super().__init__(message)
        self.profile = profile
        self.for_launcher = for_launcher


class ConfigChanged(SupalinkError):
    """The file changed between the preview and the write."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed since the preview (was another program writing it?)")
        self.path = path


class ConfirmationRequired(SupalinkError):
    """The change replaces or removes an entry the user has not agreed to lose."""

    def __init__(self, path: Path, server_name: str, action: Literal["replace", "remove"]) -> None:
        if action == "replace":
            message = f"{path} already has a different {server_name!r} entry"
        else:
            message = f"removing {server_name!r} from {path} needs confirming"
        super().__init__(message)
        self.path = path
        self.server_name = server_name
        self.action = action


class EntryMissing(SupalinkError):
    """The config file, or the server's entry in it, is not there (yet)."""

    def __init__(self, path: Path, server_name: str, *, no_file: bool) -> None:
        super().__init__(
            f"no config file at {path}" if no_file else f"no {server_name!r} entry in {path}"
        )
        self.path = path
        self.server_name = server_name
        self.no_file = no_file

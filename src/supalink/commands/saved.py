"""The saved profiles as a subcommand opens them: the user's repository (with its notice,
such as a corrupt settings file moved aside, on stderr) and a saved profile's target."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supalink.profiles import ProfileRepository, Target


def user_repository() -> ProfileRepository:
    from supalink.paths import AppPaths
    from supalink.profiles import open_repository

    repository = open_repository(AppPaths.for_user())
    if repository.notice:
        print(f"supalink: {repository.notice}", file=sys.stderr)
    return repository


def saved_target(repository: ProfileRepository, name: str) -> Target:
    """Profile `name` with its password, wherever it is kept; PasswordMissingFromKeyring
    when the keyring lost the one saved there."""
    from supalink.profiles import Target

    password = repository.password_value(name, missing_is_error=True)
    return Target.from_profile(repository.load(name).profile, password)

"""Whether a profile's login is too powerful to hand to an agent: the one home of the
decision that `config write` warns on and the Write config dialog offers a role for."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from supalink.errors import SupalinkError
from supalink.profiles import supabase

if TYPE_CHECKING:
    from supalink.profiles import Target

# Writing a config must not need the database: an unreachable one costs this much, and no
# verdict.
RIGHTS_TIMEOUT: Final = 5.0
# Supabase's admin login: BYPASSRLS and CREATEROLE, known without asking the server.
ADMIN_LOGIN: Final = supabase.DEFAULT_ROLE


@dataclass(frozen=True)
class TooPowerful:
    login: str
    changes_everything: bool  # superuser or Supabase's admin; BYPASSRLS alone reads every row


def login_role(target: Target) -> str:
    """The role the profile logs in as, without the shared pooler's `.<ref>`."""
    profile = target.profile
    assert profile is not None, "a profile's target"
    return profile.user.removesuffix(f".{profile.ref}") if profile.ref else profile.user


def known_by_name(target: Target) -> TooPowerful | None:
    """What `too_powerful` finds without asking the server: Supabase's admin login."""
    role = login_role(target)
    return TooPowerful(role, True) if role == ADMIN_LOGIN else None


async def too_powerful(target: Target, timeout: float = RIGHTS_TIMEOUT) -> TooPowerful | None:
    """The login when it bypasses row level security or is superuser; None for an
    agent-sized login, or when the server cannot say within `timeout`."""
    from supalink.roles.report import describe

    if (found := known_by_name(target)) is not None:
        return found
    try:
        async with asyncio.timeout(timeout):
            report = await describe(target)
    except (SupalinkError, TimeoutError, OSError):
        return None  # unreachable, or no password at hand: nothing to say
    if report.is_superuser or report.bypasses_rls:
        return TooPowerful(report.login, report.can_change_everything)
    return None

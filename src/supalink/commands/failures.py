"""How a command's failure reads on stderr: the error's own sentence, then what to type
next where the command line has its own advice (a window gives its buttons instead)."""

from __future__ import annotations

from supalink.errors import SupalinkError


def said(error: SupalinkError) -> str:
    from supalink import profiles

    if isinstance(error, profiles.ProfileNotFound):
        return f"{error} (see `supalink profile list`)"
    return str(error)

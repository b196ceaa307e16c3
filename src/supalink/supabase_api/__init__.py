"""Supabase's Management API: the personal access token (in the keyring), the projects it
sees, and each project's exact connection details (the shared pooler's host for the PRIMARY
database, the dedicated pooler), filled into a profile. Plain asyncio and httpx2; each
module loads on first use (the main window must not wait for an HTTP client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.supabase_api.client import TOKEN_PAGE, ManagementApi, base_url
    from supalink.supabase_api.errors import NotSignedIn, TokenRejected
    from supalink.supabase_api.fill import profile_from_project
    from supalink.supabase_api.token import (
        TOKEN_ACCOUNT,
        checked_token,
        forget_token,
        save_token,
        saved_token,
        token_problem,
    )

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "TOKEN_PAGE": "client",
        "ManagementApi": "client",
        "base_url": "client",
        "NotSignedIn": "errors",
        "TokenRejected": "errors",
        "profile_from_project": "fill",
        "TOKEN_ACCOUNT": "token",
        "checked_token": "token",
        "forget_token": "token",
        "save_token": "token",
        "saved_token": "token",
        "token_problem": "token",
    },
)
__all__ = [
    "TOKEN_ACCOUNT",
    "TOKEN_PAGE",
    "ManagementApi",
    "NotSignedIn",
    "TokenRejected",
    "base_url",
    "checked_token",
    "forget_token",
    "profile_from_project",
    "save_token",
    "saved_token",
    "token_problem",
]

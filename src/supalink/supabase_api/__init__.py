"""Supabase's Management API: the personal access token (in the keyring), the projects it
sees, and each project's exact connection details (the shared pooler's host for the PRIMARY
database, the dedicated pooler), filled into a profile. Plain asyncio and httpx2; each
module loads on first use (the main window must not wait for an HTTP client)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.supabase_api.client import (
        BASE_URL_VARIABLE,
        DEFAULT_BASE_URL,
        TOKEN_PAGE,
        ManagementApi,
        base_url,
    )
    from supalink.supabase_api.errors import (
        ApiError,
        ApiUnreachable,
        ApiUrlRefused,
        InvalidRef,
        InvalidToken,
        MissingPermissions,
        NoDedicatedPooler,
        NotSignedIn,
        ProjectNotFound,
        ProjectNotReady,
        RateLimited,
        TokenRejected,
        UnexpectedAnswer,
    )
    from supalink.supabase_api.fill import profile_from_project
    from supalink.supabase_api.models import DedicatedPooler, PoolerEndpoint, Project
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
        "BASE_URL_VARIABLE": "client",
        "DEFAULT_BASE_URL": "client",
        "TOKEN_PAGE": "client",
        "ManagementApi": "client",
        "base_url": "client",
        "ApiError": "errors",
        "ApiUnreachable": "errors",
        "ApiUrlRefused": "errors",
        "InvalidRef": "errors",
        "InvalidToken": "errors",
        "MissingPermissions": "errors",
        "NoDedicatedPooler": "errors",
        "NotSignedIn": "errors",
        "ProjectNotFound": "errors",
        "ProjectNotReady": "errors",
        "RateLimited": "errors",
        "TokenRejected": "errors",
        "UnexpectedAnswer": "errors",
        "profile_from_project": "fill",
        "DedicatedPooler": "models",
        "PoolerEndpoint": "models",
        "Project": "models",
        "TOKEN_ACCOUNT": "token",
        "checked_token": "token",
        "forget_token": "token",
        "save_token": "token",
        "saved_token": "token",
        "token_problem": "token",
    },
)
__all__ = [
    "BASE_URL_VARIABLE",
    "DEFAULT_BASE_URL",
    "TOKEN_ACCOUNT",
    "TOKEN_PAGE",
    "ApiError",
    "ApiUnreachable",
    "ApiUrlRefused",
    "DedicatedPooler",
    "InvalidRef",
    "InvalidToken",
    "ManagementApi",
    "MissingPermissions",
    "NoDedicatedPooler",
    "NotSignedIn",
    "PoolerEndpoint",
    "Project",
    "ProjectNotFound",
    "ProjectNotReady",
    "RateLimited",
    "TokenRejected",
    "UnexpectedAnswer",
    "base_url",
    "checked_token",
    "forget_token",
    "profile_from_project",
    "save_token",
    "saved_token",
    "token_problem",
]

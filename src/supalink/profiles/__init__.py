"""Profiles: the model and its validation, Supabase's endpoint facts, the defaults, URIs
(build, parse, mask), the connection target, the settings file and the keyring store.
What other packages may use is named in `__all__`.

The model, Supabase's facts and the defaults load with the package; every other module on
first use (PEP 562): the main window's first frame needs none of the snippets, and the
settings file, the keyring store, the target and the URIs only as it builds its parts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes
from supalink.profiles import defaults, supabase
from supalink.profiles.model import (
    DEFAULT_APPLICATION_NAME,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_SSLMODE,
    SSL_MODES,
    Endpoint,
    Profile,
    ProfileError,
    profile_name_problem,
)
from supalink.profiles.supabase import REGIONS, Mode, region_problem

if TYPE_CHECKING:
    from supalink.profiles.changes import Finding, Leftover
    from supalink.profiles.repairs import Repairs, find_repairs, leftover_entries, repair
    from supalink.profiles.repository import (
        Password,
        PasswordMissingFromKeyring,
        ProfileExists,
        ProfileLocked,
        ProfileNotFound,
        ProfileRepository,
        SavedProfile,
        open_repository,
    )
    from supalink.profiles.secrets import (
        KeyringSecretStore,
        MemorySecretStore,
        SecretKind,
        SecretStore,
        SecretStoreError,
        find_session_bus,
    )
    from supalink.profiles.settings import ProfileRecord, SettingsError, SettingsFile
    from supalink.profiles.snippets import Snippet, snippets_for
    from supalink.profiles.target import Target
    from supalink.profiles.uris import (
        QUERY_PASSWORD,
        ParsedUri,
        UriError,
        build_uri,
        check_as_written,
        parse_uri,
        with_tls,
    )

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "Finding": "changes",
        "Leftover": "changes",
        "Repairs": "repairs",
        "find_repairs": "repairs",
        "leftover_entries": "repairs",
        "repair": "repairs",
        "Password": "repository",
        "PasswordMissingFromKeyring": "repository",
        "ProfileExists": "repository",
        "ProfileLocked": "repository",
        "ProfileNotFound": "repository",
        "ProfileRepository": "repository",
        "SavedProfile": "repository",
        "open_repository": "repository",
        "KeyringSecretStore": "secrets",
        "MemorySecretStore": "secrets",
        "SecretKind": "secrets",
        "SecretStore": "secrets",
        "SecretStoreError": "secrets",
        "find_session_bus": "secrets",
        "ProfileRecord": "settings",
        "SettingsError": "settings",
        "SettingsFile": "settings",
        "Snippet": "snippets",
        "snippets_for": "snippets",
        "Target": "target",
        "QUERY_PASSWORD": "uris",
        "ParsedUri": "uris",
        "UriError": "uris",
        "build_uri": "uris",
        "check_as_written": "uris",
        "parse_uri": "uris",
        "with_tls": "uris",
    },
)
__all__ = [
    "DEFAULT_APPLICATION_NAME",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SSLMODE",
    "QUERY_PASSWORD",
    "REGIONS",
    "SSL_MODES",
    "Endpoint",
    "Finding",
    "KeyringSecretStore",
    "Leftover",
    "MemorySecretStore",
    "Mode",
    "ParsedUri",
    "Password",
    "PasswordMissingFromKeyring",
    "Profile",
    "ProfileError",
    "ProfileExists",
    "ProfileLocked",
    "ProfileNotFound",
    "ProfileRecord",
    "ProfileRepository",
    "Repairs",
    "SavedProfile",
    "SecretKind",
    "SecretStore",
    "SecretStoreError",
    "SettingsError",
    "SettingsFile",
    "Snippet",
    "Target",
    "UriError",
    "build_uri",
    "check_as_written",
    "defaults",
    "find_repairs",
    "find_session_bus",
    "leftover_entries",
    "open_repository",
    "parse_uri",
    "profile_name_problem",
    "region_problem",
    "repair",
    "snippets_for",
    "supabase",
    "with_tls",
]

"""Profiles: the model and its validation, Supabase's endpoint facts, the defaults, URIs
(build, parse, mask), the connection target, the settings file and the keyring store.
What other packages may use is named in `__all__`."""

from __future__ import annotations

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
from supalink.profiles.repository import (
    Password,
    PasswordMissingFromKeyring,
    ProfileLocked,
    ProfileNotFound,
    ProfileRepository,
    SavedProfile,
    open_repository,
)
from supalink.profiles.secrets import (
    NO_KEYRING_HINT,
    KeyringSecretStore,
    MemorySecretStore,
    SecretKind,
    SecretStore,
    SecretStoreError,
)
from supalink.profiles.settings import ProfileRecord, SettingsError, SettingsFile
from supalink.profiles.snippets import Snippet, snippets
from supalink.profiles.supabase import REGIONS, Mode, region_problem
from supalink.profiles.target import Target
from supalink.profiles.uris import ParsedUri, UriError, build_uri, parse_uri

__all__ = [
    "DEFAULT_APPLICATION_NAME",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SSLMODE",
    "NO_KEYRING_HINT",
    "REGIONS",
    "SSL_MODES",
    "Endpoint",
    "KeyringSecretStore",
    "MemorySecretStore",
    "Mode",
    "ParsedUri",
    "Password",
    "PasswordMissingFromKeyring",
    "Profile",
    "ProfileError",
    "ProfileLocked",
    "ProfileNotFound",
    "ProfileRecord",
    "ProfileRepository",
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
    "defaults",
    "open_repository",
    "parse_uri",
    "profile_name_problem",
    "region_problem",
    "snippets",
    "supabase",
]

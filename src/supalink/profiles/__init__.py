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
    ENVIRONMENTS,
    PRODUCTION,
    SSL_MODES,
    SYSTEM_TRUST_STORE,
    Profile,
    ProfileError,
    profile_name_problem,
)
from supalink.profiles.supabase import REGIONS, Mode, region_problem

if TYPE_CHECKING:
    from supalink.profiles.changes import Finding, Leftover
    from supalink.profiles.exchange import (
        Exported,
        ImportClashes,
        Imported,
        ImportPlan,
        ImportRefused,
        Incoming,
        NewerProfilesFile,
        NotAProfilesFile,
        RefsNeeded,
        apply_import,
        export_profiles,
        read_import,
        read_import_file,
        write_export,
    )
    from supalink.profiles.repairs import find_repairs, leftover_entries, repair
    from supalink.profiles.repository import (
        PasswordMissingFromKeyring,
        ProfileExists,
        ProfileLocked,
        ProfileNotFound,
        ProfileRepository,
        SavedProfile,
        open_repository,
    )
    from supalink.profiles.secrets import (
        BEING_SAVED,
        KeyringSecretStore,
        MemorySecretStore,
        SecretKind,
        SecretStore,
        SecretStoreError,
        find_session_bus,
    )
    from supalink.profiles.settings import ProfileRecord
    from supalink.profiles.snippets import snippets_for
    from supalink.profiles.target import Target
    from supalink.profiles.uris import (
        QUERY_PASSWORD,
        UriError,
        build_uri,
        check_as_written,
        is_placeholder,
        parse_uri,
        password_candidates,
        with_tls,
    )

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "Finding": "changes",
        "Leftover": "changes",
        "Exported": "exchange",
        "ImportClashes": "exchange",
        "Imported": "exchange",
        "ImportPlan": "exchange",
        "ImportRefused": "exchange",
        "Incoming": "exchange",
        "NewerProfilesFile": "exchange",
        "NotAProfilesFile": "exchange",
        "RefsNeeded": "exchange",
        "apply_import": "exchange",
        "export_profiles": "exchange",
        "read_import": "exchange",
        "read_import_file": "exchange",
        "write_export": "exchange",
        "find_repairs": "repairs",
        "leftover_entries": "repairs",
        "repair": "repairs",
        "PasswordMissingFromKeyring": "repository",
        "ProfileExists": "repository",
        "ProfileLocked": "repository",
        "ProfileNotFound": "repository",
        "ProfileRepository": "repository",
        "SavedProfile": "repository",
        "open_repository": "repository",
        "BEING_SAVED": "secrets",
        "KeyringSecretStore": "secrets",
        "MemorySecretStore": "secrets",
        "SecretKind": "secrets",
        "SecretStore": "secrets",
        "SecretStoreError": "secrets",
        "find_session_bus": "secrets",
        "ProfileRecord": "settings",
        "snippets_for": "snippets",
        "Target": "target",
        "QUERY_PASSWORD": "uris",
        "UriError": "uris",
        "build_uri": "uris",
        "check_as_written": "uris",
        "is_placeholder": "uris",
        "parse_uri": "uris",
        "password_candidates": "uris",
        "with_tls": "uris",
    },
)
__all__ = [
    "BEING_SAVED",
    "DEFAULT_APPLICATION_NAME",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_SSLMODE",
    "ENVIRONMENTS",
    "PRODUCTION",
    "QUERY_PASSWORD",
    "REGIONS",
    "SSL_MODES",
    "SYSTEM_TRUST_STORE",
    "Exported",
    "Finding",
    "ImportClashes",
    "ImportPlan",
    "ImportRefused",
    "Imported",
    "Incoming",
    "KeyringSecretStore",
    "Leftover",
    "MemorySecretStore",
    "Mode",
    "NewerProfilesFile",
    "NotAProfilesFile",
    "PasswordMissingFromKeyring",
    "Profile",
    "ProfileError",
    "ProfileExists",
    "ProfileLocked",
    "ProfileNotFound",
    "ProfileRecord",
    "ProfileRepository",
    "RefsNeeded",
    "SavedProfile",
    "SecretKind",
    "SecretStore",
    "SecretStoreError",
    "Target",
    "UriError",
    "apply_import",
    "build_uri",
    "check_as_written",
    "defaults",
    "export_profiles",
    "find_repairs",
    "find_session_bus",
    "is_placeholder",
    "leftover_entries",
    "open_repository",
    "parse_uri",
    "password_candidates",
    "profile_name_problem",
    "read_import",
    "read_import_file",
    "region_problem",
    "repair",
    "snippets_for",
    "supabase",
    "with_tls",
    "write_export",
]

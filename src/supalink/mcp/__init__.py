"""MCP clients, server templates, the safe config editor and writer, the keyring launcher
and the verification of a written entry. What other packages may use is named here; each
module loads on first use (the launcher starts for every MCP server start)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.mcp.backups import Backup, BackupFolder, Purged, list_backups, purge_backups
    from supalink.mcp.client_logs import ClientLog, server_logs
    from supalink.mcp.clients import CLIENTS, Host, McpClient, get_client
    from supalink.mcp.editor import Plan, load_document, read_config
    from supalink.mcp.entries import (
        EntryWarning,
        PlannedEntry,
        entry_for_profile,
        entry_for_uri,
        uri_target,
    )
    from supalink.mcp.errors import (
        BadServerName,
        ConfigChanged,
        ConfirmationRequired,
        EntryMissing,
        KeyringNeedsProfile,
        LauncherServerWithoutKeyring,
        MissingCaFile,
        PasswordNotSaved,
        WritesNeedSupalinkServer,
    )
    from supalink.mcp.file_secrets import document_secrets
    from supalink.mcp.jsonedit import MISSING, JsonDocument
    from supalink.mcp.launch_env import Finder, client_environment
    from supalink.mcp.launcher import LaunchError, UriPlacement, launch
    from supalink.mcp.templates import (
        DEFAULT_LAUNCHED_SERVER,
        DEFAULT_SERVER_NAME,
        DEFAULT_TEMPLATE,
        KEYRING_TEMPLATE,
        SUPALINK_TEMPLATE,
        TEMPLATES,
        URI_SERVERS,
        ServerEntry,
        check_server_name,
    )
    from supalink.mcp.verify import GuardCheck, VerifyReport, verify_entry
    from supalink.mcp.watch import EntryWatch, WatchEvent, last_backup_holding, supalink_entries
    from supalink.mcp.writer import (
        ConfigWriter,
        Written,
        config_path,
        read_entry,
    )

_HOMES = {
    "client_logs": ("ClientLog", "server_logs"),
    "clients": ("CLIENTS", "Host", "McpClient", "get_client"),
    "backups": ("Backup", "BackupFolder", "Purged", "list_backups", "purge_backups"),
    "editor": ("Plan", "load_document", "read_config"),
    "file_secrets": ("document_secrets",),
    "entries": (
        "EntryWarning",
        "PlannedEntry",
        "entry_for_profile",
        "entry_for_uri",
        "uri_target",
    ),
    "errors": (
        "BadServerName",
        "ConfigChanged",
        "ConfirmationRequired",
        "EntryMissing",
        "KeyringNeedsProfile",
        "LauncherServerWithoutKeyring",
        "MissingCaFile",
        "PasswordNotSaved",
        "WritesNeedSupalinkServer",
    ),
    "jsonedit": ("MISSING", "JsonDocument"),
    "launch_env": ("Finder", "client_environment"),
    "launcher": ("LaunchError", "UriPlacement", "launch"),
    "templates": (
        "DEFAULT_LAUNCHED_SERVER",
        "DEFAULT_SERVER_NAME",
        "DEFAULT_TEMPLATE",
        "KEYRING_TEMPLATE",
        "SUPALINK_TEMPLATE",
        "TEMPLATES",
        "URI_SERVERS",
        "ServerEntry",
        "check_server_name",
    ),
    "verify": ("GuardCheck", "VerifyReport", "verify_entry"),
    "watch": ("EntryWatch", "WatchEvent", "last_backup_holding", "supalink_entries"),
    "writer": ("ConfigWriter", "Written", "config_path", "read_entry"),
}
__getattr__ = lazy_attributes(__name__, _HOMES)
__all__ = [
    "CLIENTS",
    "DEFAULT_LAUNCHED_SERVER",
    "DEFAULT_SERVER_NAME",
    "DEFAULT_TEMPLATE",
    "KEYRING_TEMPLATE",
    "MISSING",
    "SUPALINK_TEMPLATE",
    "TEMPLATES",
    "URI_SERVERS",
    "Backup",
    "BackupFolder",
    "BadServerName",
    "ClientLog",
    "ConfigChanged",
    "ConfigWriter",
    "ConfirmationRequired",
    "EntryMissing",
    "EntryWarning",
    "EntryWatch",
    "Finder",
    "GuardCheck",
    "Host",
    "JsonDocument",
    "KeyringNeedsProfile",
    "LaunchError",
    "LauncherServerWithoutKeyring",
    "McpClient",
    "MissingCaFile",
    "PasswordNotSaved",
    "Plan",
    "PlannedEntry",
    "Purged",
    "ServerEntry",
    "UriPlacement",
    "VerifyReport",
    "WatchEvent",
    "WritesNeedSupalinkServer",
    "Written",
    "check_server_name",
    "client_environment",
    "config_path",
    "document_secrets",
    "entry_for_profile",
    "entry_for_uri",
    "get_client",
    "last_backup_holding",
    "launch",
    "list_backups",
    "load_document",
    "purge_backups",
    "read_config",
    "read_entry",
    "server_logs",
    "supalink_entries",
    "uri_target",
    "verify_entry",
]

"""MCP clients, server templates, the safe config editor and writer, the keyring launcher
and the verification of a written entry. What other packages may use is named here; each
module loads on first use (the launcher starts for every MCP server start)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.mcp.backups import BackupFolder, backup_folder, list_backups, purge_backups
    from supalink.mcp.client_logs import password_forms, server_logs
    from supalink.mcp.clients import CLIENTS, Host, McpClient, get_client
    from supalink.mcp.editor import Plan, load_document, read_config
    from supalink.mcp.entries import (
        EntryWarning,
        PlannedEntry,
        entry_for_profile,
        entry_for_uri,
        for_client,
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
    from supalink.mcp.launch_env import Finder, uses_built_in_node
    from supalink.mcp.launcher import UriPlacement, launch
    from supalink.mcp.runnable import PythonCheck, check_python
    from supalink.mcp.templates import (
        DEFAULT_LAUNCHED_SERVER,
        DEFAULT_SERVER_NAME,
        DEFAULT_TEMPLATE,
        KEYRING_TEMPLATE,
        SUPALINK_TEMPLATE,
        TEMPLATES,
        URI_SERVERS,
        NeedsClientInput,
        ServerEntry,
        check_server_name,
        entry_inputs,
    )
    from supalink.mcp.verify import VerifyReport, verify_entry
    from supalink.mcp.watch import (
        POLL_SECONDS,
        EntryWatch,
        WatchEvent,
        last_backup_holding,
        supalink_entries,
    )
    from supalink.mcp.writer import ConfigWriter, config_path, entry_owner, read_entry

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "BackupFolder": "backups",
        "backup_folder": "backups",
        "list_backups": "backups",
        "purge_backups": "backups",
        "password_forms": "client_logs",
        "server_logs": "client_logs",
        "CLIENTS": "clients",
        "Host": "clients",
        "McpClient": "clients",
        "get_client": "clients",
        "Plan": "editor",
        "load_document": "editor",
        "read_config": "editor",
        "EntryWarning": "entries",
        "PlannedEntry": "entries",
        "entry_for_profile": "entries",
        "entry_for_uri": "entries",
        "for_client": "entries",
        "uri_target": "entries",
        "BadServerName": "errors",
        "ConfigChanged": "errors",
        "ConfirmationRequired": "errors",
        "EntryMissing": "errors",
        "KeyringNeedsProfile": "errors",
        "LauncherServerWithoutKeyring": "errors",
        "MissingCaFile": "errors",
        "PasswordNotSaved": "errors",
        "WritesNeedSupalinkServer": "errors",
        "document_secrets": "file_secrets",
        "MISSING": "jsonedit",
        "JsonDocument": "jsonedit",
        "Finder": "launch_env",
        "uses_built_in_node": "launch_env",
        "UriPlacement": "launcher",
        "launch": "launcher",
        "PythonCheck": "runnable",
        "check_python": "runnable",
        "DEFAULT_LAUNCHED_SERVER": "templates",
        "DEFAULT_SERVER_NAME": "templates",
        "DEFAULT_TEMPLATE": "templates",
        "KEYRING_TEMPLATE": "templates",
        "SUPALINK_TEMPLATE": "templates",
        "TEMPLATES": "templates",
        "URI_SERVERS": "templates",
        "NeedsClientInput": "templates",
        "ServerEntry": "templates",
        "check_server_name": "templates",
        "entry_inputs": "templates",
        "VerifyReport": "verify",
        "verify_entry": "verify",
        "POLL_SECONDS": "watch",
        "EntryWatch": "watch",
        "WatchEvent": "watch",
        "last_backup_holding": "watch",
        "supalink_entries": "watch",
        "ConfigWriter": "writer",
        "config_path": "writer",
        "entry_owner": "writer",
        "read_entry": "writer",
    },
)
__all__ = [
    "CLIENTS",
    "DEFAULT_LAUNCHED_SERVER",
    "DEFAULT_SERVER_NAME",
    "DEFAULT_TEMPLATE",
    "KEYRING_TEMPLATE",
    "MISSING",
    "POLL_SECONDS",
    "SUPALINK_TEMPLATE",
    "TEMPLATES",
    "URI_SERVERS",
    "BackupFolder",
    "BadServerName",
    "ConfigChanged",
    "ConfigWriter",
    "ConfirmationRequired",
    "EntryMissing",
    "EntryWarning",
    "EntryWatch",
    "Finder",
    "Host",
    "JsonDocument",
    "KeyringNeedsProfile",
    "LauncherServerWithoutKeyring",
    "McpClient",
    "MissingCaFile",
    "NeedsClientInput",
    "PasswordNotSaved",
    "Plan",
    "PlannedEntry",
    "PythonCheck",
    "ServerEntry",
    "UriPlacement",
    "VerifyReport",
    "WatchEvent",
    "WritesNeedSupalinkServer",
    "backup_folder",
    "check_python",
    "check_server_name",
    "config_path",
    "document_secrets",
    "entry_for_profile",
    "entry_for_uri",
    "entry_inputs",
    "entry_owner",
    "for_client",
    "get_client",
    "last_backup_holding",
    "launch",
    "list_backups",
    "load_document",
    "password_forms",
    "purge_backups",
    "read_config",
    "read_entry",
    "server_logs",
    "supalink_entries",
    "uri_target",
    "uses_built_in_node",
    "verify_entry",
]

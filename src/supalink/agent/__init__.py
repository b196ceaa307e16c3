"""Supalink's own MCP server for the agent (`supalink mcp-serve`): its tools, the read-only
guard in depth, its connection to the database and the audit of what it ran. No Qt; each
module loads on first use (every client start pays for the imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.agent.audit_entry import AuditEntry, Outcome, Selection, Who
    from supalink.agent.audit_read import AuditTail, follow_entries, read_entries
    from supalink.agent.options import DEFAULT_MAX_ROWS, ServeOptions
    from supalink.agent.printable import visible
    from supalink.agent.server import (
        collect_later,
        environment_target,
        profile_target,
        run_server,
    )
    from supalink.agent.tools import ToolSpec, tool_specs

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "AuditEntry": "audit_entry",
        "Outcome": "audit_entry",
        "Selection": "audit_entry",
        "Who": "audit_entry",
        "AuditTail": "audit_read",
        "follow_entries": "audit_read",
        "read_entries": "audit_read",
        "DEFAULT_MAX_ROWS": "options",
        "ServeOptions": "options",
        "visible": "printable",
        "collect_later": "server",
        "environment_target": "server",
        "profile_target": "server",
        "run_server": "server",
        "ToolSpec": "tools",
        "tool_specs": "tools",
    },
)
__all__ = [
    "DEFAULT_MAX_ROWS",
    "AuditEntry",
    "AuditTail",
    "Outcome",
    "Selection",
    "ServeOptions",
    "ToolSpec",
    "Who",
    "collect_later",
    "environment_target",
    "follow_entries",
    "profile_target",
    "read_entries",
    "run_server",
    "tool_specs",
    "visible",
]

"""One agent call as the audit log records it, for tests to vary."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from supalink.agent import AuditEntry, Outcome
from supalink.agent.audit_entry import utc_stamp


def audit_entry(**changes: Any) -> AuditEntry:
    """A successful `query` call of profile "prod"; `changes` replace any field. An error
    with no outcome given makes it refused (the error reads "refused…") or failed."""
    if changes.get("error") is not None and "outcome" not in changes:
        refused = changes["error"].startswith("refused")
        changes["outcome"] = Outcome.REFUSED if refused else Outcome.FAILED
    base = AuditEntry(
        at=utc_stamp(1_796_124_600.123),  # 2026-12-01T11:30:00.123Z
        profile="prod",
        tool="query",
        statement="SELECT 1",
        duration_ms=1.5,
        rows=1,
        truncated=False,
        error=None,
        writes=False,
        pid=4242,
    )
    return replace(base, **changes)

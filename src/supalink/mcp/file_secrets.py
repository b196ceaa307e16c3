"""The passwords a client's config file holds, read from its bytes: to mask them in a diff,
in `config show` and in the client's logs, and to tell which backups hold one."""

from __future__ import annotations

import contextlib
from typing import Any

from supalink.errors import SupalinkError
from supalink.files import parse_json
from supalink.logs import SecretMasker
from supalink.mcp.templates import ServerEntry, entry_secrets


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8-sig", errors="replace")


def document_secrets(data: bytes | None) -> list[str]:
    """Secrets in every server entry of a file (an entry anywhere in it that has a
    `command`), so the diff's context lines hide them too; none when it is not JSON."""
    if not data:
        return []
    try:
        pending: list[Any] = [parse_json(_text(data))]
    except ValueError:
        return []
    found: list[str] = []
    while pending:  # depth-first, without recursion: the nesting is bounded, not small
        value = pending.pop()
        if isinstance(value, dict):
            if isinstance(value.get("command"), str):
                with contextlib.suppress(SupalinkError):  # not a stdio entry: nothing to mask
                    found.extend(entry_secrets(ServerEntry.from_json(value, "entry")))
            pending.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            pending.extend(reversed(value))
    return found


def holds_password(data: bytes) -> bool:
    """Whether a config file's bytes hold a password: in an entry's URI or secret-named
    variable, or as a `password=` or a URI's password anywhere, whatever the JSON around it
    (what the masker would hide)."""
    if document_secrets(data):
        return True
    text = _text(data)
    return SecretMasker().mask(text) != text

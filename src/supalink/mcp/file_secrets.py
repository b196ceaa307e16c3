"""The passwords a client's config file holds, read from its parse: to mask them in a diff,
in `config show` and in the client's logs, and to tell which backups hold one.

The mask fails closed: bytes that cannot be parsed (not JSON, not UTF-8, nested too deep) or
that hold a key twice in one object (its earlier value is not in the parse) give an error,
never an empty list that would leave their passwords unmasked."""

from __future__ import annotations

import contextlib
from typing import Any

from supalink.errors import SupalinkError
from supalink.logs import SecretMasker
from supalink.mcp.jsonedit import JsonDocument, MalformedConfig, UneditableConfig
from supalink.mcp.templates import ServerEntry, entry_secrets


def config_text(data: bytes | None) -> str:
    """A config file's bytes as text to show (a BOM dropped, what is not UTF-8 replaced)."""
    return (data or b"").decode("utf-8-sig", errors="replace")


def document_secrets(document: JsonDocument) -> list[str]:
    """Secrets in every server entry of a parsed file (an entry anywhere in it that has a
    `command`), so that what is shown of its value hides them, context lines and all."""
    pending: list[Any] = [document.value]
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


def file_secrets(data: bytes | None, source: str = "the config file") -> list[str]:
    """Secrets in every server entry of a file's bytes, to mask its text (none for no file or
    an empty one). MalformedConfig or NestedTooDeep when the bytes cannot be parsed, and
    UneditableConfig when an object in them holds a key twice: what is under the earlier key
    is in the text but not in the parse, so its passwords could not be found."""
    # Read as JSONC whatever the client: strict JSON is JSONC too, and a comment must not
    # leave a file's passwords unfound. Bytes that are neither are told as JSON's error.
    try:
        document = JsonDocument.parse(data or b"", source, jsonc=True)
    except MalformedConfig:
        JsonDocument.parse(data or b"", source)
        raise

    if document.repeats_a_key:  # no key named: a key is the file's text too
        raise UneditableConfig(f"{source} holds a key twice in one object")
    return document_secrets(document)


def holds_password(data: bytes) -> bool | None:
    """Whether a config file's bytes hold a password: in an entry's URI or secret-named
    variable, or as a `password=` or a URI's password anywhere, whatever the JSON around it
    (what the masker would hide). None when that cannot be told: no password the masker
    sees, in bytes whose entries cannot be read (see `file_secrets`)."""
    text = config_text(data)
    if SecretMasker().mask(text) != text:
        return True
    try:
        return bool(file_secrets(data))
    except SupalinkError:
        return None

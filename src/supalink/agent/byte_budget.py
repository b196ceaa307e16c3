"""Text within a budget of UTF-8 bytes: what the audit keeps of a statement is counted in
bytes (a line of the log is bounded in bytes), and cut between characters, never inside one.
Lone surrogates (from an agent's JSON escapes) count as the three bytes they are written as."""

from __future__ import annotations


def utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def utf8_prefix(text: str, budget: int) -> str:
    """The longest start of `text` within `budget` bytes, cut between characters."""
    encoded = text[:budget].encode("utf-8", "surrogatepass")
    if len(encoded) <= budget:
        return text[:budget]
    cut = budget
    while encoded[cut] & 0xC0 == 0x80:  # a continuation byte: inside a character
        cut -= 1
    return encoded[:cut].decode("utf-8", "surrogatepass")


def utf8_suffix(text: str, budget: int) -> str:
    """The longest end of `text` within `budget` bytes, cut between characters."""
    if budget <= 0:
        return ""
    encoded = text[-budget:].encode("utf-8", "surrogatepass")
    if len(encoded) <= budget:
        return text[-budget:]
    cut = len(encoded) - budget
    while cut < len(encoded) and encoded[cut] & 0xC0 == 0x80:
        cut += 1
    return encoded[cut:].decode("utf-8", "surrogatepass")

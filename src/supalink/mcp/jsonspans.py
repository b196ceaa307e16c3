"""Where things are in a JSON text: its members' and items' spans, the line and column of
an index, a line's indentation and where it ends. What the editor (jsonedit) cuts at; for
JSONC the text scanned is its JSON twin, and only `line_end` reads the file's own text,
comments and all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from supalink.errors import SupalinkError

WHITESPACE: Final = " \t\n\r"


class UneditableConfig(SupalinkError):
    """Valid JSON that we refuse to guess about (a duplicate key, a non-object server list)."""


def reject_constant(name: str) -> Any:
    # Python accepts NaN and Infinity; JSON does not, and neither do the clients.
    raise ValueError(f"{name} is not JSON")


DECODER: Final = json.JSONDecoder(parse_constant=reject_constant)


@dataclass(frozen=True)
class Member:
    key: str
    key_start: int
    key_end: int
    value_start: int
    value_end: int
    value: Any


@dataclass(frozen=True)
class ObjectSpan:
    open: int  # index of '{' (or '[' for an array, whose members have no key: "")
    close: int  # index of '}' (or ']')
    members: tuple[Member, ...]

    def find(self, key: str, source: str, text: str) -> Member | None:
        found = [member for member in self.members if member.key == key]
        if len(found) > 1:
            line, column = line_column(text, found[1].key_start)
            raise UneditableConfig(
                f"{source} has the key {key!r} twice (again at line {line}, column {column});"
                " fix the file by hand"
            )
        return found[0] if found else None


def skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in WHITESPACE:
        index += 1
    return index


def line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def line_indent(text: str, index: int) -> str | None:
    """The whitespace before `index` on its line, or None when other text precedes it."""
    prefix = text[text.rfind("\n", 0, index) + 1 : index]
    return prefix if prefix.strip(" \t") == "" else None


def scan_object(text: str, start: int) -> ObjectSpan:
    """Member positions of the (already validated) object that opens at `start`."""
    members: list[Member] = []
    index = skip(text, start + 1)
    if text[index] == "}":
        return ObjectSpan(start, index, ())
    while True:
        key, key_end = DECODER.raw_decode(text, index)
        value_start = skip(text, skip(text, key_end) + 1)  # past the ':'
        value, value_end = DECODER.raw_decode(text, value_start)
        members.append(Member(key, index, key_end, value_start, value_end, value))
        after = skip(text, value_end)
        if text[after] == "}":
            return ObjectSpan(start, after, tuple(members))
        index = skip(text, after + 1)  # past the ','


def scan_array(text: str, start: int) -> ObjectSpan:
    """Element positions of the (already validated) array that opens at `start`."""
    members: list[Member] = []
    index = skip(text, start + 1)
    if text[index] == "]":
        return ObjectSpan(start, index, ())
    while True:
        value, value_end = DECODER.raw_decode(text, index)
        members.append(Member("", index, index, index, value_end, value))
        after = skip(text, value_end)
        if text[after] == "]":
            return ObjectSpan(start, after, tuple(members))
        index = skip(text, after + 1)


def line_end(text: str, index: int) -> int | None:
    """From `index` (outside any comment), past blanks and comments that end on this line:
    where the line ends (its CR or LF), or None when something else comes first."""
    while index < len(text):
        char = text[index]
        if char in " \t":
            index += 1
        elif char in "\r\n":
            return index
        elif text.startswith("//", index):
            end = text.find("\n", index)
            return len(text) if end == -1 else (end - 1 if text[end - 1] == "\r" else end)
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            if end == -1 or "\n" in text[index:end]:
                return None
            index = end + 2
        else:
            return None
    return index


def past_line_end(text: str, index: int) -> int:
    """Past the line break at `index` (CRLF, LF or CR)."""
    if text.startswith("\r\n", index):
        return index + 2
    return index + 1 if index < len(text) else index

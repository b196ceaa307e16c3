"""Format-preserving edits of one member of a JSON config file.

MCP clients' files hold the user's other settings, written in the client's own
style. Re-serialising the whole document would reorder nothing but could still
change indentation, escapes and number spellings, so only the text of
`<root key>.<name>` is touched: every other byte stays where it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from supalink.errors import SupalinkError
from supalink.files import JsonTooDeep, parse_json

UTF8_BOM: Final = b"\xef\xbb\xbf"
DEFAULT_UNIT: Final = "  "
_WHITESPACE: Final = " \t\n\r"


class MalformedConfig(SupalinkError):
    """The file is not a JSON object; it is left alone and the message says where it breaks."""

    def __init__(self, source: str, line: int, column: int, reason: str) -> None:
        super().__init__(f"{source} is not valid JSON: {reason} at line {line}, column {column}")
        self.line = line
        self.column = column


class NestedTooDeep(SupalinkError):
    """Arrays and objects within each other deeper than `limit` levels: no client writes
    that, and Python's parser would fail on it (RecursionError); the file is left alone."""

    def __init__(self, source: str, limit: int) -> None:
        super().__init__(
            f"{source} is nested deeper than {limit} levels, which no config file needs;"
            " fix the file by hand"
        )
        self.limit = limit


class UneditableConfig(SupalinkError):
    """Valid JSON that we refuse to guess about (a duplicate key, a non-object server list)."""


def _reject_constant(name: str) -> Any:
    # Python accepts NaN and Infinity; JSON does not, and neither do the clients.
    raise ValueError(f"{name} is not JSON")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


class _Reader(json.JSONDecoder):
    """The decoder of a whole file: NaN and Infinity refused, and an object that holds a
    key twice noted (its last value is the one kept, as json and the clients keep it)."""

    def __init__(self) -> None:
        super().__init__(parse_constant=_reject_constant, object_pairs_hook=self._object)
        self.repeats_a_key = False

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        self.repeats_a_key = self.repeats_a_key or len(value) < len(pairs)
        return value


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
    open: int  # index of '{'
    close: int  # index of '}'
    members: tuple[Member, ...]

    def find(self, key: str, source: str, text: str) -> Member | None:
        found = [member for member in self.members if member.key == key]
        if len(found) > 1:
            line, column = _line_column(text, found[1].key_start)
            raise UneditableConfig(
                f"{source} has the key {key!r} twice (again at line {line}, column {column});"
                " fix the file by hand"
            )
        return found[0] if found else None


@dataclass(frozen=True)
class _Style:
    multiline: bool
    unit: str
    colon: str
    comma: str
    newline: str


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _line_indent(text: str, index: int) -> str | None:
    """The whitespace before `index` on its line, or None when other text precedes it."""
    prefix = text[text.rfind("\n", 0, index) + 1 : index]
    return prefix if prefix.strip(" \t") == "" else None


_STRING_OR_CONSTANT: Final = re.compile(r'"(?:[^"\\]|\\.)*"|(NaN|-?Infinity)')


def _constant_position(text: str) -> int:
    """Where the first NaN or Infinity outside a string starts."""
    for match in _STRING_OR_CONSTANT.finditer(text):
        if match[1]:
            return match.start(1)
    return 0


def _scan_object(text: str, start: int) -> ObjectSpan:
    """Member positions of the (already validated) object that opens at `start`."""
    members: list[Member] = []
    index = _skip(text, start + 1)
    if text[index] == "}":
        return ObjectSpan(start, index, ())
    while True:
        key, key_end = _DECODER.raw_decode(text, index)
        value_start = _skip(text, _skip(text, key_end) + 1)  # past the ':'
        value, value_end = _DECODER.raw_decode(text, value_start)
        members.append(Member(key, index, key_end, value_start, value_end, value))
        after = _skip(text, value_end)
        if text[after] == "}":
            return ObjectSpan(start, after, tuple(members))
        index = _skip(text, after + 1)  # past the ','


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class JsonDocument:
    """A config file's text with the positions of its root members remembered: the one
    parse of a client's config file (`parse`), for reading it as well as for editing it.
    `value` is the whole document as Python values (`{}` for an empty file); `repeats_a_key`
    says that an object in it holds a key twice, whose earlier value is in the text but not
    in `value`."""

    def __init__(
        self,
        text: str,
        *,
        bom: bool,
        source: str,
        value: dict[str, Any] | None = None,
        repeats_a_key: bool = False,
    ) -> None:
        self.text = text
        self.bom = bom
        self.source = source
        self.value: dict[str, Any] = {} if value is None else value
        self.repeats_a_key = repeats_a_key
        self.newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1] else "\n"
        start = _skip(text, 0)
        self.root: ObjectSpan | None = None if start == len(text) else _scan_object(text, start)

    @classmethod
    def parse(cls, raw: bytes, source: str = "the config file") -> JsonDocument:
        """Parse bytes, or raise MalformedConfig naming the line and column."""
        bom = raw.startswith(UTF8_BOM)
        body = raw[len(UTF8_BOM) :] if bom else raw
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            line = body.count(b"\n", 0, error.start) + 1
            column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
            raise MalformedConfig(source, line, column, "bytes that are not UTF-8") from None
        if text.strip(_WHITESPACE) == "":
            # An empty file holds nothing to break: it is treated as `{}`.
            return cls(text, bom=bom, source=source)
        reader = _Reader()
        try:
            data = parse_json(text, reader)
        except JsonTooDeep as error:
            raise NestedTooDeep(source, error.limit) from None
        except json.JSONDecodeError as error:
            raise MalformedConfig(source, error.lineno, error.colno, error.msg) from None
        except ValueError as error:  # NaN or Infinity, from _reject_constant
            line, column = _line_column(text, _constant_position(text))
            raise MalformedConfig(source, line, column, str(error)) from None
        if not isinstance(data, dict):
            line, column = _line_column(text, _skip(text, 0))
            raise MalformedConfig(source, line, column, "the top level is not an object")
        return cls(text, bom=bom, source=source, value=data, repeats_a_key=reader.repeats_a_key)

    def encode(self, text: str) -> bytes:
        return (UTF8_BOM if self.bom else b"") + text.encode("utf-8")

    def _servers(self, root_key: str) -> tuple[Member, ObjectSpan] | None:
        if self.root is None:
            return None
        holder = self.root.find(root_key, self.source, self.text)
        if holder is None:
            return None
        if not isinstance(holder.value, dict):
            line, column = _line_column(self.text, holder.value_start)
            raise UneditableConfig(
                f"{self.source}: {root_key!r} at line {line}, column {column} is not an object;"
                " fix the file by hand"
            )
        return holder, _scan_object(self.text, holder.value_start)

    def servers(self, root_key: str) -> dict[str, Any]:
        """The server entries under `root_key` (empty when there are none)."""
        found = self._servers(root_key)
        return dict(found[0].value) if found else {}

    def member(self, root_key: str, name: str) -> Any:
        """The value at `root_key.name`, or MISSING."""
        found = self._servers(root_key)
        member = found[1].find(name, self.source, self.text) if found else None
        return MISSING if member is None else member.value

    def with_member(self, root_key: str, name: str, value: Any) -> bytes:
        """The file's bytes with `root_key.name` set to `value`, nothing else changed."""
        style = self._style()
        if self.root is None:
            fresh = {root_key: {name: value}}
            return self.encode(_render(fresh, style, "") + style.newline)
        found = self._servers(root_key)
        if found is None:
            return self._insert(self.root, root_key, {name: value}, style)
        holder, servers = found
        existing = servers.find(name, self.source, self.text)
        if existing is None:
            return self._insert(servers, name, value, style, holder)
        indent = _line_indent(self.text, existing.key_start)
        object_style = self._object_style(servers, style)
        rendered = _render(value, object_style, indent or "")
        text = self.text[: existing.value_start] + rendered + self.text[existing.value_end :]
        return self.encode(text)

    def without_member(self, root_key: str, name: str) -> bytes | None:
        """The file's bytes without `root_key.name`, or None when it is not there."""
        found = self._servers(root_key)
        if found is None:
            return None
        servers = found[1]
        member = servers.find(name, self.source, self.text)
        if member is None:
            return None
        members = servers.members
        position = members.index(member)
        if len(members) == 1:
            start, end = servers.open + 1, servers.close
        elif position < len(members) - 1:
            # Up to the next key: its indentation is the same as ours, which stays.
            start, end = member.key_start, members[position + 1].key_start
        else:
            start, end = members[position - 1].value_end, member.value_end
        return self.encode(self.text[:start] + self.text[end:])

    def _style(self) -> _Style:
        """The document's indentation unit and separators, read from its root members."""
        style = _Style(True, DEFAULT_UNIT, ": ", ", ", self.newline)
        root = self.root
        if root is None or not root.members:
            return style
        first = root.members[0]
        between = self.text[first.key_end : first.value_start]
        colon = ": " if between[-1:] in tuple(_WHITESPACE) else ":"
        # A minified file (no space after ':') has none after ',' either.
        comma = ", " if colon == ": " else ","
        style = self._object_style(root, _Style(True, DEFAULT_UNIT, colon, comma, self.newline))
        indent = _line_indent(self.text, first.key_start)
        outer = _line_indent(self.text, root.open) or ""
        if style.multiline and indent is not None:
            unit = indent[len(outer) :] if indent.startswith(outer) else indent
            style = _Style(True, unit, colon, style.comma, self.newline)
        return style

    def _object_style(self, span: ObjectSpan, style: _Style) -> _Style:
        """`style`, adjusted to how this object lays out its own members."""
        if not span.members:
            return style
        multiline = "\n" in self.text[span.open : span.members[0].key_start]
        comma = style.comma
        if len(span.members) > 1:
            between = self.text[span.members[0].value_end : span.members[1].key_start]
            if "\n" not in between:
                comma = ", " if between.endswith((" ", "\t")) else ","
        return _Style(multiline, style.unit, style.colon, comma, style.newline)

    def _insert(
        self,
        span: ObjectSpan,
        key: str,
        value: Any,
        style: _Style,
        holder: Member | None = None,
    ) -> bytes:
        """Add `key: value` as the last member of the object `span`."""
        outer = _line_indent(self.text, holder.key_start if holder else span.open) or ""
        object_style = self._object_style(span, style)
        last = span.members[-1] if span.members else None
        indent = outer + style.unit
        if last is not None:
            indent = _line_indent(self.text, last.key_start) or indent
        member_text = json.dumps(key, ensure_ascii=False) + style.colon
        member_text += _render(value, object_style, indent)
        if last is None:
            inner = (
                style.newline + indent + member_text + style.newline + outer
                if object_style.multiline
                else member_text
            )
            text = self.text[: span.open + 1] + inner + self.text[span.close :]
        else:
            separator = (
                "," + style.newline + indent if object_style.multiline else object_style.comma
            )
            at = last.value_end
            text = self.text[:at] + separator + member_text + self.text[at:]
        return self.encode(text)


def _render(value: Any, style: _Style, indent: str) -> str:
    """JSON text for `value` placed at a line indented by `indent`."""
    if not style.multiline:
        return json.dumps(value, ensure_ascii=False, separators=(style.comma, style.colon))
    text = json.dumps(value, ensure_ascii=False, indent=style.unit, separators=(",", style.colon))
    return text.replace("\n", style.newline + indent)

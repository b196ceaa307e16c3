"""Format-preserving edits of one member of a JSON config file.

MCP clients' files hold the user's other settings, written in the client's own
style. Re-serialising the whole document would reorder nothing but could still
change indentation, escapes and number spellings, so only the text of
`<root key>.<name>` is touched: every other byte stays where it was.

A JSONC file (VS Code's and Zed's: comments, trailing commas) is read through its JSON
twin of the same length (`files.jsonc_as_json`): positions are found in the twin and the
cuts made in the file's own text, so every comment outside the replaced entry stays.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from supalink.errors import SupalinkError
from supalink.files import JsonTooDeep, UnclosedComment, jsonc_as_json, parse_json
from supalink.mcp.jsonspans import (
    WHITESPACE,
    Member,
    ObjectSpan,
    UneditableConfig,
    line_column,
    line_end,
    line_indent,
    past_line_end,
    reject_constant,
    scan_array,
    scan_object,
    skip,
)

__all__ = [
    "MISSING",
    "UTF8_BOM",
    "JsonDocument",
    "MalformedConfig",
    "NestedTooDeep",
    # Raised where a span names a key twice: the editor's error, as its callers know it.
    "UneditableConfig",
]

UTF8_BOM: Final = b"\xef\xbb\xbf"
DEFAULT_UNIT: Final = "  "


class MalformedConfig(SupalinkError):
    """The file is not a JSON object; it is left alone and the message says where it breaks.
    `language`: "JSON", or "JSONC" for a client whose file may hold comments."""

    def __init__(
        self, source: str, line: int, column: int, reason: str, language: str = "JSON"
    ) -> None:
        super().__init__(
            f"{source} is not valid {language}: {reason} at line {line}, column {column}"
        )
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


class _Reader(json.JSONDecoder):
    """The decoder of a whole file: NaN and Infinity refused, and an object that holds a
    key twice noted (its last value is the one kept, as json and the clients keep it)."""

    def __init__(self) -> None:
        super().__init__(parse_constant=reject_constant, object_pairs_hook=self._object)
        self.repeats_a_key = False

    def _object(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        value = dict(pairs)
        self.repeats_a_key = self.repeats_a_key or len(value) < len(pairs)
        return value


@dataclass(frozen=True)
class _Style:
    multiline: bool
    unit: str
    colon: str
    comma: str
    newline: str


_STRING_OR_CONSTANT: Final = re.compile(r'"(?:[^"\\]|\\.)*"|(NaN|-?Infinity)')


def _constant_position(text: str) -> int:
    """Where the first NaN or Infinity outside a string starts."""
    for match in _STRING_OR_CONSTANT.finditer(text):
        if match[1]:
            return match.start(1)
    return 0


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


class JsonDocument:
    """A config file's text with the positions of its root members remembered: the one
    parse of a client's config file (`parse`), for reading it as well as for editing it.
    `value` is the whole document as Python values (`{}` for an empty file); `repeats_a_key`
    says that an object in it holds a key twice, whose earlier value is in the text but not
    in `value`. `plain` is the text's JSON twin (the text itself unless it is JSONC), where
    positions are found; `text` is where they are cut."""

    def __init__(
        self,
        text: str,
        *,
        bom: bool,
        source: str,
        value: dict[str, Any] | None = None,
        repeats_a_key: bool = False,
        plain: str | None = None,
    ) -> None:
        self.text = text
        self.plain = text if plain is None else plain
        # The text with its comments blanked but its trailing commas kept: where they are.
        self.commas = text if self.plain == text else jsonc_as_json(text, commas=False)
        self.bom = bom
        self.source = source
        self.value: dict[str, Any] = {} if value is None else value
        self.repeats_a_key = repeats_a_key
        self.newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1] else "\n"
        start = skip(self.plain, 0)
        self.root: ObjectSpan | None = (
            None if start == len(self.plain) else scan_object(self.plain, start)
        )

    @property
    def has_jsonc(self) -> bool:
        """Whether the text holds comments or trailing commas (what only JSONC allows)."""
        return self.plain != self.text

    @classmethod
    def parse(
        cls, raw: bytes, source: str = "the config file", *, jsonc: bool = False
    ) -> JsonDocument:
        """Parse bytes, or raise MalformedConfig naming the line and column. With `jsonc`,
        comments and trailing commas are read as the whitespace they stand for."""
        bom = raw.startswith(UTF8_BOM)
        body = raw[len(UTF8_BOM) :] if bom else raw
        language = "JSONC" if jsonc else "JSON"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            line = body.count(b"\n", 0, error.start) + 1
            column = error.start - (body.rfind(b"\n", 0, error.start) + 1) + 1
            raise MalformedConfig(
                source, line, column, "bytes that are not UTF-8", language
            ) from None
        try:
            plain = jsonc_as_json(text) if jsonc else text
        except UnclosedComment as error:
            line, column = line_column(text, error.position)
            raise MalformedConfig(source, line, column, str(error), language) from None
        if plain.strip(WHITESPACE) == "":
            # An empty file (or one of comments only) holds nothing to break: read as `{}`.
            return cls(text, bom=bom, source=source, plain=plain)
        reader = _Reader()
        try:
            data = parse_json(plain, reader)
        except JsonTooDeep as error:
            raise NestedTooDeep(source, error.limit) from None
        except json.JSONDecodeError as error:
            reason = error.msg
            if not jsonc and _reads_as_jsonc(text):
                reason += " (a comment or a trailing comma: JSONC, which this client does not read)"
            raise MalformedConfig(source, error.lineno, error.colno, reason, language) from None
        except ValueError as error:  # NaN or Infinity, from reject_constant
            line, column = line_column(text, _constant_position(plain))
            raise MalformedConfig(source, line, column, str(error), language) from None
        if not isinstance(data, dict):
            line, column = line_column(text, skip(plain, 0))
            raise MalformedConfig(source, line, column, "the top level is not an object", language)
        return cls(
            text,
            bom=bom,
            source=source,
            value=data,
            repeats_a_key=reader.repeats_a_key,
            plain=plain,
        )

    def encode(self, text: str) -> bytes:
        return (UTF8_BOM if self.bom else b"") + text.encode("utf-8")

    def _held(self, root_key: str, kind: type) -> tuple[Member, ObjectSpan] | None:
        if self.root is None:
            return None
        holder = self.root.find(root_key, self.source, self.text)
        if holder is None:
            return None
        if not isinstance(holder.value, kind):
            line, column = line_column(self.text, holder.value_start)
            what = "an object" if kind is dict else "a list"
            raise UneditableConfig(
                f"{self.source}: {root_key!r} at line {line}, column {column} is not {what};"
                " fix the file by hand"
            )
        scan = scan_object if kind is dict else scan_array
        return holder, scan(self.plain, holder.value_start)

    def _servers(self, root_key: str) -> tuple[Member, ObjectSpan] | None:
        return self._held(root_key, dict)

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
            return self.encode(self._fresh({root_key: {name: value}}, style))
        found = self._servers(root_key)
        if found is None:
            return self._insert(self.root, root_key, {name: value}, style)
        holder, servers = found
        existing = servers.find(name, self.source, self.text)
        if existing is None:
            return self._insert(servers, name, value, style, holder)
        return self._replace(existing, servers, value, style)

    def with_item(self, root_key: str, value: dict[str, Any], match: str = "id") -> bytes:
        """The file's bytes with `value` in the list at `root_key` (VS Code's `inputs`): in
        place of the item whose `match` key is the same, else added last."""
        style = self._style()
        if self.root is None:
            return self.encode(self._fresh({root_key: [value]}, style))
        found = self._held(root_key, list)
        if found is None:
            return self._insert(self.root, root_key, [value], style)
        holder, items = found
        same = [
            item
            for item in items.members
            if isinstance(item.value, dict) and item.value.get(match) == value.get(match)
        ]
        if same:
            return self._replace(same[-1], items, value, style)
        return self._insert(items, None, value, style, holder)

    def _fresh(self, value: dict[str, Any], style: _Style) -> str:
        """A whole document after what the text holds (nothing, or only comments)."""
        kept = self.text
        if kept.strip(WHITESPACE) and not kept.endswith(("\n", "\r")):
            kept += style.newline
        return kept + _render(value, style, "") + style.newline

    def _replace(self, existing: Member, span: ObjectSpan, value: Any, style: _Style) -> bytes:
        indent = line_indent(self.text, existing.key_start)
        rendered = _render(value, self._object_style(span, style), indent or "")
        text = self.text[: existing.value_start] + rendered + self.text[existing.value_end :]
        return self.encode(text)

    def without_member(self, root_key: str, name: str) -> bytes | None:
        """The file's bytes without `root_key.name`, or None when it is not there. A comment
        on the entry's own lines goes with it; every other comment stays."""
        found = self._servers(root_key)
        if found is None:
            return None
        servers = found[1]
        member = servers.find(name, self.source, self.text)
        return None if member is None else self._without(servers, member)

    def without_item(self, root_key: str, value: dict[str, Any], match: str = "id") -> bytes | None:
        """The file's bytes without the item of the list at `root_key` whose `match` key is
        `value`'s (VS Code's `inputs`), or None when there is none."""
        found = self._held(root_key, list)
        if found is None:
            return None
        items = found[1]
        same = [
            item
            for item in items.members
            if isinstance(item.value, dict) and item.value.get(match) == value.get(match)
        ]
        return self._without(items, same[-1]) if same else None

    def _without(self, span: ObjectSpan, member: Member) -> bytes:
        """The file's bytes without `member` of the object or list `span`."""
        text, plain = self.text, self.plain
        members = span.members
        position = members.index(member)
        after = skip(self.commas, member.value_end)
        comma = after if self.commas[after] == "," else None
        end = member.value_end if comma is None else comma + 1
        blank = text[span.open + 1 : member.key_start] + text[end : span.close]
        cuts: list[tuple[int, int]]
        if len(members) == 1 and blank.strip(WHITESPACE) == "":
            cuts = [(span.open + 1, span.close)]
        elif comma is None and position > 0:
            previous = members[position - 1]
            separator = skip(plain, previous.value_end)  # its ','
            if text[previous.value_end : member.key_start].strip(WHITESPACE) == ",":
                cuts = [(previous.value_end, member.value_end)]
            else:  # a comment in between: it stays, the comma goes
                cuts = [(separator, separator + 1), self._lines_of(member.key_start, end)]
        elif (
            comma is not None
            and position < len(members) - 1
            and text[member.value_end : members[position + 1].key_start].strip(WHITESPACE) == ","
        ):
            # Up to the next key: its indentation is the same as ours, which stays.
            cuts = [(member.key_start, members[position + 1].key_start)]
        else:
            cuts = [self._lines_of(member.key_start, end)]
        for start, stop in sorted(cuts, reverse=True):
            text = text[:start] + text[stop:]
        return self.encode(text)

    def _lines_of(self, start: int, end: int) -> tuple[int, int]:
        """The span from `start` to `end`: whole lines (with a comment that ends the last)
        when nothing else is on them, else the span and the blanks after it."""
        text = self.text
        ends = line_end(text, end)
        if line_indent(text, start) is not None and ends is not None:
            return text.rfind("\n", 0, start) + 1, past_line_end(text, ends)
        while end < len(text) and text[end] in " \t":
            end += 1
        return start, end

    def _style(self) -> _Style:
        """The document's indentation unit and separators, read from its root members."""
        style = _Style(True, DEFAULT_UNIT, ": ", ", ", self.newline)
        root = self.root
        if root is None or not root.members:
            return style
        first = root.members[0]
        between = self.plain[first.key_end : first.value_start]
        colon = ": " if between[-1:] in tuple(WHITESPACE) else ":"
        # A minified file (no space after ':') has none after ',' either.
        comma = ", " if colon == ": " else ","
        style = self._object_style(root, _Style(True, DEFAULT_UNIT, colon, comma, self.newline))
        indent = line_indent(self.text, first.key_start)
        outer = line_indent(self.text, root.open) or ""
        if style.multiline and indent is not None:
            unit = indent[len(outer) :] if indent.startswith(outer) else indent
            style = _Style(True, unit, colon, style.comma, self.newline)
        return style

    def _object_style(self, span: ObjectSpan, style: _Style) -> _Style:
        """`style`, adjusted to how this object lays out its own members."""
        if not span.members:
            return style
        multiline = "\n" in self.plain[span.open : span.members[0].key_start]
        comma = style.comma
        if len(span.members) > 1:
            between = self.plain[span.members[0].value_end : span.members[1].key_start]
            if "\n" not in between:
                comma = ", " if between.endswith((" ", "\t")) else ","
        return _Style(multiline, style.unit, style.colon, comma, style.newline)

    def _insert(
        self,
        span: ObjectSpan,
        key: str | None,
        value: Any,
        style: _Style,
        holder: Member | None = None,
    ) -> bytes:
        """Add `key: value` as the last member of the object `span` (`value` as the last
        item of the array `span` when `key` is None). A comment on the last member's line
        stays on it; a trailing comma stays the file's habit."""
        outer = line_indent(self.text, holder.key_start if holder else span.open) or ""
        object_style = self._object_style(span, style)
        last = span.members[-1] if span.members else None
        indent = outer + style.unit
        if last is not None:
            indent = line_indent(self.text, last.key_start) or indent
        member_text = "" if key is None else json.dumps(key, ensure_ascii=False) + style.colon
        member_text += _render(value, object_style, indent)
        text = self.text
        if last is None:
            if text[span.open + 1 : span.close].strip(WHITESPACE):  # comments: they stay
                inner = style.newline + indent + member_text
                return self.encode(text[: span.open + 1] + inner + text[span.open + 1 :])
            inner = (
                style.newline + indent + member_text + style.newline + outer
                if object_style.multiline
                else member_text
            )
            return self.encode(text[: span.open + 1] + inner + text[span.close :])
        after = skip(self.commas, last.value_end)
        trailing = self.commas[after] == ","
        if not object_style.multiline:
            if trailing:
                at, added = after + 1, object_style.comma[1:] + member_text + ","
            else:
                at, added = last.value_end, object_style.comma + member_text
            return self.encode(text[:at] + added + text[at:])
        ends = line_end(text, after + 1 if trailing else last.value_end)
        if ends is None:  # more on the line: the new member goes right after the last
            at = after + 1 if trailing else last.value_end
            added = ("" if trailing else ",") + style.newline + indent + member_text
            return self.encode(text[:at] + added + ("," if trailing else "") + text[at:])
        added = style.newline + indent + member_text + ("," if trailing else "")
        text = text[:ends] + added + text[ends:]
        if not trailing:
            text = text[: last.value_end] + "," + text[last.value_end :]
        return self.encode(text)


def _reads_as_jsonc(text: str) -> bool:
    """Whether `text`, not JSON, would be JSONC: what to tell of a strict client's file."""
    try:
        parse_json(text, jsonc=True)
    except (ValueError, JsonTooDeep):  # JSONDecodeError and UnclosedComment are ValueErrors
        return False
    return True


def _render(value: Any, style: _Style, indent: str) -> str:
    """JSON text for `value` placed at a line indented by `indent`."""
    if not style.multiline:
        return json.dumps(value, ensure_ascii=False, separators=(style.comma, style.colon))
    text = json.dumps(value, ensure_ascii=False, indent=style.unit, separators=(",", style.colon))
    return text.replace("\n", style.newline + indent)

"""The surgical JSON editor: only `<root key>.<name>` changes, in the file's own style."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from supalink.mcp.jsonedit import (
    MISSING,
    UTF8_BOM,
    JsonDocument,
    MalformedConfig,
    UneditableConfig,
)

ROOT = "mcpServers"
NAME = "supabase"
ENTRY = {
    "command": "npx",
    "args": ["-y", "@modelcontextprotocol/server-postgres", "postgresql://u:p%40ss@h/db"],
}


class Pairs(list[tuple[str, Any]]):
    """A JSON object as its ordered members, so comparisons see key order."""


def ordered(text: str) -> Any:
    return json.loads(text, object_pairs_hook=Pairs)


def set_in(document: Any, key: str, value: Any) -> Pairs:
    """`document` with `key` set in place (or appended), order otherwise kept."""
    pairs = Pairs(document)
    for index, (existing, _) in enumerate(pairs):
        if existing == key:
            pairs[index] = (key, value)
            return pairs
    pairs.append((key, value))
    return pairs


def expected_after_set(original: Any, value: Any) -> Pairs:
    servers = dict(original).get(ROOT)
    servers = Pairs() if servers is None else servers
    return set_in(original, ROOT, set_in(servers, NAME, value))


def pairs_to_python(value: Any) -> Any:
    if isinstance(value, Pairs):
        return {key: pairs_to_python(item) for key, item in value}
    if isinstance(value, list):
        return [pairs_to_python(item) for item in value]
    return value


# Random JSON: unique keys (duplicates are refused, tested below), finite numbers.
keys = st.text(max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)
entries = st.dictionaries(keys, values, max_size=3)
server_maps = st.dictionaries(st.sampled_from([NAME, "other", "x"]) | keys, entries, max_size=3)


def place(base: dict[str, Any], servers: dict[str, Any], where: str) -> dict[str, Any]:
    if where == "end":
        return {**base, ROOT: servers}
    if where == "start":
        return {ROOT: servers, **base}
    return base


documents = st.builds(
    place,
    st.dictionaries(keys.filter(lambda key: key != ROOT), values, max_size=5),
    server_maps,
    st.sampled_from(["end", "start", "absent"]),
)
layouts = st.sampled_from([None, 0, 1, 2, 4, "\t"])
JUNK = ["", ",", "}", "{", '"', "]", "x", ":"]


def render(document: Any, indent: int | str | None, *, minified: bool = False) -> str:
    separators = (",", ":") if minified and indent is None else None
    return json.dumps(document, indent=indent, ensure_ascii=False, separators=separators)


def encode(text: str, *, bom: bool, crlf: bool) -> bytes:
    # json.dumps escapes newlines inside strings, so every raw "\n" is layout.
    return (UTF8_BOM if bom else b"") + (text.replace("\n", "\r\n") if crlf else text).encode()


@settings(max_examples=100, deadline=None)
@given(documents.filter(bool), layouts, st.booleans(), st.booleans(), st.booleans(), entries)
def test_a_write_is_what_the_clients_own_serialiser_would_have_written(
    document: dict[str, Any],
    indent: int | str | None,
    minified: bool,
    bom: bool,
    crlf: bool,
    value: dict[str, Any],
) -> None:
    """On files in json.dumps' layout, the edit is byte-exact: indentation, separators,
    key order, BOM and line endings all as that layout would have them."""
    original = encode(render(document, indent, minified=minified), bom=bom, crlf=crlf)
    expected = dict(document)
    expected[ROOT] = {**document.get(ROOT, {}), NAME: value}
    edited = JsonDocument.parse(original).with_member(ROOT, NAME, value)
    assert edited == encode(render(expected, indent, minified=minified), bom=bom, crlf=crlf)


@settings(max_examples=100, deadline=None)
@given(documents, layouts, st.booleans(), st.booleans(), entries)
def test_every_other_member_and_key_order_survive_a_write(
    document: dict[str, Any], indent: int | str | None, bom: bool, crlf: bool, value: Any
) -> None:
    text = render(document, indent)
    original = encode(text, bom=bom, crlf=crlf)
    edited = JsonDocument.parse(original).with_member(ROOT, NAME, value)
    assert edited.startswith(UTF8_BOM) == bom
    body = edited.removeprefix(UTF8_BOM).decode()
    if crlf and "\n" in text:  # `{}` shows no line ending to follow
        assert "\n" not in body.replace("\r\n", "")
    else:
        assert "\r" not in body
    assert ordered(body) == expected_after_set(ordered(text), ordered(json.dumps(value)))


@settings(max_examples=100, deadline=None)
@given(documents, layouts, st.booleans(), entries)
def test_adding_then_removing_an_entry_gives_back_the_same_bytes(
    document: dict[str, Any], indent: int | str | None, crlf: bool, value: Any
) -> None:
    servers = {key: item for key, item in document.get(ROOT, {}).items() if key != NAME}
    if not servers:
        document = {**document, ROOT: {"other": {"command": "x"}}}
    else:
        document = {**document, ROOT: servers}
    original = encode(render(document, indent), bom=False, crlf=crlf)
    added = JsonDocument.parse(original).with_member(ROOT, NAME, value)
    assert JsonDocument.parse(added).without_member(ROOT, NAME) == original


@settings(max_examples=100, deadline=None)
@given(documents, layouts, entries, entries)
def test_replacing_an_entry_twice_is_stable(
    document: dict[str, Any], indent: int | str | None, first: Any, second: Any
) -> None:
    original = render(document, indent).encode()
    once = JsonDocument.parse(original).with_member(ROOT, NAME, first)
    twice = JsonDocument.parse(once).with_member(ROOT, NAME, second)
    again = JsonDocument.parse(twice).with_member(ROOT, NAME, first)
    assert again == once


@settings(max_examples=100, deadline=None)
@given(documents, layouts)
def test_removing_keeps_everything_else(document: dict[str, Any], indent: int | str | None) -> None:
    text = render(document, indent)
    removed = JsonDocument.parse(text.encode()).without_member(ROOT, NAME)
    if NAME not in document.get(ROOT, {}):
        assert removed is None
        return
    assert removed is not None
    expected = {**document, ROOT: {k: v for k, v in document[ROOT].items() if k != NAME}}
    assert removed.decode() == render(expected, indent)


@settings(max_examples=100, deadline=None)
@given(documents, layouts, st.integers(1, 10_000), st.sampled_from(JUNK))
@example(document={ROOT: {NAME: None}}, indent=2, back=1, junk="}")  # an object again
def test_malformed_text_is_reported_where_json_reports_it(
    document: dict[str, Any], indent: int | str | None, back: int, junk: str
) -> None:
    """The text cut `back` characters before its end (at its start at the most), then `junk`."""
    text = render(document, indent)
    broken = text[: len(text) - min(back, len(text))] + junk
    if not broken.strip():
        assert JsonDocument.parse(broken.encode()).root is None  # empty: nothing to break
        return
    error = json_error(broken)
    if error is not None:
        with pytest.raises(MalformedConfig) as raised:
            JsonDocument.parse(broken.encode(), source="f.json")
        assert (raised.value.line, raised.value.column) == (error.lineno, error.colno)
        assert f"line {error.lineno}, column {error.colno}" in str(raised.value)
    elif not isinstance(json.loads(broken), dict):
        with pytest.raises(MalformedConfig, match="top level is not an object"):
            JsonDocument.parse(broken.encode())
    else:  # an object again (its last '}' cut, then put back): read as json reads it
        parsed = JsonDocument.parse(broken.encode())
        assert parsed.value == json.loads(broken)
        assert parsed.servers(ROOT) == json.loads(broken).get(ROOT, {})


def json_error(text: str) -> json.JSONDecodeError | None:
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error
    return None


def test_the_style_of_a_hand_written_file_is_followed() -> None:
    original = (
        '\ufeff{\r\n\t"globalShortcut": "Ctrl+Space",\r\n\t"mcpServers": {\r\n'
        '\t\t"other": { "command": "x" }\r\n\t},\r\n\t"n": 1.50\r\n}\r\n'
    ).encode()
    edited = JsonDocument.parse(original).with_member(ROOT, NAME, {"command": "npx", "args": []})
    assert edited.decode() == (
        '\ufeff{\r\n\t"globalShortcut": "Ctrl+Space",\r\n\t"mcpServers": {\r\n'
        '\t\t"other": { "command": "x" },\r\n'
        '\t\t"supabase": {\r\n\t\t\t"command": "npx",\r\n\t\t\t"args": []\r\n\t\t}\r\n'
        '\t},\r\n\t"n": 1.50\r\n}\r\n'
    )


def test_a_missing_root_key_is_added_at_the_end_of_the_root_object() -> None:
    original = b'{\n    "preferences": {"theme": "dark"}\n}\n'
    edited = JsonDocument.parse(original).with_member(ROOT, NAME, {"command": "npx"})
    assert edited == (
        b'{\n    "preferences": {"theme": "dark"},\n    "mcpServers": {\n'
        b'        "supabase": {\n            "command": "npx"\n        }\n    }\n}\n'
    )


@pytest.mark.parametrize("original", [b"", b"  \n", UTF8_BOM])
def test_an_empty_file_becomes_a_fresh_document(original: bytes) -> None:
    edited = JsonDocument.parse(original).with_member(ROOT, NAME, {"command": "npx"})
    assert json.loads(edited.decode("utf-8-sig")) == {ROOT: {NAME: {"command": "npx"}}}
    assert edited.startswith(UTF8_BOM) == original.startswith(UTF8_BOM)


@pytest.mark.parametrize(
    ("raw", "line", "column", "reason"),
    [
        (b'{\n  "a": 1,\n}', 3, 1, "Expecting property name"),
        (b"[1, 2]", 1, 1, "top level is not an object"),
        (b'{\n  "a": "\xff"\n}', 2, 9, "not UTF-8"),
        (b'{"a": [1,\n NaN]}', 2, 2, "NaN is not JSON"),
        (b'{"a": "NaN", "b": -Infinity}', 1, 19, "-Infinity is not JSON"),
        (b'{"a": 1} {"b": 2}', 1, 10, "Extra data"),
    ],
)
def test_malformed_files_name_line_and_column(
    raw: bytes, line: int, column: int, reason: str
) -> None:
    with pytest.raises(MalformedConfig) as raised:
        JsonDocument.parse(raw, source="cfg.json")
    message = str(raised.value)
    assert message.startswith("cfg.json is not valid JSON: ")
    assert reason in message
    assert (raised.value.line, raised.value.column) == (line, column)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"mcpServers": [1]}', "'mcpServers' at line 1, column 16 is not an object"),
        (b'{"mcpServers": {}, "mcpServers": {}}', "has the key 'mcpServers' twice"),
        (b'{"mcpServers": {"supabase": 1,\n "supabase": 2}}', "again at line 2, column 2"),
    ],
)
def test_ambiguous_documents_are_refused(raw: bytes, message: str) -> None:
    document = JsonDocument.parse(raw)
    with pytest.raises(UneditableConfig, match=message):
        document.with_member(ROOT, NAME, 1)


def test_member_and_servers_read_the_current_entries() -> None:
    document = JsonDocument.parse(b'{"mcpServers": {"supabase": null, "b": {"command": "x"}}}')
    assert document.member(ROOT, NAME) is None
    assert document.member(ROOT, "absent") is MISSING
    assert document.member("servers", NAME) is MISSING
    assert document.servers(ROOT) == {"supabase": None, "b": {"command": "x"}}
    assert pairs_to_python(ordered('{"a": {"b": [1]}}')) == {"a": {"b": [1]}}


def test_the_value_is_the_whole_document_and_a_key_held_twice_is_told() -> None:
    document = JsonDocument.parse(b'{"a": {"b": [{"c": 1, "c": 2}]}, "d": null}')
    assert document.value == {"a": {"b": [{"c": 2}]}, "d": None}
    assert document.repeats_a_key
    once = JsonDocument.parse(b'{"a": {"b": [{"c": 1}, {"c": 2}]}}')
    assert (once.value, once.repeats_a_key) == ({"a": {"b": [{"c": 1}, {"c": 2}]}}, False)
    assert (JsonDocument.parse(b"").value, JsonDocument.parse(b"").repeats_a_key) == ({}, False)

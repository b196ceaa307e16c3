"""JSONC (VS Code's and Zed's settings): read by the one parser, edited by the one editor,
every comment and trailing comma outside the entry kept byte for byte."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supalink.files import UnclosedComment, jsonc_as_json, parse_json
from supalink.mcp.jsonedit import UTF8_BOM, JsonDocument, MalformedConfig

ROOT = "context_servers"
NAME = "supabase"
ENTRY = {"command": "/usr/bin/supalink", "args": ["mcp-serve", "--profile", "p"]}
# A string (skipped: it may hold `//` or `/*`) or a comment (kept).
COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|(//[^\n]*|/\*.*?\*/)', re.DOTALL)

# Zed's settings.json as Zed writes it for a new user, with a user's additions.
ZED = """\
// Zed settings
//
// For information on how to configure Zed, see the Zed
// documentation: https://zed.dev/docs/configuring-zed
{
  "ui_font_size": 16, // bigger on the laptop
  /* themes:
     light and dark */
  "theme": {
    "mode": "system",
    "light": "One Light",
    "dark": "One Dark",
  },
  "context_servers": {
    // the database, by Supalink
    "other": {
      "command": "uvx",
      "args": ["mcp-server-time"], // keep
    },
  },
}
"""


def edit(text: str) -> JsonDocument:
    return JsonDocument.parse(text.encode(), "settings.json", jsonc=True)


def comments(text: str) -> list[str]:
    """The comments of a JSONC text, in order."""
    return [found for found in COMMENT.findall(text) if found]


# ----- the parser ---------------------------------------------------------------------------


def test_the_json_twin_has_every_character_where_the_original_has_it() -> None:
    text = '{"a": 1, // one\r\n /* two\r\n lines */ "b": [1, 2,],}'
    twin = jsonc_as_json(text)
    assert len(twin) == len(text)
    assert twin == '{"a": 1,       \r\n       \r\n          "b": [1, 2 ] }'
    assert parse_json(text, jsonc=True) == {"a": 1, "b": [1, 2]}


@pytest.mark.parametrize(
    "text",
    [
        '{"url": "https://example.com/*not a comment*/", "p": "a//b"}',
        '{"quote": "\\"// still a string", "comma": ",}"}',
        '{"a": ",]"}',
    ],
)
def test_comment_marks_and_commas_inside_strings_are_the_strings(text: str) -> None:
    assert jsonc_as_json(text) == text
    assert parse_json(text, jsonc=True) == json.loads(text)


def test_a_comment_never_closed_is_named_where_it_starts() -> None:
    with pytest.raises(UnclosedComment) as raised:
        jsonc_as_json('{\n  "a": 1 /* open')
    assert raised.value.position == 11
    with pytest.raises(MalformedConfig, match=r"not valid JSONC: a comment that is never closed"):
        JsonDocument.parse(b'{\n  "a": 1 /* open', "s.json", jsonc=True)
    with pytest.raises(MalformedConfig) as error:
        JsonDocument.parse(b'{\n  "a": 1 /* open', "s.json", jsonc=True)
    assert (error.value.line, error.value.column) == (2, 10)


def test_strict_json_stays_strict_where_the_client_reads_strict_json() -> None:
    """Claude Desktop's and Cursor's files: a comment there breaks the client, so Supalink
    says where rather than editing around it."""
    with pytest.raises(MalformedConfig, match="not valid JSON: Expecting property name"):
        JsonDocument.parse(b'{\n  // mine\n  "a": 1\n}')
    assert JsonDocument.parse(b'{\n  // mine\n  "a": 1\n}', jsonc=True).value == {"a": 1}


def test_errors_in_jsonc_name_the_files_own_line_and_column() -> None:
    with pytest.raises(MalformedConfig) as raised:
        edit('// head\n{\n  /* c */ "a": 1,\n  "b": nope\n}')
    assert (raised.value.line, raised.value.column) == (4, 8)


def test_a_file_of_comments_only_is_an_empty_document_and_keeps_them() -> None:
    text = "// Zed settings\n// nothing yet\n"
    document = edit(text)
    assert document.value == {}
    added = document.with_member(ROOT, NAME, ENTRY).decode()
    assert added.startswith(text)
    assert parse_json(added, jsonc=True) == {ROOT: {NAME: ENTRY}}


# ----- the editor: hand-written files -------------------------------------------------------


def test_adding_to_zeds_settings_keeps_every_comment_and_trailing_comma() -> None:
    added = edit(ZED).with_member(ROOT, NAME, ENTRY).decode()
    assert added == ZED.replace(
        '      "args": ["mcp-server-time"], // keep\n    },\n',
        '      "args": ["mcp-server-time"], // keep\n    },\n'
        '    "supabase": {\n'
        '      "command": "/usr/bin/supalink",\n'
        '      "args": [\n        "mcp-serve",\n        "--profile",\n        "p"\n      ]\n'
        "    },\n",
    )
    assert parse_json(added, jsonc=True)[ROOT][NAME] == ENTRY
    # And removing it gives back the very bytes.
    assert edit(added).without_member(ROOT, NAME) == ZED.encode()


def test_replacing_an_entry_keeps_the_comments_around_it_and_drops_its_own() -> None:
    text = (
        "{\n"
        '  "context_servers": {\n'
        "    // before\n"
        '    "supabase": { /* old */ "source": "custom", "command": "x" }, // after\n'
        '    "other": {"command": "y"}, /* sibling */\n'
        "  },\n"
        "}\n"
    )
    replaced = edit(text).with_member(ROOT, NAME, {"command": "z"}).decode()
    assert replaced == text.replace(
        '{ /* old */ "source": "custom", "command": "x" }', '{\n      "command": "z"\n    }'
    )
    assert comments(replaced) == ["// before", "// after", "/* sibling */"]


def test_the_root_key_is_added_after_a_last_member_with_a_comment() -> None:
    text = '// head\n{\n  "a": 1 // one\n}\n'
    added = edit(text).with_member(ROOT, NAME, {"command": "z"}).decode()
    assert added == (
        '// head\n{\n  "a": 1, // one\n  "context_servers": {\n    "supabase": {\n'
        '      "command": "z"\n    }\n  }\n}\n'
    )
    assert (
        edit(added).without_member(ROOT, NAME)
        == b'// head\n{\n  "a": 1, // one\n  "context_servers": {}\n}\n'
    )


def test_an_empty_object_with_a_comment_keeps_the_comment() -> None:
    text = '{\n  "context_servers": {\n    // add servers here\n  }\n}\n'
    added = edit(text).with_member(ROOT, NAME, {"command": "z"}).decode()
    assert "    // add servers here\n" in added
    assert parse_json(added, jsonc=True) == {ROOT: {NAME: {"command": "z"}}}
    assert edit(added).without_member(ROOT, NAME) == text.encode()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the last member, no trailing comma, a comment on the previous line: it stays, and the
        # comma before the entry goes
        (
            '{"s": {\n  "a": 1, // A\n  "supabase": 2 // mine\n}}',
            '{"s": {\n  "a": 1 // A\n}}',
        ),
        # a member in the middle, with its own line comment and a block comment before it
        (
            '{"s": {\n  "a": 1,\n  /* about it */\n  "supabase": 2, // mine\n  "b": 3\n}}',
            '{"s": {\n  "a": 1,\n  /* about it */\n  "b": 3\n}}',
        ),
        # on one line, comments around
        ('{"s": {"a": 1, /*x*/ "supabase": 2, "b": 3}}', '{"s": {"a": 1, /*x*/ "b": 3}}'),
        # the only member, a trailing comma
        ('{"s": {"supabase": 2,}}', '{"s": {}}'),
        ('{"s": {\n  // keep\n  "supabase": 2,\n}}', '{"s": {\n  // keep\n}}'),
    ],
)
def test_removing_takes_the_entry_and_its_lines_only(text: str, expected: str) -> None:
    document = JsonDocument.parse(text.encode(), jsonc=True)
    assert document.without_member("s", NAME) == expected.encode()
    assert parse_json(expected, jsonc=True) == {
        "s": {k: v for k, v in parse_json(text, jsonc=True)["s"].items() if k != NAME}
    }


def test_crlf_and_bom_are_kept() -> None:
    text = ZED.replace("\n", "\r\n")
    raw = UTF8_BOM + text.encode()
    added = JsonDocument.parse(raw, jsonc=True).with_member(ROOT, NAME, ENTRY)
    assert added.startswith(UTF8_BOM)
    body = added[len(UTF8_BOM) :].decode()
    assert "\n" not in body.replace("\r\n", "")
    assert comments(body.replace("\r\n", "\n")) == comments(ZED)
    assert JsonDocument.parse(added, jsonc=True).without_member(ROOT, NAME) == raw


def test_an_inputs_item_is_added_then_replaced_by_its_id() -> None:
    text = (
        '{\n  // prompts\n  "inputs": [\n'
        '    {"id": "token", "type": "promptString"}, // gh\n  ],\n}\n'
    )
    prompt = {"type": "promptString", "id": "pw", "description": "d", "password": True}
    added = edit(text).with_item("inputs", prompt).decode()
    assert comments(added) == ["// prompts", "// gh"]
    assert parse_json(added, jsonc=True)["inputs"][1] == prompt
    again = edit(added).with_item("inputs", {**prompt, "description": "e"}).decode()
    assert [item["description"] for item in parse_json(again, jsonc=True)["inputs"][1:]] == ["e"]
    fresh = edit("{}").with_item("inputs", prompt).decode()
    assert json.loads(fresh) == {"inputs": [prompt]}
    assert edit(added).without_item("inputs", prompt) == text.encode()
    assert edit(text).without_item("inputs", prompt) is None
    assert edit("{}").without_item("inputs", prompt) is None


# ----- the editor: any document, comments and trailing commas anywhere between tokens -------

keys = st.text(alphabet="abcxyz", max_size=4)
scalars = st.none() | st.booleans() | st.integers() | st.text(alphabet="ab /*,", max_size=6)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=10,
)
others = st.dictionaries(st.sampled_from(["other", "x", "y"]), values, min_size=1, max_size=3)


def with_comments(document: dict[str, Any], seed: int, indent: int | str) -> str:
    """`document` as JSON, with comments at random line ends and on lines of their own, and
    trailing commas after random last members: the freedoms JSONC gives."""
    chance = random.Random(seed)
    lines = json.dumps(document, indent=indent).split("\n")
    out = []
    for index, written in enumerate(lines):
        line = written
        stripped = line.lstrip()
        margin = line[: len(line) - len(stripped)]
        if chance.random() < 0.3:
            out.append(f"{margin}// own {index}" if chance.random() < 0.5 else f"/* own {index} */")
        following = lines[index + 1].lstrip()[:1] if index + 1 < len(lines) else ""
        if following in ("}", "]") and not line.endswith(("{", "[")) and chance.random() < 0.5:
            line += ","
        if chance.random() < 0.3:
            line += f" // end {index}" if chance.random() < 0.5 else f" /* end {index} */"
        out.append(line)
    return "\n".join(out) + "\n"


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(keys.filter(lambda key: key != ROOT), values, max_size=3),
    others,
    st.integers(0, 2**32),
    st.sampled_from([2, 4, "\t"]),
    st.booleans(),
    st.booleans(),
)
def test_adding_then_removing_gives_back_the_same_bytes_and_keeps_every_comment(
    base: dict[str, Any],
    servers: dict[str, Any],
    seed: int,
    indent: int | str,
    crlf: bool,
    bom: bool,
) -> None:
    document = {**base, ROOT: servers}
    text = with_comments(document, seed, indent)
    if crlf:
        text = text.replace("\n", "\r\n")
    raw = (UTF8_BOM if bom else b"") + text.encode()
    parsed = JsonDocument.parse(raw, jsonc=True)
    assert parsed.value == document
    added = parsed.with_member(ROOT, NAME, ENTRY)
    after = JsonDocument.parse(added, jsonc=True)
    assert after.value == {**base, ROOT: {**servers, NAME: ENTRY}}
    assert comments(added.decode("utf-8-sig")) == comments(text)
    assert after.without_member(ROOT, NAME) == raw
    # Replacing the entry (twice) is stable, and keeps every comment as well.
    replaced = after.with_member(ROOT, NAME, {"command": "other"})
    back = JsonDocument.parse(replaced, jsonc=True).with_member(ROOT, NAME, ENTRY)
    assert back == added

"""What the audit keeps of a statement (its structure, never a value, at most 8 kB) and how
audit text is shown (nothing that moves a terminal's cursor or reorders a line)."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from supalink.agent.audit_text import Excerpt, excerpt
from supalink.agent.excerpt_cut import MAX_EXCERPT_BYTES
from supalink.agent.printable import visible
from tests.support.postgres import SPECIAL_PASSWORD

PASSWORD = "Tr0ub4dorX3"
SECRETS = [PASSWORD]
PAD = 16_000
# Every character the excerpt's own marks are written with: a secret spelled with these alone
# may be spelled by placeholders, which hold nothing of the statement.
MARK_CHARS = frozenset("'\"$/*-…() 0123456789,\n chars blanks characters left out")


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def assert_whole(sql: str, result: Excerpt) -> None:
    """The facts every excerpt states: its size, and the statement's length and hash when it
    is not the statement itself."""
    assert len(utf8(result.text)) <= MAX_EXCERPT_BYTES
    if result.chars is None:
        assert result.text == sql
        assert result.sha256 is None
    else:
        assert result.text != sql
        assert result.chars == len(sql)
        assert result.sha256 == hashlib.sha256(utf8(sql)).hexdigest()


def test_a_plain_statement_is_kept_as_it_is() -> None:
    for sql in ["select 1", "select a, b from t where c = 42", "select 'x', 'abc' -- ok"]:
        assert excerpt(sql, SECRETS) == Excerpt(sql, None, None)
    assert excerpt("", SECRETS) == Excerpt("", None, None)


@pytest.mark.parametrize(
    ("sql", "shown"),
    [
        ("/*" + "x" * PAD + "*/ select evil()", "/*…*/(16004 chars) select evil()"),
        (
            f"select '{'a' * PAD}', evil(), $${'b' * PAD}$$",
            "select '…'(16002 chars), evil(), $…$(16004 chars)",
        ),
        (" " * PAD + "select evil()", " …(16000 blanks) select evil()"),
        (
            "select 1," + " " * PAD + "evil()," + " \n" * PAD + "2",
            "select 1, …(16000 blanks) evil(), …(32000 blanks)\n2",
        ),
        ("select evil() -- " + "c" * PAD, "select evil() --…(16003 chars)"),
        # Many short comments are as much padding as one long one.
        (f"select 1{'/**/ ' * PAD}, evil()", "select 1/*…*/(79999 chars) , evil()"),
        # PostgreSQL reads 63 bytes of a name: the rest is padding.
        (
            f'select 1 as "{"x" * PAD}", evil(), 1 as y{"y" * PAD}, 1{"0" * PAD}',
            f'select 1 as "{"x" * 63}…"(16002 chars), evil(), 1 as {"y" * 63}…(16001 chars),'
            f" 1{'0' * 62}…(16001 chars)",
        ),
        # Unterminated: the rest is one token all the same.
        (f"select evil(), '{'x' * PAD}", "select evil(), '…(16001 chars)"),
        (f"select evil() /* {'x' * PAD}", "select evil() /*…(16003 chars)"),
    ],
)
def test_padding_never_hides_the_statement(sql: str, shown: str) -> None:
    result = excerpt(sql, SECRETS)
    assert result.text == shown
    assert_whole(sql, result)


def test_a_comment_folded_with_its_line_break_still_ends_its_line() -> None:
    result = excerpt(f"select 1 --x\n{' ' * 100}, evil()", SECRETS)
    assert result.text == "select 1 --x …(101 blanks)\n, evil()"


def test_the_masker_cases_keep_every_call() -> None:
    sql = "select'x://u:'as/**/a,pg_logical_emit_message(1)as/**/b,'@'as/**/c"
    assert excerpt(sql, SECRETS).text == (
        "select'…'(8 chars)as/**/a,pg_logical_emit_message(1)as/**/b,'@'as/**/c"
    )
    assert excerpt("select 'password=', current_user, 'x'", SECRETS).text == (
        "select '…'(11 chars), current_user, 'x'"
    )


def test_a_right_guess_reads_as_a_wrong_one() -> None:
    wrong = "Tr0ub4dorX4"
    for template in ["select '{}'", "select $${}$$", "select 1 /* {} */", "select E'{}\\''"]:
        right_guess = excerpt(template.format(PASSWORD), SECRETS)
        wrong_guess = excerpt(template.format(wrong), SECRETS)
        assert right_guess.text == wrong_guess.text
        assert right_guess.chars == wrong_guess.chars


def test_literals_shorter_than_the_shortest_secret_are_hidden_too() -> None:
    assert excerpt("select 'abcd', 'ab'", ["abcde"]).text == "select '…'(6 chars), 'ab'"
    assert excerpt("select 'abcd', 'abc'", []).text == "select 'abcd', 'abc'"


def unicode_escaped(name: str) -> str:
    return "".join(f"\\{ord(char):04x}" if ord(char) < 0x10000 else char for char in name)


POSITIONS = [
    "select '{pw}'",
    "select 'a''{pw}''b' as x",
    "select $$ {pw} $$",
    "select $t${pw}$t$",
    "select E'\\'{pw}\\\\'",
    "select 1 /* {pw} */",
    "select 1 /* /* {pw} */ x */",
    "select 1 -- {pw}\n",
    "select 1 --{pw}\r, 2",
    'select 1 as "{pw}"',
    "select 1 as {pw}, 2",
    "select x{pw}y",
    "select 'x', '{pw}",
    'select "{pw}',
    "select $q$ {pw}",
    "select 1 /* {pw}",
]


@pytest.mark.parametrize("template", POSITIONS)
@pytest.mark.parametrize("password", [PASSWORD, SPECIAL_PASSWORD, "ab+cd*", "x"])
def test_a_secret_is_never_shown(template: str, password: str) -> None:
    sql = template.format(pw=password)
    result = excerpt(sql, [password])
    assert utf8(password) not in utf8(result.text)
    assert_whole(sql, result)


@pytest.mark.parametrize(
    "sql",
    [
        'select 1 as "{quoted}"',  # the name as PostgreSQL reads it: "" is one "
        'select 1 as U&"{escaped}"',
        "select 1 as U&\"{escaped}\" uescape '\\'",
        "select {upper}",
    ],
)
def test_a_secret_is_never_shown_in_any_spelling(sql: str) -> None:
    password = 'Pa"ss\u202eword'
    sql = sql.format(
        quoted=password.replace('"', '""'),
        escaped=unicode_escaped(password),
        upper="HUNTER2SECRET",
    )
    result = excerpt(sql, [password, "hunter2secret"])
    assert "…" in result.text
    assert not re.search("ss.u202e|hunter2", result.text, re.IGNORECASE)


def test_a_secret_spelled_across_tokens_hides_those_tokens_only() -> None:
    assert excerpt("select 'ab'||cd, ef", ["'ab'||cd"]).text == "select …(8 chars), ef"
    assert excerpt("select ab + cd, ef", ["b + c"]).text == "select …(7 chars), ef"
    assert excerpt("select a.hunter2 from t", ["hunter2"]).text == "select a.…(7 chars) from t"


def test_a_secret_spelled_by_placeholders_alone_cannot_be_hidden() -> None:
    # "chars)" is in every placeholder: nothing of the statement's is in it, and it ends.
    result = excerpt("select 'abcdefgh', chars", ["chars"])
    assert result.text == "select '…'(10 chars), …(5 chars)"


def test_a_statement_too_long_is_its_head_and_tail() -> None:
    sql = "select evil_head()" + "+1" * 10_000 + ", evil_tail()"
    result = excerpt(sql, SECRETS)
    assert_whole(sql, result)
    found = re.fullmatch(r"(.*) … \(([\d,]+) characters left out\) … (.*)", result.text, re.DOTALL)
    assert found is not None
    head, left_out, tail = found.groups()
    assert head.startswith("select evil_head()+1+1")
    assert tail.endswith("+1+1, evil_tail()")
    assert len(head) + int(left_out.replace(",", "")) + len(tail) == len(sql)
    assert len(utf8(result.text)) > MAX_EXCERPT_BYTES - 4


def test_a_cut_never_splits_a_placeholder_or_a_character() -> None:
    sql = "select " + "'a long literal', 'é😀', " * 2000 + "1"
    result = excerpt(sql, SECRETS)
    assert_whole(sql, result)
    assert result.text.startswith("select '…'(16 chars), 'é😀', '…'(16 chars)")
    # Every placeholder whole: as many openings as whole placeholders.
    assert result.text.count("'…") == len(re.findall(r"'…'\(16 chars\)", result.text))
    assert "\ufffd" not in result.text


def test_lone_surrogates_are_counted_and_hashed() -> None:
    sql = "select '\ud800\udfff\ud800\ud800\udfff\udfff'"
    result = excerpt(sql, SECRETS)
    assert result.text == "select '…'(8 chars)"
    assert_whole(sql, result)
    long = "select x\ud800" + "+\ud800" * 5000
    assert_whole(long, excerpt(long, SECRETS))


# SQL-ish pieces: every kind of token, opened and closed anywhere, in one byte or four.
FRAGMENTS = st.sampled_from(
    [
        *["select", " ", "\n", "\r", "(", ")", ",", "+", ";", "1", "a", "\\", "\x1b"],
        *["'", '"', "''", '""', "$$", "$t$", "$1", "--", "/*", "*/", "E'", 'U&"'],
        *["é", "中", "😀", "\ud800", "uescape '!'", "!0041"],
    ]
)
REPEATS = st.integers(1, 3) | st.integers(1, 6_000)
PASSWORDS = st.text(min_size=1, max_size=16) | st.text(
    st.sampled_from("aZ9'\"$/*-\\ ;é😀\ud800"), min_size=1, max_size=12
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.tuples(FRAGMENTS | PASSWORDS, REPEATS), max_size=12),
    password=PASSWORDS,
    places=st.lists(st.integers(0, 12), min_size=1, max_size=3),
)
def test_the_password_never_reaches_the_excerpt(
    pieces: list[tuple[str, int]], password: str, places: list[int]
) -> None:
    assume(not set(password) <= MARK_CHARS)
    texts = [piece * min(count, 20_000 // len(piece)) for piece, count in pieces]
    for place in places:
        texts.insert(min(place, len(texts)), password)
    sql = "".join(texts)
    result = excerpt(sql, [password, "unrelated-secret"])
    assert utf8(password) not in utf8(result.text)
    assert_whole(sql, result)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.tuples(FRAGMENTS, REPEATS), max_size=10))
def test_any_statement_fits(pieces: list[tuple[str, int]]) -> None:
    sql = "".join(piece * count for piece, count in pieces)
    assert_whole(sql, excerpt(sql, []))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("select '\x1b[2K\r' as ok", "select '\\x1b[2K\\r' as ok"),
        ("select 1\x1b[1A\x1b[2Kforged line", "select 1\\x1b[1A\\x1b[2Kforged line"),
        (
            "a\u202ecba\u2066\u2069\u061c\u200e\u200f",
            "a\\u202ecba\\u2066\\u2069\\u061c\\u200e\\u200f",
        ),
        ("a\u200bb\u200c\u200d\ufeff\u2060", "a\\u200bb\\u200c\\u200d\\ufeff\\u2060"),
        ("\x85\x9b\x7f\x00\x07", "\\x85\\x9b\\x7f\\x00\\x07"),
        ("line\u2028para\u2029", "line\\u2028para\\u2029"),
        ("lone \ud800 \udfff", "lone \\ud800 \\udfff"),
        ("tag \U000e0041 nbsp\xa0", "tag \\U000e0041 nbsp\\xa0"),
        ("a\nb\tc", "a\\nb\\tc"),
        # A backslash that would read as an escape is doubled; any other stays.
        ("E'\\x1b' '\\d+' '\\\\' '\\n'", "E'\\\\x1b' '\\d+' '\\\\\\' '\\\\n'"),
        ("\\\x1b", "\\\\\\x1b"),
        ("é \\é 中文 😀", "é \\é 中文 😀"),
    ],
)
def test_visible_escapes_what_a_terminal_would_obey(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_visible_keeps_plain_sql_and_with_newlines_its_lines() -> None:
    sql = "select a, b\n  from t\twhere c = 'x' -- ok"
    assert visible(sql, newlines=True) == sql
    assert visible("select 1") == "select 1"
    # \r ends a `--` comment for PostgreSQL: the reader sees the line end there too.
    assert visible("select 1 --\r, evil()\r\nfrom t", newlines=True) == (
        "select 1 --\\r\n, evil()\\r\nfrom t"
    )
    assert visible("\\n and \n", newlines=True) == "\\n and \n"


ANY_TEXT = st.text(st.characters(exclude_categories=()))  # lone surrogates too


@settings(max_examples=100, deadline=None)
@given(ANY_TEXT)
def test_visible_leaves_nothing_a_terminal_obeys(text: str) -> None:
    for newlines in (False, True):
        shown = visible(text, newlines=newlines)
        allowed = "\n\t" if newlines else ""
        assert all(char.isprintable() or char in allowed for char in shown)
        if text.isprintable() and "\\" not in text:
            assert shown == text


ESCAPE = re.compile(r"\\(\\|n|t|r|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
NAMED = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


def read_back(shown: str) -> str:
    """What a reader makes of `visible`'s one-line text, by the rule its docstring gives."""
    return ESCAPE.sub(lambda found: NAMED.get(found[1]) or chr(int(found[1][1:], 16)), shown)


@settings(max_examples=150, deadline=None)
@given(st.lists(ANY_TEXT | st.sampled_from(["\\", "\\x1b", "\\u202e", "\\n", "\\\\"])))
def test_visible_reads_back_as_what_it_shows(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert read_back(visible(text)) == text

"""Text the agent wrote, made safe to show a person: on a terminal (`supalink audit`) or in
a window (the Agent tab), where an escape sequence could forge a line and a bidi override
reorder what is read. `--json` and the audit file keep the text exact; only what is shown
goes through `visible`."""

from __future__ import annotations

import re

# A backslash that would read as the start of one of `visible`'s escapes, or a run of what is
# not printable ASCII. Without `newlines`, \n and \t are escapes too.
_ONE_LINE = re.compile(
    r"\\(?=[\\nrt]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[^\x20-\x7e])|[^\x20-\x7e]+"
)
_LINES = re.compile(
    r"\\(?=[\\r]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[^\x20-\x7e])|[^\x20-\x7e]+"
)
_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def visible(text: str, *, newlines: bool = False) -> str:
    """`text` safe to print on a terminal or in a Qt label: on one line, or with `newlines`
    keeping its line breaks and tabs.

    Every character that Python's `str.isprintable` calls unprintable becomes an escape: C0 and
    C1 controls, DEL, bidi controls and other format characters (Cf: zero-width ones, U+FEFF),
    line and paragraph separators, spaces other than U+0020, lone surrogates, unassigned code
    points. The escapes are Python's: `\\x1b`, `\\u202e`, `\\U000e0041`, and `\\n`, `\\t`, `\\r`.
    A backslash stays as it is (SQL has many) unless it would read as the start of one of
    these: then it is doubled, so each escape stands for one character only. With `newlines`,
    `\\r` also breaks the line: PostgreSQL ends a `--` comment there, and so must the reader.
    """

    if text.isprintable() and "\\" not in text:
        return text  # most statements: checked at C speed

    def escaped(found: re.Match[str]) -> str:
        piece = found.group(0)
        if piece == "\\":
            following = text[found.end()]
            if following.isascii() and following.isprintable():
                return "\\\\"  # \\, \n, \x1b … as written
            return "\\\\" if _escape(following, newlines) else "\\"
        if piece.isprintable():
            return piece
        out: list[str] = []
        for index, char in enumerate(piece):
            escape = _escape(char, newlines)
            out.append(char if escape is None else escape)
            if char == "\r" and newlines and not piece.startswith("\n", index + 1):
                out.append("\n")
        return "".join(out)

    return (_LINES if newlines else _ONE_LINE).sub(escaped, text)


def _escape(char: str, newlines: bool) -> str | None:
    """The escape that `char` is shown as, or None when it is shown as itself."""
    if char.isprintable() or (newlines and char in "\n\t"):
        return None
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"

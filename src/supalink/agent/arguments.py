"""A tool call's arguments, checked for what the database (or Python) cannot take.

The client's JSON parser hands over what PostgreSQL refuses or mangles: NUL characters and
lone surrogates in text, NaN and Infinity, integers beyond bigint. Each is refused here with
one sentence naming the argument, before a statement is sent. A message never quotes the
value: it could be megabytes, or a secret.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from supalink.errors import SupalinkError

# PostgreSQL's bigint, the widest integer a parameter is sent as.
BIGINT_MIN: Final = -(2**63)
BIGINT_MAX: Final = 2**63 - 1
_VALUES: Final = "params must be a list of strings, numbers, booleans or nulls"


class BadArguments(SupalinkError):
    """The call's arguments do not fit the tool's schema."""


class UnknownName(SupalinkError):
    """The call names a tool, or an argument, that the listing does not have: answered with
    JSON-RPC's invalid params (-32602), as the MCP spec says for an unknown tool, rather
    than as a tool's answer. An argument the server would ignore must not pass silently:
    the caller meant it to change something."""


def text(arguments: Mapping[str, Any], name: str, *, default: str | None = None) -> str:
    """The argument `name`: a string with more than blanks in it; `default` when it is
    missing or null."""
    value = arguments.get(name)
    if value is None:
        value = default
    if not isinstance(value, str) or not value.strip():
        raise BadArguments(f"{name} must be a non-empty string")
    _check_text(value, name)
    return value


def params(arguments: Mapping[str, Any]) -> list[Any] | None:
    """The values for $1, $2, ...: strings (empty ones too), finite numbers, integers that
    fit bigint, booleans and nulls; None when there are none."""
    values = arguments.get("params")
    if values is None:
        return None
    if not isinstance(values, list):
        raise BadArguments(_VALUES)
    for index, value in enumerate(values):
        what = f"the value for ${index + 1} in params"
        # bool first: it is an int to Python, and a boolean to PostgreSQL.
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, str):
            _check_text(value, what)
        elif isinstance(value, int):
            if not BIGINT_MIN <= value <= BIGINT_MAX:
                raise BadArguments(
                    f"{what} is beyond PostgreSQL's bigint (-2^63 to 2^63-1): "
                    "send larger numbers as strings"
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise BadArguments(f"{what} must be a finite number, not NaN or Infinity")
        else:
            raise BadArguments(_VALUES)
    return values


def seconds(arguments: Mapping[str, Any], name: str, *, default: float, maximum: float) -> float:
    """The argument `name` as seconds from 0 to `maximum`; `default` when it is missing. A
    value outside is refused, not clamped: the caller meant something else. So is null: the
    schema says a number, and a client that checks arguments against it refuses null too,
    so the server must not make it mean something (leaving the argument out is the way to
    ask for the default)."""
    if name not in arguments:
        return default
    value = arguments[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadArguments(f"{name} must be a number of seconds (leave it out for {default:g})")
    # An int is compared as it is: float() of a huge one overflows.
    if isinstance(value, float) and not math.isfinite(value):
        raise BadArguments(f"{name} must be a finite number of seconds")
    if not 0 <= value <= maximum:
        raise BadArguments(f"{name} must be from 0 to {maximum:g} seconds")
    return float(value)


def _check_text(value: str, what: str) -> None:
    if "\x00" in value:
        raise BadArguments(f"{what} holds a NUL character, which PostgreSQL text cannot")
    if not value.isascii():  # isascii is a flag lookup; most arguments end here
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadArguments(
                f"{what} holds a lone surrogate (U+D800 to U+DFFF), which is not text"
            ) from None

"""A tool call's arguments (agent/arguments.py): what the database or Python cannot take is
refused with a sentence naming the argument and never quoting its value."""

from __future__ import annotations

import math
from typing import Any

import pytest

from supalink.agent.arguments import BIGINT_MAX, BIGINT_MIN, BadArguments, params, seconds, text

SECRET = "hunter2-SECRET"
# The first and last high (leading) and low (trailing) surrogates.
SURROGATES = [chr(0xD800), chr(0xDBFF), chr(0xDC00), chr(0xDFFF)]


def _refusal(check: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(BadArguments) as caught:
        check(*args, **kwargs)
    message = str(caught.value)
    assert SECRET not in message
    assert "\n" not in message
    return message


# text


def test_text_returns_the_string() -> None:
    assert text({"sql": "select 1"}, "sql") == "select 1"
    assert text({"sql": "select 'é', '😀'"}, "sql") == "select 'é', '😀'"


@pytest.mark.parametrize("arguments", [{}, {"sql": None}], ids=["missing", "null"])
def test_text_takes_the_default_for_missing_or_null(arguments: dict[str, Any]) -> None:
    assert text(arguments, "sql", default="public") == "public"
    assert _refusal(text, arguments, "sql") == "sql must be a non-empty string"


@pytest.mark.parametrize("value", ["", "  \n\t", 3, True, ["select 1"], {"a": 1}])
def test_text_refuses_empty_blank_and_what_is_not_a_string(value: Any) -> None:
    assert _refusal(text, {"table": value}, "table") == "table must be a non-empty string"


@pytest.mark.parametrize("surrogate", SURROGATES, ids=[f"{ord(s):X}" for s in SURROGATES])
def test_text_refuses_lone_surrogates_high_and_low(surrogate: str) -> None:
    message = _refusal(text, {"sql": f"select '{SECRET}{surrogate}'"}, "sql")
    assert message.startswith("sql holds a lone surrogate")


def test_text_refuses_a_nul_character() -> None:
    message = _refusal(text, {"schema": f"{SECRET}\x00"}, "schema")
    assert message == "schema holds a NUL character, which PostgreSQL text cannot"


# params


@pytest.mark.parametrize("arguments", [{}, {"params": None}], ids=["missing", "null"])
def test_params_are_none_when_missing_or_null(arguments: dict[str, Any]) -> None:
    assert params(arguments) is None


def test_params_take_each_kind_of_value_at_its_bounds() -> None:
    values = ["", "é😀", 0, BIGINT_MIN, BIGINT_MAX, -1.5, 1e308, True, False, None]
    assert params({"params": values}) == values
    assert params({"params": []}) == []


@pytest.mark.parametrize(
    "value", [{"params": "x"}, {"params": {"1": 2}}, {"params": [[1]]}, {"params": [{"a": 1}]}]
)
def test_params_refuse_what_is_not_a_list_of_plain_values(value: dict[str, Any]) -> None:
    assert _refusal(params, value) == (
        "params must be a list of strings, numbers, booleans or nulls"
    )


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_params_refuse_nan_and_infinity(number: float) -> None:
    message = _refusal(params, {"params": [1, number]})
    assert message == "the value for $2 in params must be a finite number, not NaN or Infinity"


@pytest.mark.parametrize("number", [BIGINT_MAX + 1, BIGINT_MIN - 1, 10**400])
def test_params_refuse_integers_beyond_bigint_and_say_to_send_strings(number: int) -> None:
    message = _refusal(params, {"params": [number]})
    assert message.startswith("the value for $1 in params is beyond PostgreSQL's bigint")
    assert message.endswith("send larger numbers as strings")
    assert str(number) not in message


def test_params_take_true_as_a_boolean_not_a_number() -> None:
    """True is an int to Python; it must neither pass as 1 nor be range-checked."""
    values = params({"params": [True]})
    assert values == [True]
    assert values is not None
    assert values[0] is True


@pytest.mark.parametrize("surrogate", SURROGATES[::2], ids=["high", "low"])
def test_params_refuse_lone_surrogates_and_nul_in_strings(surrogate: str) -> None:
    message = _refusal(params, {"params": ["ok", f"{SECRET}{surrogate}"]})
    assert message.startswith("the value for $2 in params holds a lone surrogate")
    message = _refusal(params, {"params": [f"{SECRET}\x00"]})
    assert (
        message == "the value for $1 in params holds a NUL character, which PostgreSQL text cannot"
    )


# seconds


def test_seconds_take_the_default_when_missing() -> None:
    assert seconds({}, "wait_seconds", default=1.5, maximum=60) == 1.5


def test_seconds_refuse_null_rather_than_take_it_for_the_default() -> None:
    """The schema says a number: null is not one, to a client's validator nor here."""
    message = _refusal(seconds, {"wait_seconds": None}, "wait_seconds", default=0, maximum=60)
    assert message == "wait_seconds must be a number of seconds (leave it out for 0)"


@pytest.mark.parametrize("value", [0, 0.0, 2, 2.5, 60, 60.0])
def test_seconds_take_values_from_zero_to_the_maximum(value: float) -> None:
    taken = seconds({"wait_seconds": value}, "wait_seconds", default=0, maximum=60)
    assert taken == value
    assert type(taken) is float


@pytest.mark.parametrize("value", [-1, -0.001, 60.001, 61, 10**400, -(10**400)])
def test_seconds_refuse_values_outside_the_range_rather_than_clamp(value: float) -> None:
    message = _refusal(seconds, {"wait_seconds": value}, "wait_seconds", default=0, maximum=60)
    assert message == "wait_seconds must be from 0 to 60 seconds"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_seconds_refuse_nan_and_infinity(value: float) -> None:
    message = _refusal(seconds, {"wait_seconds": value}, "wait_seconds", default=0, maximum=60)
    assert message == "wait_seconds must be a finite number of seconds"


@pytest.mark.parametrize("value", [True, False, "5", [5], {"s": 5}])
def test_seconds_refuse_booleans_and_what_is_not_a_number(value: Any) -> None:
    message = _refusal(seconds, {"wait_seconds": value}, "wait_seconds", default=0, maximum=60)
    assert message == "wait_seconds must be a number of seconds (leave it out for 0)"

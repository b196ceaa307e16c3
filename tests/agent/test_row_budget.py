"""Rows measured a chunk at a time keep exactly what measuring them one by one kept: the same
rows, as the same JSON, cut at the same row, counted the same; and an answer made with the
rows' JSON as it was measured reads as one made by encoding them again (agent/values.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import random
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from supalink.agent.values import RowBudget, Rows, dumps, json_rows, json_value


class Level(enum.IntEnum):
    LOW = 1


def one_by_one(
    chunks: Sequence[Sequence[Sequence[Any]]], max_rows: int, max_bytes: int
) -> tuple[str, int, int, bool]:
    """What the budget kept before it measured chunks: each row made JSON value by value,
    encoded and measured alone, the reading stopped at the first row that did not fit."""
    kept: list[list[Any]] = []
    seen = used = 0
    for chunk in chunks:
        for row in chunk:
            seen += 1
            values = [json_value(value) for value in row]
            size = len(dumps(values).encode()) + 1
            if len(kept) >= max_rows or used + size > max_bytes:
                return dumps(kept), seen, used, True
            kept.append(values)
            used += size
    return dumps(kept), seen, used, False


def chunk_by_chunk(
    chunks: Sequence[Sequence[Sequence[Any]]], max_rows: int, max_bytes: int
) -> tuple[str, int, int, bool]:
    budget = RowBudget(max_rows, max_bytes)
    for chunk in chunks:
        if not budget.add_many(chunk):
            break
    assert all(type(row) is list for row in budget.rows)
    assert budget.rows_json() == dumps(budget.rows)
    return dumps(budget.rows), budget.seen, budget.used_bytes, budget.truncated


SAMPLES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -7,
    2**70,
    "",
    "plain",
    'a "quoted" \\ back\nslash',
    "é",
    "日本語",
    "🐘 emoji",
    "\x00\x1f control",
    0.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    Decimal("12345678901234567890.5"),
    Decimal("NaN"),
    dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC),
    dt.date(2026, 12, 1),
    dt.time(10, 30),
    dt.timedelta(days=1),
    b"\x00\xff",
    {"k": [1, 2.5, float("nan")], 3: None},
    [1, "two", None],
    (1, 2),
    Level.LOW,
)


# Columns of one kind of value and NULL, which are converted as that kind.
ONE_KIND_COLUMNS: tuple[tuple[Any, ...], ...] = (
    (0.5, -1e300, float("nan"), float("inf"), None),
    (dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC), dt.datetime(1, 1, 1), None),
    (dt.date(2026, 12, 1), dt.date(9999, 12, 31)),
    (dt.time(10, 30), dt.time(0, 0, 0, 1), None),
    (Decimal("12345678901234567890.5"), Decimal("NaN"), Decimal("-0"), None),
    (uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), None),
    (Level.LOW, None),  # an int's subclass: no kind of its own
)


def _table(rng: random.Random, rows: int, kinds: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return [tuple(rng.choice(kind) for kind in kinds) for _ in range(rows)]


def _chunks(rows: list[tuple[Any, ...]], size: int) -> list[list[tuple[Any, ...]]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


@pytest.mark.parametrize("seed", range(40))
def test_chunks_keep_what_rows_one_by_one_kept(seed: int) -> None:
    rng = random.Random(seed)
    plain = (None, 1, 42, -3, 10**12, True, "active", "pending", "é", "🐘")
    kinds = (plain, SAMPLES, (1, 2, 3), ("a", "bb", None), *ONE_KIND_COLUMNS)
    columns = [rng.choice(kinds) for _ in range(3)]
    rows = _table(rng, rng.randint(0, 700), columns[: rng.randint(0, 3)])
    chunk_size = rng.choice((1, 7, 200))
    full = len(dumps([list(map(json_value, row)) for row in rows]).encode())
    # Budgets that cut nowhere, at a row, exactly at a boundary, or in a chunk's middle.
    for max_rows, max_bytes in (
        (10_000, 256_000),
        (rng.randint(1, 700), 256_000),
        (10_000, max(2, rng.randint(1, full + 2))),
        (10_000, full - 1),
        (10_000, full),
        (rng.randint(1, 50), rng.randint(1, 2000)),
    ):
        chunks = _chunks(rows, chunk_size)
        assert chunk_by_chunk(chunks, max_rows, max_bytes) == one_by_one(
            chunks, max_rows, max_bytes
        ), (max_rows, max_bytes, chunk_size)


def test_rows_come_back_as_lists_of_json_values() -> None:
    assert json_rows([(1, "a", None, True), (2, "b", 3, False)]) == [
        [1, "a", None, True],
        [2, "b", 3, False],
    ]
    assert json_rows([(1, dt.date(2026, 1, 2)), (2, None)]) == [[1, "2026-01-02"], [2, None]]
    assert json_rows([(), ()]) == [[], []]
    assert json_rows([]) == []


def test_a_row_that_cannot_be_encoded_fails_where_it_did() -> None:
    """A lone surrogate cannot be UTF-8: the rows before it are kept, then it raises."""
    budget = RowBudget(100, 10_000)
    with pytest.raises(UnicodeEncodeError):
        budget.add_many([(1, "fine"), (2, "\ud800")])
    assert budget.rows == [[1, "fine"]]
    assert budget.seen == 2


def test_after_the_budget_ran_out_rows_are_only_counted() -> None:
    budget = RowBudget(1, 10_000)
    assert not budget.add_many([(1,), (2,), (3,)])
    assert (len(budget.rows), budget.seen, budget.truncated) == (1, 2, True)
    assert not budget.add_many([(4,), (5,)])
    assert budget.seen == 4


@pytest.mark.parametrize(
    "columns", [(), ("id", "status"), ('"rows":[]', "rows", '],"rows":[]'), ("é", "\\")]
)
def test_an_answer_reuses_the_rows_json_and_reads_as_it_did(columns: tuple[str, ...]) -> None:
    budget = RowBudget(3, 10_000)
    budget.add_many([tuple(range(len(columns))), tuple("x" * len(columns))])
    budget.add_many([tuple([None] * len(columns))] * 2)
    plain = Rows(columns, budget.rows, budget.truncated, "SELECT 4", budget.seen)
    reused = dataclasses.replace(plain, rows_json=budget.rows_json())
    assert reused.json_text() == plain.json_text() == dumps(plain.as_json())

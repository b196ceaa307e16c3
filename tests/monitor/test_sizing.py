"""The guide's sizing rule and the compute-size limits from DESIGN.md."""

from __future__ import annotations

import pytest

from supalink.monitor.sizing import advise, compute_size
from supalink.profiles.defaults import pool_max
from supalink.profiles.supabase import Mode


@pytest.mark.parametrize(
    ("concurrent", "buffer", "expected"), [(0, 0, 0), (10, 2, 17), (7, 3, 14), (1, 0, 2)]
)
def test_max_is_ceil_of_one_and_a_half_times_concurrency_plus_buffer(
    concurrent: int, buffer: int, expected: int
) -> None:
    assert pool_max(concurrent, buffer) == expected


@pytest.mark.parametrize(
    ("name", "direct", "pooled"),
    [
        ("Nano", 60, 200),
        ("Micro", 60, 200),
        ("Small", 90, 400),
        ("Medium", 120, 600),
        ("Large", 160, 800),
        ("XL", 240, 1000),
        ("2XL", 380, 1500),
        ("4XL", 480, 3000),
        ("8XL", 490, 6000),
        ("12XL", 500, 9000),
        ("16XL", 500, 12000),
    ],
)
def test_limits_by_compute_size(name: str, direct: int, pooled: int) -> None:
    size = compute_size(name)
    assert (size.max_connections, size.pooler_clients) == (direct, pooled)


def test_sum_of_pools_is_checked_against_the_right_limit() -> None:
    nano = compute_size("nano")
    assert advise(10, nano, Mode.DIRECT).verdict == "ok"
    assert advise(10, nano, Mode.DIRECT, other_pools=(20, 15)).verdict == "tight"  # 52 of 60
    over = advise(10, nano, Mode.SESSION, other_pools=(20, 30))
    assert over.verdict == "over"
    assert "exceed Nano's max_connections limit of 60" in over.message
    assert advise(10, nano, Mode.TRANSACTION, other_pools=(20, 20)).limit == 200
    # The dedicated pooler pools transactions too: its clients count, not backends.
    assert advise(10, nano, Mode.DEDICATED, other_pools=(20, 20)).limit == 200


def test_negative_input_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        pool_max(-1, 2)

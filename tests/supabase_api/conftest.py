"""The Management API's loopback stand-in, one per test (each test shapes its answers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.supabase_api import StandIn, running


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    with running() as server:
        yield server

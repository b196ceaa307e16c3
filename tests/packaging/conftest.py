"""Fixtures of the packaging tests."""

from __future__ import annotations

import pytest

from tests.packaging.validators import LinuxValidators, ensure_linux_validators


@pytest.fixture(scope="session")
def linux_validators() -> LinuxValidators:
    return ensure_linux_validators()

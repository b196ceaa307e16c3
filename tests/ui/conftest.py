"""The windows' tests use the fixtures of tests/support/windows.py."""

from tests.support.windows import app_context, message_boxes

__all__ = ["app_context", "message_boxes"]

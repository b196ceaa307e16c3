"""The end-to-end flow uses the windows' fixtures (tests/support/windows.py): a context on
the real Secret Service, and message boxes that answer instead of blocking."""

from tests.support.windows import app_context, message_boxes

__all__ = ["app_context", "message_boxes"]

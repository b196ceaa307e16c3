"""The end-to-end flow uses the UI tests' fixtures: a context on the real Secret Service,
and message boxes that answer instead of blocking."""

from tests.ui.conftest import app_context, message_boxes

__all__ = ["app_context", "message_boxes"]

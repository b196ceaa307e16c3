"""The windows' tests use the fixtures of tests/support/windows.py, and the Sign in
dialog's those of tests/support/supabase_api.py."""

from tests.support.supabase_api import keyring, stand_in
from tests.support.windows import app_context, message_boxes

__all__ = ["app_context", "keyring", "message_boxes", "stand_in"]

"""The Management API's loopback stand-in and a keyring without a token: the fixtures of
tests/support/supabase_api.py."""

from tests.support.supabase_api import keyring, stand_in

__all__ = ["keyring", "stand_in"]

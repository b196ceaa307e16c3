"""The personal access token's one home: the OS keyring, entry `supabase (access token)`."""

from __future__ import annotations

from supalink.profiles import SecretKind, SecretStore
from supalink.supabase_api.errors import InvalidToken, NotSignedIn

# The keyring account the token is kept under; SecretKind.ACCESS_TOKEN is no profile's.
TOKEN_ACCOUNT = "supabase"  # noqa: S105 (an account name)
MAX_TOKEN_LENGTH = 4096


def token_problem(token: str) -> str | None:
    """Why `token` cannot be a personal access token (it goes in an HTTP header)."""
    if not token:
        return "the access token is empty"
    if len(token) > MAX_TOKEN_LENGTH:
        return f"the access token is longer than {MAX_TOKEN_LENGTH} characters"
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        return "the access token holds spaces or characters a token does not have"
    return None


def checked_token(token: str) -> str:
    if problem := token_problem(token):
        raise InvalidToken(problem)
    return token


def saved_token(store: SecretStore) -> str:
    token = store.get(TOKEN_ACCOUNT, SecretKind.ACCESS_TOKEN)
    if not token:
        raise NotSignedIn(store.description)
    return token


def save_token(store: SecretStore, token: str) -> None:
    store.set(TOKEN_ACCOUNT, SecretKind.ACCESS_TOKEN, checked_token(token))


def forget_token(store: SecretStore) -> bool:
    """Delete the saved token; False when there was none."""
    had = store.get(TOKEN_ACCOUNT, SecretKind.ACCESS_TOKEN) is not None
    store.delete(TOKEN_ACCOUNT, SecretKind.ACCESS_TOKEN)
    return had

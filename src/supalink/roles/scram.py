"""The new password as a SCRAM-SHA-256 secret (RFC 5802/7677, as PostgreSQL stores it): the
server, its statement log and anything that reads `pg_stat_activity` see only the secret,
never the password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 4096  # PostgreSQL's default scram_iterations
PASSWORD_BYTES = 32


def new_password() -> str:
    """32 random bytes as URL-safe text: no character that needs quoting in a URI."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def scram_secret(password: str, *, salt: bytes | None = None) -> str:
    """`SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. The password is used as
    given: a token_urlsafe password is ASCII, which SASLprep leaves unchanged."""
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"

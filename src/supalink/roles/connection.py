"""How the roles package reaches the server: an admin (or any) login from a connection
target, in a transaction, with the server's failures turned into one masked line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from supalink.error_texts import first_line
from supalink.logs import SecretMasker
from supalink.profiles import ProfileRepository, Target
from supalink.profiles.defaults import APPLICATION_NAME
from supalink.roles.errors import PasswordMissing, ServerRefused

ROLES_APPLICATION_NAME = f"{APPLICATION_NAME}-roles"


def masked_line(error: BaseException, *secrets: str) -> str:
    masker = SecretMasker()
    masker.add_secrets(secrets)
    return masker.mask(first_line(str(error)) or type(error).__name__)


@asynccontextmanager
async def connected(
    target: Target, action: str, *, extra_secrets: tuple[str, ...] = ()
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A connection for `action` (its name in the error); a psycopg failure while it is
    open, the connection lost among them, becomes ServerRefused. The caller commits."""
    secrets = (*target.secrets, *extra_secrets)
    try:
        conn = await psycopg.AsyncConnection.connect(
            **target.connection_kwargs(application_name=ROLES_APPLICATION_NAME)
        )
    except psycopg.Error as error:
        raise ServerRefused(action, masked_line(error, *secrets)) from None
    try:
        async with conn:
            yield conn
    except psycopg.Error as error:
        raise ServerRefused(action, masked_line(error, *secrets)) from None


async def rows(
    conn: psycopg.AsyncConnection[Any], query: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """A catalog query with parameters (the extended protocol: one statement, values apart)."""
    cursor = await conn.execute(query, params)
    return await cursor.fetchall()


def saved_target(repository: ProfileRepository, profile: str) -> Target:
    """A saved profile's target with its password (an admin's, through which roles change);
    PasswordMissing when none is kept."""
    password = repository.password_value(profile)
    if password is None:
        raise PasswordMissing(profile)
    return Target.from_profile(repository.load(profile).profile, password)

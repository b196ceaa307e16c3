"""The one place that turns a profile into psycopg connection parameters."""

from __future__ import annotations

from typing import Any

from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode

# Find a silently dead connection (NAT timeouts, sleeping laptops) in about a minute.
TCP_KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def connection_kwargs(
    profile: Profile,
    password: str | None,
    *,
    application_name: str | None = None,
    connect_timeout: float | None = None,
    hostaddr: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `psycopg.connect` / `AsyncConnection.connect` / pool kwargs.

    Transaction-mode poolers hand each transaction to any server connection, so
    prepared statements must be off there (`prepare_threshold=None`).
    """
    endpoint = profile.endpoint()
    timeout = connect_timeout if connect_timeout is not None else profile.connect_timeout
    kwargs: dict[str, Any] = {
        "host": endpoint.host,
        "port": endpoint.port,
        "user": endpoint.user,
        "dbname": endpoint.database,
        "sslmode": profile.sslmode,
        # libpq takes whole seconds; never round a short timeout down to 0 (= wait forever).
        "connect_timeout": max(1, round(timeout)),
        "application_name": application_name or profile.application_name,
        **TCP_KEEPALIVES,
    }
    if hostaddr is not None:
        # The connection test resolves the name itself (a seam) and connects to the address it
        # chose; libpq still checks the certificate against the host name.
        kwargs["hostaddr"] = hostaddr
    if password is not None:
        kwargs["password"] = password
    if profile.sslrootcert and profile.sslmode != "disable":
        kwargs["sslrootcert"] = profile.sslrootcert
    if profile.mode is Mode.TRANSACTION:
        kwargs["prepare_threshold"] = None
    return kwargs

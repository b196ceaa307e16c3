"""The connection target: where to connect and how, built once from a profile or from a
URI, then handed to the connection test, the monitor, the server entries and the CLI.

It holds libpq's connection parameters (the password among them), the Supabase mode
when it is known (a transaction pooler takes no prepared statements and no LISTEN), and
the secrets to mask in anything said about it. `connection_kwargs` is the one place that
turns it into psycopg's keyword arguments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from supalink.profiles import defaults
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode
from supalink.profiles.uris import (
    UriError,
    mask_candidates,
    password_candidates,
    without_client_parameters,
)

# Find a silently dead connection (NAT timeouts, sleeping laptops) in about a minute.
TCP_KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
_QUOTED = re.compile(r'".*"', re.DOTALL)


@dataclass(frozen=True)
class Target:
    """What to connect to. `params` are libpq keywords; `source` is the conninfo text the
    target was read from (None for a profile), kept as given for the server entries."""

    params: Mapping[str, str | int]
    mode: Mode | None = None
    profile: Profile | None = None
    source: str | None = field(default=None, repr=False)
    ignored: tuple[str, ...] = ()  # client libraries' parameters in `source`, not libpq's

    @classmethod
    def from_profile(cls, profile: Profile, password: str | None) -> Target:
        endpoint = profile.endpoint()
        params: dict[str, str | int] = {
            "host": endpoint.host,
            "port": endpoint.port,
            "user": endpoint.user,
            "dbname": endpoint.database,
            "sslmode": profile.sslmode,
        }
        if profile.sslrootcert and profile.sslmode != "disable":
            params["sslrootcert"] = profile.sslrootcert
        params["connect_timeout"] = profile.connect_timeout
        params["application_name"] = profile.application_name
        if password is not None:
            params["password"] = password
        return cls(params, profile.mode if profile.is_supabase else None, profile)

    @classmethod
    def from_conninfo(
        cls, text: str, *, sslrootcert: str | Path | None = None, mode: Mode | None = None
    ) -> Target:
        """A postgresql:// URI or a key=value string, read as libpq reads it. A CA
        file given beside it means wanting the server verified against it: verify-full,
        unless the text names an sslmode of its own."""
        import psycopg.conninfo

        text = text.strip()
        readable, ignored = without_client_parameters(text)
        try:
            parsed = psycopg.conninfo.conninfo_to_dict(readable)
        except psycopg.ProgrammingError as error:
            # libpq's message quotes the offending token, which can be part of the password:
            # everything between the first and the last quote goes, quotes inside too.
            # What is left is masked too, as every message that quotes the input is.
            reason = _QUOTED.sub("…", str(error).strip()) or "unreadable"
            if "percent" in reason:
                reason += " (a '%' in a password is written %25)"
            message = f"the connection string cannot be read: {reason}"
            raise UriError(mask_candidates(message, text)) from None
        params: dict[str, str | int] = {k: v for k, v in parsed.items() if v is not None}
        if sslrootcert is not None:
            params["sslrootcert"] = os.path.abspath(sslrootcert)
            params.setdefault("sslmode", defaults.SSLMODE)
        return cls(params, mode, None, text, ignored)

    @property
    def password(self) -> str | None:
        value = self.params.get("password")
        return str(value) if value else None

    @property
    def sslmode(self) -> str | None:
        """None when nothing was said: libpq then prefers TLS without requiring it."""
        value = self.params.get("sslmode")
        return str(value) if value else None

    @property
    def sslrootcert(self) -> str | None:
        value = self.params.get("sslrootcert")
        return str(value) if value else None

    @property
    def secrets(self) -> tuple[str, ...]:
        """The password as it is and as URIs carry it, for masking whatever mentions it."""
        password = self.password
        if password is None:
            return ()
        forms = [password, quote(password, safe="")]
        if self.source:
            # As the source wrote it (in the userinfo or as ?password=), however encoded.
            candidates = password_candidates(self.source)
            forms += [form for form in candidates if password in (form, unquote(form))]
        return tuple(dict.fromkeys(form for form in forms if form))

    def with_password(self, password: str | None) -> Target:
        params = {key: value for key, value in self.params.items() if key != "password"}
        if password is not None:
            params["password"] = password
        return replace(self, params=params)

    def connection_kwargs(
        self,
        *,
        application_name: str | None = None,
        connect_timeout: float | None = None,
        hostaddr: str | None = None,
        tcp_user_timeout: float | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for `psycopg.connect`, `AsyncConnection.connect` and a pool's
        `kwargs`: the target's own parameters, TCP keepalives on, and what the caller
        decides (its name on the server, how long it waits for a connection, how long data
        it sent may stay unacknowledged before the kernel ends the connection: libpq's
        `tcp_user_timeout`, honoured on Linux, ignored elsewhere).

        Transaction-mode poolers hand each transaction to any server connection, so
        prepared statements must be off there (`prepare_threshold=None`).
        """
        kwargs: dict[str, Any] = {**self.params, **TCP_KEEPALIVES}
        if connect_timeout is not None:
            # libpq takes whole seconds; never round a short timeout down to 0 (= wait forever).
            kwargs["connect_timeout"] = max(1, round(connect_timeout))
        if application_name is not None:
            kwargs["application_name"] = application_name
        if tcp_user_timeout is not None:
            kwargs["tcp_user_timeout"] = max(1, round(tcp_user_timeout * 1000))  # milliseconds
        if hostaddr is not None:
            # The connection test resolves the name itself (a seam) and connects to the
            # address it chose; libpq still checks the certificate against the host name.
            kwargs["hostaddr"] = hostaddr
        if self.mode is not None and not self.mode.prepares:
            kwargs["prepare_threshold"] = None
        return kwargs

"""The Management API client: a bearer token, a base URL, and the three reads Supalink needs.

httpx2 is the HTTP client the MCP SDK already brings. Redirects are never followed, so the
token goes to the base URL's host and nowhere else."""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import math
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from supalink import __version__
from supalink.logs import mask_in_log_file
from supalink.profiles.supabase import ref_problem
from supalink.supabase_api.errors import (
    ApiUnreachable,
    ApiUrlRefused,
    InvalidRef,
    MissingPermissions,
    NoDedicatedPooler,
    ProjectNotFound,
    RateLimited,
    TokenRejected,
    UnexpectedAnswer,
)
from supalink.supabase_api.models import (
    DedicatedPooler,
    PoolerEndpoint,
    Project,
    dedicated_from,
    primary_pooler,
    projects_from,
)

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.supabase.com"
BASE_URL_VARIABLE = "SUPALINK_SUPABASE_API"
TOKEN_PAGE = "https://supabase.com/dashboard/account/tokens"  # noqa: S105 (a web page)
# A rate limit that lifts within this many seconds (all waits together) is waited out.
MAX_RETRY_WAIT = 10.0
DEFAULT_RETRY_AFTER = 60  # seconds, when a 429 does not say
REF_IN_PATH = re.compile(r"/[a-z0-9]{20}/")


def base_url(environ: Mapping[str, str] | None = None) -> str:
    """The API's base URL: https://api.supabase.com, or SUPALINK_SUPABASE_API (a stand-in
    for tests); plain http only to this machine, so a token never crosses a network bare."""
    environ = os.environ if environ is None else environ
    url = environ.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
    try:
        split = urlsplit(url)
        host = split.hostname
        split.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise ApiUrlRefused(url, "it is not a URL") from None
    if not host or split.scheme not in ("https", "http"):
        raise ApiUrlRefused(url, "it must be an https:// URL with a host")
    if split.username is not None or split.query or split.fragment:
        raise ApiUrlRefused(url, "it may hold no user, query or fragment")
    if split.scheme == "http" and not _is_loopback(host):
        raise ApiUrlRefused(url, "plain http:// is only for a loopback host (127.0.0.1, ::1)")
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def retry_after_seconds(value: str | None, now: float | None = None) -> int:
    """Retry-After as whole seconds (rounded up): a number or an HTTP date."""
    if value is None:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(0, math.ceil(when - (time.time() if now is None else now)))


class ManagementApi:
    """`async with ManagementApi(token) as api:` then `await api.projects()` and so on.

    Each error is one of supabase_api.errors; the token is added to the log file's mask
    before any request is made."""

    def __init__(
        self,
        token: str,
        url: str | None = None,
        *,
        timeout: float = 15.0,
        max_retry_wait: float = MAX_RETRY_WAIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.url = url or base_url()
        self._token = token
        self._timeout = timeout
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._client: httpx2.AsyncClient | None = None

    def __repr__(self) -> str:  # never the token
        return f"ManagementApi({self.url!r})"

    async def __aenter__(self) -> ManagementApi:
        import httpx2

        mask_in_log_file([self._token])
        self._client = httpx2.AsyncClient(
            base_url=self.url,
            headers={
                "Authorization": f"Bearer {self._token}",
                "Accept": "application/json",
                "User-Agent": f"supalink/{__version__}",
            },
            timeout=self._timeout,
            follow_redirects=False,
            trust_env=False,  # no proxy or netrc from the environment sees the token
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def projects(self) -> list[Project]:
        path = "/v1/projects"
        return projects_from(await self._get(path, "the project list"), path)

    async def project(self, ref: str) -> Project:
        _check_ref(ref)
        for project in await self.projects():
            if project.ref == ref:
                return project
        raise ProjectNotFound(ref)

    async def pooler(self, ref: str, mode: str | None = None) -> PoolerEndpoint:
        """The shared pooler's exact endpoint for the PRIMARY database."""
        _check_ref(ref)
        path = f"/v1/projects/{ref}/config/database/pooler"
        body = await self._get(path, f"the pooler settings of {ref}", missing=ProjectNotFound(ref))
        return primary_pooler(body, path, mode)

    async def dedicated_pooler(self, ref: str) -> DedicatedPooler:
        _check_ref(ref)
        path = f"/v1/projects/{ref}/config/database/pgbouncer"
        body = await self._get(
            path, f"the dedicated pooler of {ref}", missing=NoDedicatedPooler(ref)
        )
        if not body:
            raise NoDedicatedPooler(ref)
        return dedicated_from(body, path)

    async def _get(self, path: str, what: str, *, missing: Exception | None = None) -> Any:
        import httpx2

        if self._client is None:
            raise RuntimeError("use ManagementApi in `async with`")
        waited = 0.0
        while True:
            try:
                response = await self._client.get(path)
            except httpx2.TimeoutException:
                raise ApiUnreachable(self.url, f"no answer within {self._timeout:g} s") from None
            except httpx2.TransportError as error:
                raise ApiUnreachable(self.url, _cause(error)) from None
            # The ref, kept in the keyring, stays out of the log file too.
            log.info("GET %s: %s", REF_IN_PATH.sub("/{ref}/", path), response.status_code)
            status = response.status_code
            if status == 429:
                wait = retry_after_seconds(response.headers.get("Retry-After"))
                if waited + wait > self._max_retry_wait:
                    raise RateLimited(wait)
                waited += wait
                await self._sleep(wait)
                continue
            if status == 200:
                try:
                    return response.json()
                except ValueError:
                    raise UnexpectedAnswer(path, "the body is not JSON") from None
            if status == 401:
                raise TokenRejected()
            if status == 403:
                raise _forbidden(what, response)
            if status == 404 and missing is not None:
                raise missing
            raise UnexpectedAnswer(path, f"HTTP {status}")


def _check_ref(ref: str) -> None:
    if problem := ref_problem(ref):
        raise InvalidRef(ref, problem)


def _cause(error: Exception) -> str:
    text = str(error).strip()
    return text or type(error).__name__


def _forbidden(what: str, response: httpx2.Response) -> MissingPermissions:
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    listed = body.get("missing_permissions")
    permissions = (
        tuple(str(p) for p in listed if isinstance(p, str)) if isinstance(listed, list) else ()
    )
    message = body.get("message")
    return MissingPermissions(what, permissions, message if isinstance(message, str) else None)

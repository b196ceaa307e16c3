"""The Management API client against the loopback stand-in: what it reads, and each error
as one line that carries its data and never the token."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from supalink.logs import SecretMasker, configure_logging
from supalink.profiles import Mode
from supalink.supabase_api import ManagementApi, TokenRejected, base_url, profile_from_project
from supalink.supabase_api.client import retry_after_seconds
from supalink.supabase_api.errors import (
    ApiError,
    ApiUnreachable,
    ApiUrlRefused,
    InvalidRef,
    MissingPermissions,
    NoDedicatedPooler,
    ProjectNotFound,
    ProjectNotReady,
    RateLimited,
    UnexpectedAnswer,
)
from tests.support.supabase_api import (
    HEALTHY_HOST,
    HEALTHY_REF,
    PAUSED_REF,
    TOKEN,
    UNHEALTHY_REF,
    Reply,
    StandIn,
)

T = TypeVar("T")


def call(
    stand_in: StandIn,
    action: Callable[[ManagementApi], Awaitable[T]],
    *,
    token: str = TOKEN,
    sleeps: list[float] | None = None,
) -> T:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    async def main() -> T:
        async with ManagementApi(token, stand_in.url, sleep=sleep) as api:
            return await action(api)

    return asyncio.run(main())


def fails(stand_in: StandIn, action: Callable[[ManagementApi], Awaitable[Any]], **kw: Any) -> str:
    with pytest.raises(ApiError) as caught:
        call(stand_in, action, **kw)
    message = str(caught.value)
    assert "\n" not in message
    assert TOKEN not in message
    assert TOKEN not in repr(caught.value)
    return message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "https://api.supabase.com"),
        ("", "https://api.supabase.com"),
        ("http://127.0.0.1:8123/", "http://127.0.0.1:8123"),
        ("http://[::1]:8123", "http://[::1]:8123"),
        ("http://localhost:9", "http://localhost:9"),
        ("https://api.example.org", "https://api.example.org"),
    ],
)
def test_the_base_url_is_supabase_or_a_safe_override(value: str | None, expected: str) -> None:
    environ = {} if value is None else {"SUPALINK_SUPABASE_API": value}
    assert base_url(environ) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("http://api.example.org", "plain http:// is only for a loopback host"),
        ("http://10.0.0.1:8080", "plain http:// is only for a loopback host"),
        ("ftp://127.0.0.1", "must be an https:// URL"),
        ("https://user:pw@api.example.org", "no user, query or fragment"),
        ("https://api.example.org/?x=1", "no user, query or fragment"),
        ("https://api.example.org:99999", "not a URL"),
    ],
)
def test_a_base_url_that_would_expose_the_token_is_refused(value: str, reason: str) -> None:
    with pytest.raises(ApiUrlRefused, match="SUPALINK_SUPABASE_API") as caught:
        base_url({"SUPALINK_SUPABASE_API": value})
    assert reason in str(caught.value)


def test_projects_are_read_with_the_bearer_token(stand_in: StandIn) -> None:
    projects = call(stand_in, lambda api: api.projects())
    assert projects[0].summary() == {
        "ref": HEALTHY_REF,
        "name": "shop",
        "region": "ap-southeast-2",
        "status": "ACTIVE_HEALTHY",
        "postgres_version": "17.4.1.054",
    }
    assert [p.status for p in projects] == ["ACTIVE_HEALTHY", "INACTIVE", "ACTIVE_UNHEALTHY"]
    assert stand_in.requests == [("/v1/projects", f"Bearer {TOKEN}")]


def test_the_pooler_is_the_primary_entry_never_the_first(stand_in: StandIn) -> None:
    pooler = call(stand_in, lambda api: api.pooler(HEALTHY_REF))
    assert (pooler.host, pooler.port, pooler.user, pooler.database, pooler.pool_mode) == (
        HEALTHY_HOST,
        6543,
        f"postgres.{HEALTHY_REF}",
        "postgres",
        "transaction",
    )


def test_a_pooler_answer_without_a_primary_entry_is_unexpected(stand_in: StandIn) -> None:
    stand_in.poolers[HEALTHY_REF] = stand_in.poolers[HEALTHY_REF][:1]  # the replica alone
    message = fails(stand_in, lambda api: api.pooler(HEALTHY_REF))
    assert "no entry for the PRIMARY database" in message


@pytest.mark.parametrize(
    ("mode", "port", "user"),
    [(Mode.SESSION, 5432, f"postgres.{HEALTHY_REF}"), (Mode.TRANSACTION, 6543, None)],
)
def test_a_profile_is_filled_with_the_apis_exact_host(
    stand_in: StandIn, mode: Mode, port: int, user: str | None
) -> None:
    profile = call(stand_in, lambda api: profile_from_project(api, "shop", HEALTHY_REF, mode))
    endpoint = profile.endpoint()
    assert (endpoint.host, endpoint.port, endpoint.user, endpoint.database) == (
        HEALTHY_HOST,
        port,
        f"postgres.{HEALTHY_REF}",
        "postgres",
    )
    assert (profile.mode, profile.ref, profile.region) == (mode, HEALTHY_REF, "ap-southeast-2")


def test_a_direct_profile_needs_no_pooler(stand_in: StandIn) -> None:
    profile = call(
        stand_in, lambda api: profile_from_project(api, "shop", HEALTHY_REF, Mode.DIRECT)
    )
    assert profile.endpoint().host == f"db.{HEALTHY_REF}.supabase.co"
    assert [path for path, _ in stand_in.requests] == ["/v1/projects"]


def test_a_rejected_token(stand_in: StandIn) -> None:
    message = fails(stand_in, lambda api: api.projects(), token="sbp_" + "f" * 40)
    assert message == "Supabase rejected the access token (401): it is wrong, expired or revoked"
    with pytest.raises(TokenRejected):
        call(stand_in, lambda api: api.projects(), token="sbp_" + "f" * 40)


def test_a_token_without_the_permission_names_what_it_lacks(stand_in: StandIn) -> None:
    path = f"/v1/projects/{HEALTHY_REF}/config/database/pooler"
    body = {"message": "Forbidden", "missing_permissions": ["database_pooling_config_read"]}
    stand_in.queue(path, Reply(403, body))
    message = fails(stand_in, lambda api: api.pooler(HEALTHY_REF))
    assert message == (
        f"the access token may not read the pooler settings of {HEALTHY_REF} (403): "
        "it lacks database_pooling_config_read"
    )
    stand_in.queue(path, Reply(403, {"message": "Forbidden resource"}))
    with pytest.raises(MissingPermissions, match=r"lacks a permission \(Forbidden resource\)"):
        call(stand_in, lambda api: api.pooler(HEALTHY_REF))


@pytest.mark.parametrize(
    ("ref", "words"),
    [(PAUSED_REF, "is paused (status INACTIVE)"), (UNHEALTHY_REF, "is not healthy")],
)
def test_a_paused_or_unhealthy_project_is_said_and_its_pooler_not_asked(
    stand_in: StandIn, ref: str, words: str
) -> None:
    with pytest.raises(ProjectNotReady) as caught:
        call(stand_in, lambda api: profile_from_project(api, "x", ref, Mode.SESSION))
    assert words in str(caught.value)
    assert caught.value.ref == ref
    assert [path for path, _ in stand_in.requests] == ["/v1/projects"]


def test_an_unknown_project(stand_in: StandIn) -> None:
    with pytest.raises(ProjectNotFound, match="no project 'abcdefghijklmnopqrst'"):
        call(stand_in, lambda api: api.project("abcdefghijklmnopqrst"))
    with pytest.raises(InvalidRef, match="20 lowercase letters"):
        call(stand_in, lambda api: api.pooler("../../v1/other"))


def test_a_project_without_a_dedicated_pooler(stand_in: StandIn) -> None:
    with pytest.raises(NoDedicatedPooler, match="Micro compute and up"):
        call(stand_in, lambda api: api.dedicated_pooler(PAUSED_REF))
    dedicated = call(stand_in, lambda api: api.dedicated_pooler(HEALTHY_REF))
    assert dedicated.pool_mode == "transaction"


def test_the_api_unreachable() -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = StandIn(url=f"http://127.0.0.1:{port}")
    message = fails(closed, lambda api: api.projects())
    assert message.startswith(
        f"cannot reach the Supabase Management API at http://127.0.0.1:{port}: "
    )
    with pytest.raises(ApiUnreachable):
        call(closed, lambda api: api.projects())


def test_a_short_rate_limit_is_waited_out_once(stand_in: StandIn) -> None:
    stand_in.queue("/v1/projects", Reply(429, {"message": "slow down"}, {"Retry-After": "2"}))
    sleeps: list[float] = []
    projects = call(stand_in, lambda api: api.projects(), sleeps=sleeps)
    assert len(projects) == 3
    assert sleeps == [2]


def test_a_long_rate_limit_says_when_to_try_again(stand_in: StandIn) -> None:
    stand_in.queue("/v1/projects", Reply(429, None, {"Retry-After": "120"}))
    sleeps: list[float] = []
    message = fails(stand_in, lambda api: api.projects(), sleeps=sleeps)
    assert message.endswith("(429): try again in 120 s")
    assert sleeps == []
    # Waits add up: a second limit after a first one waited out is not waited for.
    stand_in.queue("/v1/projects", *[Reply(429, None, {"Retry-After": "6"})] * 2)
    with pytest.raises(RateLimited) as caught:
        call(stand_in, lambda api: api.projects(), sleeps=sleeps)
    assert (caught.value.retry_after, sleeps) == (6, [6])


def test_retry_after_as_seconds_or_a_date() -> None:
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Wed, 21 Oct 2026 07:28:00 GMT", now=1792567670.5) == 10
    assert retry_after_seconds(None) == retry_after_seconds("soon") == 60


def test_an_answer_of_another_shape_is_unexpected(stand_in: StandIn) -> None:
    stand_in.queue("/v1/projects", Reply(200, {"projects": []}))
    assert "answered /v1/projects unexpectedly: the answer is not a list" in fails(
        stand_in, lambda api: api.projects()
    )
    stand_in.queue("/v1/projects", Reply(500, {"message": "boom"}))
    with pytest.raises(UnexpectedAnswer, match="HTTP 500"):
        call(stand_in, lambda api: api.projects())


def test_the_client_never_shows_its_token() -> None:
    assert TOKEN not in repr(ManagementApi(TOKEN, "http://127.0.0.1:1"))


def test_the_token_is_masked_in_the_log_file_once_used(stand_in: StandIn, tmp_path: Path) -> None:
    log_file = tmp_path / "supalink.log"
    handler = configure_logging(log_file, SecretMasker(), level=logging.DEBUG)
    try:

        async def used(api: ManagementApi) -> None:
            await api.projects()
            # Whatever quotes it later (a library's message, a traceback) is masked.
            logging.getLogger("supalink.test").warning("header was Bearer %s", TOKEN)

        call(stand_in, used)
    finally:
        logging.getLogger("supalink").removeHandler(handler)
        handler.close()
    written = log_file.read_text()
    assert "header was Bearer ****" in written
    assert TOKEN not in written

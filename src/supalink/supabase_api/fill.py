"""A profile filled from the Management API: the exact pooler host, port and user the API
gives for the project's PRIMARY database, never a host guessed from the region."""

from __future__ import annotations

from supalink.profiles import Mode, Profile, UriError, parse_uri, supabase
from supalink.supabase_api.client import ManagementApi
from supalink.supabase_api.errors import ProjectNotReady, UnexpectedAnswer
from supalink.supabase_api.models import DedicatedPooler, PoolerEndpoint, Project


async def profile_from_project(
    api: ManagementApi, name: str, ref: str, mode: Mode, *, role: str | None = None
) -> Profile:
    """Profile `name` for project `ref` in `mode`, validated; ProjectNotReady when the
    project is paused or unhealthy (its endpoints would not answer)."""
    project = await api.project(ref)
    if not project.is_healthy:
        raise ProjectNotReady(ref, project.name, project.status)
    if mode is Mode.DIRECT:
        return _direct(name, project, role)
    if mode is Mode.DEDICATED:
        return dedicated_profile(name, project, await api.dedicated_pooler(ref), role=role)
    pool_mode = "transaction" if mode is Mode.TRANSACTION else "session"
    return pooled_profile(name, project, await api.pooler(ref, pool_mode), mode, role=role)


def _direct(name: str, project: Project, role: str | None) -> Profile:
    return Profile(
        name,
        Mode.DIRECT,
        ref=project.ref,
        region=project.region,
        user=role or supabase.DEFAULT_ROLE,
    ).validated()


def pooled_profile(
    name: str, project: Project, pooler: PoolerEndpoint, mode: Mode, *, role: str | None = None
) -> Profile:
    """Session or transaction pooling on the API's host. The API gives one port, for its
    entry's pool mode; the other mode is the other of Supavisor's two fixed ports."""
    suffix = f".{project.ref}"
    if not pooler.user.endswith(suffix):
        raise UnexpectedAnswer(
            f"/v1/projects/{project.ref}/config/database/pooler",
            f"the pooler user {pooler.user!r} does not end in {suffix!r}",
        )
    wanted = "transaction" if mode is Mode.TRANSACTION else "session"
    default_port = supabase.TRANSACTION_PORT if mode is Mode.TRANSACTION else supabase.SESSION_PORT
    port = pooler.port if pooler.pool_mode == wanted else default_port
    return Profile(
        name,
        mode,
        ref=project.ref,
        region=project.region,
        pooler_host=pooler.host,
        port=None if port == default_port else port,
        user=role or pooler.user.removesuffix(suffix),
        database=pooler.database,
    ).validated()


def dedicated_profile(
    name: str, project: Project, dedicated: DedicatedPooler, *, role: str | None = None
) -> Profile:
    """PgBouncer on db.<ref>.supabase.co:6543 with the plain role; the port and database of
    the API's connection string when it names that host (it is the dashboard's URI)."""
    profile = Profile(
        name,
        Mode.DEDICATED,
        ref=project.ref,
        region=project.region,
        user=role or supabase.DEFAULT_ROLE,
    )
    if dedicated.connection_string:
        try:
            given = parse_uri(dedicated.connection_string, name=name).profile
        except UriError:
            given = None
        if given is not None and given.mode is Mode.DEDICATED and given.ref == project.ref:
            profile = profile.replace(port=given.port, database=given.database)
    return profile.validated()

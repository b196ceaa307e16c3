"""Code to paste into a project for a profile. The password is always read from the
environment (PGPASSWORD), never written inline: snippets end up in repositories."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from supalink.profiles import defaults
from supalink.profiles.model import Profile
from supalink.profiles.target import Target
from supalink.profiles.uris import build_uri

PASSWORD_ENV = "PGPASSWORD"  # noqa: S105 (the variable's name, not a password)
STATEMENT_TIMEOUT_MS = defaults.STATEMENT_TIMEOUT_SECONDS * 1000
# Where the pool's max comes from, said beside it: the figure Pool sizing starts from.
POOL_MAX_WHY = (
    f"ceil({defaults.POOL_CONCURRENT_OPERATIONS} at once * 1.5) + {defaults.POOL_BUFFER}; "
    "Pool sizing fits it to your load"
)


@dataclass(frozen=True)
class Snippet:
    """A piece of code that connects with a profile, in one language."""

    key: str
    title: str
    language: str
    text: str


def dotenv(profile: Profile) -> str:
    endpoint = profile.endpoint()
    lines = [
        f"# Supalink profile {profile.name!r}. libpq, psql and node-postgres read these.",
        f"# {PASSWORD_ENV} is not written here: set it from your secret store.",
        f"PGHOST={endpoint.host}",
        f"PGPORT={endpoint.port}",
        f"PGUSER={endpoint.user}",
        f"PGDATABASE={endpoint.database}",
        f"PGSSLMODE={profile.sslmode}",
    ]
    if profile.sslrootcert:
        lines.append(f"PGSSLROOTCERT={profile.sslrootcert}")
    lines += [
        f"PGCONNECT_TIMEOUT={profile.connect_timeout}",
        f"PGAPPNAME={profile.application_name}",
    ]
    return "\n".join(lines) + "\n"


def node_pg_pool(profile: Profile) -> str:
    endpoint = profile.endpoint()
    if profile.sslmode == "disable":
        ssl = "false"
    elif profile.sslrootcert:
        ca = json.dumps(profile.sslrootcert)
        ssl = f"{{ rejectUnauthorized: true, ca: fs.readFileSync({ca}, 'utf8') }}"
    else:
        ssl = "{ rejectUnauthorized: true /* add ca: Supabase's CA is in no OS trust store */ }"
    header = 'import fs from "node:fs";\nimport pg from "pg";\n\n'
    return header + (
        "export const pool = new pg.Pool({\n"
        f"  host: {json.dumps(endpoint.host)},\n"
        f"  port: {endpoint.port},\n"
        f"  user: {json.dumps(endpoint.user)},\n"
        f"  database: {json.dumps(endpoint.database)},\n"
        f"  password: process.env.{PASSWORD_ENV},\n"
        f"  ssl: {ssl},\n"
        f"  min: {defaults.POOL_MIN_SIZE},\n"
        f"  max: {defaults.POOL_MAX_SIZE}, // {POOL_MAX_WHY}\n"
        f"  idleTimeoutMillis: {defaults.POOL_MAX_IDLE_SECONDS * 1000},\n"
        f"  connectionTimeoutMillis: {profile.connect_timeout * 1000},\n"
        f"  statement_timeout: {STATEMENT_TIMEOUT_MS},\n"
        f"  application_name: {json.dumps(profile.application_name)},\n"
        "  keepAlive: true,\n"
        "});\n"
    )


def python_psycopg_pool(profile: Profile) -> str:
    kwargs: dict[str, object] = {**Target.from_profile(profile, None).params, "keepalives": 1}
    if not profile.mode.is_pooled:
        kwargs["options"] = f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"
    body = "".join(f"        {key}={value!r},\n" for key, value in kwargs.items())
    if profile.mode.is_pooled:
        body += (
            "        # poolers may refuse startup options: set the statement timeout per role\n"
            f"        # (ALTER ROLE ... SET statement_timeout = {STATEMENT_TIMEOUT_MS}).\n"
        )
    body += f'        password=os.environ["{PASSWORD_ENV}"],\n'
    if not profile.mode.prepares:
        body += "        prepare_threshold=None,  # the transaction pooler cannot prepare\n"
    return (
        "import os\n\nfrom psycopg_pool import ConnectionPool\n\n"
        "pool = ConnectionPool(\n"
        "    kwargs=dict(\n"
        f"{body}"
        "    ),\n"
        f"    min_size={defaults.POOL_MIN_SIZE},\n"
        f"    max_size={defaults.POOL_MAX_SIZE},  # {POOL_MAX_WHY}\n"
        f"    max_idle={defaults.POOL_MAX_IDLE_SECONDS},\n"
        f"    timeout={profile.connect_timeout},\n"
        "    check=ConnectionPool.check_connection,\n"
        "    open=True,\n"
        ")\n"
    )


def psql(profile: Profile) -> str:
    return (
        f"# {PASSWORD_ENV} must be set in the environment; it never goes on the command line.\n"
        f"psql {shlex.quote(build_uri(profile))}\n"
    )


_MAKERS: tuple[tuple[str, str, str, Callable[[Profile], str]], ...] = (
    ("dotenv", ".env", "dotenv", dotenv),
    ("node", "Node.js pg Pool", "javascript", node_pg_pool),
    ("python", "Python psycopg pool", "python", python_psycopg_pool),
    ("psql", "psql", "shell", psql),
)


def snippets_for(profile: Profile) -> list[Snippet]:
    return [Snippet(key, title, language, make(profile)) for key, title, language, make in _MAKERS]

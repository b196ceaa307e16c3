"""`supalink supabase login|logout|projects`: the Management API with a personal access token
kept in the keyring; and the `profile add --from-project` fill, which lives here with them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from supalink.errors import SupalinkError, UsageError

if TYPE_CHECKING:
    from supalink.profiles import KeyringSecretStore, Profile
    from supalink.supabase_api import ManagementApi

T = TypeVar("T")
LOGIN = "supalink supabase login --token-stdin"


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "supabase", help="sign in to Supabase with an access token and list your projects"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    login = actions.add_parser(
        "login",
        help="check a personal access token and keep it in the keyring",
        description="Make a token at https://supabase.com/dashboard/account/tokens (read "
        "access to the projects you need is enough), then pipe it in: it never goes in argv.",
    )
    login.add_argument(
        "--token-stdin", action="store_true", required=True, help="read the token from stdin"
    )
    login.set_defaults(run=run_login)

    logout = actions.add_parser("logout", help="delete the access token from the keyring")
    logout.set_defaults(run=run_logout)

    projects = actions.add_parser("projects", help="list the projects the token can see")
    projects.add_argument("--json", action="store_true")
    projects.set_defaults(run=run_projects)


def _store() -> KeyringSecretStore:
    """The token lives in the OS keyring only (never this session's memory, never a file)."""
    from supalink.profiles import KeyringSecretStore

    return KeyringSecretStore()


def _read_token() -> str:
    from supalink.supabase_api import checked_token

    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("--token-stdin was given but there is no standard input")
    token = sys.stdin.read().strip()
    if not token:
        raise UsageError("--token-stdin was given but standard input was empty")
    return checked_token(token)


def call_api(action: Callable[[ManagementApi], Awaitable[T]], token: str | None = None) -> T:
    """Run `action` with the API signed in with `token` (default: the saved one), the
    errors worded for this command line."""
    from supalink.supabase_api import (
        TOKEN_PAGE,
        ManagementApi,
        NotSignedIn,
        TokenRejected,
        base_url,
        saved_token,
    )

    url = base_url()  # a refused URL is said before the keyring is read

    async def main(value: str) -> T:
        async with ManagementApi(value, url) as api:
            return await action(api)

    try:
        value = token if token is not None else saved_token(_store())
        return asyncio.run(main(value))
    except NotSignedIn as error:
        raise SupalinkError(
            f"{error}: sign in with `{LOGIN}` (make a token at {TOKEN_PAGE})"
        ) from None
    except TokenRejected as error:
        again = "" if token is not None else f"; sign in again with `{LOGIN}`"
        raise SupalinkError(f"{error}{again}") from None


def run_login(args: argparse.Namespace) -> int:
    from supalink.profiles import SecretKind
    from supalink.supabase_api import TOKEN_ACCOUNT, save_token

    token = _read_token()
    store = _store()
    # A keyring that cannot keep the token says so before any request is made.
    store.get(TOKEN_ACCOUNT, SecretKind.ACCESS_TOKEN)
    projects = call_api(lambda api: api.projects(), token=token)
    save_token(store, token)
    count = f"{len(projects)} project{'s' if len(projects) != 1 else ''}"
    print(f"signed in to Supabase: the token sees {count}; it is kept in {store.description}")
    return 0


def run_logout(args: argparse.Namespace) -> int:
    from supalink.supabase_api import forget_token

    store = _store()
    if forget_token(store):
        print(f"signed out of Supabase: the access token is deleted from {store.description}")
    else:
        print("not signed in to Supabase: there was no access token to delete")
    return 0


def run_projects(args: argparse.Namespace) -> int:
    projects = call_api(lambda api: api.projects())
    rows = [project.summary() for project in projects]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("the token sees no projects")
        return 0
    heads = {"ref": "REF", "name": "NAME", "region": "REGION", "status": "STATUS"}
    heads["postgres_version"] = "POSTGRES"
    widths = {key: max(len(str(r[key] or "-")) for r in [heads, *rows]) for key in heads}
    for row in [heads, *rows]:
        print("  ".join(f"{row[key] or '-'!s:<{widths[key]}}" for key in heads).rstrip())
    return 0


def profile_from_project(args: argparse.Namespace) -> Profile:
    """`profile add NAME --from-project REF [--mode M]`: the profile the API's details make,
    with --user, --database, --sslmode and --sslrootcert on top."""
    from supalink.profiles import Mode
    from supalink.supabase_api import profile_from_project as fill

    given = [flag for flag, value in _fields_the_api_fills(args) if value is not None]
    if given:
        raise UsageError(f"--from-project fills the connection from the API: leave out {given[0]}")
    mode = Mode(args.mode) if args.mode else Mode.SESSION
    profile = call_api(lambda api: fill(api, args.name, args.from_project, mode, role=args.user))
    changes = {"database": args.database, "sslmode": args.sslmode, "sslrootcert": args.sslrootcert}
    return profile.replace(**{k: v for k, v in changes.items() if v is not None}).validated()


def _fields_the_api_fills(args: argparse.Namespace) -> list[tuple[str, Any]]:
    names = ("uri", "ref", "host", "port", "region", "pooler_index", "pooler_host")
    return [(f"--{name.replace('_', '-')}", getattr(args, name, None)) for name in names]

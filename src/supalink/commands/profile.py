"""`supalink profile add|list|show|remove|rename|repair|export|import`: saved profiles
(secrets in the keyring)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from supalink.commands.output import print_record
from supalink.commands.profile_exchange import register as register_exchange
from supalink.commands.profile_options import (
    absolute_cafile,
    add_connection_options,
    add_environment_option,
    profile_from_options,
    warn_password_on_command_line,
)
from supalink.commands.profile_repair import note_leftovers, register_repair
from supalink.commands.saved import user_repository
from supalink.commands.secret_input import read_password_stdin
from supalink.errors import UsageError
from supalink.logs import MASK

if TYPE_CHECKING:
    from supalink.profiles import SavedProfile


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "profile", help="add, list, show or remove saved profiles"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="save a profile (ref and password go to the keyring)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--uri", help="a URI as the Supabase dashboard shows it")
    add.add_argument(
        "--from-project",
        metavar="REF",
        help="fill it from the Supabase API (after `supalink supabase login`); --mode, default "
        "session",
    )
    add_connection_options(add, ref_required=False)
    add.add_argument("--host", help="a custom (non-Supabase) host")
    add.add_argument("--port", type=int, help="a custom port")
    add_environment_option(add)
    add.add_argument(
        "--no-save-password", action="store_true", help="keep no password; ask each time"
    )
    add.add_argument("--replace", action="store_true", help="replace a profile of that name")
    add.set_defaults(run=run_add)

    listing = actions.add_parser("list", help="list saved profiles")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)

    show = actions.add_parser("show", help="show one profile")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--json", action="store_true")
    show.add_argument("--reveal", action="store_true", help="show the project ref")
    show.set_defaults(run=run_show)

    remove = actions.add_parser("remove", help="remove a profile and its keyring entries")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument(
        "--keep-role",
        action="store_true",
        help="remove an agent's profile alone, leaving the role Supalink made in the database",
    )
    remove.set_defaults(run=run_remove)

    rename = actions.add_parser("rename", help="rename a profile")
    rename.add_argument("name", metavar="NAME")
    rename.add_argument("new_name", metavar="NEW_NAME")
    rename.set_defaults(run=run_rename)

    register_repair(actions)
    register_exchange(actions)


def run_add(args: argparse.Namespace) -> int:
    from supalink.profiles import DEFAULT_SSLMODE, Profile, parse_uri

    password: str | None = None
    if args.from_project:
        from supalink.commands.supabase import profile_from_project

        profile = profile_from_project(args)
    elif args.uri:
        if args.ref or args.mode or args.host:
            raise UsageError("give either --uri or the separate fields, not both")
        parsed = parse_uri(args.uri, name=args.name)
        profile, password = parsed.profile, parsed.password
        if password is not None:
            warn_password_on_command_line("--uri")
        changes = {"sslmode": args.sslmode, "sslrootcert": args.sslrootcert}
        profile = profile.replace(**{k: v for k, v in changes.items() if v is not None})
    elif args.host:
        profile = Profile(
            args.name,
            host=args.host,
            port=args.port,
            user=args.user or "postgres",
            database=args.database or "postgres",
            sslmode=args.sslmode or DEFAULT_SSLMODE,
            sslrootcert=args.sslrootcert,
        )
    else:
        profile = profile_from_options(args.name, args)
    if args.password_stdin:
        password = read_password_stdin()
    profile = profile.replace(
        sslrootcert=absolute_cafile(profile.sslrootcert), environment=args.environment
    )
    repository = user_repository()
    record = repository.save(
        profile.validated(), password, save_password=not args.no_save_password, replace=args.replace
    )
    where = repository.secrets.description
    kept = f"password saved in {where}" if record.password_saved else "password not saved"
    print(f"saved profile {args.name!r} ({kept})")
    return 0


def _summary(saved: SavedProfile, *, reveal: bool, password_missing: bool) -> dict[str, Any]:
    profile = saved.profile
    endpoint = profile.endpoint()

    def hide(text: str) -> str:
        return text if reveal or not profile.ref else text.replace(profile.ref, MASK)

    return {
        "name": profile.name,
        "environment": profile.environment,
        "kind": "supabase" if profile.is_supabase else "custom",
        "ref": (profile.ref if reveal else MASK) if profile.ref else None,
        "mode": str(profile.mode) if profile.is_supabase else None,
        "host": hide(endpoint.host),
        "port": endpoint.port,
        "user": hide(endpoint.user),
        "database": endpoint.database,
        "region": profile.region,
        "pooler_index": profile.pooler_index,
        "sslmode": profile.sslmode,
        "sslrootcert": profile.sslrootcert,
        "connect_timeout": profile.connect_timeout,
        "application_name": profile.application_name,
        "password_saved": saved.password_saved and not password_missing,
        # Saved with its password, and the keyring's entry for it deleted since.
        "password_missing_from_keyring": password_missing,
    }


def run_list(args: argparse.Namespace) -> int:
    repository = user_repository()
    note_leftovers(repository)
    records = repository.records()
    locked = repository.locked()  # listed, not hidden, when the keyring does not answer
    rows = [
        {
            "name": record.profile.name,
            "environment": record.profile.environment,
            "kind": "supabase" if record.is_supabase else "custom",
            "mode": str(record.profile.mode) if record.is_supabase else None,
            "region": record.profile.region,
            "password_saved": record.password_saved,
            "locked": locked.get(record.profile.name),
        }
        for record in records
    ]
    if args.json:
        print(json.dumps(rows))
        return 0
    if not rows:
        print("no profiles yet (add one with `supalink profile add NAME --uri URI`)")
        return 0
    for row in rows:
        saved = "password saved" if row["password_saved"] else "password not saved"
        details = ", ".join(str(v) for v in (row["kind"], row["mode"], row["region"]) if v)
        state = row["locked"] or saved
        label = f"[{row['environment']}] " if row["environment"] else ""
        print(f"{row['name']}  {label}({details}; {state})")
    return 0


def run_show(args: argparse.Namespace) -> int:
    repository = user_repository()
    saved = repository.load(args.name)
    missing = saved.password_saved and repository.password_missing(args.name)
    print_record(_summary(saved, reveal=args.reveal, password_missing=missing), as_json=args.json)
    if missing:
        from supalink.profiles import PasswordMissingFromKeyring

        lost = PasswordMissingFromKeyring(args.name, repository.secrets.description)
        print(
            f"warning: {lost} (in the app, or `supalink profile add --replace` with "
            "--password-stdin)",
            file=sys.stderr,
        )
    elif saved.password_saved and (problem := repository.keyring_problem()):
        print(
            f"warning: the password is in the keyring, which did not answer: {problem}",
            file=sys.stderr,
        )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from supalink import roles
    from supalink.commands.role import worded

    repository = user_repository()
    try:
        # An agent's profile goes with its role (`role drop`), or alone when asked.
        link = roles.check_removal(repository, args.name, keep_role=args.keep_role)
    except roles.AgentProfileHasRole as error:
        raise worded(error) from None
    # Its link goes in the same settings write as the profile.
    if repository.remove(args.name, also=roles.with_link_removed(args.name)):
        print(f"removed profile {args.name!r} and its keyring entries")
    else:
        print(
            f"removed profile {args.name!r}; the keyring failed to delete its entries: "
            "run `supalink profile repair` once it answers"
        )
    if link is not None:
        print(f"the role {link.role!r} Supalink made for it stays in the database")
    return 0


def run_rename(args: argparse.Namespace) -> int:
    from supalink import roles

    # An agent's link (and the links of the agents an admin made) follow the profile in the
    # same settings write as the rename.
    rename_links = roles.with_links_renamed(args.name, args.new_name)
    user_repository().rename(args.name, args.new_name, also=rename_links)
    print(f"renamed profile {args.name!r} to {args.new_name!r}")
    return 0

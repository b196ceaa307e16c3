"""`supalink role create|show|rotate|drop`: a least-privilege database role for each agent.

`create` connects with an admin profile's login, prints the SQL (the new password masked)
and runs it with --yes; the password goes straight into the keyring for the new profile.
`rotate` and `drop` act through the admin profile that made the role. Exit 0 on success,
1 when the server (or a missing confirmation) refuses, 2 on bad input."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from supalink.errors import SupalinkError, UsageError

if TYPE_CHECKING:
    from supalink.roles import RoleReport


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "role",
        help="create, show, rotate or drop an agent's own least-privilege database role",
        description="A database role for each agent, with only the grants it needs. Exit 0 "
        "on success, 1 when refused (by the server, or for want of --yes), 2 on bad input.",
    )
    actions = parser.add_subparsers(
        dest="role_action", metavar="ACTION", required=True, parser_class=type(parser)
    )

    create = actions.add_parser(
        "create",
        help="create a read-only (or narrowly writable) role and a profile that logs in as it",
    )
    create.add_argument("profile", metavar="PROFILE", help="the admin profile (e.g. postgres)")
    create.add_argument("--name", metavar="ROLE", help="the role (default: <PROFILE>_agent)")
    create.add_argument(
        "--schema", action="append", default=[], metavar="S",
        help="read every table of this schema, and those created later (default: public)",
    )  # fmt: skip
    create.add_argument(
        "--table", action="append", default=[], metavar="SCHEMA.TABLE", help="read this table"
    )
    create.add_argument(
        "--write", action="append", default=[], metavar="SCHEMA.TABLE",
        help="also insert into, update and delete from this table",
    )  # fmt: skip
    create.add_argument("--connection-limit", type=int, default=5, metavar="N", help="default: 5")
    create.add_argument(
        "--as", dest="new_profile", metavar="NEW_PROFILE",
        help="the new profile's name (default: <PROFILE>-agent)",
    )  # fmt: skip
    create.add_argument(
        "--replace", action="store_true",
        help="replace a role of that name that Supalink made, and the profile",
    )  # fmt: skip
    create.add_argument("--dry-run", action="store_true", help="print the SQL, run nothing")
    create.add_argument("--yes", action="store_true", help="run the SQL shown")
    create.set_defaults(run=run_create)

    show = actions.add_parser("show", help="what a profile's login can read, write and see")
    show.add_argument("profile", metavar="PROFILE")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)

    rotate = actions.add_parser("rotate", help="a new password for an agent's role")
    rotate.add_argument("profile", metavar="PROFILE", help="the agent's profile")
    rotate.set_defaults(run=run_rotate)

    drop = actions.add_parser("drop", help="drop an agent's role and remove its profile")
    drop.add_argument("profile", metavar="PROFILE", help="the agent's profile")
    drop.add_argument("--yes", action="store_true", help="drop without asking")
    drop.set_defaults(run=run_drop)


def worded(error: SupalinkError) -> SupalinkError:
    """An error of the roles package in this command's own words: its flags."""
    from supalink import roles

    message = str(error)
    if isinstance(error, roles.InvalidRoleName):
        message = f"--name: {message}"
    elif isinstance(error, roles.InvalidTableName):
        message = f"--table/--write: {message}"
    elif isinstance(error, roles.InvalidSpec) and error.field == "connection_limit":
        message = f"--connection-limit: {error.reason}"
    elif isinstance(error, roles.ProfileExists):
        message += ": name another with --as, or replace it with --replace"
    elif isinstance(error, roles.NotAnAgentProfile):
        message += " (`supalink role create` makes one)"
    elif isinstance(error, roles.RoleExists) and error.made_by_supalink:
        message += ": replace it with --replace, or name another with --name"
    elif isinstance(error, roles.RoleExists):
        message += " and Supalink did not make it, so it will not replace it: use --name"
    elif isinstance(error, roles.CannotCreateRoles):
        message += ": use an admin profile (on Supabase, the postgres login)"
    elif isinstance(error, roles.RoleOwnsObjects):
        message += "; reassign or drop them first (REASSIGN OWNED BY ... TO ...)"
    elif isinstance(error, roles.PasswordMissing):
        message += " (save it with `supalink profile add NAME ... --replace`)"
    else:
        return error
    return UsageError(message) if isinstance(error, UsageError) else SupalinkError(message)


def _run(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except SupalinkError as error:
        raise worded(error) from None


def run_create(args: argparse.Namespace) -> int:
    from supalink import roles
    from supalink.commands.saved import saved_target, user_repository

    try:
        spec = roles.RoleSpec(
            name=args.name or roles.default_role_name(args.profile),
            profile_name=args.new_profile or f"{args.profile}-agent",
            schemas=tuple(args.schema),
            tables=tuple(roles.TableName.parse(text) for text in args.table),
            write=tuple(roles.TableName.parse(text) for text in args.write),
            connection_limit=args.connection_limit,
            replace=args.replace,
        )
    except SupalinkError as error:
        raise worded(error) from None
    repository = user_repository()
    if repository.password_value(args.profile) is None:
        raise worded(roles.PasswordMissing(args.profile))
    admin = saved_target(repository, args.profile)
    plan = _run(roles.plan_create(admin, spec, repository))
    print(plan.preview(masked=True))
    if plan.not_granted:
        shown = ", ".join(str(table) for table in plan.not_granted)
        print(
            f"warning: {plan.admin_login} cannot grant reading {shown}: the role will not read "
            "them",
            file=sys.stderr,
        )
    if args.dry_run:
        return 0
    if not args.yes:
        print("supalink role: nothing was run: confirm with --yes to run it", file=sys.stderr)
        return 1
    link = _run(roles.apply(plan, repository))
    print(
        f"created role {link.role!r}; profile {link.profile!r} logs in as it "
        f"(password in {repository.secrets.description}, never shown)"
    )
    return 0


def run_show(args: argparse.Namespace) -> int:
    from supalink import roles
    from supalink.commands.saved import saved_target, user_repository

    report: RoleReport = _run(roles.describe(saved_target(user_repository(), args.profile)))
    if args.json:
        print(json.dumps({"profile": args.profile, **report.as_dict()}))
        return 0
    for line in report_lines(report):
        print(line)
    return 0


def _names(items: Any) -> str:
    listed = [str(item) for item in items]
    return ", ".join(listed) if listed else "-"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def report_lines(report: RoleReport) -> list[str]:
    """`role show`'s text: the record, then what it means, one sentence a line."""
    limit = "none" if report.connection_limit < 0 else str(report.connection_limit)
    fields = {
        "login": report.login,
        "database": report.database,
        "superuser": _yes(report.is_superuser),
        "bypasses RLS": _yes(report.bypasses_rls),
        "creates roles": _yes(report.can_create_roles),
        "creates databases": _yes(report.can_create_databases),
        "replication": _yes(report.can_replicate),
        "connection limit": limit,
        "member of": _names(report.memberships),
        "settings": _names(report.settings),
        "reads": _names(report.readable),
        "writes": _names(report.writable),
        "PUBLIC schemas": _names(report.public_schemas),
        "PUBLIC tables": _names(report.public_tables),
    }
    width = max(map(len, fields))
    lines = [f"{key:<{width}}  {value}" for key, value in fields.items()]
    if report.can_change_everything:
        lines.append(
            f"warning: {report.login} bypasses row level security and can change everything: "
            "give the agent a role of its own (`supalink role create PROFILE`)"
        )
    elif report.bypasses_rls:
        lines.append(f"warning: {report.login} bypasses row level security: it reads every row")
    for table in report.rls_hidden:
        policy = report.suggested_policy(table).as_string(None)
        lines.append(
            f"{table}: row level security is on and no policy applies to {report.login}, so it "
            f"sees no rows there; to let it read, for example: {policy};"
        )
    given = ["the public schema's objects" if "public" in report.public_schemas else None]
    given += ["temporary tables" if report.public_temporary else None]
    given += ["large objects (create and write)" if report.public_large_objects else None]
    if kept := [item for item in given if item]:
        lines.append(f"through PUBLIC every role, this one too, has: {', '.join(kept)}")
    if report.net_exposed:
        lines.append(
            "warning: every role can read the net schema (pg_net): its queued HTTP requests, "
            "headers and API keys included"
        )
    if excess := report.powers.excess:
        lines.append(
            f"what {report.login} can do that a role made by Supalink could not (the agent's "
            "server serves such a login read-only):"
        )
        lines += [f"  - {power}" for power in excess]
    else:
        lines.append(f"{report.login} can do nothing a role made by Supalink could not")
    if shared := report.powers.shared:
        lines.append("what every role of this database can do, an agent's own too:")
        lines += [f"  - {power}" for power in shared]
    return lines


def run_rotate(args: argparse.Namespace) -> int:
    from supalink import roles
    from supalink.commands.saved import user_repository

    repository = user_repository()
    rotated = _run(roles.rotate(repository, args.profile))
    tries = "" if rotated.attempts == 1 else f" after {rotated.attempts} tries"
    print(
        f"new password for role {rotated.link.role!r} saved for profile {args.profile!r} "
        f"(never shown); it logs in{tries}"
    )
    return 0


def run_drop(args: argparse.Namespace) -> int:
    from supalink import roles
    from supalink.commands.saved import user_repository

    repository = user_repository()
    plan = _run(roles.plan_drop(repository, args.profile))
    if plan.statements:
        print(plan.preview())
    else:
        print(f"-- the role {plan.link.role!r} is gone already: only the profile is removed")
    if not args.yes:
        print("supalink role: nothing was dropped: confirm with --yes", file=sys.stderr)
        return 1
    _run(roles.drop(plan, repository))
    print(
        f"dropped role {plan.link.role!r}; removed profile {args.profile!r} and its keyring entries"
    )
    return 0

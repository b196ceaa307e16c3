"""`supalink role create|show|rotate|drop|adopt`: a least-privilege database role for each
agent.

`create` connects with an admin profile's login, prints the SQL (the new password masked)
and runs it with --yes; the password goes straight into the keyring for the new profile.
`rotate` and `drop` act through the admin profile that made the role, only while the link
matches the profile and the role carries Supalink's mark; `adopt` gives a role that mark.
Every action first settles a change an earlier one left half-done (killed), and says so on
stderr. Exit 0 on success, 1 when the server (or a missing confirmation) refuses, 2 on bad
input."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from supalink.errors import SupalinkError, Worded

if TYPE_CHECKING:
    from supalink.profiles import ProfileRepository
    from supalink.roles import RoleReport, Settled, Unsettled


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
        "--schema",
        action="append",
        default=[],
        metavar="S",
        help="read every table of this schema, and those created later (default: public)",
    )
    create.add_argument(
        "--table", action="append", default=[], metavar="SCHEMA.TABLE", help="read this table"
    )
    create.add_argument(
        "--write",
        action="append",
        default=[],
        metavar="SCHEMA.TABLE",
        help="also insert into, update and delete from this table",
    )
    create.add_argument("--connection-limit", type=int, default=5, metavar="N", help="default: 5")
    create.add_argument(
        "--as",
        dest="new_profile",
        metavar="NEW_PROFILE",
        help="the new profile's name (default: <PROFILE>-agent)",
    )
    create.add_argument(
        "--replace",
        action="store_true",
        help="replace a role of that name that Supalink made, and the profile",
    )
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

    adopt = actions.add_parser(
        "adopt",
        help="make a role the agent role of a profile that logs in as it (a link made by an "
        "earlier version, or lost)",
    )
    adopt.add_argument("profile", metavar="PROFILE", help="the agent's profile")
    adopt.add_argument("--role", required=True, metavar="ROLE", help="the role it logs in as")
    adopt.add_argument(
        "--admin", metavar="ADMIN", help="the admin profile (default: the one its link names)"
    )
    adopt.set_defaults(run=run_adopt)


def worded(error: SupalinkError) -> SupalinkError:
    """An error of the roles package in this command's own words: its flags, and what to do."""
    message = _led_by_flag(error)
    if message is None:
        hint = _HINTS.get(type(error).__name__) or _hint(error)
        if hint is None:
            return error
        message = f"{error}{hint}"
    return Worded(message, error.kind)


def _led_by_flag(error: SupalinkError) -> str | None:
    from supalink import roles

    if isinstance(error, roles.InvalidRoleName):
        return f"--name: {error}"
    if isinstance(error, roles.InvalidTableName):
        return f"--table/--write: {error}"
    if isinstance(error, roles.InvalidSpec) and error.field == "connection_limit":
        return f"--connection-limit: {error.reason}"
    if isinstance(error, roles.CannotAdopt) and error.field == "admin":
        return f"--admin: {error}"
    return None


# What to do, after the message, by the roles package's error class.
_HINTS = {
    "ProfileExists": ": name another with --as, or replace it with --replace",
    "CannotCreateRoles": ": use an admin profile (on Supabase, the postgres login)",
    "RoleOwnsObjects": "; reassign or drop them first (REASSIGN OWNED BY ... TO ...)",
    "PasswordMissing": " (save it with `supalink profile add NAME ... --replace`)",
    "NotAnAgentProfile": " (`supalink role create` makes one)",
    "PendingChange": ": the next `supalink role` command that reaches the database settles it",
}


def _hint(error: SupalinkError) -> str | None:
    from supalink import roles

    if isinstance(error, roles.RoleExists):
        if error.made_by_supalink:
            return ": replace it with --replace, or name another with --name"
        return " and Supalink did not make it, so it will not replace it: use --name"
    if isinstance(error, roles.UnverifiedLink):
        return (
            ": if the profile is the role's login, adopt it with "
            f"`supalink role adopt {error.profile} --role {error.role}`"
        )
    if isinstance(error, roles.LinkMismatch) and error.what.startswith("admin"):
        return (
            ": name its admin with "
            f"`supalink role adopt {error.profile} --role {error.role} --admin ADMIN`"
        )
    if isinstance(error, roles.AgentProfileHasRole):
        return (
            f": drop both with `supalink role drop {error.profile} --yes`, or remove the "
            "profile alone with --keep-role"
        )
    return None


def _run(coroutine: Any) -> Any:
    try:
        return asyncio.run(coroutine)
    except SupalinkError as error:
        raise worded(error) from None


def settled_line(result: Settled | Unsettled) -> str:
    """What became of a change an earlier command left half-done, in one line."""
    from supalink.roles import Settled

    entry = result.entry
    role, profile, when = entry.link.role, entry.link.profile, entry.started
    doing = {"create": "creating", "rotate": "rotating the password of", "drop": "dropping"}
    what = f"{doing[entry.action]} role {role!r} (profile {profile!r}), interrupted at {when}"
    if not isinstance(result, Settled):
        return (
            f"warning: {what}, is not settled yet: {worded(result.error)}; the next "
            "`supalink role` command tries again"
        )
    if result.outcome == "undone":
        kept = {
            "create": "the database never had the role; nothing of it is left",
            "rotate": "the database never had the new password; the profile keeps its own",
            "drop": "the database had not dropped it; the role and the profile are as they were",
        }
        return f"undid {what}: {kept[entry.action]}"
    if result.outcome == "profile taken":
        return (
            f"finished {what}: the role is in the database, and a profile named {profile!r} "
            f"for another login was added meanwhile and left alone: adopt the role for a "
            f"profile (`supalink role adopt PROFILE --role {role}`) or drop it by hand"
        )
    done = {
        "create": "the database had the role; its profile and password are saved now",
        "rotate": "the database had the new password; the keyring has it now",
        "drop": "the database had dropped it; the profile and its keyring entries are removed now",
    }
    line = f"finished {what}: {done[entry.action]}"
    if result.password_lost:
        line += (
            f", but its new password was lost from the keyring: give it one with "
            f"`supalink role rotate {profile}`"
        )
    return line


def _settled_repository() -> ProfileRepository:
    """The user's profiles, once what an earlier command left half-done is settled (each
    on a line of stderr)."""
    from supalink import roles
    from supalink.commands.saved import user_repository

    repository = user_repository()
    for result in _run(roles.recover(repository)):
        print(f"supalink role: {settled_line(result)}", file=sys.stderr)
    return repository


def run_create(args: argparse.Namespace) -> int:
    from supalink import roles
    from supalink.commands.saved import saved_target

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
    repository = _settled_repository()
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
    from supalink.commands.saved import saved_target

    repository = _settled_repository()
    report: RoleReport = _run(roles.describe(saved_target(repository, args.profile)))
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

    repository = _settled_repository()
    rotated = _run(roles.rotate(repository, args.profile))
    tries = "" if rotated.attempts == 1 else f" after {rotated.attempts} tries"
    print(
        f"new password for role {rotated.link.role!r} saved for profile {args.profile!r} "
        f"(never shown); it logs in{tries}"
    )
    return 0


def run_drop(args: argparse.Namespace) -> int:
    from supalink import roles

    repository = _settled_repository()
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


def run_adopt(args: argparse.Namespace) -> int:
    from supalink import roles

    repository = _settled_repository()
    link = _run(roles.adopt(repository, args.profile, args.role, args.admin))
    print(
        f"role {link.role!r} is the agent role of profile {args.profile!r} now, through "
        f"{link.admin_profile!r}: rotate and drop act on it"
    )
    return 0

"""`supalink config write` and `supalink config remove`: the entry planned from a profile or
a URI, what to warn about (a login too powerful for an agent, a server command not found or
unable to start, a password in the file and the client commands that print it), the masked
diff, the confirmation, and the write with its backup. Writes allowed to a profile marked
production are confirmed once more, by its name."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supalink.commands import config_notes
from supalink.commands.config_target import add_target, target_of
from supalink.errors import SupalinkError, UsageError

if TYPE_CHECKING:
    from supalink.mcp import ConfigWriter, EntryWarning, McpClient, Plan, PlannedEntry
    from supalink.profiles import Target
    from supalink.roles import TooPowerful


def register(actions: Any) -> None:
    from supalink.mcp import DEFAULT_LAUNCHED_SERVER, TEMPLATES, URI_SERVERS

    write = actions.add_parser("write", help="write the server entry (diff preview, backup)")
    add_target(write)
    source = write.add_mutually_exclusive_group(required=True)
    source.add_argument("--profile", metavar="NAME", help="a saved profile")
    source.add_argument(
        "--uri", metavar="URI", help="a postgresql:// URI with its password; '-' reads stdin"
    )
    write.add_argument(
        "--template",
        choices=TEMPLATES,
        help="the entry's shape. supalink (the default): Supalink's own read-only server, "
        "which reads a profile's password from the keyring (with --uri, the URI goes in the "
        "entry's env). keyring: the keyring launcher in front of --server. reference, guide, "
        "postgres-mcp: that server with the URI in the file (reference and guide are "
        "archived, and their read-only mode can be escaped)",
    )
    write.add_argument(
        "--server",
        choices=URI_SERVERS,
        help="with --template keyring: the server the launcher starts "
        f"(default: {DEFAULT_LAUNCHED_SERVER})",
    )
    write.add_argument(
        "--allow-writes",
        action="store_true",
        help="with --template supalink: let the agent change data (read-only otherwise)",
    )
    write.add_argument(
        "--confirm-production",
        metavar="NAME",
        help="with --allow-writes for a profile marked production: its name, confirming the "
        "agent may change that database (on a terminal it is asked for)",
    )
    write.add_argument("--sslrootcert", type=Path, metavar="PATH", help="the CA certificate")
    write.add_argument("--dry-run", action="store_true", help="show the diff, write nothing")
    write.add_argument("--yes", action="store_true", help="replace a different existing entry")
    write.add_argument(
        "--force", action="store_true", help="write even if the file changed since the preview"
    )
    write.set_defaults(run=run_write)

    remove = actions.add_parser("remove", help="remove the server entry (diff preview, backup)")
    add_target(remove)
    remove.add_argument("--yes", action="store_true", help="remove without asking")
    remove.set_defaults(run=run_remove)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def worded(error: SupalinkError) -> SupalinkError:
    """An error of the MCP package in this command's own words: its flags."""
    from supalink import mcp

    if isinstance(error, mcp.KeyringNeedsProfile):
        return UsageError(
            "--template keyring needs --profile: the password comes from its keyring entry"
        )
    if isinstance(error, mcp.LauncherServerWithoutKeyring):
        return UsageError("--server goes with --template keyring")
    if isinstance(error, mcp.WritesNeedSupalinkServer):
        return UsageError(
            f"--allow-writes goes with --template {mcp.SUPALINK_TEMPLATE}, not {error.template}"
        )
    message = str(error)
    if isinstance(error, mcp.PasswordNotSaved) and not error.for_launcher:
        message += ": save it in the keyring, or pass --uri"
    elif isinstance(error, mcp.ConfigChanged):
        message += "; look again, or use --force to apply the change to the file as it is now"
    elif isinstance(error, mcp.ConfirmationRequired) and error.action == "replace":
        message += "; confirm with --yes to replace it"
    elif isinstance(error, mcp.ConfirmationRequired):
        message = f"confirm with --yes to remove {error.server_name!r}"
    else:
        return error
    return SupalinkError(message)


def _read_uri(value: str) -> str:
    if value != "-":
        return value
    line = sys.stdin.readline().strip()
    if not line:
        raise UsageError("--uri -: no URI on standard input")
    return line


def _planned_entry(args: argparse.Namespace) -> tuple[PlannedEntry, Target | None]:
    """The entry to write, the secrets it holds, and what to warn about; with the saved
    profile's target when the entry is a profile's."""
    from supalink.commands.saved import saved_target, user_repository
    from supalink.mcp import entry_for_profile, entry_for_uri, uri_target

    if args.profile is None:
        if args.server is not None:
            raise UsageError("--server goes with --template keyring and --profile")
        target = uri_target(_read_uri(args.uri), args.sslrootcert)
        return entry_for_uri(target, args.template, allow_writes=args.allow_writes), None
    repository = user_repository()
    password = repository.password(args.profile, missing_is_error=True)
    target = saved_target(repository, args.profile)
    planned = entry_for_profile(
        target,
        password_in_keyring=password is not None and password.in_keyring,
        template=args.template,
        server=args.server,
        sslrootcert=args.sslrootcert,
        allow_writes=args.allow_writes,
    )
    return planned, target


def _too_powerful(target: Target) -> TooPowerful | None:
    import asyncio

    from supalink import roles

    return asyncio.run(roles.too_powerful(target))


def _role_warning(profile: str, login: str, changes_everything: bool) -> str:
    import shlex

    power = "and can change everything" if changes_everything else "(it reads every row)"
    agent = shlex.quote(f"{profile}-agent")
    return (
        f"warning: profile {profile!r} logs in as {login!r}, which bypasses row level "
        f"security {power}: an agent that reads untrusted text should not hold it; give "
        f"the agent a read-only role of its own: `supalink role create {shlex.quote(profile)}`"
        f", then `supalink config write --profile {agent}`"
    )


def _warning_text(args: argparse.Namespace, warning: EntryWarning) -> str:
    """A warning of the MCP package with what this command's flags can do about it."""
    from supalink.mcp import EntryWarning

    from_uri = args.profile is None
    keep_out = (
        "a saved profile (--profile) with its password in the keyring keeps it out"
        if from_uri
        else "--template supalink reads it from the keyring instead"
    )
    texts = {
        EntryWarning.NO_CA: (
            "no CA certificate given (--sslrootcert): the server will fail to verify the "
            "database's certificate (verify-full)"
            if from_uri
            else "the profile has no CA certificate: the server will fail to verify the "
            "database's certificate (verify-full); set the CA file in the profile or pass "
            "--sslrootcert"
        ),
        EntryWarning.ESCAPABLE_READ_ONLY: f"{warning}; --template supalink is read-only in depth",
        EntryWarning.WRITES_ALLOWED: f"--allow-writes: {warning}",
        EntryWarning.CREDENTIALS_IN_FILE: f"{warning} (readable only by you); " + keep_out,
        EntryWarning.NO_INPUTS: f"{warning}; " + keep_out,
    }
    return texts.get(warning, str(warning))


def _writer() -> ConfigWriter:
    from supalink.mcp import ConfigWriter
    from supalink.paths import AppPaths

    return ConfigWriter(AppPaths.for_user().backup_dir)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _confirm_production(name: str, given: str | None) -> None:
    """An agent allowed to change a database marked production: the person names the profile
    (the flag, or typed on a terminal), as a second thought a bare --yes would skip."""
    import shlex

    if given is not None:
        if given != name:
            raise UsageError(f"--confirm-production {given!r} is not the profile's name {name!r}")
        return
    if not sys.stdin.isatty():
        raise UsageError(
            f"profile {name!r} is marked production: to let its agent change data, confirm "
            f"with --confirm-production {shlex.quote(name)} (on a terminal it is asked for)"
        )
    print(
        f"Profile {name!r} is marked production: its agent will be allowed to change and "
        "delete data. Type the profile's name to confirm: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    typed = sys.stdin.readline().strip()
    if typed != name:
        raise SupalinkError(f"not written: {typed!r} is not the profile's name {name!r}")


def _apply(
    plan: Plan,
    *,
    yes: bool,
    force: bool,
    dry_run: bool = False,
    production: str | None = None,
    confirm_production: str | None = None,
) -> int:
    """`production`: the name of a production profile whose agent is allowed writes, confirmed
    after the preview (with `confirm_production`, else on a terminal)."""
    preview = plan.preview()
    if preview:
        print(preview)
    if dry_run:
        _say("dry run: nothing written")
        return 0
    if production is not None:
        _confirm_production(production, confirm_production)
    confirmed = yes
    if plan.needs_confirmation and not yes:
        verb = "Replace the existing" if plan.action == "replace" else "Remove the"
        confirmed = _confirm(f"{verb} {plan.server_name!r} entry in {plan.path}?")
    try:
        written = _writer().apply(plan, confirmed=confirmed, force=force)
    except SupalinkError as error:
        raise worded(error) from None
    if written.replanned:
        _say(f"{plan.path} changed since the preview; the change was applied to it as it is now")
    if written.written is None:
        print(f"{plan.path}: nothing to change")
        return 0
    print(f"wrote {written.written}")
    if written.backup is not None and written.backup.exists():
        print(f"backup: {written.backup}")
    if written.running:
        pids = ", ".join(str(process.pid) for process in written.running)
        _say(
            f"warning: {plan.client.name} is running (pid {pids}): quit it fully and start it "
            "again to load the change; while it runs it may write its own copy of the file back"
        )
    return 0


def run_write(args: argparse.Namespace) -> int:
    client, path = target_of(args)
    try:
        planned, target = _planned_entry(args)
    except SupalinkError as error:
        raise worded(error) from None
    planned = _for_client(planned, client, args.server_name)
    plan = _writer().plan_write(client, path, planned, args.server_name)
    # A warning, not a refusal: the entry may be meant for a trusted agent.
    if target is not None and (found := _too_powerful(target)) is not None:
        _say(_role_warning(args.profile, found.login, found.changes_everything))
    for warning in planned.warnings:
        _say(f"{_warning_kind(warning)}: {_warning_text(args, warning)}")
    config_notes.say_shown(args, client, planned)
    config_notes.say_command(client, planned, plan)
    config_notes.say_python(client, planned)
    if plan.action == "unchanged":
        print(f"{path}: {args.server_name!r} is already up to date")
        return 0
    profile = target.profile if target is not None else None
    production = profile.name if profile and profile.is_production and args.allow_writes else None
    if args.confirm_production is not None and production is None:
        raise UsageError("--confirm-production goes with --allow-writes for a production profile")
    return _apply(
        plan,
        yes=args.yes,
        force=args.force,
        dry_run=args.dry_run,
        production=production,
        confirm_production=args.confirm_production,
    )


def _for_client(planned: PlannedEntry, client: McpClient, server_name: str) -> PlannedEntry:
    from supalink.mcp import for_client

    try:
        return for_client(planned, client, server_name)
    except SupalinkError as error:
        raise worded(error) from None


def _warning_kind(warning: EntryWarning) -> str:
    from supalink.mcp import EntryWarning

    return "note" if warning is EntryWarning.ASKED_BY_CLIENT else "warning"


def run_remove(args: argparse.Namespace) -> int:
    client, path = target_of(args)
    plan = _writer().plan_remove(client, path, args.server_name)
    if plan.action == "absent":
        _say(f"no {args.server_name!r} entry in {path}: nothing to remove")
        return 0
    return _apply(plan, yes=args.yes, force=False)

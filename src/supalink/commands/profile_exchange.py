"""`supalink profile export|import`: profiles shared as a JSON file, without their secrets;
each person who imports them types their own passwords (on a terminal), or saves none."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supalink.commands.saved import user_repository
from supalink.errors import FileFault, UsageError, Worded

if TYPE_CHECKING:
    from supalink.profiles import ImportPlan

STDIN = "-"


def register(actions: Any) -> None:
    """The two subcommands, on `supalink profile`'s `actions`."""
    export = actions.add_parser(
        "export", help="print profiles as JSON to share (no password, token or locked ref)"
    )
    export.add_argument("names", nargs="*", metavar="NAME", help="the profiles (default: all)")
    export.add_argument(
        "--output", "-o", metavar="FILE", help="write FILE (atomically) instead of stdout"
    )
    export.set_defaults(run=run_export)

    imported = actions.add_parser(
        "import", help="add the profiles of an export; asks each one's password on a terminal"
    )
    imported.add_argument("file", metavar="FILE", help="a file of `profile export`, or - for stdin")
    imported.add_argument(
        "--replace", action="store_true", help="replace saved profiles of the same names"
    )
    imported.add_argument(
        "--no-passwords", action="store_true", help="ask no password: each is left unsaved"
    )
    imported.set_defaults(run=run_import)


def run_export(args: argparse.Namespace) -> int:
    from supalink.profiles import export_profiles, write_export

    exported = export_profiles(user_repository(), args.names)
    if args.output:
        write_export(Path(args.output), exported.data)
    else:
        _write_stdout(exported.data)
    for notice in exported.notices():
        _say(f"warning: {notice}")
    count = len(exported.names)
    where = f" to {args.output}" if args.output else ""
    _say(f"exported {count} profile{'s' if count != 1 else ''}{where} (no passwords)")
    return 0


def _write_stdout(data: bytes) -> None:
    """The export on stdout: a full disk or a closed pipe behind it is one sentence."""
    try:
        out = getattr(sys.stdout, "buffer", None)
        if out is not None:
            sys.stdout.flush()
            out.write(data)
            out.flush()
        else:
            sys.stdout.write(data.decode())
            sys.stdout.flush()
    except OSError as error:
        raise FileFault.of("write", "standard output", error) from None


def run_import(args: argparse.Namespace) -> int:
    from supalink.profiles import ImportClashes, apply_import, read_import, read_import_file

    repository = user_repository()
    if args.file == STDIN:
        data, source = _read_stdin(), "standard input"
    else:
        data, source = read_import_file(Path(args.file)), args.file
    try:
        plan = read_import(data, source, repository, replace=args.replace)
    except ImportClashes as error:
        raise Worded(f"{error} (give --replace to replace them)", error.kind) from None
    if not plan.profiles:
        print(f"{source} holds no profiles: nothing imported")
        return 0
    # Asked on a terminal only: stdin that is the file, or a pipe, has no one to answer.
    on_terminal = args.file != STDIN and sys.stdin is not None and sys.stdin.isatty()
    refs = _ask_refs(plan) if on_terminal else {}
    asked = on_terminal and not args.no_passwords
    passwords = _ask_passwords(plan) if asked else {}
    imported = apply_import(repository, plan, refs=refs, passwords=passwords)
    for name in imported.names:
        state = "replaced" if name in imported.replaced else "imported"
        kept = "password not saved" if name in imported.without_password else "password saved"
        print(f"{state} profile {name!r} ({kept})")
    if imported.without_password and not asked:
        why = "--no-passwords" if args.no_passwords else "not on a terminal"
        _say(
            f"no password was asked ({why}): type each in the app and save it there; until "
            "then it is asked for when the profile is used"
        )
    return 0


def _read_stdin() -> bytes:
    from supalink.files import MAX_READ_BYTES

    if sys.stdin is None or sys.stdin.closed:
        raise UsageError("- was given but there is no standard input")
    stream = getattr(sys.stdin, "buffer", None)
    try:
        data = stream.read(MAX_READ_BYTES + 1) if stream else sys.stdin.read().encode()
    except OSError as error:
        raise FileFault.of("read", "standard input", error) from None
    if len(data) > MAX_READ_BYTES:
        raise UsageError("standard input holds more than an export of profiles can")
    return data


def _ask(prompt: str) -> str:
    """A line typed on the terminal, not shown (a password, or a ref kept as a secret)."""
    import getpass

    try:
        return getpass.getpass(prompt, stream=sys.stderr)
    except EOFError:
        return ""


def _ask_refs(plan: ImportPlan) -> dict[str, str]:
    """The refs of the Supabase profiles exported without theirs: asked until one is valid;
    an empty answer stops the import (it cannot save them without)."""
    from supalink.profiles import RefsNeeded, supabase

    refs: dict[str, str] = {}
    for name in plan.needing_ref:
        while True:
            ref = _ask(f"project ref of {name!r} (not in the file; empty: import nothing): ")
            ref = ref.strip()
            if not ref:
                raise RefsNeeded([name])
            if (problem := supabase.ref_problem(ref)) is None:
                refs[name] = ref
                break
            _say(problem)
    return refs


def _ask_passwords(plan: ImportPlan) -> dict[str, str]:
    passwords: dict[str, str] = {}
    for incoming in plan.profiles:
        empty = "keep the saved one" if incoming.replaces else "leave it unsaved"
        if password := _ask(f"password of {incoming.name!r} (empty: {empty}): "):
            passwords[incoming.name] = password
    return passwords


def _say(text: str) -> None:
    print(text, file=sys.stderr)

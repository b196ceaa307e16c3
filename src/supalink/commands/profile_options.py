"""The connection options shared by `url`, `profile add` and friends, and what is said
about them: a password given on the command line, a CA file's path; the environment label
of a saved profile."""

from __future__ import annotations

import argparse
import os
import sys

from supalink.commands.secret_input import add_password_stdin
from supalink.errors import UsageError
from supalink.profiles import (
    ENVIRONMENTS,
    SSL_MODES,
    SYSTEM_TRUST_STORE,
    Mode,
    Profile,
    region_problem,
)


def add_connection_options(parser: argparse.ArgumentParser, *, ref_required: bool) -> None:
    parser.add_argument("--ref", required=ref_required, help="project ref (20 letters/digits)")
    parser.add_argument(
        "--mode", choices=[m.value for m in Mode], required=ref_required, help="connection mode"
    )
    parser.add_argument("--region", help="AWS region of the project, e.g. eu-central-1")
    pooler = parser.add_mutually_exclusive_group()
    pooler.add_argument(
        "--pooler-index", type=int, metavar="N", help="the N in aws-N-<region>.pooler…"
    )
    pooler.add_argument("--pooler-host", metavar="HOST", help="the pooler host, as shown")
    parser.add_argument("--user", help="database role (default postgres)")
    parser.add_argument("--database", help="database name (default postgres)")
    parser.add_argument("--sslmode", choices=SSL_MODES, help="default verify-full")
    parser.add_argument("--sslrootcert", metavar="PATH", help="Supabase's CA certificate file")
    add_password_stdin(parser)


def add_environment_option(parser: argparse.ArgumentParser) -> None:
    """A saved profile's label (not `url`'s: a URI is not kept)."""
    parser.add_argument(
        "--environment",
        choices=ENVIRONMENTS,
        help="label the profile (shown in its colour in the app); writes allowed to a "
        "production profile's agent are confirmed by typing its name",
    )


def profile_from_options(name: str, args: argparse.Namespace) -> Profile:
    if args.ref is None or args.mode is None:
        raise UsageError("give --uri, or both --ref and --mode")
    if args.region is not None and (problem := region_problem(args.region)):
        raise UsageError(problem)
    profile = Profile(
        name,
        Mode(args.mode),
        ref=args.ref,
        region=args.region,
        pooler_index=args.pooler_index,
        pooler_host=args.pooler_host,
    )
    overrides = {
        "user": args.user,
        "database": args.database,
        "sslmode": args.sslmode,
        "sslrootcert": args.sslrootcert,
    }
    return profile.replace(**{k: v for k, v in overrides.items() if v is not None}).validated()


def warn_password_on_command_line(flag: str) -> None:
    """The one warning for a password written into an argument (a URI's, `flag`): any
    program of this machine can read a command line, and the shell's history keeps it."""
    print(
        f"warning: the password in {flag} is on the command line, where other programs "
        "(ps) and your shell's history can read it; leave it out of the URI and pipe it "
        "in with --password-stdin",
        file=sys.stderr,
    )


def absolute_cafile(path: str | None) -> str | None:
    """A CA file's path as a profile keeps it: absolute (a profile is used from any folder),
    `~` expanded; libpq's `system` (the OS's trust store) as it is."""
    if path is None or path == SYSTEM_TRUST_STORE:
        return path
    return os.path.abspath(os.path.expanduser(path))

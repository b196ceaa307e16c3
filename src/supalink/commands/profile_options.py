"""The connection options shared by `url`, `profile add` and friends."""

from __future__ import annotations

import argparse

from supalink.commands.secret_input import add_password_stdin
from supalink.errors import UsageError
from supalink.profiles import SSL_MODES, Mode, Profile, region_problem


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

"""`supalink test`: test a saved profile or a URI step by step and say what is wrong."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supalink.commands.secret_input import add_password_stdin
from supalink.errors import SupalinkError, UsageError

if TYPE_CHECKING:
    from supalink.probe import Diagnosis, ProbeResult, ServerFacts, Step
    from supalink.profiles import Target

MAX_TIMEOUT = 600.0


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "test",
        help="test a connection step by step and say what is wrong",
        description="Test a saved profile (NAME) or a URI: parse, dns, route, tcp, tls, auth, "
        "query. Exits 0 when the connection works, 1 when it does not, 2 on bad input. "
        "The password is never printed.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("name", nargs="?", metavar="NAME", help="a saved profile")
    source.add_argument("--uri", help="a URI as the Supabase dashboard shows it")
    parser.add_argument("--sslrootcert", metavar="PATH", help="the CA certificate file to use")
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="connect timeout in seconds (default: profile)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object")
    add_password_stdin(parser)
    parser.set_defaults(run=run)


# Where each remedy of a diagnosis is given on this command line.
REMEDY_FLAGS = {
    "ca_file": " with --sslrootcert",
    "password": " in the URI or with --password-stdin",
    "longer_timeout": " with --timeout",
}


def _target(args: argparse.Namespace) -> Target:
    from supalink.commands.secret_input import read_password_stdin
    from supalink.profiles import Target

    if args.uri is not None:
        from supalink.profiles import parse_uri

        parsed = parse_uri(args.uri)
        profile, password = parsed.profile, parsed.password
        if password is not None:
            from supalink.commands.profile_options import warn_password_on_command_line

            warn_password_on_command_line("--uri")
    else:
        from supalink.commands.saved import user_repository
        from supalink.profiles import PasswordMissingFromKeyring

        repository = user_repository()
        profile, password = repository.load(args.name).profile, None
        try:  # the keyring is not asked for a password that stdin gives
            if not args.password_stdin:
                password = repository.password_value(args.name, missing_is_error=True)
        except PasswordMissingFromKeyring as error:
            raise SupalinkError(f"{error}, or give it with --password-stdin") from None
    if args.password_stdin:
        password = read_password_stdin()
    if args.sslrootcert:
        profile = profile.replace(sslrootcert=str(Path(args.sslrootcert).expanduser().absolute()))
    return Target.from_profile(profile.validated(), password)


def hint_text(diagnosis: Diagnosis) -> str:
    """The diagnosis's hint, with the flag that gives its remedy."""
    return diagnosis.hint + REMEDY_FLAGS.get(diagnosis.remedy or "", "")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from supalink.probe import Probe, psql_command

    if args.timeout is not None and not 0 < args.timeout <= MAX_TIMEOUT:
        raise UsageError(f"--timeout is more than 0 and at most {MAX_TIMEOUT:g} seconds")
    target = _target(args)
    assert target.profile is not None
    marks = _marks()
    on_step = None if args.json else (lambda step: _print_step(step, marks))
    probe = Probe(target, timeout=args.timeout, on_step=on_step)
    result = asyncio.run(probe.run())
    if args.json:
        report = result.to_dict()
        if result.diagnosis is not None:
            report["diagnosis"]["hint"] = hint_text(result.diagnosis)
        print(json.dumps(report))
    else:
        _print_outcome(result)
        print(f"psql: {psql_command(target.profile, target.password).shell()}")
    return 0 if result.ok else 1


def _marks() -> tuple[str, str]:
    """Ticks and crosses, or plain letters on a terminal that cannot show them."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAIL"
    return "✓", "✗"


def _print_step(step: Step, marks: tuple[str, str]) -> None:
    mark = marks[0] if step.ok else marks[1]
    print(f"{mark} {step.name:<6}{step.ms:8.1f} ms  {step.detail}", flush=True)


def _print_outcome(result: ProbeResult) -> None:
    if result.diagnosis is not None:
        diagnosis = result.diagnosis
        print(f"\n{diagnosis.kind}: {diagnosis.message}")
        print(f"hint: {hint_text(diagnosis)}")
    if result.server is not None:
        print()
        for line in _server_lines(result.server):
            print(line)


def _server_lines(server: ServerFacts) -> list[str]:
    lines = [f"server: {server.version.split(' on ', 1)[0]}, user {server.user}"]
    if server.max_connections is not None and server.connections_in_use is not None:
        lines.append(f"connections: {server.connections_in_use} of {server.max_connections} in use")
    if server.encrypted:
        seen = f" ({server.tls_version} as the server sees it)" if server.tls_version else ""
        lines.append(f"encryption: TLS{seen}")
    else:
        lines.append("encryption: none")
    if server.pooler:
        lines.append(f"pooler: yes, {server.pool_mode or 'mode unknown'}")
    else:
        lines.append("pooler: none (a direct connection)")
    lines += [f"warning: {warning}" for warning in server.warnings]
    return lines

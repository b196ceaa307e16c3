"""`supalink monitor`: the monitor's events on stdout until --duration, Ctrl-C or SIGTERM.

With --json, one JSON object per line with an "event" key (stats, health, server,
listening, notification, disconnected, reconnected, gap, error); otherwise readable lines.
A permanent failure (wrong password, missing database, LISTEN refused by a transaction
pooler) ends it with exit status 1: nothing would change by waiting. So does a run that
never reached the database.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from supalink.commands.secret_input import add_password_stdin
from supalink.errors import SupalinkError, UsageError

if TYPE_CHECKING:
    from supalink.logs import SecretMasker
    from supalink.monitor import Event
    from supalink.profiles import Target


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "monitor",
        help="watch a connection pool and LISTEN channels, streaming events",
        description="Open the monitor's own small pool (min 1, max 2; with channels one LISTEN "
        "connection more: at most 3 server connections) against a saved profile or a URI, "
        "check its health, LISTEN on the given channels and print what happens until "
        "--duration runs out, Ctrl-C or SIGTERM.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a saved profile")
    parser.add_argument("--uri", help="a postgresql:// URI (or libpq conninfo) instead of NAME")
    parser.add_argument(
        "--sslrootcert", type=Path, metavar="PATH", help="CA file to verify the server with"
    )
    parser.add_argument(
        "--channel",
        action="append",
        default=[],
        metavar="CH",
        help="LISTEN on this channel (any name; repeat for more)",
    )
    add_password_stdin(parser)
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from supalink.logs import route_library_logs
    from supalink.monitor import check_channel

    if args.name is None and args.uri is None:
        raise UsageError("give a profile NAME or --uri URI")
    if args.name is not None and args.uri is not None:
        raise UsageError("give a profile NAME or --uri URI, not both")
    if args.duration is not None and not (args.duration > 0 and math.isfinite(args.duration)):
        raise UsageError("--duration must be a positive number of seconds")
    if args.sslrootcert is not None and not args.sslrootcert.is_file():
        raise UsageError(f"--sslrootcert: no such file: {args.sslrootcert}")
    channels = [check_channel(channel) for channel in args.channel]
    route_library_logs()
    target = _target(args)
    printer = _Printer(sys.stdout, args.json, _masker(target, args.uri))
    return asyncio.run(_monitor(target, channels, args.duration, printer))


def _masker(target: Target, uri: str | None) -> SecretMasker:
    """libpq's messages quote the host it read, which from a malformed URI can be a piece of
    the password (it splits at the first '@'): every piece that may be one is masked."""
    from supalink.logs import SecretMasker, mask_in_log_file
    from supalink.profiles import password_candidates

    secrets = [*target.secrets, *(password_candidates(uri) if uri is not None else ())]
    masker = SecretMasker()
    masker.add_secrets(secrets)
    mask_in_log_file(secrets)
    return masker


def _target(args: argparse.Namespace) -> Target:
    """The URI given, or the saved profile with its password from the keyring; with
    --password-stdin, the password read there instead."""
    from supalink.commands.profile_options import warn_password_on_command_line
    from supalink.commands.saved import saved_target, user_repository
    from supalink.commands.secret_input import read_password_stdin
    from supalink.profiles import Target, is_placeholder

    if args.uri is not None:
        ca = args.sslrootcert.resolve() if args.sslrootcert else None
        target = Target.from_conninfo(args.uri, sslrootcert=ca)
        if target.password is not None and not is_placeholder(target.password):
            warn_password_on_command_line("--uri")
        if target.ignored:
            names = ", ".join(target.ignored)
            print(f"warning: ignored the client library's URI parameters: {names}", file=sys.stderr)
    elif args.password_stdin:
        repository = user_repository()
        target = Target.from_profile(repository.load(args.name).profile, None)
    else:
        return saved_target(user_repository(), args.name)
    return target.with_password(read_password_stdin()) if args.password_stdin else target


async def _monitor(
    target: Target,
    channels: list[str],
    duration: float | None,
    printer: _Printer,
) -> int:
    import asyncio
    import contextlib
    import signal

    from supalink.monitor import MonitorEngine

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still raises
            loop.add_signal_handler(signum, stop.set)
    fatal: list[str] = []
    seen = _Connection()

    def on_batch(batch: Any) -> None:
        try:
            printer.write(batch)
        except BrokenPipeError:  # `| head`: the reader left, so do we
            printer.discard()
            stop.set()
        for event in batch:
            seen.note(event)
            if event.event == "error" and event.permanent:
                fatal.append(event.message)
                stop.set()

    engine = MonitorEngine(target, channels=channels)
    engine.subscribe(on_batch)
    started = time.monotonic()
    await engine.start()
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
    finally:
        await engine.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
    if fatal:
        raise SupalinkError(printer.masker.mask(fatal[0]))
    if not seen.connected:
        # Watching nothing is no success: a script must see the database was never reached.
        said = f" (last error: {seen.last_error})" if seen.last_error else ""
        raise SupalinkError(
            printer.masker.mask(
                f"never connected to the database in {time.monotonic() - started:.1f} s{said}"
            )
        )
    return 0


# Events only a live connection gives: an answered health check, a LISTEN in place, the
# server's own figures, a notification.
_PROOF_OF_CONNECTION = frozenset({"listening", "server", "notification", "reconnected"})


class _Connection:
    """Whether the monitor ever reached the database, and the last reason it did not."""

    def __init__(self) -> None:
        self.connected = False
        self.last_error: str | None = None

    def note(self, event: Any) -> None:
        if event.event in _PROOF_OF_CONNECTION or (
            event.event == "health" and event.latency_ms is not None
        ):
            self.connected = True
        elif event.event == "error":
            self.last_error = event.message
        elif event.event == "health" and event.error:
            self.last_error = event.error


class _Printer:
    def __init__(self, out: TextIO, as_json: bool, masker: SecretMasker) -> None:
        self.out = out
        self.as_json = as_json
        self.masker = masker

    def discard(self) -> None:
        """Send what is left to /dev/null, so exiting does not fail flushing a closed pipe."""
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, self.out.fileno())
        os.close(devnull)

    def write(self, batch: Any) -> None:
        if self.as_json:
            lines = [json.dumps(event.as_dict(), ensure_ascii=False) for event in batch]
        else:
            lines = [describe_event(event) for event in batch]
        self.out.write("".join(self.masker.mask(line) + "\n" for line in lines))
        self.out.flush()


def _health_text(data: dict[str, Any]) -> str:
    latency = data["latency_ms"]
    text = f"health {data['status']}" + (f" ({latency:.1f} ms)" if latency is not None else "")
    if data["error"]:
        text += f": {data['error']}"
    if data.get("recovered"):  # the first answer after a time down: that outage, summed up
        text += f"; back: {data['recovered']}"
    return text


def describe_event(event: Event) -> str:
    """One readable line per event, local time first."""
    data = event.as_dict()
    kind = data["event"]
    stamp = time.strftime("%H:%M:%S", time.localtime(_when(event)))
    if kind == "stats":
        text = (
            f"pool {data['state']}: size {data['size']}, idle {data['idle']}, "
            f"in use {data['in_use']}, waiting {data['waiting']}, requests {data['requests']}, "
            f"errors {data['errors']}, lost {data['connections_lost']}, "
            f"avg wait {data['avg_wait_ms']:.1f} ms"
        )
    elif kind == "health":
        text = _health_text(data)
    elif kind == "server":
        text = (
            f"server: {data['connections']} of {data['max_connections']} connections "
            f"({data['usage']:.0%}), NOTIFY queue {data['notification_queue_usage']:.1%}"
        )
    elif kind == "notification":
        text = f"notification on {data['channel']} from pid {data['pid']}: {data['payload']}"
    elif kind == "listening":
        text = f"listening on {', '.join(data['channels'])} (server pid {data['pid']})"
    elif kind == "disconnected":
        text = f"{data['source']} disconnected: {data['error']}"
    elif kind == "reconnected":
        text = f"{data['source']} reconnected after {data['away_seconds']:.1f} s"
    elif kind == "gap":
        because = f" ({data['reason']})" if data["reason"] else ""
        text = (
            f"gap: not listening on {', '.join(data['channels'])} "
            f"for {data['seconds']:.1f} s{because}"
        )
    elif kind == "error":
        severity = "not retrying" if data["permanent"] else "retrying"
        text = f"{data['source']} error ({severity}): {data['message']}"
    else:
        text = f"{kind}: {json.dumps(data, ensure_ascii=False)}"
    return f"{stamp} {text}"


def _when(event: Event) -> float:
    for name in ("received_at", "at", "ended_at"):
        value = getattr(event, name, None)
        if isinstance(value, float):
            return value
    return time.time()

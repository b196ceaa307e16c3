"""`supalink --demo`: a throwaway local PostgreSQL and a notifier, so a newcomer sees the
monitor move without a Supabase project. Nothing of it outlives the process, even killed
(on POSIX: a watchdog stops the server and removes its folder)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supalink.errors import SupalinkError
from supalink.profiles import Profile

DEMO_CHANNEL = "supalink_demo"
DEMO_ROLE = "supalink_demo"
INSTALL_HINT = (
    "the demo needs the PostgreSQL server programs (initdb, pg_ctl): install them, e.g. "
    "`sudo apt install postgresql` (Debian/Ubuntu), `brew install postgresql` (macOS), "
    "or the installer from postgresql.org (Windows)"
)


class DemoUnavailable(SupalinkError):
    """The demo cannot start here; the message says what to install or change."""


def find_server_programs() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    roots = [Path("/usr/lib/postgresql"), Path("/opt/homebrew/opt"), Path("/usr/local/opt")]
    found = sorted(p.parent for root in roots if root.exists() for p in root.glob("*/bin/initdb"))
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Waits for its stdin to end, which happens when the app ends, SIGKILL included (the
# kernel closes the app's end of the pipe), then stops the server (SIGQUIT is PostgreSQL's
# immediate shutdown; SIGKILL if it lingers) and removes the folder. POSIX sh, not
# Python: a frozen app has no interpreter to start, and pg_ctl's postmaster is not our
# child, so no parent-death signal reaches it.
_WATCHDOG = """
read ignored
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null
i=0
while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
rm -rf "$1"
"""


@dataclass
class DemoServer:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1, with a password role."""

    bindir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="supalink-demo-")))
    port: int = field(default_factory=_free_port)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    _user: dict[str, Any] = field(default_factory=dict)
    _watchdog: subprocess.Popen[bytes] | None = None

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            [str(self.bindir / argv[0]), *argv[1:]],
            capture_output=True,
            text=True,
            check=False,
            **self._user,
        )
        if result.returncode != 0:
            raise DemoUnavailable(f"{argv[0]} failed: {result.stderr.strip()[-300:]}")

    def _watch(self) -> None:
        """Tie the server's life and the folder's to this process's (POSIX)."""
        shell = shutil.which("sh")
        if os.name == "nt" or shell is None:
            return
        self._watchdog = subprocess.Popen(
            [shell, "-c", _WATCHDOG, "supalink-demo-watchdog", str(self.root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: a Ctrl-C meant for the app must not end it first.
            start_new_session=True,
        )

    def start(self) -> None:
        self._watch()
        if os.name != "nt" and os.geteuid() == 0:
            # PostgreSQL refuses to run as root: use the postgres account when there is one.
            import pwd

            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                raise DemoUnavailable(
                    "PostgreSQL refuses to run as root; run the demo as a normal user"
                ) from None
            self._user = {"user": account.pw_uid, "group": account.pw_gid}
            self.root.chmod(0o755)
            os.chown(self.root, account.pw_uid, account.pw_gid)
        data = self.root / "data"
        password_file = self.root / "pwfile"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if self._user:
            os.chown(password_file, self._user["user"], self._user["group"])
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            DEMO_ROLE,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        password_file.unlink()
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\nsynchronous_commit = off\nmax_connections = 60\n"
            )
        self._run("pg_ctl", "-D", str(data), "-l", str(self.root / "server.log"), "-w", "start")

    def stop(self) -> None:
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(DemoUnavailable):
                self._run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:  # nothing left for it to do: let it end now
            assert watchdog.stdin is not None
            watchdog.stdin.close()
            try:
                watchdog.wait(timeout=15)
            except subprocess.TimeoutExpired:
                watchdog.kill()
                watchdog.wait()

    def profile(self) -> Profile:
        return Profile(
            "Demo (local PostgreSQL)",
            host="127.0.0.1",
            port=self.port,
            user=DEMO_ROLE,
            sslmode="disable",  # a loopback demo; real profiles default to verify-full
            application_name="supalink-demo",
        )


def start_demo_server() -> DemoServer:
    bindir = find_server_programs()
    if bindir is None:
        raise DemoUnavailable(INSTALL_HINT)
    server = DemoServer(bindir)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    return server


async def run_notifier(conninfo: dict[str, Any], interval: float = 1.0) -> None:
    """NOTIFY a small JSON event on the demo channel every `interval` seconds, with some
    query traffic, until cancelled."""
    import psycopg

    number = 0
    async with await psycopg.AsyncConnection.connect(**conninfo, autocommit=True) as conn:
        while True:
            number += 1
            payload = json.dumps(
                {
                    "event": "order.created",
                    "id": number,
                    "amount": round(9.99 * number, 2),
                    "at": time.strftime("%H:%M:%S"),
                }
            )
            await conn.execute("SELECT pg_notify(%s, %s)", (DEMO_CHANNEL, payload))
            await conn.execute("SELECT pg_sleep(0.05)")
            await asyncio.sleep(interval)

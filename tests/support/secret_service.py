"""A real Secret Service: gnome-keyring, unlocked, on a private D-Bus session and HOME.

The bus is started from a config of its own, without the system's session config and its
service folders: on that config, a call to `org.freedesktop.secrets` that reached the bus
before gnome-keyring owned the name (or after it was gone) had the bus start another
gnome-keyring from `/usr/share/dbus-1/services`, with dbus-daemon's environment (the real
HOME), no password and no login keyring. That one asks to create the default collection,
no prompter can show here, and every keyring call of the worker then failed with "Prompt
dismissed" (seen with 4 workers under load). Here nothing is started on demand: a missing
Secret Service is an error that says so, and `start` returns only once gnome-keyring says
it is initialized, owns the name, and its default collection is there and unlocked.
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEYRING_UNLOCK_PASSWORD = "supalink-test-keyring"
SECRETS_BUS_NAME = "org.freedesktop.secrets"
SECRETS_PREFIX = "org.freedesktop.Secret"
DAEMONS = ("dbus-daemon", "gnome-keyring-daemon")  # as started, in this order
START_TIMEOUT = 30.0  # far past what a loaded machine takes (about 0.1 s when quiet)

# The session bus of dbus-daemon's own session.conf, less <standard_session_servicedirs/>
# and the includes: no service is ever activated on it.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass
class SecretService:
    dbus_daemon: Path
    keyring_daemon: Path
    root: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bus_address: str = ""
    _logs: list[int] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def runtime_dir(self) -> Path:
        return self.root / "run"

    def environment(self) -> dict[str, str]:
        """What a process needs to reach this Secret Service."""
        return {
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
        }

    def start(self) -> None:
        """The bus, then gnome-keyring on it; stopped again if either does not come up."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.chmod(0o700)
        self.bus_address = f"unix:path={self.runtime_dir / 'bus'}"
        config = self.root / "bus.conf"
        config.write_text(BUS_CONFIG.format(address=self.bus_address))
        argv = [str(self.dbus_daemon), f"--config-file={config}", "--nofork", "--nopidfile"]
        bus = subprocess.Popen(
            [*argv, "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log(DAEMONS[0]),
        )
        self.processes.append(bus)
        # It prints its address once it listens (its socket file is there before that).
        self._until_closed_or_line(bus, "dbus-daemon did not print its address")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            **self.environment(),
        }
        keyring = subprocess.Popen(
            [str(self.keyring_daemon), "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log(DAEMONS[1]),
            env=env,
        )
        self.processes.append(keyring)
        assert keyring.stdin is not None
        keyring.stdin.write(KEYRING_UNLOCK_PASSWORD.encode())
        keyring.stdin.close()
        # In the foreground it closes its stdout once it is initialized (the login keyring
        # made and unlocked with the password just given).
        self._until_closed_or_line(keyring, "gnome-keyring-daemon did not finish starting")
        self._wait(self.problem, "gnome-keyring is not serving an unlocked default collection")

    def problem(self) -> str | None:
        """Why this Secret Service cannot serve a test now; None when it can: both processes
        run, `org.freedesktop.secrets` is owned by this gnome-keyring, its default collection
        is there and unlocked."""
        exited = [
            f"{name} exited {process.returncode}{self._last_words(process)}"
            for name, process in zip(DAEMONS, self.processes, strict=False)
            if process.poll() is not None
        ]
        if exited or len(self.processes) != len(DAEMONS):
            return "; ".join(exited) or "not started"
        try:
            return self._bus_problem(self.processes[1].pid)
        except OSError as error:  # the bus stopped answering
            return f"the bus did not answer: {error}"

    def _bus_problem(self, keyring_pid: int) -> str | None:
        # secretstorage's own D-Bus library (keyring's, on Linux), without type hints.
        from jeepney import DBusAddress, Properties  # type: ignore[import-untyped]
        from jeepney import new_method_call as call
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
        service = DBusAddress(
            "/org/freedesktop/secrets", SECRETS_BUS_NAME, f"{SECRETS_PREFIX}.Service"
        )

        def ask(connection: Any, message: Any) -> tuple[Any, ...]:
            reply = connection.send_and_get_reply(message, timeout=10)
            if reply.header.message_type.name == "error":
                raise LookupError(*reply.body)
            body: tuple[Any, ...] = reply.body
            return body

        with open_dbus_connection(self.bus_address) as connection:
            try:
                (owner,) = ask(connection, call(bus, "GetNameOwner", "s", (SECRETS_BUS_NAME,)))
                (pid,) = ask(connection, call(bus, "GetConnectionUnixProcessID", "s", (owner,)))
                if pid != keyring_pid:
                    return f"{SECRETS_BUS_NAME} is owned by process {pid}, not {keyring_pid}"
                (path,) = ask(connection, call(service, "ReadAlias", "s", ("default",)))
                if path == "/":
                    return "no default collection"
                collection = DBusAddress(path, SECRETS_BUS_NAME, f"{SECRETS_PREFIX}.Collection")
                ((_, locked),) = ask(connection, Properties(collection).get("Locked"))
            except LookupError as error:  # not there yet (the name, the alias, ...)
                return f"not yet: {error}"
        return f"the default collection {path} is locked" if locked else None

    def _until_closed_or_line(self, process: subprocess.Popen[bytes], failure: str) -> None:
        """Read `process`'s stdout up to its first line or its end, within START_TIMEOUT."""
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        read = b""
        while not read.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"{failure} within {START_TIMEOUT} s")
            ready, _, _ = select.select([process.stdout], [], [], left)
            if ready:
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    break
                read += chunk
        if process.poll() is not None and process.returncode:
            raise RuntimeError(f"{failure}: exited {process.returncode}: {self._said(process)}")

    def _wait(self, problem: Callable[[], str | None], failure: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while (found := problem()) is not None:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{failure}: {found}: {self._said(process)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{failure} within {START_TIMEOUT} s: {found}")
            time.sleep(0.02)

    def _log(self, name: str) -> int:
        """A file in `root` for a daemon's stderr (a pipe nobody reads would fill, and stop
        it); the descriptor is the child's alone once started."""
        fd = os.open(self.root / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._logs.append(fd)
        return fd

    def _last_words(self, process: subprocess.Popen[bytes]) -> str:
        """What an exited daemon said last, if anything: an abort (-6) says why only there."""
        said = self._said(process).strip()[-600:]
        return f": {said!r}" if said else ""

    def _said(self, process: subprocess.Popen[bytes]) -> str:
        log = self.root / f"{DAEMONS[self.processes.index(process)]}.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stdout:
                process.stdout.close()
        self.processes.clear()
        for fd in self._logs:
            os.close(fd)
        self._logs.clear()

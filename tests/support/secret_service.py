"""A real Secret Service: gnome-keyring, unlocked, on a private D-Bus session and HOME."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

KEYRING_UNLOCK_PASSWORD = "supalink-test-keyring"
SECRETS_BUS_NAME = "org.freedesktop.secrets"


@dataclass
class SecretService:
    dbus_daemon: Path
    keyring_daemon: Path
    root: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bus_address: str = ""

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
        self.home.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.chmod(0o700)
        socket_path = self.runtime_dir / "bus"
        self.bus_address = f"unix:path={socket_path}"
        bus = subprocess.Popen(
            [str(self.dbus_daemon), "--session", "--nofork", "--nopidfile",
             f"--address={self.bus_address}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.processes.append(bus)
        self._wait(socket_path.exists, "dbus-daemon did not create its socket")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            **self.environment(),
        }
        keyring = subprocess.Popen(
            [str(self.keyring_daemon), "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        self.processes.append(keyring)
        assert keyring.stdin is not None
        keyring.stdin.write(KEYRING_UNLOCK_PASSWORD.encode())
        keyring.stdin.close()
        self._wait(
            self._secrets_on_bus, "gnome-keyring-daemon did not take org.freedesktop.secrets"
        )

    def _secrets_on_bus(self) -> bool:
        # secretstorage's own D-Bus library (keyring's, on Linux), without type hints.
        from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
        from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

        bus = DBusAddress("/org/freedesktop/DBus", "org.freedesktop.DBus", "org.freedesktop.DBus")
        with open_dbus_connection(self.bus_address) as connection:
            reply = connection.send_and_get_reply(
                new_method_call(bus, "NameHasOwner", "s", (SECRETS_BUS_NAME,)), timeout=2
            )
        return bool(reply.body[0])

    def _wait(self, ready: object, failure: str, timeout: float = 15.0) -> None:
        assert callable(ready)
        deadline = time.monotonic() + timeout
        while not ready():
            for process in self.processes:
                if process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    self.stop()
                    raise RuntimeError(f"{failure}: exited {process.returncode}: {stderr}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(failure)
            time.sleep(0.05)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            if process.stderr:
                process.stderr.close()
        self.processes.clear()

"""Find the system programs the real-service fixtures need; install them on Debian when root.
Whatever changes the machine (packages, the npm cache, a service account) does so under
`machine_setup()`."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# program -> Debian package that ships it
DEBIAN_PACKAGES = {
    "initdb": "postgresql",
    "pgbouncer": "pgbouncer",
    "gnome-keyring-daemon": "gnome-keyring",
    "dbus-daemon": "dbus-daemon",
    "openssl": "openssl",
}


@dataclass(frozen=True)
class SystemTools:
    pg_bindir: Path
    pgbouncer: Path
    gnome_keyring_daemon: Path
    dbus_daemon: Path
    openssl: Path


@contextlib.contextmanager
def machine_setup() -> Iterator[None]:
    """One process at a time: the suite's workers (pytest-xdist) each set up their services
    at their start, and two apt-get or npm installs at once fail on each other's locks."""
    with (Path(tempfile.gettempdir()) / "supalink-tests-setup.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _find_pg_bindir() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    # Debian keeps server binaries out of PATH, one folder per major version.
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return candidates[-1].parent if candidates else None


def _find(program: str) -> Path | None:
    if program == "initdb":
        bindir = _find_pg_bindir()
        return bindir / "initdb" if bindir else None
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin:/usr/bin")
    return Path(found) if found else None


def _missing() -> list[str]:
    return [program for program in DEBIAN_PACKAGES if _find(program) is None]


def _apt_install(packages: list[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
        check=True,
        env=env,
        capture_output=True,
    )


def ensure_system_tools() -> SystemTools:
    """Return the programs, installing missing ones with apt when that is possible."""
    with machine_setup():
        missing = _missing()
        if missing and os.geteuid() == 0 and shutil.which("apt-get"):
            _apt_install(sorted({DEBIAN_PACKAGES[program] for program in missing}))
            missing = _missing()
    if missing:
        names = ", ".join(f"{p} (Debian package {DEBIAN_PACKAGES[p]})" for p in missing)
        raise RuntimeError(f"the test suite needs these programs, which are missing: {names}")
    bindir = _find_pg_bindir()
    assert bindir is not None
    found = {program: _find(program) for program in DEBIAN_PACKAGES}
    return SystemTools(
        pg_bindir=bindir,
        pgbouncer=found["pgbouncer"],  # type: ignore[arg-type]
        gnome_keyring_daemon=found["gnome-keyring-daemon"],  # type: ignore[arg-type]
        dbus_daemon=found["dbus-daemon"],  # type: ignore[arg-type]
        openssl=found["openssl"],  # type: ignore[arg-type]
    )

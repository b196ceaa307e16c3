"""File-system faults made for real: a read-only folder or file system, a full disk, a symlink
loop, a folder where the file should be, an unreadable file.

Tests run as root, and root ignores permission bits: the permission faults are only faults for
a process started `without_root_powers`. The mounts are small tmpfs file systems (root may
mount them), always unmounted when the test ends, however it ends."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


def without_root_powers(argv: list[str]) -> list[str]:
    """`argv` run by root without the capabilities that let it ignore permission bits."""
    if os.geteuid() != 0:
        return argv
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--", *argv]


@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "64k") -> Iterator[Path]:
    """A small tmpfs mounted on `folder` (made if missing) for the duration."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        check=True,
        timeout=30,
    )
    try:
        yield folder
    finally:
        # A process of a failed test may still hold a file there: detach it then.
        if subprocess.run(["umount", str(folder)], check=False, timeout=30).returncode:
            subprocess.run(["umount", "-l", str(folder)], check=True, timeout=30)


def make_read_only(mount_point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True, timeout=30)


def fill(folder: Path) -> None:
    """Write a padding file until the file system says it is full."""
    chunk = b"\0" * 1024
    with (folder / "padding").open("wb", buffering=0) as pad:
        written = 1
        while written:
            try:
                written = pad.write(chunk) or 0
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                written = 0


@dataclass(frozen=True)
class Fault:
    """One fault on the file at `path` in its folder, as a command meets it."""

    name: str
    action: str  # what the command cannot do: "read" or "write"
    cause: str  # the words of supalink.errors.FileFault
    mounted: bool = False  # the folder is a tmpfs of its own
    unprivileged: bool = False  # a fault only for a process without root's powers


FAULTS = (
    Fault(
        "read-only folder",
        "write",
        "its folder is read-only (permission denied)",
        unprivileged=True,
    ),
    Fault("read-only file system", "write", "the file system is read-only", mounted=True),
    Fault("full disk", "write", "no space left on the device", mounted=True),
    Fault("symlink loop", "read", "too many levels of symbolic links (a symlink loop)"),
    Fault("folder", "read", "it is a folder, not a file"),
    Fault("unreadable file", "read", "permission denied", unprivileged=True),
)
READ_FAULTS = tuple(fault for fault in FAULTS if fault.action == "read")


@contextlib.contextmanager
def faulty(fault: Fault, path: Path, prepare: Callable[[], object]) -> Iterator[None]:
    """`fault` made on `path` or its folder for the duration. `prepare` puts the file there
    first (on the fresh tmpfs, for the mounted faults), but for the faults that are the file:
    a symlink loop, or a folder in its place."""
    folder = path.parent
    with contextlib.ExitStack() as stack:
        if fault.mounted:
            stack.enter_context(tmpfs(folder))
        else:
            folder.mkdir(parents=True, exist_ok=True)
        if fault.name == "symlink loop":
            other = path.with_name(f"{path.name}.other")
            other.symlink_to(path.name)
            path.symlink_to(other.name)
        elif fault.name == "folder":
            path.mkdir()
            (path / "kept.txt").write_text("what the folder holds stays")
        else:
            prepare()
        if fault.name == "read-only folder":
            folder.chmod(0o555)
            stack.callback(folder.chmod, 0o755)
        elif fault.name == "read-only file system":
            make_read_only(folder)
        elif fault.name == "full disk":
            fill(folder)
        elif fault.name == "unreadable file":
            path.chmod(0)
        yield


Snapshot = dict[str, tuple[str, object]]


def snapshot(folder: Path) -> Snapshot:
    """What `folder` holds, to compare before and after: names, kinds, bytes, modes, links.
    Lock files are left out: a lock beside a file stays once any writer made it."""
    found: Snapshot = {}
    for entry in sorted(folder.rglob("*")):
        name = str(entry.relative_to(folder))
        if entry.name.endswith(".lock"):
            continue
        if entry.is_symlink():
            found[name] = ("link", os.readlink(entry))
        elif entry.is_dir():
            found[name] = ("folder", None)
        else:
            found[name] = ("file", (entry.read_bytes(), entry.stat().st_mode))
    return found

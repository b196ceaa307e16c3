"""Copies of a client's config file as it was before each change Supalink made to it.

One folder per config file under the backup root. A copy's name carries a sequence number,
one more than the newest before it, then the time the clock said (for a person to read):
the last 10 are kept by that sequence, whatever the clock said or says now (a clock set back
must not make each new copy look like the oldest). The copies are readable by their owner
only, and may hold a password: `purge_backups` removes those that do.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from supalink.errors import file_faults
from supalink.files import PRIVATE_MODE, atomic_write_bytes, read_plain_file, resolve_link
from supalink.mcp.file_secrets import holds_password

BACKUPS_KEPT: Final = 10
# Beside the backups: where the locks of the clients' files are kept (files.lock_path_in),
# so nothing of Supalink's stays in a client's folder.
LOCKS_FOLDER: Final = ".locks"
_STAMP: Final = "%Y%m%dT%H%M%S%fZ"


@dataclass(frozen=True)
class Backup:
    """One copy. `sequence` orders them (0: written before copies were numbered, older
    than every numbered one); `written` is what the clock said then, which may be wrong."""

    path: Path
    sequence: int
    written: datetime | None

    def holds_password(self) -> bool | None:
        """Whether the copy holds a password; None when it cannot be read (something that
        is not a plain file in its place, its permissions) or told (see `holds_password`)."""
        try:
            return holds_password(read_plain_file(self.path))
        except OSError:
            return None


@dataclass(frozen=True)
class BackupFolder:
    """The copies of one config file, oldest first. `name` is the config file's name."""

    folder: Path
    name: str
    backups: tuple[Backup, ...]


@dataclass(frozen=True)
class Purged:
    """A copy that held a password, and whether it is gone (`error`: why not)."""

    path: Path
    error: OSError | None = None


def backup_folder(backup_root: Path, target: Path) -> Path:
    """One folder per config file, named so a person can tell which file it holds."""
    digest = hashlib.sha256(str(target.absolute()).encode()).hexdigest()[:12]
    return backup_root / f"{target.name}-{digest}"


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"{re.escape(name)}\.(?:(?P<sequence>\d+)-)?(?P<stamp>\d{{8}}T\d{{12}}Z)\.bak",
    )


def backups_in(folder: Path, name: str) -> list[Backup]:
    """The copies of the config file `name` in `folder`, oldest first (by sequence, then by
    name for those written before copies were numbered); none when there is no folder."""
    pattern = _pattern(name)
    found = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            written: datetime | None = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
        except ValueError:  # digits that are no date (month 13)
            written = None
        found.append(Backup(Path(entry.path), int(match["sequence"] or 0), written))
    return sorted(found, key=lambda backup: (backup.sequence, backup.path.name))


def write_backup(target: Path, data: bytes, backup_root: Path, when: datetime) -> Path:
    """Save `data` as the next copy of `target` (0600: it may hold a password), named by its
    sequence and `when`; keep the last 10 by sequence, this one always among them."""
    folder = backup_folder(backup_root, target)
    stamp = f"{when.astimezone(UTC):{_STAMP}}"
    with file_faults("write", folder):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        earlier = backups_in(folder, target.name)
        sequence = max((backup.sequence for backup in earlier), default=0) + 1
        path = folder / f"{target.name}.{sequence:06d}-{stamp}.bak"
        while os.path.lexists(path):  # something there by another hand: keep it
            sequence += 1
            path = folder / f"{target.name}.{sequence:06d}-{stamp}.bak"
        atomic_write_bytes(path, data, mode=PRIVATE_MODE)
    for old in backups_in(folder, target.name)[:-BACKUPS_KEPT]:
        if old.path != path and _is_plain(old.path):
            old.path.unlink(missing_ok=True)
    return path


def _is_plain(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def list_backups(backup_root: Path, target: Path | None = None) -> list[BackupFolder]:
    """The copies of `target` (the config file: a symlink stands for the file it points
    at), or of every config file Supalink changed when None; folders without copies are
    left out."""
    if target is not None:
        target = resolve_link(target)
        folder = backup_folder(backup_root, target)
        backups = backups_in(folder, target.name)
        return [BackupFolder(folder, target.name, tuple(backups))] if backups else []
    try:
        folders = sorted(entry for entry in backup_root.iterdir() if entry.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for folder in folders:
        name = folder.name.rpartition("-")[0]
        if folder.name.startswith(".") or not name:
            continue
        backups = backups_in(folder, name)
        if backups:
            found.append(BackupFolder(folder, name, tuple(backups)))
    return found


def purge_backups(backup_root: Path, target: Path | None = None) -> list[Purged]:
    """Remove every copy of `target` (or of every config file, when None) that holds a
    password; each one that did, removed or with the error that kept it. A copy that
    cannot be read is left alone, as is anything in a copy's place that is not a file."""
    purged = []
    for group in list_backups(backup_root, target):
        for backup in group.backups:
            if not _is_plain(backup.path) or not backup.holds_password():
                continue
            try:
                backup.path.unlink()
            except FileNotFoundError:
                continue  # removed meanwhile (pruned by a write): what was asked
            except OSError as error:
                purged.append(Purged(backup.path, error))
                continue
            purged.append(Purged(backup.path))
    return purged

"""The keyring journal: the change to profiles' keyring entries that is under way.

A profile lives in two stores that cannot be written together, the settings file and the
OS keyring, and the keyring cannot be listed (keyring's API reads, writes and deletes one
named entry). So each change that writes both notes here first what it is about to do,
and clears the note once both are written: a process killed in between leaves the note,
and with it all the next command needs to finish or undo the change
(profiles/changes.py). Names, kinds of entry and a fingerprint of the settings being
written; never a secret.

The file sits beside the settings file, `keyring-journal.json`, so every repository over
one settings file finds it; it is written atomically and only under the settings file's
lock, which every change holds from its first write to its last. Readers (a profile
opening) read it without the lock: a replaced file is read whole or not at all. With
nothing under way there is no file, and a reader's cost is one failed open.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supalink.errors import file_faults
from supalink.profiles.secrets import SecretKind

if TYPE_CHECKING:
    from supalink.profiles.settings import ProfileRecord

log = logging.getLogger(__name__)

JOURNAL_NAME = "keyring-journal.json"
_VERSION = 1


class Step(StrEnum):
    """A change to a profile's keyring entries, by the order of its writes."""

    ADD = "add"  # a new profile's entries, then the settings
    SAVE = "save"  # an existing profile's new secrets staged, the settings, then moved in
    RENAME = "rename"  # the entries copied to the new name, the settings, then the old deleted
    REMOVE = "remove"  # the settings, then the entries deleted


@dataclass(frozen=True)
class Pending:
    """One change under way: which profile, which entries, and what tells how far it got."""

    step: Step
    name: str  # the profile (a rename's old name)
    kinds: tuple[SecretKind, ...]  # the entries written, copied, staged or to delete
    to: str | None = None  # a rename's new name
    record: str | None = None  # SAVE: the fingerprint of the settings being written
    drop: tuple[SecretKind, ...] = ()  # SAVE: entries the new settings no longer keep
    staged: bool = False  # SAVE: every new secret is in its "being saved" entry

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,) if self.to is None else (self.name, self.to)

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"step": str(self.step), "name": self.name}
        item["kinds"] = [str(kind) for kind in self.kinds]
        if self.to is not None:
            item["to"] = self.to
        if self.record is not None:
            item["record"] = self.record
        if self.drop:
            item["drop"] = [str(kind) for kind in self.drop]
        if self.staged:
            item["staged"] = True
        return item

    @classmethod
    def from_json(cls, item: Any) -> Pending:
        """ValueError, TypeError or KeyError when `item` is not one this module wrote."""
        to, record = item.get("to"), item.get("record")
        if not all(isinstance(text, str | None) for text in (to, record)):
            raise TypeError("to and record are text")
        name = item["name"]
        if not isinstance(name, str):
            raise TypeError("name is text")
        return cls(
            Step(item["step"]),
            name,
            tuple(SecretKind(kind) for kind in item.get("kinds", [])),
            to,
            record,
            tuple(SecretKind(kind) for kind in item.get("drop", [])),
            item.get("staged") is True,
        )


def fingerprint(record: ProfileRecord) -> str:
    """What a profile's settings hold, as a short digest: the same for a record written and
    the one read back from the file, different for any change to it."""
    values = dataclasses.asdict(record.profile)
    # A field newer than the journal, left out while unset: a save under way when Supalink
    # was upgraded still matches the settings it wrote.
    if values["environment"] is None:
        del values["environment"]
    values["supabase"], values["password_saved"] = record.is_supabase, record.password_saved
    text = json.dumps(values, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def beside(cls, settings_path: Path) -> Journal:
        return cls(settings_path.with_name(JOURNAL_NAME))

    def pending(self) -> tuple[Pending, ...]:
        """The changes under way, oldest first. A journal that cannot be read or is not one
        this module wrote counts as empty (and says so in the log): it is a help to repair,
        never a reason for a profile not to open."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return ()
        except OSError as error:
            log.warning("could not read the keyring journal %s: %s", self.path, error)
            return ()
        try:
            document = json.loads(raw)
            return tuple(Pending.from_json(item) for item in document["pending"])
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            log.warning("ignored the keyring journal %s: not valid: %s", self.path, error)
            return ()

    # Writers hold the settings file's lock.
    def begin(self, entry: Pending) -> None:
        self._write((*self.pending(), entry))

    def update(self, entry: Pending, now: Pending) -> None:
        self._write(tuple(now if item == entry else item for item in self.pending()))

    def end(self, entry: Pending) -> None:
        self._write(tuple(item for item in self.pending() if item != entry))

    def _write(self, entries: tuple[Pending, ...]) -> None:
        with file_faults("write", self.path):
            if not entries:
                self.path.unlink(missing_ok=True)
                return
            from supalink.files import atomic_write_bytes

            document = {"version": _VERSION, "pending": [entry.as_json() for entry in entries]}
            data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
            atomic_write_bytes(self.path, data, mode=0o600)

"""The order of a profile change's writes, so that a process killed at any point (kill -9,
a power cut) leaves the old state, the new one, or one the next command finds and repairs.

Every change that touches the keyring is noted in the journal (profiles/journal.py) before
its first write and cleared after its last; between the two, the settings file's write is
the moment the change takes effect. What is written before it can be undone, what after it
can be finished, and the journal says which writes those were:

- add: the new profile's entries, then the settings. Killed before the settings, the
  entries belong to no profile: repair deletes them.
- save over an existing profile: the new secrets into entries of their own ("… (database
  password, being saved)"), then the settings, then moved into the profile's entries.
  Killed before the settings, repair deletes the staged ones; after, a profile opening reads
  the staged secrets, and repair moves them in.
- rename: the entries copied to the new name, the settings, then the old name's deleted.
  Killed in between, both names have entries: repair deletes those of the name the settings
  do not hold. The password is never only in memory.
- remove: the settings, then the entries. Killed in between, repair deletes them.

Every step of repair is safe to run twice, so a repair killed halfway is finished by the
next one. The names given to `pause_point` are where the tests kill a real process.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from supalink.errors import SupalinkError
from supalink.profiles.journal import Journal, Pending, Step, fingerprint
from supalink.profiles.pause import pause_point
from supalink.profiles.secrets import BEING_SAVED, SecretKind, SecretStore, SecretStoreError

if TYPE_CHECKING:
    from supalink.profiles.settings import ProfileRecord

log = logging.getLogger(__name__)

Commit = Callable[[], None]  # the settings write that makes a change take effect
# The pause point after an add's or a rename's keyring writes (tests stop a change there).
_WRITTEN = {Step.ADD: "keyring-written", Step.RENAME: "copied"}


class Leftover(StrEnum):
    """What an interrupted change (or a keyring changed behind Supalink) left."""

    ADDED = "added"  # entries of a profile whose add stopped before its settings were written
    REMOVED = "removed"  # entries of a profile removed from the settings
    RENAMED = "renamed"  # entries of the name a rename left (`kept` holds the profile)
    COPIED = "copied"  # entries a rename copied to a name it did not give (`kept`: the profile)
    SAVED = "saved"  # a save's staged secrets: to move in (`finishes`) or to delete
    REF_MISSING = "ref missing"  # a Supabase profile whose ref is not in the keyring


@dataclass(frozen=True)
class Finding:
    """One thing repair finds: the keyring entries under `profile` it deletes (or, for a save
    that `finishes`, moves into the profile's own)."""

    leftover: Leftover
    profile: str
    entries: tuple[SecretKind, ...]
    kept: str | None = None  # RENAMED, COPIED: the name the profile has now, if any
    finishes: bool = False  # SAVED: the settings hold the new profile; its secrets go in


class KeyringChanges:
    def __init__(self, secrets: SecretStore, journal: Journal) -> None:
        self.secrets = secrets
        self.journal = journal

    # ----- the changes, in order ---------------------------------------------------------
    def add(self, name: str, values: Mapping[SecretKind, str], commit: Commit) -> None:
        entry = Pending(Step.ADD, name, tuple(values))
        self._start(entry, values, commit)
        self._end(entry)

    def save(
        self,
        name: str,
        record: ProfileRecord,
        values: Mapping[SecretKind, str],
        drop: tuple[SecretKind, ...],
        commit: Commit,
    ) -> None:
        """Give an existing profile new settings, new secrets (`values`) and fewer entries
        (`drop`), as one change."""
        entry = Pending(Step.SAVE, name, tuple(values), record=fingerprint(record), drop=drop)
        self.journal.begin(entry)
        pause_point("save:journaled")
        staged = tuple(BEING_SAVED[kind] for kind in values)
        try:
            for kind, value in values.items():
                self.secrets.set(name, BEING_SAVED[kind], value)
            ready = dataclasses.replace(entry, staged=True)
            self.journal.update(entry, ready)
            entry = ready
            pause_point("save:staged")
            commit()
        except BaseException:
            self._undo(entry, name, staged)
            raise
        pause_point("save:settings-written")
        if self._done(lambda: self._finish_save(entry), entry):
            pause_point("save:moved")
            self._end(entry)

    def rename(self, old: str, new: str, values: Mapping[SecretKind, str], commit: Commit) -> None:
        entry = Pending(Step.RENAME, old, tuple(values), to=new)
        self._start(entry, values, commit)
        if self._done(lambda: self._delete(old, tuple(values)), entry):
            pause_point("rename:old-deleted")
            self._end(entry)

    def remove(self, name: str, kinds: tuple[SecretKind, ...], commit: Commit) -> bool:
        """Whether the entries went too; if the keyring failed after the settings were
        written, they are left to repair."""
        entry = Pending(Step.REMOVE, name, kinds)
        self.journal.begin(entry)
        pause_point("remove:journaled")
        try:
            commit()
        except BaseException:
            self._end(entry)
            raise
        pause_point("remove:settings-written")
        if not self._done(lambda: self._delete(name, kinds), entry):
            return False
        pause_point("remove:keyring-deleted")
        self._end(entry)
        return True

    # ----- reading through a save under way ----------------------------------------------
    def read(self, name: str, kind: SecretKind, record: ProfileRecord) -> str | None:
        """The profile's secret as its settings mean it: the staged one while a save whose
        settings are written has not moved it in yet."""
        for entry in self.journal.pending():
            if (
                entry.step is Step.SAVE
                and entry.name == name
                and entry.staged
                and kind in entry.kinds
                and entry.record == fingerprint(record)
            ):
                staged = self.secrets.get(name, BEING_SAVED[kind])
                if staged is not None:
                    return staged
        return self.secrets.get(name, kind)

    # ----- what an interrupted change left, and its repair -------------------------------
    def inspect(self, entry: Pending, profiles: Mapping[str, ProfileRecord]) -> Finding | None:
        """What `entry` left, read from the keyring (a few reads); None when nothing."""
        if entry.step is Step.RENAME:
            return self._inspect_rename(entry, profiles)
        if entry.step is Step.SAVE:
            return self._inspect_save(entry, profiles.get(entry.name))
        if entry.name in profiles:  # the add took effect, or the removal did not
            return None
        leftover = Leftover.ADDED if entry.step is Step.ADD else Leftover.REMOVED
        return self._found(leftover, entry.name, entry.kinds)

    def _inspect_rename(
        self, entry: Pending, profiles: Mapping[str, ProfileRecord]
    ) -> Finding | None:
        assert entry.to is not None
        if entry.to in profiles and entry.name not in profiles:  # it took effect
            return self._found(Leftover.RENAMED, entry.name, entry.kinds, kept=entry.to)
        if entry.to in profiles:  # both: not a state this rename leaves
            return None
        kept = entry.name if entry.name in profiles else None
        return self._found(Leftover.COPIED, entry.to, entry.kinds, kept=kept)

    def _inspect_save(self, entry: Pending, record: ProfileRecord | None) -> Finding | None:
        written = record is not None and fingerprint(record) == entry.record
        candidates = tuple(BEING_SAVED[kind] for kind in entry.kinds)
        found = self._present(entry.name, candidates + (entry.drop if written else ()))
        if not found:
            return None
        return Finding(Leftover.SAVED, entry.name, found, finishes=written and entry.staged)

    def settle(self, entry: Pending, profiles: Mapping[str, ProfileRecord]) -> Finding | None:
        """Finish or undo `entry` as the settings file (`profiles`) says it went, and clear
        it from the journal; what was found. SecretStoreError leaves it for another time."""
        found = self.inspect(entry, profiles)
        if found is not None and found.leftover is Leftover.SAVED and found.finishes:
            self._finish_save(entry)
        elif found is not None:
            self._delete(found.profile, found.entries)
        self.journal.end(entry)
        if found is not None:
            log.info("repaired: %s", found)
        return found

    # ----- steps -------------------------------------------------------------------------
    def _start(self, entry: Pending, values: Mapping[SecretKind, str], commit: Commit) -> None:
        """An add's or a rename's first steps: journaled, `values` written under the (new)
        name, then the settings (`commit`); a failure before the settings are written undoes
        it."""
        name = entry.to or entry.name
        self.journal.begin(entry)
        pause_point(f"{entry.step}:journaled")
        try:
            for kind, value in values.items():
                self.secrets.set(name, kind, value)
            pause_point(f"{entry.step}:{_WRITTEN[entry.step]}")
            commit()
        except BaseException:
            self._undo(entry, name, tuple(values))
            raise
        pause_point(f"{entry.step}:settings-written")

    def _finish_save(self, entry: Pending) -> None:
        for kind in entry.kinds:
            value = self.secrets.get(entry.name, BEING_SAVED[kind])
            if value is not None:  # None: moved in by a run killed after it
                self.secrets.set(entry.name, kind, value)
                self.secrets.delete(entry.name, BEING_SAVED[kind])
        self._delete(entry.name, entry.drop)

    def _found(
        self, leftover: Leftover, name: str, kinds: tuple[SecretKind, ...], kept: str | None = None
    ) -> Finding | None:
        present = self._present(name, kinds)
        return Finding(leftover, name, present, kept=kept) if present else None

    def _present(self, name: str, kinds: tuple[SecretKind, ...]) -> tuple[SecretKind, ...]:
        return tuple(kind for kind in kinds if self.secrets.get(name, kind) is not None)

    def _delete(self, name: str, kinds: tuple[SecretKind, ...]) -> None:
        for kind in kinds:
            self.secrets.delete(name, kind)

    def _done(self, step: Callable[[], None], entry: Pending) -> bool:
        """Run a step after the settings were written: a keyring that fails now cannot undo
        the change, so its entry stays in the journal for repair."""
        try:
            step()
        except SecretStoreError as error:
            log.warning("left to repair (%s): %s", entry.step, error.reason)
            return False
        return True

    def _undo(self, entry: Pending, name: str, written: tuple[SecretKind, ...]) -> None:
        """Delete what a change wrote before its settings write failed (its own error is the
        one to report); if that fails too, the journal keeps it for repair."""
        try:
            self._delete(name, written)
        except SecretStoreError as error:
            log.warning("could not undo the keyring writes of %r: %s", name, error.reason)
            return
        self._end(entry)

    def _end(self, entry: Pending) -> None:
        """Clear a change that is done; a journal that cannot be written now leaves a note
        that repair will find done."""
        try:
            self.journal.end(entry)
        except SupalinkError as error:
            log.warning("could not clear the keyring journal: %s", error)

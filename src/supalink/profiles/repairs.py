"""Repair: what interrupted changes left in the keyring, and the Supabase profiles that
cannot open because their ref is not there, found (`find_repairs`) and fixed (`repair`).

`supalink profile repair [--yes]` and the app's offer call these; `leftover_entries` is
cheap enough for every `profile list` and every start of the app (no journal, no read)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from supalink.profiles.changes import Finding, Leftover
from supalink.profiles.secrets import SecretKind, SecretStoreError

if TYPE_CHECKING:
    from supalink.profiles.repository import PreferencesChange, ProfileRepository
    from supalink.profiles.settings import ProfileRecord


@dataclass(frozen=True)
class Repairs:
    """What `find_repairs` found, or `repair` did, one finding each."""

    findings: tuple[Finding, ...]

    @property
    def entries(self) -> int:
        """Keyring entries found: deleted or moved in by a repair."""
        return sum(len(finding.entries) for finding in self.findings)


def find_repairs(repository: ProfileRepository) -> Repairs:
    """What `repair` would do, found without changing anything: what the journal's
    interrupted changes left (a few keyring reads each) and the Supabase profiles whose ref
    is not in the keyring (one read each)."""
    changes = repository.changes
    profiles = repository.settings_file.load().settings.profiles
    found = [
        finding
        for entry in changes.journal.pending()
        if (finding := changes.inspect(entry, profiles)) is not None
    ]
    return Repairs((*found, *_refs_missing(repository, profiles, found)))


def repair(
    repository: ProfileRepository,
    also_removed: Callable[[str], PreferencesChange] | None = None,
) -> Repairs:
    """Finish or undo every interrupted change (under the settings file's lock, as every
    change holds it), then remove each Supabase profile whose ref is not in the keyring
    (it cannot open; the rest of it is in the settings only), unless none has its ref
    there: then the keyring is most likely not the one they were saved in, and they stay.
    What was found and done. `also_removed(name)`: what else the settings lose with a
    profile removed here (an agent's link, from the roles package), in the same write."""
    changes = repository.changes
    with repository.settings_file.editing() as loaded:
        profiles = loaded.settings.profiles
        found = [
            finding
            for entry in changes.journal.pending()
            if (finding := changes.settle(entry, profiles)) is not None
        ]
    lost = _refs_missing(repository, repository.settings_file.load().settings.profiles, found)
    for finding in lost:
        also = also_removed(finding.profile) if also_removed is not None else None
        repository.remove(finding.profile, also=also)
    return Repairs((*found, *lost))


def leftover_entries(repository: ProfileRepository) -> int:
    """How many keyring entries interrupted changes left, cheaply: the journal (no file when
    nothing is under way) and a few keyring reads per change it holds; 0 when the keyring
    cannot tell now."""
    changes = repository.changes
    if not (pending := changes.journal.pending()):
        return 0
    profiles = repository.settings_file.load().settings.profiles
    try:
        found = [changes.inspect(entry, profiles) for entry in pending]
    except SecretStoreError:
        return 0
    return sum(len(finding.entries) for finding in found if finding is not None)


def _refs_missing(
    repository: ProfileRepository, profiles: Mapping[str, ProfileRecord], found: list[Finding]
) -> list[Finding]:
    secrets = repository.secrets
    busy = {finding.profile for finding in found} | {f.kept for f in found if f.kept}
    supabase = [name for name, record in profiles.items() if record.is_supabase]
    missing = [
        name
        for name in supabase
        if name not in busy and secrets.get(name, SecretKind.PROJECT_REF) is None
    ]
    if len(missing) == len(supabase):  # none has its ref here: not the keyring they use
        return []
    return [
        Finding(
            Leftover.REF_MISSING,
            name,
            (SecretKind.PASSWORD,) if secrets.get(name, SecretKind.PASSWORD) is not None else (),
        )
        for name in missing
    ]

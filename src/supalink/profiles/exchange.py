"""Profiles in and out of Supalink as a JSON file a team shares: each profile as the settings
file holds it (settings.record_item, so a new field travels with no code here) and its
project ref, never a password, a token, or the ref of a profile whose keyring is locked.

Import is all or nothing: the whole file is checked first and every problem said at once;
a name saved here already is refused unless replacing is asked for (never renamed: the name
is how a team speaks of a connection). Then the profiles are saved one by one through the
repository, and a save that fails undoes the ones before it."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supalink import sentences
from supalink.errors import BadInput, Conflict, SupalinkError, file_faults
from supalink.files import parse_json, read_plain_file
from supalink.profiles.model import Profile, ProfileError, ca_file_problem
from supalink.profiles.repository import ProfileRepository, SavedProfile
from supalink.profiles.repository_errors import ProfileLocked, ProjectRefMissing
from supalink.profiles.settings import item_problems, record_from_item, record_item
from supalink.profiles.supabase import ref_problem

log = logging.getLogger(__name__)

FORMAT_KEY = "supalink_profiles"  # its value is the format's version
FORMAT_VERSION = 1
# Not read from an import file: the password's place is each person's own.
_NOT_IMPORTED = ("ref", "password_saved")


class NotAProfilesFile(BadInput):
    def __init__(self, source: str, why: str) -> None:
        super().__init__(sentences.not_a_profiles_file(source, why))
        self.source = source


class NewerProfilesFile(BadInput):
    def __init__(self, source: str, version: int) -> None:
        super().__init__(sentences.newer_profiles_file(source, version, FORMAT_VERSION))
        self.source = source
        self.version = version


class ImportRefused(BadInput):
    """Profiles of the file that cannot be imported: `problems`, each naming its profile."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        super().__init__(sentences.import_refused(source, problems))
        self.source = source
        self.problems = tuple(problems)


class ImportClashes(Conflict):
    """A valid file whose profiles' names (`names`) are saved here already."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(sentences.import_clashes(names))
        self.names = tuple(names)


class RefsNeeded(BadInput):
    """Supabase profiles exported without their ref, none entered for them."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(sentences.refs_needed(names))
        self.names = tuple(names)


@dataclass(frozen=True)
class Exported:
    """An export: the file's bytes, and the Supabase profiles in it without their ref (each
    with why)."""

    data: bytes
    names: tuple[str, ...]
    without_ref: dict[str, str] = field(default_factory=dict)

    def notices(self) -> list[str]:
        return [sentences.exported_without_ref(n, why) for n, why in self.without_ref.items()]


@dataclass(frozen=True)
class Incoming:
    """A profile of an import file, checked: with its ref, or a Supabase one whose ref must
    be entered (`needs_ref`); `replaces` a profile of its name."""

    profile: Profile
    is_supabase: bool
    replaces: bool

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def needs_ref(self) -> bool:
        return self.is_supabase and self.profile.ref is None


@dataclass(frozen=True)
class ImportPlan:
    """What an import file holds, every profile of it valid and free to save."""

    source: str
    profiles: tuple[Incoming, ...]

    @property
    def names(self) -> list[str]:
        return [incoming.name for incoming in self.profiles]

    @property
    def needing_ref(self) -> list[str]:
        return [incoming.name for incoming in self.profiles if incoming.needs_ref]


@dataclass(frozen=True)
class Imported:
    """What an import saved: each profile, and those saved without a password."""

    names: tuple[str, ...]
    without_password: tuple[str, ...]
    replaced: tuple[str, ...]


# ----- export ---------------------------------------------------------------------------


def export_profiles(repository: ProfileRepository, names: Sequence[str] = ()) -> Exported:
    """The profiles named (all when none are), in the order given; ProfileNotFound for a
    name not saved. A Supabase profile's ref is read from the keyring; when the keyring does
    not answer (or has no ref for it) it goes out without one, and says so."""
    wanted = list(dict.fromkeys(names)) or repository.names()
    records = [repository.record(name) for name in wanted]  # every name known, or nothing
    locked = repository.locked()
    items: list[dict[str, Any]] = []
    without_ref: dict[str, str] = {}
    for record in records:
        name = record.profile.name
        item = record_item(record)
        del item["password_saved"]
        ref = None
        if record.is_supabase and name in locked:
            without_ref[name] = locked[name]
        elif record.is_supabase:
            try:
                ref = repository.load(name).profile.ref
            except ProfileLocked as error:
                without_ref[name] = sentences.locked(error.reason)
            except ProjectRefMissing:
                without_ref[name] = sentences.ref_not_in_keyring()
        items.append({"name": name, "ref": ref, **item} if ref else item)
    document = {FORMAT_KEY: FORMAT_VERSION, "profiles": items}
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    log.info("exported %d profiles", len(items))
    return Exported(data, tuple(wanted), without_ref)


def write_export(path: Path, data: bytes) -> None:
    """The export written to `path` atomically (the old file or the new one, never half)."""
    from supalink.files import atomic_write_bytes

    with file_faults("write", path):
        atomic_write_bytes(path, data)


# ----- import ---------------------------------------------------------------------------


def read_import_file(path: Path) -> bytes:
    """The bytes of an import file; FileFault when it cannot be read (a folder, a pipe)."""
    with file_faults("read", path):
        return read_plain_file(path)


def read_import(
    data: bytes, source: str, repository: ProfileRepository, *, replace: bool = False
) -> ImportPlan:
    """The import file's profiles, every one checked before anything is written: its
    format, each profile as the settings file checks one, names twice in it, a CA file this
    machine lacks; NotAProfilesFile, NewerProfilesFile or ImportRefused (every problem at
    once), then ImportClashes for names saved here already unless `replace`."""
    items = _items(data, source)
    saved = set(repository.names())
    problems: list[str] = []
    incoming: list[Incoming] = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        name = item.get("name") if isinstance(item, dict) else None
        label = name if isinstance(name, str) else None
        if found := _item_problems(item):
            problems += [sentences.import_problem(position, label, each) for each in found]
            continue
        checked = _incoming(item, replaces=label in saved and replace)
        if checked.name in seen:
            problems.append(
                sentences.import_problem(position, label, sentences.name_twice_in_file())
            )
        seen.add(checked.name)
        existing = repository.record(checked.name).profile if checked.replaces else None
        if problem := _ca_file_problem(checked.profile, existing):
            problems.append(sentences.import_problem(position, label, problem))
        incoming.append(checked)
    if problems:
        raise ImportRefused(source, problems)
    clashes = [each.name for each in incoming if each.name in saved and not replace]
    if clashes:
        raise ImportClashes(clashes)
    return ImportPlan(source, tuple(incoming))


def _ca_file_problem(profile: Profile, existing: Profile | None) -> str | None:
    """A CA file this machine lacks, as the repository refuses one given anew (the file was
    exported with the path it has on the exporter's machine)."""
    cafile = profile.sslrootcert
    if not cafile or (existing is not None and existing.sslrootcert == cafile):
        return None
    problem = ca_file_problem(cafile)
    return None if problem is None else sentences.invalid_field("sslrootcert", problem)


def _items(data: bytes, source: str) -> list[Any]:
    try:
        document = parse_json(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NotAProfilesFile(source, "it is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        why = f"it is not JSON (line {error.lineno} column {error.colno}: {error.msg})"
        raise NotAProfilesFile(source, why) from None
    except ValueError as error:  # nested too deep
        raise NotAProfilesFile(source, str(error)) from None
    if not isinstance(document, dict) or FORMAT_KEY not in document:
        settings = isinstance(document, dict) and "schema_version" in document
        why = (
            "it is Supalink's settings file, not an export"
            if settings
            else f'it has no "{FORMAT_KEY}" version'
        )
        raise NotAProfilesFile(source, why)
    version = document[FORMAT_KEY]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NotAProfilesFile(source, f'its "{FORMAT_KEY}" version is not a whole number')
    if version > FORMAT_VERSION:
        raise NewerProfilesFile(source, version)
    items = document.get("profiles")
    if not isinstance(items, list):
        raise NotAProfilesFile(source, 'its "profiles" is not a list')
    return items


def _item_problems(item: Any) -> list[str]:
    """Every problem of one profile of the file, as the settings file checks its own, and
    of its ref."""
    if not isinstance(item, dict):  # the settings file's words for it
        return [sentences.invalid_field(*each) for each in item_problems(item).items()]
    values = {key: value for key, value in item.items() if key not in _NOT_IMPORTED}
    found = item_problems(values)
    ref = item.get("ref")
    if ref is not None and not isinstance(ref, str):
        found["ref"] = "must be text or nothing"
    elif ref is not None and item.get("supabase") is not True:
        found["ref"] = sentences.ref_of_custom_host()
    elif ref is not None and (problem := ref_problem(ref)):
        found["ref"] = problem
    return [sentences.invalid_field(field, problem) for field, problem in found.items()]


def _incoming(item: dict[str, Any], *, replaces: bool) -> Incoming:
    """One profile of the file, `_item_problems` found none in."""
    record = record_from_item({key: v for key, v in item.items() if key not in _NOT_IMPORTED})
    ref = item.get("ref")
    return Incoming(record.profile.replace(ref=ref), record.is_supabase, replaces)


def apply_import(
    repository: ProfileRepository,
    plan: ImportPlan,
    *,
    refs: Mapping[str, str] | None = None,
    passwords: Mapping[str, str] | None = None,
) -> Imported:
    """Save the plan's profiles: each with its password from `passwords` (saved in the
    keyring; none there leaves it unsaved, or a replaced profile's saved one as it is), and
    `refs` for those exported without theirs (RefsNeeded when one lacks it, ProfileError
    when one is not a ref). All or nothing: a save that fails undoes those before it."""
    refs, passwords = refs or {}, passwords or {}
    missing = [name for name in plan.needing_ref if not refs.get(name)]
    if missing:
        raise RefsNeeded(missing)
    for name in plan.needing_ref:
        if problem := ref_problem(refs[name]):
            raise ProfileError("ref", problem)
    # Read before anything is written: a keyring that does not answer refuses it all here.
    before = {
        each.name: _as_it_is(repository, each.name) for each in plan.profiles if each.replaces
    }
    done: list[Incoming] = []
    without_password: list[str] = []
    try:
        for each in plan.profiles:
            profile = each.profile.replace(ref=refs[each.name]) if each.needs_ref else each.profile
            password = passwords.get(each.name) or None
            keep = password is not None or each.replaces  # a replaced one keeps its own
            record = repository.save(profile, password, save_password=keep, replace=each.replaces)
            done.append(each)
            if not record.password_saved:
                without_password.append(each.name)
    except SupalinkError:
        _undo(repository, done, before)
        raise
    replaced = tuple(each.name for each in plan.profiles if each.replaces)
    log.info("imported %d profiles from %s", len(done), plan.source)
    return Imported(tuple(plan.names), tuple(without_password), replaced)


def _as_it_is(repository: ProfileRepository, name: str) -> tuple[SavedProfile, str | None]:
    saved = repository.load(name)
    password = repository.password(name)
    kept = password.value if password is not None and password.in_keyring else None
    return saved, kept


def _undo(
    repository: ProfileRepository,
    done: list[Incoming],
    before: Mapping[str, tuple[SavedProfile, str | None]],
) -> None:
    """Put back what an import saved before a save failed: the new profiles removed, the
    replaced ones as they were. What cannot be put back is logged (`repair` finishes a
    change the keyring left half done)."""
    for each in reversed(done):
        try:
            if each.name in before:
                saved, password = before[each.name]
                keep = saved.password_saved
                repository.save(saved.profile, password, save_password=keep, replace=True)
            else:
                repository.remove(each.name)
        except SupalinkError as error:
            log.warning("could not undo the import of profile %r: %s", each.name, error)

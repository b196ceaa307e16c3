"""The settings file: every profile minus its secrets, with a schema version, written atomically.

Several processes change it (the app, `supalink profile add` from a shell loop): every change
is a read-modify-write under the file's lock (`editing`), re-reading the file under it, so no
writer puts back a copy made before another one's profile went in."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supalink.errors import FileFault, SupalinkError, file_faults
from supalink.files import parse_json, read_plain_file
from supalink.profiles.model import Profile, ProfileError
from supalink.profiles.supabase import Mode

if TYPE_CHECKING:
    from datetime import datetime

# Imported where it is used: reading the file needs no datetime, and the window's first
# frame only reads it (supalink.files keeps its tempfile, shutil and random for a write).

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Kept out of the file: the ref lives in the keyring with the password.
_SECRET_FIELDS = ("ref",)
_STAND_IN_REF = "a" * 20  # a valid ref, for checking a stored profile without its own
_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(Profile) if f.name not in _SECRET_FIELDS)


class SettingsError(SupalinkError):
    """The settings file cannot be used as it is; nothing was written."""


class DuplicateProfiles(ValueError):
    """The file holds two profiles of one name: which one is meant cannot be told, so the
    file is set aside as a corrupt one is. `names`: each name held twice or more."""

    def __init__(self, names: list[str]) -> None:
        listed = ", ".join(repr(name) for name in names)
        many = len(names) > 1
        super().__init__(
            f"{'profiles' if many else 'profile'} {listed} {'are' if many else 'is'} in it "
            "more than once"
        )
        self.names = names


# Every dataclass of the package has a docstring: without one, @dataclass writes it from
# inspect.signature, at import (0.1-0.2 ms each, Profile's the most).
@dataclass(frozen=True)
class ProfileRecord:
    """A profile as stored: no ref, no password, and where the password is kept."""

    profile: Profile  # with ref=None even for Supabase profiles
    is_supabase: bool
    password_saved: bool


@dataclass
class Settings:
    """What the settings file holds: the profiles and the app's preferences."""

    profiles: dict[str, ProfileRecord] = field(default_factory=dict)
    preferences: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedSettings:
    """The settings as read, and what to tell about reading them."""

    settings: Settings
    notice: str | None = None  # set when a corrupt file was moved aside


class SettingsFile:
    def __init__(self, path: Path, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock  # None: datetime.now

    def load(self) -> LoadedSettings:
        """The settings as the file holds them. Read without the lock (a reader never sees
        half a file); a corrupt file, or a profile that is not valid, is moved aside under
        it, as the file is then."""
        raw = self._read()
        if raw is None:
            return LoadedSettings(Settings())
        with contextlib.suppress(ValueError, TypeError, KeyError):
            parsed = self._parse(raw)
            if not parsed.bad:
                return LoadedSettings(parsed.settings)
        try:
            with self._locked():
                return self._load_locked()
        except FileFault as fault:  # a listing meets a write here: say why there is one
            cause = f"{fault.cause} (it is not valid, and was to be set aside)"
            raise FileFault(fault.action, fault.path, cause, fault.errno) from None

    @contextlib.contextmanager
    def editing(self) -> Iterator[LoadedSettings]:
        """Hold the file's lock and give the settings read under it: change them and `save`
        before leaving, and no other writer's change is lost."""
        with self._locked():
            yield self._load_locked()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The file's lock; FileFault when it cannot be taken (a read-only folder refuses the
        lock file beside the settings before anything else)."""
        from supalink.files import locked

        with contextlib.ExitStack() as held:
            with file_faults("write", self.path):
                held.enter_context(locked(self.path))
            yield

    def _read(self) -> bytes | None:
        """The file's bytes, None when there is none; FileFault when it cannot be read (a
        folder, FIFO, device or socket in its place, never waited on; past 64 MiB)."""
        with file_faults("read", self.path):
            try:
                return read_plain_file(self.path)
            except FileNotFoundError:
                return None

    def _load_locked(self) -> LoadedSettings:
        raw = self._read()
        if raw is None:
            return LoadedSettings(Settings())
        try:
            parsed = self._parse(raw)
        except (ValueError, TypeError, KeyError) as error:
            return LoadedSettings(Settings(), self._move_aside(error))
        if parsed.bad:
            return LoadedSettings(parsed.settings, self._set_aside(parsed))
        return LoadedSettings(parsed.settings)

    def _parse(self, raw: bytes) -> _Parsed:
        document = parse_json(raw.decode("utf-8-sig"))
        version = document.get("schema_version") if isinstance(document, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise SettingsError(
                f"{self.path} was written by a newer Supalink (settings schema {version}; "
                f"this one reads {SCHEMA_VERSION}). Update Supalink; the file was left as is."
            )
        return _settings_from_document(document)

    def _kept_path(self) -> Path:
        """Where a corrupt file or bad profiles are kept: a name a person can date."""
        if self._clock is None:
            from datetime import datetime

            self._clock = datetime.now
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.stem}.corrupt-{stamp}{self.path.suffix}")
        number = 1
        while kept.exists():  # twice in one second: keep both
            number += 1
            kept = self.path.with_name(
                f"{self.path.stem}.corrupt-{stamp}-{number}{self.path.suffix}"
            )
        return kept

    def _set_aside(self, parsed: _Parsed) -> str:
        """Keep the profiles that are not valid in a file of their own, write the settings
        file without them, and say which and why; the others load as they are."""
        from supalink.files import atomic_write_bytes

        kept = self._kept_path()
        aside = {"schema_version": SCHEMA_VERSION, "profiles": [bad.item for bad in parsed.bad]}
        with file_faults("write", kept):
            atomic_write_bytes(kept, _encode(aside), mode=0o600)
        positions = {bad.position for bad in parsed.bad}
        rest = dict(parsed.document)
        rest["profiles"] = [
            item for position, item in enumerate(rest["profiles"]) if position not in positions
        ]
        try:
            with file_faults("write", self.path):
                atomic_write_bytes(self.path, _encode(rest), mode=0o600)
        except SupalinkError:
            kept.unlink(missing_ok=True)  # the settings file still holds them: keep one copy
            raise
        which = " and ".join(f"{bad.label!r} ({bad.problem})" for bad in parsed.bad)
        many = len(parsed.bad) > 1
        notice = (
            f"{'Profiles' if many else 'Profile'} {which} in the settings file "
            f"{'are' if many else 'is'} not valid. {'They were' if many else 'It was'} kept in "
            f"{kept} and left out; the other profiles loaded, and passwords in the keyring "
            "are untouched."
        )
        log.warning("%s", notice)
        return notice

    def _move_aside(self, error: Exception) -> str:
        kept = self._kept_path()
        with file_faults("write", self.path):
            os.replace(self.path, kept)
        detail = (
            f"line {error.lineno} column {error.colno}: {error.msg}"
            if isinstance(error, json.JSONDecodeError)
            else str(error)
        )
        notice = (
            f"The settings file could not be read ({detail}). It was kept as {kept} and "
            "Supalink started with no profiles; passwords in the keyring are untouched."
        )
        log.warning("%s", notice)
        return notice

    def save(self, settings: Settings, *, forbidden: tuple[str, ...] = ()) -> None:
        """Write atomically; refuse if any `forbidden` string (a ref, a password) would go in."""
        data = _encode(_document_from_settings(settings))
        for secret in forbidden:
            if secret and secret.encode() in data:
                raise SettingsError("refusing to write a secret into the settings file")
        from supalink.files import atomic_write_bytes

        with file_faults("write", self.path):
            atomic_write_bytes(self.path, data, mode=0o600)


def _encode(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# Plain classes, not dataclasses: each @dataclass costs 1-2 ms at import (the code of its
# methods is generated and compiled), and these two are only ever built and read here.
class _BadProfile:
    __slots__ = ("item", "label", "position", "problem")

    def __init__(self, position: int, item: Any, label: str, problem: str) -> None:
        self.position = position  # in the file's list of profiles
        self.item = item  # as the file holds it
        self.label = label  # its name, or its place when it has none
        self.problem = problem  # "field: why"


class _Parsed:
    __slots__ = ("bad", "document", "settings")

    def __init__(
        self, document: dict[str, Any], settings: Settings, bad: tuple[_BadProfile, ...]
    ) -> None:
        self.document = document
        self.settings = settings  # the valid profiles only
        self.bad = bad


def _settings_from_document(document: Any) -> _Parsed:
    if not isinstance(document, dict) or not isinstance(document.get("profiles", []), list):
        raise TypeError("the file is not a Supalink settings object")
    _refuse_duplicates(document.get("profiles", []))
    profiles: dict[str, ProfileRecord] = {}
    bad: list[_BadProfile] = []
    for position, item in enumerate(document.get("profiles", [])):
        name = item.get("name") if isinstance(item, dict) else None
        label = name if isinstance(name, str) and name.strip() else f"number {position + 1}"
        try:
            record = record_from_item(item)
        except ProfileError as error:
            bad.append(_BadProfile(position, item, label, str(error)))
            continue
        profiles[record.profile.name] = record
    preferences = document.get("preferences", {})
    settings = Settings(profiles, preferences if isinstance(preferences, dict) else {})
    return _Parsed(document, settings, tuple(bad))


def _refuse_duplicates(items: list[Any]) -> None:
    """DuplicateProfiles when two of the file's profiles have one name: the last would win
    without a word, and its password in the keyring would then be the other's."""
    seen: set[str] = set()
    twice: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen and name not in twice:
            twice.append(name)
        seen.add(name)
    if twice:
        raise DuplicateProfiles(twice)


def record_from_item(item: Any) -> ProfileRecord:
    """One stored profile, checked as the Profile model checks one typed into the form (types
    first: `"port": "5432"` by hand must not reach a connection); ProfileError if not valid."""
    record, checked = _unchecked_record(item)
    checked.validated()
    return record


def item_problems(item: Any) -> dict[str, str]:
    """Every problem of one stored profile, by field, where `record_from_item` stops at the
    first (an import file says them all at once); empty when it is valid."""
    try:
        _, checked = _unchecked_record(item)
    except ProfileError as error:
        return {error.field: error.reason}
    return checked.problems()


def _unchecked_record(item: Any) -> tuple[ProfileRecord, Profile]:
    """The record of one stored profile, and the profile to check for it; ProfileError when
    it cannot even be built."""
    if not isinstance(item, dict):
        raise ProfileError("profile", "must be an object")
    if "name" not in item:
        raise ProfileError("name", "a profile needs a name")
    values = {key: item[key] for key in _PROFILE_FIELDS if key in item}
    if values.get("mode", Mode.DIRECT) in tuple(Mode):  # anything else: the model says why
        values["mode"] = Mode(values.get("mode", Mode.DIRECT))
    flags = {key: item.get(key, False) for key in ("supabase", "password_saved")}
    for key, flag in flags.items():
        if not isinstance(flag, bool):
            raise ProfileError(key, f"must be true or false, not {json.dumps(flag)[:40]}")
    profile = Profile(**values)
    # The ref is in the keyring, not here: a stand-in lets the rest be checked as a whole.
    checked = profile.replace(ref=_STAND_IN_REF if flags["supabase"] else None)
    return ProfileRecord(profile, flags["supabase"], flags["password_saved"]), checked


def record_item(record: ProfileRecord) -> dict[str, Any]:
    """One profile as the settings file holds it (`record_from_item` reads it back): every
    field of the model but the ref, so a new field is stored (and exported) with no code."""
    values = dataclasses.asdict(record.profile)
    for secret_field in _SECRET_FIELDS:
        values.pop(secret_field)
    values["mode"] = str(record.profile.mode)
    return {**values, "supabase": record.is_supabase, "password_saved": record.password_saved}


def _document_from_settings(settings: Settings) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "profiles": [record_item(record) for record in settings.profiles.values()],
        "preferences": settings.preferences,
    }

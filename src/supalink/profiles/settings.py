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
from datetime import datetime
from pathlib import Path
from typing import Any

from supalink.errors import SupalinkError
from supalink.files import atomic_write_bytes, locked
from supalink.profiles.model import Profile
from supalink.profiles.supabase import Mode

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Kept out of the file: the ref lives in the keyring with the password.
_SECRET_FIELDS = ("ref",)
_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(Profile) if f.name not in _SECRET_FIELDS)


class SettingsError(SupalinkError):
    """The settings file cannot be used as it is; nothing was written."""


@dataclass(frozen=True)
class ProfileRecord:
    """A profile as stored: no ref, no password, and where the password is kept."""

    profile: Profile  # with ref=None even for Supabase profiles
    is_supabase: bool
    password_saved: bool


@dataclass
class Settings:
    profiles: dict[str, ProfileRecord] = field(default_factory=dict)
    preferences: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    notice: str | None = None  # set when a corrupt file was moved aside


class SettingsFile:
    def __init__(self, path: Path, clock: Callable[[], datetime] = datetime.now) -> None:
        self.path = path
        self._clock = clock

    def load(self) -> LoadedSettings:
        """The settings as the file holds them. Read without the lock (a reader never sees
        half a file); a corrupt file is moved aside under it, as it is then."""
        raw = self._read()
        if raw is None:
            return LoadedSettings(Settings())
        with contextlib.suppress(ValueError, TypeError, KeyError):
            return LoadedSettings(self._parse(raw))
        with locked(self.path):
            return self._load_locked()

    @contextlib.contextmanager
    def editing(self) -> Iterator[LoadedSettings]:
        """Hold the file's lock and give the settings read under it: change them and `save`
        before leaving, and no other writer's change is lost."""
        with locked(self.path):
            yield self._load_locked()

    def _read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def _load_locked(self) -> LoadedSettings:
        raw = self._read()
        if raw is None:
            return LoadedSettings(Settings())
        try:
            return LoadedSettings(self._parse(raw))
        except (ValueError, TypeError, KeyError) as error:
            return LoadedSettings(Settings(), self._move_aside(error))

    def _parse(self, raw: bytes) -> Settings:
        document = json.loads(raw.decode("utf-8-sig"))
        version = document.get("schema_version") if isinstance(document, dict) else None
        if isinstance(version, int) and version > SCHEMA_VERSION:
            raise SettingsError(
                f"{self.path} was written by a newer Supalink (settings schema {version}; "
                f"this one reads {SCHEMA_VERSION}). Update Supalink; the file was left as is."
            )
        return _settings_from_document(document)

    def _move_aside(self, error: Exception) -> str:
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.stem}.corrupt-{stamp}{self.path.suffix}")
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
        text = json.dumps(_document_from_settings(settings), indent=2, ensure_ascii=False) + "\n"
        for secret in forbidden:
            if secret and secret in text:
                raise SettingsError("refusing to write a secret into the settings file")
        atomic_write_bytes(self.path, text.encode("utf-8"), mode=0o600)


def _settings_from_document(document: Any) -> Settings:
    if not isinstance(document, dict) or not isinstance(document.get("profiles", []), list):
        raise TypeError("the file is not a Supalink settings object")
    profiles: dict[str, ProfileRecord] = {}
    for item in document.get("profiles", []):
        values = {key: item[key] for key in _PROFILE_FIELDS if key in item}
        values["mode"] = Mode(values.get("mode", Mode.DIRECT))
        record = ProfileRecord(
            profile=Profile(**values),
            is_supabase=bool(item.get("supabase", False)),
            password_saved=bool(item.get("password_saved", False)),
        )
        profiles[record.profile.name] = record
    preferences = document.get("preferences", {})
    return Settings(profiles, preferences if isinstance(preferences, dict) else {})


def _document_from_settings(settings: Settings) -> dict[str, Any]:
    profiles = []
    for record in settings.profiles.values():
        values = dataclasses.asdict(record.profile)
        for secret_field in _SECRET_FIELDS:
            values.pop(secret_field)
        values["mode"] = str(record.profile.mode)
        profiles.append(
            {**values, "supabase": record.is_supabase, "password_saved": record.password_saved}
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "profiles": profiles,
        "preferences": settings.preferences,
    }

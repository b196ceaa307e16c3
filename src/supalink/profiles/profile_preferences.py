"""Preferences kept per profile (whether its monitor raises desktop alerts, say): one key of
the settings file's preferences holds them by profile name, so that the repository carries
them in the same write as a rename and drops them with a removal. Pure functions over the
preferences dict, for the repository's writes under its lock."""

from __future__ import annotations

from typing import Any

PREFERENCE = "per_profile"  # {profile name: {key: value}}


def _stored(preferences: dict[str, Any]) -> dict[str, Any]:
    stored = preferences.get(PREFERENCE)
    return stored if isinstance(stored, dict) else {}


def read_in(preferences: dict[str, Any], name: str, key: str, default: object) -> object:
    own = _stored(preferences).get(name)
    return own.get(key, default) if isinstance(own, dict) else default


def set_in(preferences: dict[str, Any], name: str, key: str, value: object) -> None:
    stored = dict(_stored(preferences))
    own = stored.get(name)
    stored[name] = {**(own if isinstance(own, dict) else {}), key: value}
    preferences[PREFERENCE] = stored


def renamed_in(preferences: dict[str, Any], old: str, new: str) -> None:
    stored = _stored(preferences)
    if old in stored:
        preferences[PREFERENCE] = {
            (new if name == old else name): own for name, own in stored.items() if name != new
        }


def removed_in(preferences: dict[str, Any], name: str) -> None:
    stored = _stored(preferences)
    if name in stored:
        preferences[PREFERENCE] = {key: own for key, own in stored.items() if key != name}

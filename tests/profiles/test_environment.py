"""A profile's environment label (production, staging, development, or none): validated as
the other fields are, kept in the settings file, absent from an older one, and a value not
one of the three in a hand-edited file set aside with the reason."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from supalink.profiles import ENVIRONMENTS, PRODUCTION, Profile, ProfileError
from supalink.profiles.journal import fingerprint
from supalink.profiles.settings import ProfileRecord, Settings, SettingsFile


def local(environment: str | None) -> Profile:
    return Profile("p", host="localhost", environment=environment)


@pytest.mark.parametrize("environment", [None, *ENVIRONMENTS])
def test_each_environment_and_none_is_valid(environment: str | None) -> None:
    assert local(environment).problems() == {}


def test_only_production_is_production() -> None:
    assert ENVIRONMENTS == ("production", "staging", "development")
    assert local(PRODUCTION).is_production
    assert not any(local(other).is_production for other in (None, "staging", "development"))


@pytest.mark.parametrize(
    ("environment", "said"),
    [("prod", "not the text 'prod'"), ("Production", "not the text 'Production'"), ("", "''")],
)
def test_another_environment_is_refused_with_the_three_named(environment: str, said: str) -> None:
    with pytest.raises(ProfileError) as raised:
        local(environment).validated()
    assert raised.value.field == "environment"
    assert "one of production, staging, development (or none)" in str(raised.value)
    assert said in str(raised.value)


def test_the_environment_round_trips_through_the_settings_file(tmp_path: Path) -> None:
    file = SettingsFile(tmp_path / "settings.json")
    records = {
        name: ProfileRecord(Profile(name, host="localhost", environment=environment), False, False)
        for name, environment in [("prod", "production"), ("dev", "development"), ("x", None)]
    }
    file.save(Settings(records))
    stored = {
        item["name"]: item["environment"] for item in json.loads(file.path.read_text())["profiles"]
    }
    assert stored == {"prod": "production", "dev": "development", "x": None}
    loaded = file.load()
    assert loaded.notice is None
    assert loaded.settings.profiles == records


def test_a_settings_file_written_before_environments_loads_unlabelled(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    old = {"name": "old", "mode": "direct", "host": "127.0.0.1", "port": 5432, "user": "u"}
    path.write_text(json.dumps({"schema_version": 1, "profiles": [old], "preferences": {}}))
    loaded = SettingsFile(path).load()
    assert loaded.notice is None
    assert loaded.settings.profiles["old"].profile.environment is None


@pytest.mark.parametrize(
    ("value", "said"),
    [("prod", "not the text 'prod'"), (3, "must be text or nothing, not the number 3")],
)
def test_an_unknown_environment_in_a_hand_edited_file_sets_that_profile_aside(
    tmp_path: Path, value: object, said: str
) -> None:
    path = tmp_path / "settings.json"
    good = {"name": "good", "mode": "direct", "host": "127.0.0.1", "user": "u"}
    bad = {**good, "name": "bad", "environment": value}
    path.write_text(json.dumps({"schema_version": 1, "profiles": [good, bad]}))
    loaded = SettingsFile(path, clock=lambda: datetime(2026, 12, 8, 1, 0, 0)).load()
    assert list(loaded.settings.profiles) == ["good"]
    assert loaded.notice is not None
    assert "'bad' (environment: " in loaded.notice
    assert said in loaded.notice
    kept = tmp_path / "settings.corrupt-20261208-010000.json"
    assert json.loads(kept.read_text())["profiles"] == [bad]


def test_an_unlabelled_profiles_fingerprint_is_the_one_supalink_wrote_before_labels() -> None:
    """The keyring journal names a save under way by the fingerprint of its settings: one
    left by the previous version still matches after an upgrade."""
    record = ProfileRecord(Profile("p", host="h"), is_supabase=False, password_saved=True)
    assert fingerprint(record) == "7ee05db8ea87b2eb53717fcce80c4bde"  # as that version made it
    labelled = ProfileRecord(record.profile.replace(environment="staging"), False, True)
    assert fingerprint(labelled) != fingerprint(record)

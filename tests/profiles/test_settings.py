"""The settings file: schema version, atomic, no secrets, corrupt files kept aside."""

from __future__ import annotations

import json
import stat
from datetime import datetime
from pathlib import Path

import pytest

from supalink.profiles.model import Profile
from supalink.profiles.settings import (
    SCHEMA_VERSION,
    ProfileRecord,
    Settings,
    SettingsError,
    SettingsFile,
)
from supalink.profiles.supabase import Mode


def sample() -> Settings:
    profile = Profile("prod", Mode.SESSION, region="eu-west-1", pooler_index=0)
    return Settings({"prod": ProfileRecord(profile, is_supabase=True, password_saved=True)})


def test_round_trip_with_schema_version_and_private_mode(tmp_path: Path) -> None:
    file = SettingsFile(tmp_path / "config" / "settings.json")
    file.save(sample())
    document = json.loads(file.path.read_text())
    assert document["schema_version"] == SCHEMA_VERSION
    assert "ref" not in document["profiles"][0]
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    loaded = file.load()
    assert loaded.notice is None
    assert loaded.settings.profiles == sample().profiles


def test_refuses_to_write_a_forbidden_string(tmp_path: Path) -> None:
    file = SettingsFile(tmp_path / "settings.json")
    file.save(sample())
    before = file.path.read_bytes()
    with pytest.raises(SettingsError, match="secret"):
        file.save(sample(), forbidden=("eu-west-1",))
    assert file.path.read_bytes() == before


def test_corrupt_file_is_moved_aside_with_a_clear_notice(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"schema_version": 1, "profiles": [')
    file = SettingsFile(path, clock=lambda: datetime(2026, 11, 26, 3, 4, 5))
    loaded = file.load()
    kept = tmp_path / "settings.corrupt-20261126-030405.json"
    assert kept.read_text() == '{"schema_version": 1, "profiles": ['
    assert not path.exists()
    assert loaded.settings.profiles == {}
    assert loaded.notice is not None
    assert "line 1 column" in loaded.notice
    assert str(kept) in loaded.notice


def test_wrong_shape_counts_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"profiles": [{"name": "x", "mode": "sideways"}]}')
    assert SettingsFile(path).load().notice is not None


def test_newer_schema_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"schema_version": 99, "profiles": []}')
    with pytest.raises(SettingsError, match="newer Supalink"):
        SettingsFile(path).load()
    assert path.read_text() == '{"schema_version": 99, "profiles": []}'


def test_two_profiles_of_one_name_set_the_file_aside_and_say_which(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    profiles = [{"name": name, "host": "127.0.0.1"} for name in ("a", "b", "a", "b", "c")]
    text = json.dumps({"schema_version": 1, "profiles": profiles})
    path.write_text(text)
    loaded = SettingsFile(path, clock=lambda: datetime(2026, 11, 26, 3, 4, 5)).load()
    kept = tmp_path / "settings.corrupt-20261126-030405.json"
    assert kept.read_text() == text
    assert not path.exists()
    assert loaded.settings.profiles == {}
    assert loaded.notice == (
        "The settings file could not be read (profiles 'a', 'b' are in it more than once). "
        f"It was kept as {kept} and Supalink started with no profiles; passwords in the "
        "keyring are untouched."
    )


@pytest.mark.parametrize("depth", [300, 10_000])
def test_a_settings_file_nested_too_deep_is_set_aside(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"profiles": [], "preferences": {"x": ' + "[" * depth + "]" * depth + "}}")
    loaded = SettingsFile(path).load()
    assert loaded.settings.profiles == {}
    assert loaded.notice is not None
    assert "(it is nested deeper than 256 levels)" in loaded.notice
    assert not path.exists()

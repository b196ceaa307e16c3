"""A hand-edited settings file with a field of the wrong type or value: that profile is set
aside, named, and kept in a file of its own; the others load, and nothing crashes later."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from supalink.paths import AppPaths
from supalink.profiles.model import Profile, ProfileError
from supalink.profiles.settings import SettingsFile
from tests.support.cli import run_cli

GOOD = {"name": "good", "mode": "direct", "host": "127.0.0.1", "port": 5432, "user": "u"}
NOON = datetime(2026, 12, 1, 12, 0, 0)


def settings_with(*profiles: object) -> str:
    return json.dumps({"schema_version": 1, "profiles": [GOOD, *profiles], "preferences": {}})


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ({"port": "5432"}, "port: must be a whole number or nothing, not the text '5432'"),
        ({"host": 5}, "host: must be text or nothing, not the number 5"),
        ({"port": True}, "port: must be a whole number or nothing, not true"),
        ({"port": 70000}, "port: a port is between 1 and 65535"),
        ({"connect_timeout": 1.5}, "connect timeout: must be a whole number, not the number 1.5"),
        ({"mode": "sideways"}, "mode: must be one of direct, session, transaction"),
        ({"user": ["u"]}, "user: must be text, not a list"),
        ({"sslmode": "sometimes"}, "sslmode: SSL mode is one of"),
        ({"password_saved": "no"}, 'password saved: must be true or false, not "no"'),
        ({"host": None}, "host: a host is needed"),
    ],
)
def test_a_bad_field_sets_that_profile_aside_and_the_others_load(
    tmp_path: Path, bad: dict[str, object], problem: str
) -> None:
    path = tmp_path / "settings.json"
    broken = {**GOOD, "name": "broken", **bad}
    path.write_text(settings_with(broken))
    loaded = SettingsFile(path, clock=lambda: NOON).load()
    assert list(loaded.settings.profiles) == ["good"]
    kept = tmp_path / "settings.corrupt-20261201-120000.json"
    assert loaded.notice is not None
    assert "'broken'" in loaded.notice
    assert problem in loaded.notice
    assert str(kept) in loaded.notice
    assert json.loads(kept.read_text())["profiles"] == [broken]
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    # The settings file now holds only the good one: the next load says nothing.
    assert json.loads(path.read_text())["profiles"] == [GOOD]
    again = SettingsFile(path).load()
    assert (list(again.settings.profiles), again.notice) == (["good"], None)


def test_items_that_are_no_profile_at_all_are_named_by_their_place(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(settings_with(7, {"host": "h"}, {**GOOD, "name": 5}))
    loaded = SettingsFile(path, clock=lambda: NOON).load()
    assert list(loaded.settings.profiles) == ["good"]
    assert loaded.notice is not None
    assert "Profiles 'number 2' (profile: must be an object)" in loaded.notice
    assert "'number 3' (name: a profile needs a name)" in loaded.notice
    assert "'number 4' (name: must be text, not the number 5)" in loaded.notice


def test_a_supabase_profile_is_checked_without_its_ref(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    pooled = {"name": "pooled", "mode": "session", "supabase": True, "pooler_index": 0}
    path.write_text(settings_with({**pooled, "region": "eu-west-1"}, {**pooled, "name": "x"}))
    loaded = SettingsFile(path).load()
    assert list(loaded.settings.profiles) == ["good", "pooled"]
    assert loaded.notice is not None
    assert "'x' (region: the pooler needs the project's region" in loaded.notice


def test_the_model_names_a_field_of_the_wrong_type() -> None:
    with pytest.raises(ProfileError) as caught:
        Profile("p", host="h", port="5432").validated()  # type: ignore[arg-type]
    assert caught.value.field == "port"


def test_supalink_test_and_profile_list_with_a_string_port(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = AppPaths.under(home).settings_file
    path.parent.mkdir(parents=True)
    path.write_text(settings_with({**GOOD, "name": "broken", "port": "5432"}))
    env = {"PATH": "/usr/bin:/bin"}
    tested = run_cli("test", "broken", home=home, environ=env, text=True)
    assert "Traceback" not in tested.stderr
    assert "TypeError" not in tested.stderr
    assert "'broken'" in tested.stderr
    assert "port: must be a whole number" in tested.stderr
    assert tested.returncode != 0
    listed = run_cli("profile", "list", home=home, environ=env, text=True)
    assert listed.returncode == 0, listed.stderr
    assert "good" in listed.stdout
    assert "broken" not in listed.stdout


def test_every_field_of_the_model_has_its_type_checked() -> None:
    import dataclasses

    from supalink.profiles import model

    assert set(model._FIELD_KINDS) == {field.name for field in dataclasses.fields(Profile)}

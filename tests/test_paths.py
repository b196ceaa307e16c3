from __future__ import annotations

from pathlib import Path

import pytest

from supalink.paths import HOME_OVERRIDE_ENV, AppPaths


def test_override_puts_every_folder_under_one_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOME_OVERRIDE_ENV, str(tmp_path))
    paths = AppPaths.for_user()
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir):
        assert folder.is_relative_to(tmp_path)
    assert paths.settings_file.parent == paths.config_dir
    assert paths.log_file.parent == paths.log_dir


def test_user_folders_follow_xdg_on_linux(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_OVERRIDE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    paths = AppPaths.for_user()
    assert paths.config_dir == tmp_path / "cfg" / "supalink"
    assert paths.log_dir.is_relative_to(tmp_path / "state")

"""PySide looks at the source of every module imported after it (for its `__feature__`
switches); the app has it read each file without linecache keeping every line
(supalink.app.qt.read_sources_without_keeping: some 10 MB of the app's memory)."""

from __future__ import annotations

import linecache
import sys
from pathlib import Path

import pytest

from supalink.app.qt import read_sources_without_keeping


@pytest.mark.parametrize(("body", "uses"), [("import PySide6\n", 0), ("VALUE = 1\n", -1)])
def test_a_module_imported_later_is_checked_for_pyside_and_its_source_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, uses: int
) -> None:
    import PySide6.QtCore  # noqa: F401 - what installs PySide's check

    feature = sys.modules["shibokensupport.feature"]
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)  # put back
    read_sources_without_keeping()
    name = f"sources_probe_{uses + 1}"
    path = tmp_path / f"{name}.py"
    path.write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        __import__(name)  # through the import statement's hook, which PySide replaced
        assert feature.pyside_feature_dict[name] == uses
        assert str(path) not in linecache.cache
    finally:
        sys.modules.pop(name, None)
        feature.pyside_feature_dict.pop(name, None)


def test_the_apps_own_modules_count_as_pyside_users_without_being_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import PySide6.QtCore  # noqa: F401 - what installs PySide's check

    feature = sys.modules["shibokensupport.feature"]
    monkeypatch.setattr(feature, "_mod_uses_pyside", feature._mod_uses_pyside)  # put back
    read_sources_without_keeping()
    opened: list[str] = []
    monkeypatch.setattr("builtins.open", lambda path, *_, **__: opened.append(path))
    module = type(sys)("supalink.not_a_real_module")
    assert feature._mod_uses_pyside(module) is True
    assert opened == []

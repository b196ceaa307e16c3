"""The environment label in the windows: its colours read on both themes; the form's selector
and the band on top of it; the profile list's mark with the word; the monitor's title and
band; the tray's Show monitor entry; the Write config dialog's band, and its two questions
before an agent may write to a production database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QFormLayout, QListWidgetItem, QMessageBox

from supalink.app.context import build_context
from supalink.mcp import Host
from supalink.monitor import MonitorEngine
from supalink.paths import AppPaths
from supalink.profiles import ENVIRONMENTS, MemorySecretStore, Profile, Target
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.environment import COLORS, MARK_SIZE
from supalink.ui.main_window import MainWindow
from supalink.ui.monitor_window import MonitorWindow
from supalink.ui.profile_form import ProfileForm
from supalink.ui.tasks import TaskRunner
from supalink.ui.theme import Theme, apply_theme
from supalink.ui.tray import HealthTray
from tests.ui.monitor_support import keep_loop_running_on_close
from tests.ui.test_theme import contrast, qt_app

__all__ = ["qt_app"]  # the fixture that gives the application's palette back
WINDOW, BASE = QPalette.ColorRole.Window, QPalette.ColorRole.Base
REF = "abcdefghijklmnopqrst"
DASHBOARD = f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-1-eu-central-1.pooler.supabase.com:6543/postgres"


def center_color(icon: QIcon) -> QColor:
    """The colour in the middle of a mark."""
    return icon.pixmap(MARK_SIZE, MARK_SIZE).toImage().pixelColor(MARK_SIZE // 2, MARK_SIZE // 2)


def local(name: str, environment: str | None) -> Profile:
    """A profile nothing listens at: the windows here never connect."""
    return Profile(name, host="127.0.0.1", port=1, environment=environment)


@pytest.mark.parametrize("theme", [Theme.LIGHT, Theme.DARK])
def test_each_colour_reads_on_both_themes(qt_app: QApplication, theme: Theme) -> None:
    apply_theme(qt_app, theme)
    palette = qt_app.palette()
    assert set(COLORS) == set(ENVIRONMENTS)
    for environment, (fill, ink) in COLORS.items():
        for role in (WINDOW, BASE):  # a mark beside text, in a list or a menu
            assert contrast(QColor(fill), palette.color(role)) >= 3, (environment, role)
        assert contrast(QColor(ink), QColor(fill)) >= 4.5, environment  # a band's text


def test_the_form_picks_an_environment_and_shows_it_in_a_band_on_top(qtbot: Any) -> None:
    form = ProfileForm("memory, for this session only", True)
    qtbot.addWidget(form)
    form.show()
    layout = form.layout()
    assert isinstance(layout, QFormLayout)
    first = layout.itemAt(0)  # the form's first row
    assert first is not None
    assert first.widget() is form.header
    assert not form.header.isVisible()
    assert form.profile().environment is None
    assert [form.environment.itemText(i) for i in range(form.environment.count())] == [
        "None",
        "Production",
        "Staging",
        "Development",
    ]
    assert form.environment.accessibleName() == "Environment"

    edits: list[None] = []
    form.edited.connect(lambda: edits.append(None))
    form.environment.setCurrentIndex(form.environment.findData("production"))
    assert edits  # an edit of the profile: the window marks it unsaved
    assert form.header.isVisible()
    assert form.header.text() == "Production"
    assert form.header.font().bold()  # made bold as it first shows
    assert form.header.accessibleName() == "Environment: Production"
    assert form.header.palette().color(WINDOW) == QColor(COLORS["production"][0])
    assert form.profile().environment == "production"

    form.paste.setText(DASHBOARD)  # a URI fills the form: the mark stays as chosen
    assert form.profile().ref == REF
    assert form.profile().environment == "production"

    form.set_profile(local("s", "staging"))
    assert form.environment.currentText() == "Staging"
    assert form.header.text() == "Staging"
    form.set_profile(None)
    assert form.profile().environment is None
    assert not form.header.isVisible()


def test_the_list_marks_each_profile_with_its_colour_and_word_and_saves_a_change(
    qtbot: Any, tmp_path: Path
) -> None:
    context = build_context(AppPaths.under(tmp_path), MemorySecretStore())
    context.repository.save(local("Plain", None), None, save_password=False)
    context.repository.save(local("Shop", "production"), None, save_password=False)
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()

    def item(name: str) -> QListWidgetItem:
        found = window.profiles.list.findItems(name, Qt.MatchFlag.MatchStartsWith)
        [named] = [each for each in found if each.data(Qt.ItemDataRole.UserRole) == name]
        return named

    def row(name: str) -> tuple[str, str, QColor]:
        shown = item(name)
        spoken = shown.data(Qt.ItemDataRole.AccessibleTextRole)
        return shown.text(), spoken, center_color(shown.icon())

    text, spoken, mark = row("Shop")
    assert text == "Shop\nProduction · custom host"
    assert "Production" in spoken
    assert mark == QColor(COLORS["production"][0])
    text, spoken, mark = row("Plain")
    assert text == "Plain\ncustom host"  # in line with the others, no colour
    assert mark.alpha() == 0

    window.profiles.list.setCurrentItem(item("Plain"))  # as a click on it
    assert window.form.name.text() == "Plain"
    window.form.environment.setCurrentIndex(window.form.environment.findData("development"))
    assert window.form.header.text() == "Development"
    assert window.save_profile()
    assert context.repository.load("Plain").profile.environment == "development"
    text, _, mark = row("Plain")
    assert text == "Plain\nDevelopment · custom host"
    assert mark == QColor(COLORS["development"][0])


def monitor(qtbot: Any, profile: Profile) -> MonitorWindow:
    window = MonitorWindow(MonitorEngine(Target.from_profile(profile, None)), profile.name)
    keep_loop_running_on_close(window)
    qtbot.addWidget(window)
    return window


def test_the_monitor_says_its_environment_in_its_title_and_a_band_and_so_does_the_tray(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop
) -> None:
    shop, plain = monitor(qtbot, local("Shop", "production")), monitor(qtbot, local("Plain", None))
    shop.show()
    assert shop.windowTitle() == "[production] Shop — Supalink monitor"
    assert shop.environment_band.isVisible()
    assert shop.environment_band.text() == "Production"
    assert plain.windowTitle() == "Plain — Supalink monitor"
    assert not plain.environment_band.isVisible()

    tray = HealthTray(tray_available=False)
    action = tray.show_monitor_action
    tray.watch(plain)
    assert action.text() == "Show &monitor: Plain"
    assert action.icon().isNull()
    tray.watch(shop)  # the entry shows the last opened
    assert action.text() == "Show &monitor: Shop (Production)"
    assert center_color(action.icon()) == QColor(COLORS["production"][0])
    shop.close()
    qasync_loop.run_until_complete(shop.stop())
    assert action.text() == "Show &monitor: Plain"
    # The app closes its tray at quit while monitors still stop: their end is no error.
    tray.close()
    qtbot.wait(0)  # the menu's deleteLater done
    plain.close()
    qasync_loop.run_until_complete(plain.stop())


# ----- Write config --------------------------------------------------------------------


def config_dialog(qtbot: Any, tmp_path: Path, profile: Profile) -> ConfigDialog:
    host = Host("linux", {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, tmp_path / "home")
    target = Target.from_profile(profile, "pw")
    dialog = ConfigDialog(
        TaskRunner(), tmp_path / "backups", target, password_in_keyring=True, host=host
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def config_file(tmp_path: Path) -> Path:
    return tmp_path / "xdg" / "Claude" / "claude_desktop_config.json"


Asked = list[tuple[str, tuple[object, ...]]]


def answering(monkeypatch: pytest.MonkeyPatch, *answers: QMessageBox.StandardButton) -> Asked:
    """QMessageBox.question answers `answers` in turn; each question is kept with the
    arguments after its text (the buttons, the default one)."""
    asked: Asked = []
    left = list(answers)

    def question(parent: object, title: str, text: str, *rest: object) -> Any:
        asked.append((text, rest))
        return left.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


YES, NO = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No


def test_the_dialog_names_the_environment_in_a_band(qtbot: Any, tmp_path: Path) -> None:
    dialog = config_dialog(qtbot, tmp_path, local("Shop", "production"))
    assert dialog.environment_band.isVisible()
    assert dialog.environment_band.text() == "Production: the profile 'Shop' is marked production"
    assert dialog.environment_band.palette().color(WINDOW) == QColor(COLORS["production"][0])
    plain = config_dialog(qtbot, tmp_path, local("Plain", None))
    assert not plain.environment_band.isVisible()


@pytest.mark.parametrize("answers", [(NO,), (YES, NO)])
def test_writes_to_production_are_not_written_unless_both_questions_are_yes(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answers: tuple[Any, ...]
) -> None:
    dialog = config_dialog(qtbot, tmp_path, local("Shop", "production"))
    dialog.choices.allow_writes.setChecked(True)
    asked = answering(monkeypatch, *answers)
    assert not dialog.write()
    assert len(asked) == len(answers)
    assert "'Shop' is marked production" in asked[0][0]
    assert not config_file(tmp_path).exists()
    assert dialog.status.text() == "Not written: writes to production were not confirmed."


def test_writes_to_production_are_written_after_two_yeses_the_second_defaulting_to_no(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialog = config_dialog(qtbot, tmp_path, local("Shop", "production"))
    dialog.choices.allow_writes.setChecked(True)
    asked = answering(monkeypatch, YES, YES)
    assert dialog.write()
    [first, second] = asked
    assert "can change and delete data" in first[0]
    assert "'Shop'" in second[0]
    assert second[1] == (YES | NO, NO)  # Enter, or a reflex, says No
    args = json.loads(config_file(tmp_path).read_text())["mcpServers"]["supabase"]["args"]
    assert args == ["mcp-serve", "--profile", "Shop", "--allow-writes"]


@pytest.mark.parametrize(("environment", "writes"), [("production", False), ("staging", True)])
def test_read_only_production_and_writable_staging_ask_nothing(
    qtbot: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environment: str,
    writes: bool,
) -> None:
    dialog = config_dialog(qtbot, tmp_path, local("Shop", environment))
    dialog.choices.allow_writes.setChecked(writes)
    asked = answering(monkeypatch)
    assert dialog.write()
    assert asked == []
    assert config_file(tmp_path).exists()

"""Themes: hints and messages keep readable colours through a theme change, list rows keep
their room, and no application style sheet slows every widget down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from supalink.profiles import MemorySecretStore, ProfileRepository
from supalink.profiles.settings import SettingsFile
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from supalink.ui.theme import (
    ROW_PADDING,
    SYSTEM_SCHEME_PREFERENCE,
    RoomyRows,
    Theme,
    Tone,
    apply_theme,
    follow_system_color_scheme,
    remember_system_dark,
    remembered_system_dark,
    settle_system_scheme,
    theme_named,
    toned,
)

WINDOW_TEXT = QPalette.ColorRole.WindowText


def text_color(label: QLabel) -> str:
    return str(label.palette().color(WINDOW_TEXT).name())


def contrast(foreground: QColor, background: QColor) -> float:
    """WCAG contrast ratio."""

    def luminance(color: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        return (
            0.2126 * channel(color.redF())
            + 0.7152 * channel(color.greenF())
            + 0.0722 * channel(color.blueF())
        )

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture
def qt_app(qapp: QApplication) -> Iterator[QApplication]:
    """The session's application, its style and palette given back afterwards."""
    style, palette = qapp.style().name(), QPalette(qapp.palette())
    yield qapp
    qapp.setStyle(style)
    qapp.setPalette(palette)


@pytest.mark.parametrize("theme", [Theme.LIGHT, Theme.DARK])
def test_tones_are_readable_and_follow_a_theme_change(qt_app: QApplication, theme: Theme) -> None:
    other = Theme.DARK if theme is Theme.LIGHT else Theme.LIGHT
    apply_theme(qt_app, other)
    hint, error, plain = toned(QLabel("hint"), Tone.HINT), toned(QLabel("!"), Tone.ERROR), QLabel()
    before = {text_color(hint), text_color(error)}
    apply_theme(qt_app, theme)
    qt_app.processEvents()  # windows (here each label) take the new palette from an event
    assert qt_app.styleSheet() == ""
    assert {text_color(hint), text_color(error)}.isdisjoint(before)
    window = qt_app.palette().color(QPalette.ColorRole.Window)
    assert (window.lightness() < 128) is (theme is Theme.DARK)
    assert contrast(hint.palette().color(WINDOW_TEXT), window) >= 4.5
    assert contrast(error.palette().color(WINDOW_TEXT), window) >= 4.5
    assert text_color(hint) != text_color(error)
    assert text_color(plain) == qt_app.palette().color(WINDOW_TEXT).name()
    # A tone taken away: the theme's text colour again, through later changes too.
    toned(hint, None)
    apply_theme(qt_app, other)
    qt_app.processEvents()
    assert text_color(hint) == qt_app.palette().color(WINDOW_TEXT).name()


def test_the_theme_menu_recolours_the_open_window_and_is_remembered(
    qtbot: Any, qt_app: QApplication, app_context: AppContext
) -> None:
    apply_theme(qt_app, Theme.LIGHT)
    window = MainWindow(app_context)
    qtbot.addWidget(window)
    window.show()
    hint = window.form.tls.ca_hint
    light = text_color(hint)
    dark_action = next(a for a in window.menus.theme_group.actions() if a.text() == "Dark")
    dark_action.trigger()
    qt_app.processEvents()
    assert qt_app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    assert text_color(hint) not in (light, qt_app.palette().color(WINDOW_TEXT).name())
    assert app_context.repository.preference("theme", Theme.SYSTEM) == "dark"
    image = window.grab().toImage()
    assert QColor(image.pixel(5, window.height() // 2)).lightness() < 128


def test_list_rows_have_room_above_and_below(qtbot: Any) -> None:
    plain, roomy = QListWidget(), QListWidget()
    roomy.setItemDelegate(RoomyRows(roomy))
    for view in (plain, roomy):
        qtbot.addWidget(view)
        QListWidgetItem("Production\nSession", view)
        view.show()
    grown = roomy.sizeHintForRow(0) - plain.sizeHintForRow(0)
    assert grown == ROW_PADDING.top() + ROW_PADDING.bottom()


def window_is_dark(app: QApplication) -> bool:
    return bool(app.palette().color(QPalette.ColorRole.Window).lightness() < 128)


@pytest.mark.parametrize("chosen", [Theme.SYSTEM, Theme.LIGHT])
def test_the_system_theme_follows_the_desktop_switching_while_the_app_runs(
    qtbot: Any, qt_app: QApplication, chosen: Theme
) -> None:
    apply_theme(qt_app, chosen, system_dark=False)
    hint = toned(QLabel("hint"), Tone.HINT)
    qtbot.addWidget(hint)
    light_hint = text_color(hint)
    stop_following = follow_system_color_scheme(qt_app, lambda: chosen)
    try:
        # What Qt emits when the desktop's setting changes (offscreen has no desktop).
        qt_app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        qt_app.processEvents()
        if chosen is Theme.SYSTEM:
            assert window_is_dark(qt_app)
            assert text_color(hint) != light_hint
            qt_app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
            qt_app.processEvents()
        assert not window_is_dark(qt_app)  # a chosen theme stays as chosen
        assert text_color(hint) == light_hint
    finally:
        stop_following()
    qt_app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert not window_is_dark(qt_app)  # stopped: the app has quit


@pytest.mark.parametrize("chosen", [Theme.SYSTEM, Theme.LIGHT])
def test_the_start_paints_the_scheme_last_seen_then_takes_the_desktops(
    qt_app: QApplication, tmp_path: Path, chosen: Theme
) -> None:
    """The first frame uses the scheme remembered from the last start (asking Qt builds the
    Qt namespace); right after it, a desktop that changed meanwhile wins and is remembered."""
    repository = ProfileRepository(SettingsFile(tmp_path / "settings.json"), MemorySecretStore())
    assert remembered_system_dark(repository) is None  # never looked: the start asks Qt
    remember_system_dark(repository, True)
    assert remembered_system_dark(repository) is True
    apply_theme(qt_app, chosen, system_dark=True)  # the first frame
    assert window_is_dark(qt_app) is (chosen is Theme.SYSTEM)
    # Offscreen, Qt says the desktop is not dark.
    settle_system_scheme(qt_app, repository, lambda: chosen, remembered=True)
    assert not window_is_dark(qt_app)
    assert repository.preference(SYSTEM_SCHEME_PREFERENCE) == "light"
    reread = ProfileRepository(SettingsFile(tmp_path / "settings.json"), MemorySecretStore())
    assert remembered_system_dark(reread) is False  # what the next start paints with
    stop_following = follow_system_color_scheme(
        qt_app, lambda: chosen, seen=lambda dark: remember_system_dark(repository, dark)
    )
    try:
        qt_app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
        assert remembered_system_dark(repository) is True  # a switch while it runs, too
    finally:
        stop_following()


def test_a_theme_name_the_app_does_not_know_means_system() -> None:
    assert theme_named("dark") is Theme.DARK
    assert theme_named("purple") is Theme.SYSTEM
    assert theme_named(None) is Theme.SYSTEM


def edge_contrast(widget: QWidget, window: QColor) -> float:
    """The strongest contrast against the window along the left end of the widget's middle
    row: where the edge of a field, a check box or a radio button is (and no text)."""
    image = widget.grab().toImage()
    row = image.height() // 2
    return max(contrast(image.pixelColor(x, row), window) for x in range(min(6, image.width())))


@pytest.mark.parametrize("theme", [Theme.LIGHT, Theme.DARK])
def test_every_control_has_an_edge_that_shows_on_either_theme(
    qt_app: QApplication, theme: Theme
) -> None:
    """Unchecked boxes, empty inputs, a spin box and a text pane: each outlined at 3:1
    against the window (WCAG's contrast for a control's outline). Before, the dark theme's
    check box had no box, inputs no border, radio buttons next to nothing."""
    apply_theme(qt_app, theme)
    window = qt_app.palette().color(QPalette.ColorRole.Window)
    holder = QWidget()  # never shown: no control has the focus, whose edge is the accent
    controls = {
        "check box": QCheckBox(holder),
        "radio button": QRadioButton(holder),
        "line edit": QLineEdit(holder),
        "spin box": QSpinBox(holder),
        "text pane": QPlainTextEdit(holder),
        "disabled line edit": QLineEdit(holder),
    }
    controls["disabled line edit"].setEnabled(False)
    for control in controls.values():
        control.resize(control.sizeHint())
    found = {name: edge_contrast(control, window) for name, control in controls.items()}
    enabled = {name: ratio for name, ratio in found.items() if not name.startswith("disabled")}
    assert min(enabled.values()) >= 3.0, found
    assert found["disabled line edit"] >= 1.3, found  # quieter, yet there

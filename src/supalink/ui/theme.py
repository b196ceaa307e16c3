"""Light and dark palettes (Fusion), following the system unless the user picks one.

No style sheets: under one, Qt restyles a widget's whole subtree every time it is
reparented, which made the main window twice as slow to build, and every repaint is
slower (the monitor window took notifications in at 170,000/s with one, 296,000/s
without). Grey hints and red messages are palette colours instead (`toned`), and list rows
get their room from a delegate (`RoomyRows`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QMargins
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyledItemDelegate, QWidget

from supalink.errors import SupalinkError

if TYPE_CHECKING:
    # Not loaded before the first paint: PySide builds a class's enums when the class is
    # first used, the Qt namespace's ~100 of them take longer than a bare window's whole
    # start, QStyleOption's a good part of it (tests/benchmarks/startup.py).
    from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
    from PySide6.QtWidgets import QStyleOptionViewItem

    from supalink.profiles import ProfileRepository
    from supalink.ui.preferences import Preferences

log = logging.getLogger(__name__)

ACCENT = "#3ecf8e"  # Supabase green


class Theme(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


def theme_named(value: object) -> Theme:
    """The theme a settings file names; System for anything else (a hand-edited file)."""
    try:
        return Theme(str(value))
    except ValueError:
        return Theme.SYSTEM


class Tone(StrEnum):
    HINT = "hint"  # secondary text: greyed
    ERROR = "error"  # a field's or an action's problem: red


# (on the light theme, on the dark one): both readable on their window colour.
_TONE_COLORS = {Tone.HINT: ("#5f6670", "#9aa0a8"), Tone.ERROR: ("#c0392b", "#ff7b72")}
TONE_PROPERTY = "supalinkTone"
W = TypeVar("W", bound=QWidget)
ROW_PADDING = QMargins(0, 6, 0, 6)

_DARK = {
    QPalette.ColorRole.Window: "#1f2124",
    QPalette.ColorRole.WindowText: "#e8e8e8",
    # Fields a shade lighter than the window, as in most dark themes: an input, a check
    # box or a radio button stands out by its fill too (see EDGES for its outline).
    QPalette.ColorRole.Base: "#2c2f34",
    QPalette.ColorRole.AlternateBase: "#32363c",
    QPalette.ColorRole.ToolTipBase: "#2b2e33",
    QPalette.ColorRole.ToolTipText: "#e8e8e8",
    QPalette.ColorRole.Text: "#e8e8e8",
    QPalette.ColorRole.PlaceholderText: "#8a8f98",
    QPalette.ColorRole.Button: "#2b2e33",
    QPalette.ColorRole.ButtonText: "#e8e8e8",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#24805a",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: ACCENT,
    QPalette.ColorRole.Mid: "#3a3e44",
}
_LIGHT = {
    QPalette.ColorRole.Window: "#f4f5f7",
    QPalette.ColorRole.WindowText: "#1c1c1c",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f0f2f4",
    QPalette.ColorRole.ToolTipBase: "#ffffff",
    QPalette.ColorRole.ToolTipText: "#1c1c1c",
    QPalette.ColorRole.Text: "#1c1c1c",
    QPalette.ColorRole.PlaceholderText: "#80868f",
    QPalette.ColorRole.Button: "#e9ebee",
    QPalette.ColorRole.ButtonText: "#1c1c1c",
    QPalette.ColorRole.BrightText: "#c0392b",
    QPalette.ColorRole.Highlight: "#2f9e6f",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#1f7a52",
    QPalette.ColorRole.Mid: "#c9ccd1",
}


# The edge of a field: 3:1 against the window on each theme, the contrast WCAG asks of a
# control's outline (a focused one takes Fusion's highlight).
EDGES = {False: "#767c85", True: "#757b85"}  # by dark
# Fusion draws the edge of these in their palette's Window colour darkened by 140 %: in the
# app's palette that is next to black on the dark window (a check box had no box, inputs
# no border) and a faint 2:1 on the light one. So these classes get a palette whose
# Window gives the edge above; none of them paints its Window (fields are Base, and
# none holds a widget that would inherit it). A proxy style could draw the edges
# instead, but costs a Python call per primitive: +60 % to paint a 60-row table.
EDGED_CLASSES = (
    "QLineEdit",
    "QAbstractSpinBox",
    "QCheckBox",
    "QRadioButton",
    "QPlainTextEdit",
    "QTextEdit",
    "QTableView",
    "QListView",
    "QTreeView",
)
FUSION_OUTLINE_DARKER = 140


def system_prefers_dark() -> bool:
    """The desktop's colour scheme, as Qt reads it. The answer is a Qt.ColorScheme, which
    builds the whole Qt namespace: the start paints with `remembered_system_dark`'s answer
    and asks this after its first paint."""
    from PySide6.QtCore import Qt

    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


# The preference that keeps the desktop's colour scheme as last seen, "dark" or "light".
SYSTEM_SCHEME_PREFERENCE = "last_system_scheme"


def remembered_system_dark(preferences: Preferences) -> bool | None:
    """Whether the desktop was dark when the app last looked, None when it never did."""
    try:
        seen = preferences.preference(SYSTEM_SCHEME_PREFERENCE)
    except SupalinkError:  # settings it cannot read: the window opens and says why
        return None
    return {"dark": True, "light": False}.get(str(seen))


def remember_system_dark(repository: ProfileRepository, dark: bool) -> None:
    try:
        repository.set_preference(SYSTEM_SCHEME_PREFERENCE, "dark" if dark else "light")
    except SupalinkError as error:  # a read-only settings file: the next start asks Qt again
        log.warning("could not remember the colour scheme: %s", error)


def settle_system_scheme(
    app: QApplication,
    repository: ProfileRepository,
    chosen: Callable[[], Theme],
    remembered: bool | None,
) -> None:
    """After the first paint, which used `remembered`: the desktop's scheme as Qt says it.
    When it changed since the last start, the System theme switches to it now (that start
    shows the old scheme for its first frame) and the new one is remembered."""
    dark = system_prefers_dark()
    if dark == remembered:
        return
    if remembered is not None and chosen() is Theme.SYSTEM:
        apply_theme(app, Theme.SYSTEM, system_dark=dark)
    remember_system_dark(repository, dark)


def is_dark(theme: Theme, system_dark: bool | None = None) -> bool:
    if theme is Theme.SYSTEM:
        return system_prefers_dark() if system_dark is None else system_dark
    return theme is Theme.DARK


# Set on an application that `fusion_application` made: its style is Fusion already.
BORN_FUSION = "supalinkBornFusion"


def fusion_application(argv: list[str]) -> QApplication:
    """A QApplication in the Fusion style by its own `-style` option (it wins over
    QT_STYLE_OVERRIDE, as setStyle does): the style is then made in C++, where setStyle()
    hands a QStyle to Python, and PySide builds QStyle's many enums before the first paint."""
    app = QApplication([*argv, "-style", "Fusion"])
    app.setProperty(BORN_FUSION, True)
    return app


def apply_theme(app: QApplication, theme: Theme, *, system_dark: bool | None = None) -> None:
    """`system_dark` is the desktop's setting when the caller has just been told it (a
    colour scheme change); without it the System theme asks Qt."""
    if not app.property(BORN_FUSION):
        app.setStyle("Fusion")
    dark = is_dark(theme, system_dark)
    app.setPalette(_palette(dark))
    # Built again rather than copied: QPalette(palette) weighs its overloads, one of which
    # takes a Qt.GlobalColor, and that builds the Qt namespace's enums before the first paint.
    edged = _palette(dark)
    edged.setColor(QPalette.ColorRole.Window, QColor(EDGES[dark]).lighter(FUSION_OUTLINE_DARKER))
    for class_name in EDGED_CLASSES:
        # PySide6's stub says bytes, but it takes str (and refuses bytes).
        app.setPalette(edged, class_name)  # type: ignore[arg-type]
    for widget in QApplication.allWidgets():
        tone = widget.property(TONE_PROPERTY)
        if tone:
            _paint_tone(widget, Tone(tone))


def _palette(dark: bool) -> QPalette:
    palette = QPalette()
    for role, color in (_DARK if dark else _LIGHT).items():
        palette.setColor(role, QColor(color))
    disabled = QColor("#6b7078" if dark else "#a0a4aa")
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def follow_system_color_scheme(
    app: QApplication,
    chosen: Callable[[], Theme],
    seen: Callable[[bool], object] = lambda _dark: None,
) -> Callable[[], None]:
    """While `chosen()` is the System theme, switch between light and dark as the desktop
    does, also while the app runs; `seen` is told each scheme (dark or not) the desktop
    changes to. Returns what stops following."""
    from PySide6.QtCore import Qt

    def changed(scheme: Qt.ColorScheme) -> None:
        dark = scheme == Qt.ColorScheme.Dark
        seen(dark)
        if chosen() is Theme.SYSTEM:
            apply_theme(app, Theme.SYSTEM, system_dark=dark)

    signal = app.styleHints().colorSchemeChanged
    signal.connect(changed)

    def stop() -> None:
        signal.disconnect(changed)

    return stop


def toned(widget: W, tone: Tone | None) -> W:
    """Show `widget`'s text in `tone`'s colour for the theme in use (and on a theme
    change); None gives it back the palette's own text colour."""
    widget.setProperty(TONE_PROPERTY, tone.value if tone else "")
    if tone is None:
        widget.setPalette(QPalette())  # no role set: all of it from the parent again
    else:
        _paint_tone(widget, tone)
    return widget


def _paint_tone(widget: QWidget, tone: Tone) -> None:
    color_text(widget, QColor(_TONE_COLORS[tone][palette_is_dark(QApplication.palette())]))


def palette_is_dark(palette: QPalette) -> bool:
    """Whether `palette` is a dark theme's (light text on a dark window)."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def color_text(widget: QWidget, color: QColor) -> None:
    """`widget`'s text in `color`, the rest of its palette still its parent's."""
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.WindowText, color)
    widget.setPalette(palette)


class RoomyRows(QStyledItemDelegate):
    """List rows with room above and below their text, easier to read and to hit."""

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return super().sizeHint(option, index).grownBy(ROW_PADDING)

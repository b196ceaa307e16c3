"""The connection form's field widgets: a line edit named for screen readers, a field with its
message underneath, the Paste URI box, which tells a whole text from one being typed, and how
the form hears that any kind of field changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from supalink.ui.theme import Tone, toned


def line_edit(accessible: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setAccessibleName(accessible)
    edit.setPlaceholderText(placeholder)
    return edit


def changed_signal(field: QWidget | QButtonGroup) -> SignalInstance:
    """What `field` emits when its value changes, whatever kind of field it is."""
    if isinstance(field, QLineEdit):
        return field.textChanged
    if isinstance(field, QComboBox):
        return field.currentIndexChanged
    if isinstance(field, QSpinBox):
        return field.valueChanged
    if isinstance(field, QButtonGroup):
        return field.buttonToggled
    if isinstance(field, QAbstractButton):
        return field.toggled
    raise TypeError(f"not a field: {field!r}")


def notify_changes(
    fields: Mapping[str, QWidget | QButtonGroup], changed: Callable[[str], None]
) -> None:
    """`changed(key)` on every change of each field, by its key."""
    for key, field in fields.items():
        changed_signal(field).connect(lambda *_, key=key: changed(key))


class FieldRow(QWidget):
    """A field with its validation message underneath."""

    def __init__(self, *widgets: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        line = QHBoxLayout()
        line.setSpacing(6)
        for widget in widgets:
            line.addWidget(widget, 1 if isinstance(widget, QLineEdit | QComboBox) else 0)
        layout.addLayout(line)
        self._layout = layout

    @cached_property
    def message(self) -> QLabel:
        """Made when first needed, right under the field: a form has a dozen, none showing
        in a blank form's first frame (each a widget and a palette to build and lay out)."""
        label = toned(QLabel(), Tone.ERROR)
        label.setWordWrap(True)
        label.hide()
        self._layout.insertWidget(1, label)  # above what add_below put there
        return label

    def add_below(self, widget: QWidget) -> None:
        self._layout.addWidget(widget)

    def show_message(self, text: str | None, tone: Tone = Tone.ERROR) -> None:
        if not text and "message" not in self.__dict__:
            return  # nothing to say, and nothing was said
        self.message.setText(text or "")
        toned(self.message, tone)
        self.message.setVisible(bool(text))


class UriPasteBox(QLineEdit):
    """Emits `whole_text` for a text pasted, dropped or set at once, or on Enter, and
    `partial_text(True)` while one is typed (False once empty): typed, `postgresql://p` is
    already a URI whose host is `p`, which must not replace the form."""

    whole_text = Signal(str)
    partial_text = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._before = ""
        self.textChanged.connect(self._changed)
        self.returnPressed.connect(lambda: self.whole_text.emit(self.text()))

    def _changed(self, text: str) -> None:
        grown = len(text) - len(self._before)  # a key adds one character, a paste more
        self._before = text
        if not text.strip():
            self.partial_text.emit(False)
        elif grown > 1:
            self.whole_text.emit(text)
        else:
            self.partial_text.emit(True)


__all__ = ["FieldRow", "UriPasteBox", "changed_signal", "line_edit", "notify_changes"]

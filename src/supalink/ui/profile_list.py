"""The profile list with add, duplicate, rename and delete.

Item roles are Qt.ItemDataRole's, imported where used: the Qt namespace's enums take a
good part of a start to build, and the list is empty at the first paint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from supalink.ui.environment import environment_icon, environment_word
from supalink.ui.theme import RoomyRows

if TYPE_CHECKING:
    from supalink.profiles import ProfileRecord


class ProfileList(QWidget):
    selected = Signal(str)  # a profile name; "" when nothing is selected
    add_requested = Signal()
    duplicate_requested = Signal(str)
    rename_requested = Signal(str)
    delete_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setItemDelegate(RoomyRows(self.list))
        self.list.setAccessibleName("Profiles")
        self.add = QPushButton("Add")
        self.duplicate = QPushButton("Duplicate")
        self.rename = QPushButton("Rename")
        self.delete = QPushButton("Delete")
        self.add.setAccessibleName("Add profile")
        self.duplicate.setAccessibleName("Duplicate profile")
        self.rename.setAccessibleName("Rename profile")
        self.delete.setAccessibleName("Delete profile")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        # Two by two: in a row they made the window wider than 1366x768 at 200 % (683 px).
        buttons = QGridLayout()
        for index, button in enumerate((self.add, self.duplicate, self.rename, self.delete)):
            buttons.addWidget(button, index // 2, index % 2)
        layout.addLayout(buttons)
        self.list.currentItemChanged.connect(self._current_changed)
        self.add.clicked.connect(self.add_requested)
        self.duplicate.clicked.connect(lambda: self.duplicate_requested.emit(self.current()))
        self.rename.clicked.connect(lambda: self.rename_requested.emit(self.current()))
        self.delete.clicked.connect(lambda: self.delete_requested.emit(self.current()))
        self._update_buttons()

    def set_records(
        self,
        records: list[ProfileRecord],
        select: str | None = None,
        locked: dict[str, str] | None = None,
    ) -> None:
        """Show `records`, those in `locked` (name: why) as locked: listed, never hidden;
        without `select`, the first one that can open is selected."""
        from PySide6.QtCore import Qt

        locked = locked or {}
        marked = any(record.profile.environment for record in records)
        self.list.blockSignals(True)
        self.list.clear()
        for record in records:
            profile = record.profile
            detail = str(profile.mode).title() if record.is_supabase else "custom host"
            if profile.environment:  # the word with the colour's mark: never colour alone
                detail = f"{environment_word(profile.environment)} · {detail}"
            why = locked.get(profile.name)
            item = QListWidgetItem(f"{profile.name}\n{detail}" + (" · locked" if why else ""))
            if marked:
                item.setIcon(environment_icon(profile.environment))
            item.setData(Qt.ItemDataRole.UserRole, profile.name)
            if why:
                item.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
            spoken = f"{profile.name}, {detail}, {why}" if why else f"{profile.name}, {detail}"
            item.setData(Qt.ItemDataRole.AccessibleTextRole, spoken)
            saved = (
                "password saved in the keyring" if record.password_saved else "password not saved"
            )
            item.setToolTip(why or saved)
            self.list.addItem(item)
        self.list.blockSignals(False)
        names = [record.profile.name for record in records]
        openable = [name for name in names if name not in locked]
        if select in names:
            self.list.setCurrentRow(names.index(select))
        elif openable:
            self.list.setCurrentRow(names.index(openable[0]))
        self._update_buttons()
        if not names:
            self.selected.emit("")

    def select(self, name: str | None) -> None:
        """Show `name` (None: none) as the current profile without announcing it."""
        from PySide6.QtCore import Qt

        self.list.blockSignals(True)
        names = [
            self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())
        ]
        if name in names:
            self.list.setCurrentRow(names.index(name))
        else:
            self.list.setCurrentRow(-1)
            self.list.clearSelection()
        self.list.blockSignals(False)
        self._update_buttons()

    def describe(self, name: str, text: str) -> None:
        """Say more of one profile than its record does (a keyring entry found missing)."""
        from PySide6.QtCore import Qt

        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                item.setToolTip(text)

    def current(self) -> str:
        from PySide6.QtCore import Qt

        item = self.list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def _current_changed(self, *_: object) -> None:
        self._update_buttons()
        self.selected.emit(self.current())

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None
        for button in (self.duplicate, self.rename, self.delete):
            button.setEnabled(has)


def unique_name(base: str, names: list[str]) -> str:
    """`base`, or `base 2`, `base 3`… the first no profile has."""
    if base not in names:
        return base
    number = 2
    while f"{base} {number}" in names:
        number += 1
    return f"{base} {number}"

"""What the main window asks before the person leaves what they were doing: unsaved edits
(before another profile, a new one, the window's close, a quit) and, before the app quits,
the open monitors.

A quit asks the same questions in the same order wherever it starts (File ▸ Quit, Ctrl+Q,
the tray's Quit): the edits, then the monitors. Every answer is in before anything is done,
so Cancel at the last question leaves the edits, the monitors and the tray as they were."""

from __future__ import annotations

from enum import Enum

from PySide6.QtWidgets import QWidget


class Unsaved(Enum):
    """The answer about unsaved edits."""

    SAVE = "save"
    DISCARD = "discard"
    STAY = "stay"  # Cancel: nothing is left


def ask_unsaved(parent: QWidget) -> Unsaved:
    from PySide6.QtWidgets import QMessageBox  # its enums: not before the first paint

    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Unsaved changes",
        "Save the changes to this profile?",
        buttons.Save | buttons.Discard | buttons.Cancel,
    )
    if answer == buttons.Save:
        return Unsaved.SAVE
    return Unsaved.DISCARD if answer == buttons.Discard else Unsaved.STAY


def agrees_to_stop_monitors(parent: QWidget, open_count: int) -> bool:
    """Quitting stops every monitor (closing the main window alone leaves them running)."""
    if not open_count:
        return True
    from PySide6.QtWidgets import QMessageBox

    which = "a monitor is" if open_count == 1 else f"{open_count} monitors are"
    answer = QMessageBox.question(
        parent,
        "Quit Supalink",
        f"{which.capitalize()} open. Quit Supalink and stop monitoring?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Yes


__all__ = ["Unsaved", "agrees_to_stop_monitors", "ask_unsaved"]

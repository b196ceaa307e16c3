"""The yes-or-no question a window asks before it does what it cannot undo (remove, replace,
repair): the answer counts only when it is Yes."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def said_yes(parent: QWidget, title: str, question: str) -> bool:
    from PySide6.QtWidgets import QMessageBox  # its enums: not before the first paint

    return QMessageBox.question(parent, title, question) == QMessageBox.StandardButton.Yes


__all__ = ["said_yes"]

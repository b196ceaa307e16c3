"""The yes-or-no question a window asks before it does what it cannot undo (remove, replace,
repair): the answer counts only when it is Yes."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def said_yes(parent: QWidget, title: str, question: str, *, no_by_default: bool = False) -> bool:
    """`no_by_default`: No is the default button, for a question Enter must not answer (the
    deletion of a profile); else Qt's default, Yes."""
    from PySide6.QtWidgets import QMessageBox  # its enums: not before the first paint

    buttons = QMessageBox.StandardButton
    if no_by_default:
        answer = QMessageBox.question(parent, title, question, buttons.Yes | buttons.No, buttons.No)
    else:
        answer = QMessageBox.question(parent, title, question)
    return answer == buttons.Yes


__all__ = ["said_yes"]

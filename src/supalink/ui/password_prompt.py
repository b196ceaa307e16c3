"""A saved profile's password when the keyring cannot give it: what the form says, and the
question asked once, its answer held for this session (never written anywhere)."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget

from supalink.profiles import ProfileRepository


def password_problem(
    repository: ProfileRepository, name: str, keyring_problem: str | None
) -> str | None:
    """Why the password the settings say is in the keyring is not at hand; None when it is,
    or none was saved there."""
    if not repository.record(name).password_saved:
        return None
    password = repository.password(name, keyring_may_fail=True)
    if password is not None and password.in_keyring:
        return None
    if keyring_problem is not None:
        return (
            f"Saved in the keyring, which did not answer ({keyring_problem}): type it to use "
            "it in this session"
        )
    return (
        "The keyring entry for this password is missing (deleted outside Supalink): type it "
        "and save it again, or it is asked for once and held for this session"
    )


def ask_password(parent: QWidget, repository: ProfileRepository, name: str) -> str | None:
    """For a profile whose password is not at hand: asked once, held for this session."""
    password, accepted = QInputDialog.getText(
        parent,
        "Database password",
        f"Password for {name} (held for this session, not saved):",
        QLineEdit.EchoMode.Password,
    )
    if not accepted or not password:
        return None
    repository.hold_password(name, password)
    return password


__all__ = ["ask_password", "password_problem"]

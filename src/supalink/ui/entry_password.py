"""Where the entry's password goes, said before it goes there. Each template's label in the
Write config dialog says whether its entry holds the password, as planned for this profile
(entry_for_profile decides, not a label written in advance); a row says when the entry would
write it into the file and offers the keyring instead; Write asks before a password goes into
a file. A password typed for this session only never ends up in a file unasked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QMessageBox,
    QWidget,
)

from supalink.errors import SupalinkError
from supalink.mcp import (
    KEYRING_TEMPLATE,
    SUPALINK_TEMPLATE,
    TEMPLATES,
    PasswordNotSaved,
    PlannedEntry,
    entry_for_profile,
)
from supalink.profiles import ProfileRepository, Target
from supalink.ui.action_row import ActionRow

TEMPLATE_NAMES = {
    SUPALINK_TEMPLATE: "Supalink's own server, read-only",
    KEYRING_TEMPLATE: "Keyring launcher in front of another server",
    "reference": "Reference server (archived; its read-only mode can be escaped; npx)",
    "guide": "The reference server as the setup guide starts it: mcp-server-postgres, "
    "installed with npm (archived; its read-only mode can be escaped)",
    "postgres-mcp": "postgres-mcp, restricted (uvx)",
}
NOT_IN_FILE = "no password in the file"
IN_FILE = "the password will be written into the file"
NEEDS_KEYRING = "needs the password saved in the keyring"
NONE_AT_HAND = "needs the password"


def where_the_password_goes(target: Target, template: str, *, password_in_keyring: bool) -> str:
    """What the template's entry does with the password, as planned; "" when it cannot be
    planned for another reason (the dialog says that one when the template is picked)."""
    try:
        planned = entry_for_profile(
            target, password_in_keyring=password_in_keyring, template=template
        )
    except PasswordNotSaved as error:
        return NEEDS_KEYRING if error.for_launcher else NONE_AT_HAND
    except SupalinkError:
        return ""
    return IN_FILE if planned.secrets else NOT_IN_FILE


def template_labels(target: Target, *, password_in_keyring: bool) -> dict[str, str]:
    labels = {}
    for template in TEMPLATES:
        place = where_the_password_goes(target, template, password_in_keyring=password_in_keyring)
        name = TEMPLATE_NAMES[template]
        labels[template] = f"{name} — {place}" if place else name
    return labels


def label_templates(combo: QComboBox, target: Target, *, password_in_keyring: bool) -> None:
    """Each template in `combo` (its item data) says what its entry does with the password."""
    labels = template_labels(target, password_in_keyring=password_in_keyring)
    for index in range(combo.count()):
        combo.setItemText(index, labels[str(combo.itemData(index))])


class PasswordChoice(ActionRow):
    """Shown when the entry would hold the password, or cannot be written without the
    keyring: says so, and offers to save the password there; `saved` once it is."""

    saved = Signal()

    def __init__(self, repository: ProfileRepository | None, parent: QWidget | None = None):
        super().__init__("&Save the password in the keyring", parent)
        self.repository = repository
        self.target: Target | None = None
        self.button.clicked.connect(self.save)

    def show_for(
        self,
        target: Target,
        planned: PlannedEntry | None,
        *,
        password_in_keyring: bool,
        error: SupalinkError | None = None,
    ) -> None:
        """`planned`: the entry for `target`'s profile, or None and why not (`error`)."""
        assert target.profile is not None, "a profile's entry"
        self.target = target
        in_file = planned is not None and bool(planned.secrets)
        launcher_refused = isinstance(error, PasswordNotSaved) and error.for_launcher
        if not in_file and not launcher_refused:
            self.hide()
            return
        if password_in_keyring:  # a server that takes the password in its entry
            self.button.hide()
            self._say(
                "This server reads the password from its entry: the password will be written "
                "into the config file (readable only by you). Supalink's own server and the "
                "keyring launcher read it from the keyring instead."
            )
            return
        text = (
            f"The password of {target.profile.name!r} is held for this session only, not in "
            "the keyring: "
        )
        if in_file:
            text += "it will be written into the config file (readable only by you)."
        else:
            text += "the keyring launcher would have nothing to start the server with."
        keeper = self._keyring()
        if keeper is None:  # nothing to save it with from here
            self.button.hide()
        elif not keeper:
            text += " No usable keyring here: it can only go into the file."
            self.button.hide()
        else:
            text += " Save it in the keyring " + (
                "to keep it out of the file." if in_file else "for the launcher to read it."
            )
            self.button.show()
        self._say(text)

    def _keyring(self) -> bool | None:
        """Whether the keyring can keep the password; None: no repository or no password."""
        if self.repository is None or self.target is None or self.target.password is None:
            return None
        # The OS keyring says whether it answers; another store (this session's) keeps it.
        return bool(getattr(self.repository.secrets, "is_usable", True))

    def save(self) -> None:
        """This session's password into the keyring, as the form's Save would."""
        assert self.repository is not None
        assert self.target is not None
        assert self.target.profile is not None
        try:
            self.repository.save(
                self.target.profile, self.target.password, save_password=True, replace=True
            )
        except SupalinkError as error:
            self._say(f"The password was not saved in the keyring: {error}")
            return
        self.saved.emit()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.show()


def confirm_password_in_file(parent: QWidget, path: Path, profile: str) -> bool:
    """Ask before a password is written into a file: No unless the person says Yes."""
    answer = QMessageBox.question(
        parent,
        "Write the password into the file?",
        f"This entry holds the database password of {profile!r}: Write puts it into {path} "
        "as plain text, readable only by you (backups and sync tools copy the file as it "
        "is). Saving the password in the keyring keeps it out.\n\nWrite the password into "
        "the file?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


__all__ = [
    "IN_FILE",
    "NOT_IN_FILE",
    "PasswordChoice",
    "confirm_password_in_file",
    "label_templates",
    "template_labels",
]

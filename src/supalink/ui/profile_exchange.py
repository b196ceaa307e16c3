"""File ▸ Export profiles… and Import profiles…: the file dialogs, the questions an import
asks (replace the profiles saved already, a ref the file lacks, each password), and what was
done, said in a message box. The work itself is profiles/exchange.py's, as the CLI's is.

Export writes every profile: a team shares its connections, not one of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from supalink import profiles
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    from supalink.profiles import ImportPlan, ProfileRepository

FILE_TYPES = "Supalink profiles (*.json);;All files (*)"
EXPORT_TITLE = "Export profiles"
IMPORT_TITLE = "Import profiles"


def export_all(parent: QWidget, repository: ProfileRepository) -> Path | None:
    """Every profile to a file the person picks; the file written, or None."""
    if not repository.names():
        QMessageBox.information(parent, EXPORT_TITLE, "There are no profiles to export yet.")
        return None
    chosen, _ = QFileDialog.getSaveFileName(
        parent, EXPORT_TITLE, "supalink-profiles.json", FILE_TYPES
    )
    if not chosen:
        return None
    path = Path(chosen)
    try:
        exported = profiles.export_profiles(repository)
        profiles.write_export(path, exported.data)
    except SupalinkError as error:
        QMessageBox.warning(parent, "Could not export the profiles", str(error))
        return None
    count = len(exported.names)
    said = [
        f"{count} profile{'s' if count != 1 else ''} exported to {path}, without passwords: "
        "each person who imports them types their own."
    ]
    said += [_sentence(notice) for notice in exported.notices()]
    QMessageBox.information(parent, EXPORT_TITLE, "\n\n".join(said))
    return path


def import_file(
    parent: QWidget, repository: ProfileRepository, *, ask_passwords: bool
) -> list[str]:
    """The profiles of a file the person picks, each password asked for (with
    `ask_passwords`; Cancel leaves it unsaved); the names imported, none when nothing was."""
    chosen, _ = QFileDialog.getOpenFileName(parent, IMPORT_TITLE, "", FILE_TYPES)
    if not chosen:
        return []
    try:
        data = profiles.read_import_file(Path(chosen))
        plan = _plan(parent, repository, data, chosen)
        refs = _ask_refs(parent, plan) if plan is not None else None
        if plan is None or refs is None:
            return []  # the person stopped it: nothing was imported, nothing to say
        passwords = _ask_passwords(parent, plan) if ask_passwords else {}
        imported = profiles.apply_import(repository, plan, refs=refs, passwords=passwords)
    except SupalinkError as error:
        QMessageBox.warning(parent, "Could not import the profiles", str(error))
        return []
    count = len(imported.names)
    said = [f"{count} profile{'s' if count != 1 else ''} imported from {chosen}."]
    if imported.without_password:
        listed = ", ".join(imported.without_password)
        said.append(f"No password saved for {listed}: it is asked for when the profile is used.")
    QMessageBox.information(parent, IMPORT_TITLE, "\n\n".join(said))
    return list(imported.names)


def _plan(
    parent: QWidget, repository: ProfileRepository, data: bytes, source: str
) -> ImportPlan | None:
    """The file's profiles checked; profiles of the same names replaced if the person says
    so, else None."""
    try:
        return profiles.read_import(data, source, repository)
    except profiles.ImportClashes as clash:
        listed = ", ".join(clash.names)
        answer = QMessageBox.question(
            parent,
            IMPORT_TITLE,
            f"Saved here already: {listed}. Replace them with the file's? A replaced "
            "profile keeps its saved password unless you type another.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return None
        return profiles.read_import(data, source, repository, replace=True)


def _ask_refs(parent: QWidget, plan: ImportPlan) -> dict[str, str] | None:
    """The refs the file lacks (a locked profile was exported without its own); None when
    the person cancels one: the profile cannot be saved without it, nor the others alone."""
    refs: dict[str, str] = {}
    for name in plan.needing_ref:
        while True:
            ref, accepted = QInputDialog.getText(
                parent,
                "Project ref",
                # Lines of their own: Qt's prompt does not wrap, and in one line it was
                # wider than a 1366x768 screen at 200 %.
                f"The project ref of {name} is not in the file:\n"
                "its keyring was locked when it was exported.\n"
                "Type it (Project Settings, General), or Cancel to import nothing:",
                QLineEdit.EchoMode.Password,
            )
            if not accepted or not ref.strip():
                return None
            problem = profiles.supabase.ref_problem(ref.strip())
            if problem is None:
                refs[name] = ref.strip()
                break
            QMessageBox.warning(parent, "Project ref", _sentence(problem))
    return refs


def _ask_passwords(parent: QWidget, plan: ImportPlan) -> dict[str, str]:
    passwords: dict[str, str] = {}
    for incoming in plan.profiles:
        cancel = "keep the saved one" if incoming.replaces else "leave it unsaved"
        password, accepted = QInputDialog.getText(
            parent,
            "Database password",
            f"Password for {incoming.name}, saved in the keyring (Cancel: {cancel}):",
            QLineEdit.EchoMode.Password,
        )
        if accepted and password:
            passwords[incoming.name] = password
    return passwords


def _sentence(text: str) -> str:
    return f"{text[:1].upper()}{text[1:]}."


__all__ = ["export_all", "import_file"]

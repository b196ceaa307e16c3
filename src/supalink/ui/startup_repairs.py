"""What the app offers when it opens after a change was interrupted (kill -9, a crash, the
keyring gone mid-way): the keyring entries a profile change left behind (profiles.repair,
offered with what it found) and a `supalink role` change left half done (roles.recover,
settled in the background: it needs the database, and says what it did)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QMainWindow

from supalink import profiles, roles
from supalink.errors import SupalinkError
from supalink.ui.context import AppContext
from supalink.ui.questions import said_yes

if TYPE_CHECKING:
    from supalink.profiles import Finding
    from supalink.roles import Settled, Unsettled

ROLE_TASK = "settle-role-changes"


def offer_repairs(
    window: QMainWindow, context: AppContext, reload_profiles: Callable[[], None]
) -> None:
    """Asked over `window`, which shows the profiles again once repaired (`reload_profiles`)
    and a role change settled in its status bar."""
    from PySide6.QtCore import QTimer

    _offer_profile_repairs(window, context, reload_profiles)
    if roles.changes_under_way(context.repository):
        # Once the loop runs: the window is built before asyncio is.
        QTimer.singleShot(0, lambda: context.tasks.run(ROLE_TASK, _settle(window, context)))


def _offer_profile_repairs(
    window: QMainWindow, context: AppContext, reload_profiles: Callable[[], None]
) -> None:
    from PySide6.QtWidgets import QMessageBox  # its enums: not before the first paint

    repository = context.repository
    try:
        if not profiles.leftover_entries(repository):
            return  # nothing under way: no journal, no keyring read
        found = profiles.find_repairs(repository)
    except SupalinkError:
        return  # a keyring or settings file that does not answer is said elsewhere
    if not found.findings:
        return
    listed = "\n".join(f"• {_found(finding)}" for finding in found.findings)
    question = (
        "A change to your profiles was interrupted and left this behind:\n"
        f"{listed}\n\nRepair it now?"
    )
    if not said_yes(window, "Repair after an interrupted change", question):
        return
    try:
        profiles.repair(repository, roles.with_link_removed)
    except SupalinkError as error:
        QMessageBox.warning(window, "Could not repair", str(error))
        return
    reload_profiles()


def _found(finding: Finding) -> str:
    """One finding in a sentence for the window (the CLI words its own)."""
    if finding.leftover is profiles.Leftover.REF_MISSING:
        return f"{finding.profile!r}: a Supabase profile whose project ref is not in the keyring"
    entries = len(finding.entries)
    left = f"{entries} keyring entr{'y' if entries == 1 else 'ies'}" if entries else "nothing"
    now = f"; the profile is now {finding.kept!r}" if finding.kept else ""
    return f"{finding.profile!r}: {left} from an interrupted {finding.leftover}{now}"


def _settled(result: Settled | Unsettled) -> str:
    link = result.entry.link
    what = f"{result.entry.action} of role {link.role!r} (profile {link.profile!r})"
    if isinstance(result, roles.Settled):
        return f"an interrupted {what}: {result.outcome}"
    return f"an interrupted {what} is not settled yet: {result.error}"


async def _settle(window: QMainWindow, context: AppContext) -> None:
    outcomes = await roles.recover(context.repository)
    if outcomes:
        window.statusBar().showMessage("; ".join(_settled(each) for each in outcomes), 15_000)

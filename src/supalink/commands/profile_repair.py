"""`supalink profile repair [--yes]`: what interrupted profile changes left in the keyring,
and the Supabase profiles that cannot open without their ref, listed; repaired with --yes.
Also the note `profile list` prints when something is left."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from supalink.profiles import Finding, ProfileRepository, SecretKind


def register_repair(actions: Any) -> None:
    repair = actions.add_parser(
        "repair",
        help="find and fix what an interrupted profile change left in the keyring",
        description="List the keyring entries that an interrupted `profile add`, `remove`, "
        "`rename` or save left (a process killed between its keyring and settings writes), "
        "and the Supabase profiles whose project ref is not in the keyring; with --yes, "
        "delete those entries (or move a save's into its profile) and remove those profiles.",
    )
    repair.add_argument("--yes", action="store_true", help="repair what is found")
    repair.set_defaults(run=run_repair)


def run_repair(args: argparse.Namespace) -> int:
    from supalink.commands.saved import user_repository
    from supalink.profiles import find_repairs, repair

    repository = user_repository()
    store = repository.secrets.description
    if not args.yes:
        found = find_repairs(repository).findings
        for finding in found:
            print(f"{_what(finding, store)}: {_remedy(finding)}")
        if found:
            print("run `supalink profile repair --yes` to repair it all")
        else:
            print("nothing to repair")
        return 0
    from supalink import roles

    done = repair(repository, roles.with_link_removed).findings
    for finding in done:
        print(f"{_what(finding, store)}: {_done(finding)}")
    if not done:
        print("nothing to repair")
    return 0


def note_leftovers(repository: ProfileRepository) -> None:
    """One line on stderr when an interrupted change left keyring entries (cheap: no
    keyring read unless the journal holds a change)."""
    from supalink.profiles import leftover_entries

    if count := leftover_entries(repository):
        entries = "entry" if count == 1 else "entries"
        print(
            f"note: {count} orphaned keyring {entries}: run `supalink profile repair`",
            file=sys.stderr,
        )


def _kinds(kinds: tuple[SecretKind, ...]) -> str:
    from supalink.profiles import BEING_SAVED

    final = {staged: kind for kind, staged in BEING_SAVED.items()}
    named = " and ".join(str(final.get(kind, kind)) for kind in kinds)
    return f"its {named}" if kinds else "no keyring entry"


def _what(finding: Finding, store: str) -> str:
    from supalink.profiles import Leftover

    name, kinds = repr(finding.profile), _kinds(finding.entries)
    if finding.leftover is Leftover.REF_MISSING:
        return f"{name}: a Supabase profile whose project ref is not in the keyring ({store})"
    if finding.leftover is Leftover.SAVED:
        how = "stopped halfway" if finding.finishes else "did not take effect"
        return f"{name}: the new {kinds.removeprefix('its ')} of a save that {how}"
    now = f"the profile is {finding.kept!r}" if finding.kept else "no profile has either name"
    cause = {
        Leftover.ADDED: "saved by a `profile add` that stopped before the profile",
        Leftover.REMOVED: "left by the removal of the profile",
        Leftover.RENAMED: f"left by a rename; {now}",
        Leftover.COPIED: f"copied by a rename that did not take effect; {now}",
    }
    return f"{name}: {kinds}, {cause[finding.leftover]}"


def _remedy(finding: Finding) -> str:
    from supalink.profiles import Leftover

    if finding.leftover is Leftover.REF_MISSING:
        return "it cannot open; --yes removes it (add it again from the dashboard's URI)"
    if finding.finishes:
        return "--yes moves them into the profile"
    return "no profile uses them; --yes deletes them"


def _done(finding: Finding) -> str:
    from supalink.profiles import Leftover

    if finding.leftover is Leftover.REF_MISSING:
        return "removed the profile"
    return "moved into the profile" if finding.finishes else "deleted"

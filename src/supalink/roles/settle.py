"""Settling a change the journal holds: finishing it when the database has it, undoing it
when the database never got it, so kill -9 at any step leaves the old state, the new one,
or an entry that the next command settles in one step.

Each change runs in this order, and these are the steps it is settled from:
- create: entry; the new password (and ref) kept pending in the keyring; the role with its
  mark, in one transaction; the entry marked committed; the profile saved with the pending
  password; the link; the pending secrets and the entry crossed out.
- rotate: entry; the new password pending; the role's password and its mark with the
  change's id, in one transaction; committed; the profile's password replaced; crossed out.
- drop: entry; the role dropped in one transaction; committed; the profile removed with its
  keyring entries, then its link; crossed out.
An entry still at `started` asks the database (through the admin profile) whether the
transaction committed: the role's mark says so. One at `committed` is finished without it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from supalink.errors import SupalinkError
from supalink.profiles import ProfileRepository, SecretKind, Target
from supalink.roles import links
from supalink.roles.connection import connected, saved_target
from supalink.roles.errors import ChangeUnfinished
from supalink.roles.journal import (
    COMMITTED,
    CREATE,
    DROP,
    ROTATE,
    Entry,
    Journal,
    checkpoint,
    forget_pending,
    keep_pending,
    pending,
)
from supalink.roles.marks import carries_mark, role_comment

log = logging.getLogger(__name__)

FINISHED = "finished"  # the database had it: the rest is done now
UNDONE = "undone"  # the database never had it: what was kept for it is gone
PROFILE_TAKEN = "profile taken"  # create: the role is there, and a profile of that name
# for another login was added meanwhile: left alone, the role stays without a profile


@dataclass(frozen=True)
class Settled:
    entry: Entry
    outcome: str  # FINISHED, UNDONE or PROFILE_TAKEN
    password_lost: bool = False  # finished, and the keyring no longer had the new password


@dataclass(frozen=True)
class Unsettled:
    """Left in the journal: the database could not be asked (or the keyring refused)."""

    entry: Entry
    error: SupalinkError


def changes_under_way(repository: ProfileRepository) -> bool:
    """Whether a role change was left half done: a folder listing, no database, no keyring
    (what the app asks at every start before it starts `recover`)."""
    try:
        return bool(Journal.of(repository).entries())
    except SupalinkError:
        return False


async def recover(repository: ProfileRepository) -> tuple[Settled | Unsettled, ...]:
    """Settle every change the journal holds; what became of each."""
    journal = Journal.of(repository)
    if not journal.entries():
        return ()
    async with journal.held():
        found: list[Settled | Unsettled] = []
        for entry in journal.entries():
            try:
                found.append(await settle(repository, journal, entry))
            except SupalinkError as error:
                found.append(Unsettled(entry, error))
        return tuple(found)


async def settle(repository: ProfileRepository, journal: Journal, entry: Entry) -> Settled:
    if entry.step != COMMITTED and not await _database_has(repository, entry):
        undo(repository, journal, entry)
        return Settled(entry, UNDONE)
    return finish(repository, journal, entry)


async def _database_has(repository: ProfileRepository, entry: Entry) -> bool:
    """Whether the change's transaction committed, as the role's mark tells."""
    link = entry.link
    assert link.id is not None, "a journal entry's link has its id"
    admin = saved_target(repository, link.admin_profile)
    async with connected(admin, "reading the role's mark") as conn:
        comment = await role_comment(conn, link.role)
    if entry.action == CREATE:
        return carries_mark(comment, link.id)
    if entry.action == ROTATE:
        return carries_mark(comment, link.id, entry.id)
    return not carries_mark(comment, link.id)  # DROP: the marked role is gone


def undo(repository: ProfileRepository, journal: Journal, entry: Entry) -> None:
    """The database never had it: forget what was kept for it."""
    forget_pending(repository.secrets, entry)
    journal.done(entry)
    log.info(
        "undid the %s of role %r (profile %r)", entry.action, entry.link.role, entry.link.profile
    )


def undo_quietly(repository: ProfileRepository, journal: Journal, entry: Entry) -> None:
    """`undo` after a failure before the commit: when it fails too, the entry stays and the
    next reading of the journal undoes it (the database has nothing of it)."""
    try:
        undo(repository, journal, entry)
    except SupalinkError as error:
        log.warning("left the %s of %r in the journal: %s", entry.action, entry.link.role, error)


def finish_committed(
    repository: ProfileRepository, journal: Journal, entry: Entry, password: str | None
) -> None:
    """After the change's own commit: the entry marked committed, then the rest. A failure
    of the rest stays in the journal and is finished when it is next read."""
    entry = journal.committed(entry)
    checkpoint(f"{entry.action}:database")
    try:
        finish(repository, journal, entry, password)
    except SupalinkError as error:
        link = entry.link
        raise ChangeUnfinished(entry.action, link.profile, link.role, str(error)) from None


# A change's statements, run on a connection inside its one transaction; False: there is
# nothing to commit (a role to drop that is gone already).
Statements = Callable[[psycopg.AsyncConnection[Any]], Awaitable[bool]]
# What each change is doing while it is connected (what failed, in its error).
DOING = {CREATE: "creating the role", ROTATE: "rotating the password", DROP: "dropping the role"}


async def carry_out(
    repository: ProfileRepository,
    journal: Journal,
    entry: Entry,
    admin: Target,
    statements: Statements,
    secrets: tuple[str, str] | None = None,
) -> None:
    """The change the journal has just begun as `entry`, in the order above: its new
    password kept pending (`secrets`: the password and its SCRAM secret, masked in any
    error; a new profile's ref with it), its statements run through `admin` and committed,
    then the profile's side finished. A failure before the commit undoes it; after the
    commit, the entry finishes it."""
    action = entry.action
    password = secrets[0] if secrets is not None else None
    checkpoint(f"{action}:journaled")
    committing = False
    try:
        if password is not None:
            ref = entry.agent.ref if entry.agent is not None else None
            keep_pending(repository.secrets, entry, password, ref)
            checkpoint(f"{action}:pending")
        async with connected(admin, DOING[action], extra_secrets=secrets or ()) as conn:
            if await statements(conn):
                checkpoint(f"{action}:executed")
                committing = True
                await conn.commit()
    except BaseException:
        if not committing:
            undo_quietly(repository, journal, entry)
        raise
    checkpoint(f"{action}:committed")
    finish_committed(repository, journal, entry, password)


def finish(
    repository: ProfileRepository, journal: Journal, entry: Entry, password: str | None = None
) -> Settled:
    """The database has it: the keyring and the settings file follow. `password`: the new
    one in hand (else the one kept pending)."""
    store = repository.secrets
    if password is None and entry.action in (CREATE, ROTATE):
        password = pending(store, entry)
    if entry.action == CREATE:
        outcome = _finish_create(repository, entry, password)
    elif entry.action == ROTATE:
        outcome = _finish_rotate(repository, entry, password)
    else:
        _finish_drop(repository, entry)
        outcome = FINISHED
    forget_pending(store, entry)
    journal.done(entry)
    log.info(
        "finished the %s of role %r (profile %r)", entry.action, entry.link.role, entry.link.profile
    )
    lost = password is None and entry.action != DROP and outcome == FINISHED
    return Settled(entry, outcome, password_lost=lost)


def _finish_create(repository: ProfileRepository, entry: Entry, password: str | None) -> str:
    link = entry.link
    assert entry.agent is not None, "a create's entry holds its profile"
    assert link.place is not None, "a journal entry's link has its place"
    profile = entry.agent
    if link.place.project is not None and profile.ref is None:
        ref = pending(repository.secrets, entry, SecretKind.PROJECT_REF)
        if ref is None:  # lost from the keyring: the admin's, when it is the same project
            admin = repository.load(link.admin_profile).profile
            ref = admin.ref
        profile = profile.replace(ref=ref)
    if links.Place.of(profile) != link.place:
        raise ChangeUnfinished(CREATE, link.profile, link.role, "its project ref is not known")
    names = repository.names()
    if link.profile in names and not entry.replace and not links.is_linked_login(repository, link):
        return PROFILE_TAKEN
    repository.save(profile, password, save_password=password is not None, replace=True)
    checkpoint("create:saved")
    links.remember(repository, link)
    checkpoint("create:linked")
    return FINISHED


def _finish_rotate(repository: ProfileRepository, entry: Entry, password: str | None) -> str:
    name = links.profile_of(repository, entry.link)
    if password is not None and name is not None:
        agent = repository.load(name).profile
        repository.save(agent, password, replace=True)
    checkpoint("rotate:saved")
    return FINISHED


def _finish_drop(repository: ProfileRepository, entry: Entry) -> None:
    name = links.profile_of(repository, entry.link)
    if name is not None:
        repository.remove(name)
    checkpoint("drop:removed")
    links.forget_id(repository, entry.link.id)

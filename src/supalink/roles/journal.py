"""The journal of changes to agent roles that span the database, the keyring and the settings
file: each is written down before it starts, marked once the database has committed it, and
crossed out when done. A process killed half-way (kill -9, a power cut) leaves its entry,
which the next command reads to finish the change or undo it (roles/settle.py).

Entries are small JSON files (no secret) in a folder beside the settings file they describe,
so every repository, the window's too, finds the same journal. A change's new password waits
in the keyring under a name no profile can have (longer than any profile name) until the
profile's own entry has it. One lock (supalink.files) is held for the whole of a change and
of a repair, so no command settles another's change while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supalink.errors import file_faults
from supalink.profiles import (
    Mode,
    Profile,
    ProfileRepository,
    SecretKind,
    SecretStore,
    profile_name_problem,
)
from supalink.roles.errors import PendingChange
from supalink.roles.links import AgentLink

log = logging.getLogger(__name__)

FOLDER = "role-changes"
VERSION = 1
STARTED = "started"  # the database may or may not have it: the server is asked
COMMITTED = "committed"  # the database has it: the rest is finished without asking
CREATE, ROTATE, DROP = "create", "rotate", "drop"
_PENDING = "Supalink agent role change {}, not finished"

# Tests only: a child process sets this to stop at a step (`checkpoint`) and be killed there.
PAUSE_AT: str | None = None


def checkpoint(step: str) -> None:
    """Where a test stops a change to kill it: says so on stderr, then waits for the kill."""
    if PAUSE_AT is not None and step == PAUSE_AT:
        sys.stderr.write(f"paused at {step}\n")
        sys.stderr.flush()
        while True:
            time.sleep(60)


@dataclass(frozen=True)
class Entry:
    """One change in progress: what it is for, and how far it got."""

    id: str  # this change's own id: its file's name, its pending secrets' key
    action: str  # CREATE, ROTATE or DROP
    link: AgentLink  # with its id and place: the role it changes and the profile
    step: str  # STARTED or COMMITTED
    started: str  # when, in UTC, for the messages
    agent: Profile | None = None  # CREATE: the profile to save (its ref in the keyring)
    replace: bool = False  # CREATE: a profile of that name may be replaced

    def as_document(self) -> dict[str, Any]:
        agent = None
        if self.agent is not None:
            agent = dataclasses.asdict(self.agent)
            agent.pop("ref")
            agent["mode"] = str(self.agent.mode)
        return {
            "version": VERSION,
            "id": self.id,
            "action": self.action,
            "step": self.step,
            "started": self.started,
            "profile": self.link.profile,
            "link": self.link.as_item(),
            "agent": agent,
            "replace": self.replace,
        }

    @classmethod
    def from_document(cls, document: Any) -> Entry:
        """ValueError (KeyError, TypeError) when it is not an entry this version wrote."""
        if document.get("version") != VERSION or document["action"] not in (CREATE, ROTATE, DROP):
            raise ValueError("not an entry of this version")
        link = AgentLink.from_item(str(document["profile"]), document["link"])
        if link is None or link.id is None:
            raise ValueError("no link")
        agent = None
        if isinstance(values := document.get("agent"), dict):
            agent = Profile(**{**values, "mode": Mode(values["mode"])})
        step = document["step"]
        if step not in (STARTED, COMMITTED):
            raise ValueError(f"unknown step {step!r}")
        return cls(
            str(document["id"]),
            document["action"],
            link,
            step,
            str(document["started"]),
            agent,
            bool(document.get("replace", False)),
        )


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of(cls, repository: ProfileRepository) -> Journal:
        return cls(repository.settings_file.path.parent / FOLDER)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """The journal's lock, taken in a thread (another process may hold it for the few
        seconds of its change) so the window's loop goes on meanwhile."""
        from supalink.files import locked

        stack = contextlib.ExitStack()
        with file_faults("write", self.folder):
            taking = asyncio.ensure_future(
                asyncio.to_thread(stack.enter_context, locked(self.folder / "journal"))
            )
            try:
                await asyncio.shield(taking)
            except asyncio.CancelledError:  # the thread may take it still: let it go then
                taking.add_done_callback(lambda _: stack.close())
                raise
        with stack:
            yield

    def _path(self, change_id: str) -> Path:
        return self.folder / f"{change_id}.json"

    def begin(
        self, action: str, link: AgentLink, *, agent: Profile | None = None, replace: bool = False
    ) -> Entry:
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        entry = Entry(secrets.token_hex(16), action, link, STARTED, started, agent, replace)
        self._write(entry)
        return entry

    def committed(self, entry: Entry) -> Entry:
        marked = dataclasses.replace(entry, step=COMMITTED)
        self._write(marked)
        return marked

    def _write(self, entry: Entry) -> None:
        from supalink.files import atomic_write_bytes

        path = self._path(entry.id)
        data = (json.dumps(entry.as_document(), indent=2) + "\n").encode()
        with file_faults("write", path):
            atomic_write_bytes(path, data, mode=0o600)

    def done(self, entry: Entry) -> None:
        path = self._path(entry.id)
        with file_faults("write", path):
            path.unlink(missing_ok=True)

    def entries(self) -> list[Entry]:
        """The changes not crossed out, oldest first. A file that is not an entry (left by
        a newer version, or edited) is left alone and logged."""
        found: list[Entry] = []
        with file_faults("read", self.folder):
            try:
                paths = sorted(self.folder.glob("*.json"))
            except FileNotFoundError:
                return []
            for path in paths:
                try:
                    found.append(Entry.from_document(json.loads(path.read_bytes())))
                except FileNotFoundError:
                    continue
                except (ValueError, KeyError, TypeError, AttributeError) as error:
                    log.warning("left %s alone: not a journal entry (%s)", path, error)
        return sorted(found, key=lambda entry: entry.started)

    def refuse_pending(self, profile: str, role: str) -> None:
        """PendingChange when a change of this profile or role is still in the journal."""
        for entry in self.entries():
            if profile in (entry.link.profile, entry.link.admin_profile) or role == entry.link.role:
                raise PendingChange(
                    entry.action, entry.link.profile, entry.link.role, entry.started
                )


def _key(change_id: str) -> str:
    key = _PENDING.format(change_id)
    assert profile_name_problem(key) is not None, "a key no profile can have"
    return key


def keep_pending(store: SecretStore, entry: Entry, password: str, ref: str | None = None) -> None:
    """The change's new password (and a new profile's project ref) in the keyring, before
    the database has it."""
    store.set(_key(entry.id), SecretKind.PASSWORD, password)
    if ref is not None:
        store.set(_key(entry.id), SecretKind.PROJECT_REF, ref)


def pending(store: SecretStore, entry: Entry, kind: SecretKind = SecretKind.PASSWORD) -> str | None:
    return store.get(_key(entry.id), kind)


def forget_pending(store: SecretStore, entry: Entry) -> None:
    for kind in (SecretKind.PASSWORD, SecretKind.PROJECT_REF):
        store.delete(_key(entry.id), kind)


def pending_login_password(repository: ProfileRepository, profile: str) -> str | None:
    """A new password of `profile` that a rotation interrupted may have left in the database
    and not yet in the profile's keyring entry: a login tries it first, then the profile's
    own. None when no rotation of the profile is in the journal."""
    for entry in Journal.of(repository).entries():
        if entry.action == ROTATE and entry.link.profile == profile:
            return pending(repository.secrets, entry)
    return None

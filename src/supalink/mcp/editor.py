"""Plan, preview and apply one change to an MCP client's config file without breaking it.

The flow is plan -> preview (a masked diff) -> apply. `apply` holds the file's lock (two
`config write`s at once must not each write back a copy without the other's entry),
re-reads the file under it and refuses when it changed since the plan (Claude Desktop
rewrites its file while it runs) in more than other entries, backs the old bytes up,
and replaces the file atomically, keeping its permission bits, or 0600 when a password
goes in.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import logging
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from supalink.errors import SupalinkError, file_faults
from supalink.files import (
    PRIVATE_MODE,
    atomic_write_bytes,
    lock_path_for,
    lock_path_in,
    locked,
    read_plain_file,
    resolve_link,
)
from supalink.logs import SecretMasker
from supalink.mcp.backups import LOCKS_FOLDER, write_backup
from supalink.mcp.clients import INPUTS_KEY, McpClient
from supalink.mcp.errors import ConfigChanged, ConfirmationRequired
from supalink.mcp.file_secrets import config_text, file_secrets
from supalink.mcp.jsonedit import MISSING, JsonDocument

log = logging.getLogger(__name__)

Action = Literal["add", "replace", "unchanged", "remove", "absent"]


def read_config(path: Path) -> bytes | None:
    """The file's bytes (through a symlink), or None when there is no file yet; FileFault
    when it cannot be read: a folder, a FIFO, a device or a socket in its place (never
    waited on), a symlink loop, its permissions, more than files.MAX_READ_BYTES."""
    with file_faults("read", path):
        try:
            return read_plain_file(path)
        except FileNotFoundError:
            return None


def fingerprint(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def load_document(path: Path, data: bytes | None, *, jsonc: bool = False) -> JsonDocument:
    """The file's parse; `jsonc` for a client that reads comments and trailing commas."""
    return JsonDocument.parse(data or b"", source=str(path), jsonc=jsonc)


@dataclass(frozen=True)
class Plan:
    """One intended change, with everything needed to show it and to check it still holds."""

    path: Path  # as the user named it, possibly a symlink
    client: McpClient
    server_name: str
    action: Action
    old: bytes | None
    new: bytes | None  # None when there is nothing to write
    old_entry: Any
    new_entry: Any  # None for a removal
    secrets: tuple[str, ...] = ()  # passwords in the new entry: masked, and the file goes 0600
    replan: Callable[[bytes | None], Plan] | None = field(default=None, repr=False, compare=False)

    @property
    def target(self) -> Path:
        return resolve_link(self.path)

    @property
    def changes(self) -> bool:
        return self.new is not None and self.new != self.old

    @property
    def needs_confirmation(self) -> bool:
        return self.action in ("replace", "remove")

    @property
    def fingerprint(self) -> str | None:
        return fingerprint(self.old)

    def preview(self) -> str:
        """A unified diff of the file, every password masked; empty when nothing changes.
        A side whose passwords cannot all be found (see `file_secrets`) is not shown: one
        line in its place says why."""
        if not self.changes:
            return ""
        masker = SecretMasker()
        masker.add_secrets(self.secrets)
        now = f"{self.path} (now)" if self.old is not None else "(no file yet)"
        after = f"{self.path} (after)"
        lines = difflib.unified_diff(
            _shown_lines(self.old, now, masker),
            _shown_lines(self.new, after, masker),
            fromfile=now,
            tofile=after,
            lineterm="",
        )
        return masker.mask("\n".join(lines))


def _shown_lines(data: bytes | None, side: str, masker: SecretMasker) -> list[str]:
    """The lines of one side of a diff, its passwords given to `masker`; when they cannot
    all be found, a line saying so instead (naming the side, so that two such differ), as
    nothing of such a file is shown."""
    try:
        masker.add_secrets(file_secrets(data, side))
    except SupalinkError as error:
        return [f"({error}: not shown, as the passwords in it could not all be found)"]
    return config_text(data).splitlines()


def plan_write(
    path: Path,
    client: McpClient,
    server_name: str,
    entry: Mapping[str, Any],
    *,
    secrets: Iterable[str] = (),
    inputs: Sequence[Mapping[str, Any]] = (),
    current: bytes | Literal[False] | None = False,
) -> Plan:
    """Plan setting `<root key>.<server_name>` to `entry` (read the file unless `current`),
    and VS Code's `inputs` items it names into the root list beside it."""
    old = read_config(path) if current is False else current
    document = load_document(path, old, jsonc=client.jsonc)
    existing = document.member(client.root_key, server_name)
    new_entry = dict(entry)
    secrets = tuple(secrets)
    if existing == new_entry:
        action: Action = "unchanged"
        new = old
    else:
        action = "add" if existing is MISSING else "replace"
        new = document.with_member(client.root_key, server_name, new_entry)
    for item in inputs:
        edited = load_document(path, new, jsonc=client.jsonc)
        held = edited.value.get(INPUTS_KEY)
        if not (isinstance(held, list) and dict(item) in held):
            new = edited.with_item(INPUTS_KEY, dict(item))
            action = "add" if action == "unchanged" else action
    return Plan(
        path,
        client,
        server_name,
        action,
        old,
        new,
        existing,
        new_entry,
        secrets,
        lambda data: plan_write(
            path, client, server_name, entry, secrets=secrets, inputs=inputs, current=data
        ),
    )


def plan_remove(
    path: Path,
    client: McpClient,
    server_name: str,
    *,
    inputs: Sequence[Mapping[str, Any]] = (),
    current: bytes | Literal[False] | None = False,
) -> Plan:
    """Plan removing `<root key>.<server_name>`, and the `inputs` items that only it named
    (matched by id)."""
    old = read_config(path) if current is False else current
    document = load_document(path, old, jsonc=client.jsonc)
    existing = document.member(client.root_key, server_name)
    new = None if existing is MISSING else document.without_member(client.root_key, server_name)
    for item in inputs if new is not None else ():
        new = (
            load_document(path, new, jsonc=client.jsonc).without_item(INPUTS_KEY, dict(item)) or new
        )
    return Plan(
        path,
        client,
        server_name,
        "absent" if new is None else "remove",
        old,
        new,
        existing,
        None,
        (),
        lambda data: plan_remove(path, client, server_name, inputs=inputs, current=data),
    )


@dataclass(frozen=True)
class Applied:
    plan: Plan  # the plan written: a fresh one when `force` re-applied it to a changed file
    written: Path | None  # the file replaced (a symlink's target), None when nothing changed
    backup: Path | None
    replanned: bool = False


def apply(
    plan: Plan,
    *,
    backup_root: Path,
    lock_root: Path | None = None,
    confirmed: bool = False,
    force: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Applied:
    """Write the plan, under the file's lock, to the file as it is now.

    When the file changed since the plan only in other server entries (another writer's),
    the same change is planned again on it, so both survive; any other change is refused
    (ConfigChanged) unless `force`, which replans whatever changed. A replacement or removal
    still needs `confirmed`. The file is read back before the write is reported: a change it
    does not hold (a writer that ignores the lock got in between) is ConfigChanged too.

    The lock file is Supalink's, in `lock_root` (by default the backups' LOCKS_FOLDER),
    named by the file's resolved path: nothing of Supalink's stays in the client's folder.
    """
    lock_file = lock_path_in(lock_root or backup_root / LOCKS_FOLDER, plan.target)
    with contextlib.ExitStack() as held:
        with file_faults("write", lock_file):
            held.enter_context(locked(plan.target, lock_file=lock_file))
        current = read_config(plan.path)
        replanned = False
        if fingerprint(current) != plan.fingerprint:
            assert plan.replan is not None
            fresh = plan.replan(current)
            if not force and not _only_other_entries_changed(plan, current):
                raise ConfigChanged(plan.path)
            plan, replanned = fresh, True
        if not plan.changes:
            return Applied(plan, None, None, replanned)
        if plan.needs_confirmation and not confirmed:
            action: Literal["replace", "remove"] = (
                "replace" if plan.action == "replace" else "remove"
            )
            raise ConfirmationRequired(plan.path, plan.server_name, action)
        assert plan.new is not None
        backup = None
        if plan.old is not None:
            backup = write_backup(plan.target, plan.old, backup_root, now())
        mode = PRIVATE_MODE if plan.old is None or plan.secrets else None
        try:
            with file_faults("write", plan.path):
                written = atomic_write_bytes(plan.path, plan.new, mode=mode)
        except SupalinkError:
            if backup is not None:  # a copy of a file left as it was: nothing to keep
                backup.unlink(missing_ok=True)
            raise
        if read_config(plan.path) != plan.new:
            raise ConfigChanged(plan.path)
    _remove_old_lock(written)
    if backup is not None and not backup.exists():  # removed by another hand meanwhile
        backup = None
    log.info("%s: %s entry %r (backup %s)", written, plan.action, plan.server_name, backup)
    return Applied(plan, written, backup, replanned)


def _only_other_entries_changed(plan: Plan, current: bytes | None) -> bool:
    """Whether `current` differs from what the plan was made on only in server entries
    other than the plan's own: what another writer of one entry leaves behind. Compared as
    JSON values, so a client that re-indents its file changes nothing here."""
    return bool(_without_other_entries(plan, plan.old) == _without_other_entries(plan, current))


def _without_other_entries(plan: Plan, data: bytes | None) -> tuple[Any, Any]:
    document = dict(load_document(plan.path, data, jsonc=plan.client.jsonc).value)
    # No server list and one that holds only the other writers' entries are the same here.
    servers = document.pop(plan.client.root_key, {})
    own = servers.get(plan.server_name, MISSING) if isinstance(servers, dict) else servers
    return document, own


def _remove_old_lock(target: Path) -> None:
    """The lock file an older Supalink left beside the client's file (`<name>.lock`), when it is
    still there and empty: the lock is kept in Supalink's own folder now."""
    old = lock_path_for(target)
    with contextlib.suppress(OSError):
        status = os.lstat(old)
        if stat.S_ISREG(status.st_mode) and status.st_size == 0:
            old.unlink()

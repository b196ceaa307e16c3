"""Putting a server entry into a client's config file: the one flow behind `supalink config
write|remove` and the Write config dialog. Plan the change (a masked diff to show), have it
confirmed when it replaces or removes something, apply it with a backup, and say whether
the client is running (it must be restarted, and may write its own copy back meanwhile)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from supalink.errors import SupalinkError
from supalink.mcp.clients import Host, McpClient
from supalink.mcp.editor import Plan, apply, load_document, plan_remove, plan_write, read_config
from supalink.mcp.entries import PlannedEntry, for_client, input_id
from supalink.mcp.errors import EntryMissing
from supalink.mcp.jsonedit import MISSING
from supalink.mcp.processes import RunningProcess, running_processes
from supalink.mcp.templates import (
    DEFAULT_SERVER_NAME,
    ServerEntry,
    check_server_name,
    entry_secrets,
)
from supalink.profiles import Target


def config_path(client: McpClient, host: Host | None = None) -> Path:
    """The client's own config file on this machine."""
    return Path(client.config_path(host or Host.current()))


@dataclass(frozen=True)
class Written:
    plan: Plan  # the plan written: a fresh one when it was applied to a changed file
    written: Path | None  # the file replaced (a symlink's target), None when nothing changed
    backup: Path | None
    replanned: bool
    running: tuple[RunningProcess, ...]  # the client's processes, when something was written


@dataclass(frozen=True)
class EntryOwner:
    """Whom an entry connects for: a saved profile (Supalink's server and launcher name
    it), or else the database its URI names (`user@host:port/database`, no password)."""

    profile: str | None = None
    database: str | None = None


@dataclass(frozen=True)
class EntryPlan:
    """A profile's entry planned into a file, with what the diff alone does not say."""

    plan: Plan
    # The entry of that name connects another profile or database now: writing repoints
    # it (a second profile written under the default name, say). None when it is this
    # profile's, is new, or cannot be read.
    replaces: EntryOwner | None
    own_name: str | None  # a name of the profile's own to offer instead, when `replaces`


def entry_owner(entry: Any) -> EntryOwner | None:
    """Whom a client's entry (as JSON) connects for; None when it cannot be told."""
    try:
        server = ServerEntry.from_json(entry, "entry")
    except SupalinkError:
        return None
    own = server.args[: server.args.index("--")] if "--" in server.args else server.args
    if "--profile" in own[:-1]:  # `supalink mcp-serve` and `supalink mcp-run`
        return EntryOwner(profile=own[own.index("--profile") + 1])
    for value in (*server.args, *server.env.values()):
        if "://" in value and (database := _database_of(value)) is not None:
            return EntryOwner(database=database)
    return None


def _database_of(uri: str) -> str | None:
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    user = unquote(parts.username or "")
    database = unquote(parts.path.lstrip("/")) or "postgres"
    return f"{user}@{parts.hostname}:{port or 5432}/{database}"


def target_owner(target: Target) -> EntryOwner:
    profile = target.profile
    assert profile is not None, "a profile's target"
    endpoint = profile.endpoint()
    database = f"{endpoint.user}@{endpoint.host}:{endpoint.port}/{endpoint.database}"
    return EntryOwner(profile.name, database)


def _same(owner: EntryOwner, ours: EntryOwner) -> bool:
    if owner.profile is not None:
        return owner.profile == ours.profile
    return owner.database == ours.database


def own_name(profile: str, base: str, taken: Iterable[str]) -> str:
    """`<base>-<profile>` in lowercase letters, digits and dashes, not among `taken`."""
    slug = re.sub(r"[^a-z0-9]+", "-", profile.lower()).strip("-") or "profile"
    name = f"{base}-{slug}"
    taken = set(taken)
    number = 2
    while name in taken:
        name, number = f"{base}-{slug}-{number}", number + 1
    return name


class ConfigWriter:
    def __init__(
        self,
        backup_dir: Path,
        *,
        running: Callable[[Collection[str]], list[RunningProcess]] = running_processes,
    ) -> None:
        self.backup_dir = backup_dir
        self._running = running

    def plan_write(
        self,
        client: McpClient,
        path: Path,
        planned: PlannedEntry,
        server_name: str = DEFAULT_SERVER_NAME,
    ) -> Plan:
        check_server_name(server_name)  # the dialog's names as much as the command's
        planned = for_client(planned, client, server_name)
        entry = planned.entry.as_json(client.entry_type)
        return plan_write(
            path, client, server_name, entry, secrets=planned.secrets, inputs=planned.inputs
        )

    def plan_entry(
        self,
        client: McpClient,
        path: Path,
        planned: PlannedEntry,
        server_name: str,
        target: Target,
    ) -> EntryPlan:
        """`plan_write` for the target's profile, saying whether the entry of that name
        connects another profile or database now, and offering a name of its own then (the
        file's entry of that name when it already connects this profile)."""
        plan = self.plan_write(client, path, planned, server_name)
        owner = entry_owner(plan.old_entry) if plan.old_entry is not MISSING else None
        ours = target_owner(target)
        if owner is None or _same(owner, ours):
            return EntryPlan(plan, None, None)
        servers = load_document(path, plan.old, jsonc=client.jsonc).servers(client.root_key)
        for name, value in servers.items():
            if name != server_name and (found := entry_owner(value)) and _same(found, ours):
                return EntryPlan(plan, owner, name)
        assert ours.profile is not None
        return EntryPlan(plan, owner, own_name(ours.profile, server_name, servers))

    def plan_restore(
        self, client: McpClient, path: Path, server_name: str, entry: Mapping[str, Any]
    ) -> Plan:
        """Write back an entry the client removed or changed, as Supalink wrote it (what the
        app's watch kept, or the last backup that held it); its secrets masked in the diff."""
        check_server_name(server_name)
        secrets = entry_secrets(ServerEntry.from_json(dict(entry), f"{server_name!r}"))
        return plan_write(path, client, server_name, entry, secrets=secrets)

    def plan_remove(
        self, client: McpClient, path: Path, server_name: str = DEFAULT_SERVER_NAME
    ) -> Plan:
        check_server_name(server_name)
        # VS Code's prompt for the entry's password goes with it: its id is the entry's own.
        inputs = [{"id": input_id(server_name)}] if client.secret_inputs else []
        return plan_remove(path, client, server_name, inputs=inputs)

    def apply(self, plan: Plan, *, confirmed: bool = False, force: bool = False) -> Written:
        """Write the plan under the file's lock (see `editor.apply`): ConfigChanged when the
        file changed since the plan in more than other entries, unless `force`, or does not
        hold the change once written; ConfirmationRequired for a replacement or removal not
        confirmed."""
        applied = apply(plan, backup_root=self.backup_dir, confirmed=confirmed, force=force)
        running = () if applied.written is None else tuple(self._running(plan.client.process_names))
        return Written(applied.plan, applied.written, applied.backup, applied.replanned, running)


def read_entry(client: McpClient, path: Path, server_name: str) -> ServerEntry:
    """The entry as the file holds it now: what the client will start."""
    check_server_name(server_name)
    data = read_config(path)
    if data is None:
        raise EntryMissing(path, server_name, no_file=True)
    value = load_document(path, data, jsonc=client.jsonc).member(client.root_key, server_name)
    if value is MISSING:
        raise EntryMissing(path, server_name, no_file=False)
    return ServerEntry.from_json(value, f"{server_name!r} in {path}")

"""Putting a server entry into a client's config file: the one flow behind `supalink config
write|remove` and the Write config dialog. Plan the change (a masked diff to show), have it
confirmed when it replaces or removes something, apply it with a backup, and say whether
the client is running (it must be restarted, and may write its own copy back meanwhile)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from supalink.mcp.clients import Host, McpClient
from supalink.mcp.editor import Plan, apply, load_document, plan_remove, plan_write, read_config
from supalink.mcp.entries import PlannedEntry
from supalink.mcp.errors import EntryMissing
from supalink.mcp.jsonedit import MISSING
from supalink.mcp.processes import RunningProcess, running_processes
from supalink.mcp.templates import DEFAULT_SERVER_NAME, ServerEntry


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
        entry = planned.entry.as_json(client.entry_type)
        return plan_write(path, client, server_name, entry, secrets=planned.secrets)

    def plan_remove(
        self, client: McpClient, path: Path, server_name: str = DEFAULT_SERVER_NAME
    ) -> Plan:
        return plan_remove(path, client, server_name)

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
    data = read_config(path)
    if data is None:
        raise EntryMissing(path, server_name, no_file=True)
    value = load_document(path, data).member(client.root_key, server_name)
    if value is MISSING:
        raise EntryMissing(path, server_name, no_file=False)
    return ServerEntry.from_json(value, f"{server_name!r} in {path}")

"""The functions that no statement of the agent's may name: their effect outlives the call's
read-only transaction that is rolled back, or reaches another session (DESIGN.md lists what
such a transaction does and does not stop, as tried on PostgreSQL 15).

A name is refused wherever it stands in a statement, at any depth and in any spelling that
PostgreSQL resolves to it (guard.py reads the names: bare in any case, quoted, qualified by
a schema, Unicode-escaped), called or not: the check reads names, not calls, so it cannot
miss one called in a way it did not foresee. Text in a string is not SQL and is not read,
which is why the functions that run SQL given as text are in the catalogue themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

# Where an entry's functions come from: PostgreSQL itself (15, as the tests check against
# pg_proc), an older PostgreSQL, or the extension that adds them.
CORE = "PostgreSQL 15"


@dataclass(frozen=True)
class Entry:
    why: str  # finishes "refused (NAME): …"
    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()  # for a family that grows with versions
    source: str = CORE


CATALOGUE: Final = (
    Entry(
        "it signals another session's backend, which a rolled-back transaction does not undo",
        names=("pg_cancel_backend", "pg_terminate_backend"),
    ),
    Entry(
        "it signals the server itself (reload its settings, rotate its log), which a "
        "rolled-back transaction does not undo",
        names=("pg_reload_conf", "pg_rotate_logfile"),
    ),
    Entry(
        "it has a backend write its memory contexts to the server log, a rollback or not",
        names=("pg_log_backend_memory_contexts",),
    ),
    Entry(
        "it writes a message to the write-ahead log that logical decoding delivers even when "
        "the transaction rolls back",
        names=("pg_logical_emit_message",),
    ),
    Entry(
        "replication slots live outside transactions: creating, dropping, advancing or "
        "decoding one is not undone, and a forgotten slot holds write-ahead log until the disk "
        "fills",
        names=(
            "pg_create_logical_replication_slot",
            "pg_create_physical_replication_slot",
            "pg_drop_replication_slot",
            "pg_copy_logical_replication_slot",
            "pg_copy_physical_replication_slot",
            "pg_replication_slot_advance",
        ),
        prefixes=("pg_logical_slot_",),
    ),
    Entry(
        "replication origins' sessions and progress are not undone by a rollback",
        prefixes=("pg_replication_origin_",),
    ),
    Entry(
        "it acts on the server's write-ahead log, backups or recovery, which no transaction undoes",
        names=(
            "pg_switch_wal",
            "pg_create_restore_point",
            "pg_backup_start",
            "pg_backup_stop",
            "pg_wal_replay_pause",
            "pg_wal_replay_resume",
            "pg_promote",
        ),
    ),
    Entry(
        "it starts or stops a backup, which no transaction undoes",
        names=("pg_start_backup", "pg_stop_backup"),
        source="PostgreSQL 14 and older",
    ),
    Entry(
        "a session-level advisory lock outlives the transaction: it stays held after the "
        "rollback, holding off other sessions, until the session unlocks it (the _xact_ "
        "locks are released at the rollback)",
        names=(
            "pg_advisory_lock",
            "pg_advisory_lock_shared",
            "pg_try_advisory_lock",
            "pg_try_advisory_lock_shared",
            "pg_advisory_unlock",
            "pg_advisory_unlock_shared",
            "pg_advisory_unlock_all",
        ),
    ),
    Entry(
        "it rewrites an index's summaries, maintenance that a rollback does not undo, under "
        "a lock that holds off other writers",
        names=(
            "brin_summarize_new_values",
            "brin_summarize_range",
            "brin_desummarize_range",
            "gin_clean_pending_list",
        ),
    ),
    Entry(
        "it reads or writes the server's own files, outside the database",
        names=("pg_read_file", "pg_read_binary_file", "pg_stat_file", "lo_import", "lo_export"),
        prefixes=("pg_ls_",),
    ),
    Entry(
        "it writes, renames, removes or lists the server's own files, outside the database",
        names=("pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync", "pg_logdir_ls"),
        source="adminpack",
    ),
    Entry(
        "it resets statistics that the whole server shares; a rollback does not bring them back",
        prefixes=("pg_stat_reset",),
    ),
    Entry(
        "it resets statistics that the whole server shares; a rollback does not bring them back",
        names=("pg_stat_statements_reset",),
        source="pg_stat_statements",
    ),
    Entry(
        "it runs SQL given as text, which this check cannot read",
        names=(
            "query_to_xml",
            "query_to_xmlschema",
            "query_to_xml_and_xmlschema",
            "cursor_to_xml",
            "cursor_to_xmlschema",
            "ts_stat",
            "ts_rewrite",
        ),
    ),
    Entry(
        "it notifies other sessions' listeners when the transaction commits; use the "
        "notifications tool to listen",
        names=("pg_notify",),
    ),
    Entry(
        "it changes a setting, the role among them, in the middle of the statement; settings "
        "are the server's",
        names=("set_config",),
    ),
    Entry(
        "it connects to a database, this one or another, and runs SQL there in a transaction "
        "of its own, which commits",
        prefixes=("dblink",),
        source="dblink",
    ),
    Entry(
        "it opens or closes connections to other servers, which outlive the transaction",
        prefixes=("postgres_fdw_",),
        source="postgres_fdw",
    ),
    Entry(
        "it sends an HTTP request from the database server, which no rollback calls back",
        names=(
            "http",
            "http_get",
            "http_post",
            "http_put",
            "http_patch",
            "http_delete",
            "http_head",
            "http_request",
        ),
        source="http, pg_net",
    ),
    Entry(
        "it changes the http extension's options for the rest of the session",
        names=("http_set_curlopt", "http_reset_curlopt"),
        source="http",
    ),
    Entry(
        "it restarts pg_net's background worker, which serves every session",
        names=("worker_restart",),
        source="pg_net",
    ),
)

_WHY_BY_NAME: Final = {name: entry.why for entry in CATALOGUE for name in entry.names}
_WHY_BY_PREFIX: Final = {prefix: entry.why for entry in CATALOGUE for prefix in entry.prefixes}
_NAMES: Final = frozenset(_WHY_BY_NAME)
# Searched in the names one a line, each after its line break: a statement may hold a
# hundred thousand names, too many for a loop of Python's own, and a literal first
# character is one the search jumps to.
_IN_A_FAMILY: Final = re.compile(f"\\n((?:{'|'.join(map(re.escape, _WHY_BY_PREFIX))})[^\\n]*)")


def find_side_effect(identifiers: Iterable[str]) -> tuple[str, str] | None:
    """One of `identifiers` (names as PostgreSQL resolves them: bare ones folded to lower
    case, quoted ones as written) that the catalogue names, with why; or None."""
    names = frozenset(identifiers)
    # A quoted name may hold a line break, and read as two here: that can only add a name.
    found = sorted(names & _NAMES) + sorted(_IN_A_FAMILY.findall("\n" + "\n".join(names)))
    if not found:
        return None
    name = found[0]  # the same answer for the same statement
    if name in _WHY_BY_NAME:
        return name, _WHY_BY_NAME[name]
    return name, next(why for prefix, why in _WHY_BY_PREFIX.items() if name.startswith(prefix))

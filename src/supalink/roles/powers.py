"""What a login can do beyond what a role made by `supalink role create` could, and what
every login of the database can do: the one home of that list, which the agent's server
reads before its first call (agent/session.py) and `supalink role show` prints.

A role made by Supalink is `NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
NOREPLICATION`, a member of nothing, owner of nothing, with SELECT (and chosen writes) on
chosen tables. Anything else a login has is a power an agent does not need, and some of it
a read-only, rolled-back transaction does not stop (signals to other sessions, server files,
replication slots, locks taken by a table's owner). Read in one round trip, through the
login itself, so it costs the agent's server nothing it can feel at start."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import psycopg

# PostgreSQL's predefined roles whose membership gives a power, and what it gives.
PREDEFINED: Final = {
    "pg_signal_backend": "cancel or end other sessions' queries (pg_cancel_backend, "
    "pg_terminate_backend), the user's own apps' among them",
    "pg_read_server_files": "read any file the database server can read",
    "pg_write_server_files": "write files on the database server",
    "pg_execute_server_program": "run programs on the database server",
    "pg_read_all_data": "read every table, past grants and row level security",
    "pg_write_all_data": "write every table, past grants",
    "pg_checkpoint": "force checkpoints, slowing every other session",
}
# Extensions that open connections from inside the database: through a SECURITY DEFINER
# function they let a statement write elsewhere, whatever its own transaction does.
REMOTE_EXTENSIONS: Final = ("dblink", "postgres_fdw")
# The settings the agent's server takes as ceilings (milliseconds; 0 is no limit).
TIMEOUTS: Final = ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
# How many function names a report carries; the count says how many there are in all.
LISTED_FUNCTIONS: Final = 20

# SECURITY DEFINER functions of another owner that the login may run act with their owner's
# rights, which no text check of a statement can see.
_READ: Final = """
with definers as (
    select p.oid::regprocedure::text as f, p.proname::text as name,
           pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE') as by_public
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and not pg_catalog.pg_has_role(p.proowner, 'USAGE')
      and n.nspname not in ('pg_catalog', 'information_schema')
      and pg_catalog.has_function_privilege(p.oid, 'EXECUTE')
)
select r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb,
       r.rolreplication, r.rolconnlimit,
       array(select b.rolname::text from pg_catalog.pg_roles b
             where b.rolname = any(%(predefined)s)
               and pg_catalog.pg_has_role(r.oid, b.oid, 'MEMBER') order by 1),
       (select count(*) from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'm') and pg_catalog.pg_has_role(r.oid, c.relowner, 'USAGE')
          and n.nspname <> 'information_schema' and n.nspname !~ '^pg_'),
       array(select e.extname::text from pg_catalog.pg_extension e
             where e.extname = any(%(remote)s) order by 1),
       pg_catalog.current_setting('wal_level'),
       pg_catalog.current_setting('server_version_num')::int,
       array(select s.name || '=' || s.reset_val from pg_catalog.pg_settings s
             where s.name = any(%(timeouts)s) order by 1),
       array(select f from definers where not by_public order by f limit %(listed)s),
       (select count(*) from definers where not by_public),
       array(select f from definers where by_public order by f limit %(listed)s),
       (select count(*) from definers where by_public),
       array(select distinct name from definers)
from pg_catalog.pg_roles r
where r.rolname = current_user
"""


@dataclass(frozen=True)
class Power:
    """Something a login can do: a short name, and what it lets an agent do."""

    name: str
    what: str

    def __str__(self) -> str:
        return f"{self.name}: {self.what}"


@dataclass(frozen=True)
class LoginPowers:
    login: str
    is_superuser: bool
    bypasses_rls: bool
    can_create_roles: bool
    can_create_databases: bool
    can_replicate: bool
    connection_limit: int  # -1: none
    predefined_roles: tuple[str, ...]  # the PREDEFINED roles it is a member of
    owned_tables: int  # tables it owns, itself or through a role it inherits
    remote_extensions: tuple[str, ...]  # REMOTE_EXTENSIONS installed in this database
    wal_level: str
    server_version: int  # server_version_num, e.g. 150018
    # As a session of this login starts (its own and the database's settings), milliseconds.
    timeouts: dict[str, int] = field(default_factory=dict)
    definer_functions: tuple[str, ...] = ()  # granted to it, not to PUBLIC
    definer_count: int = 0
    public_definer_functions: tuple[str, ...] = ()  # every role may run these
    public_definer_count: int = 0
    # Every such function's name, however many: the agent's server refuses a statement
    # that names one (it acts with its owner's rights, past any check of the statement).
    definer_names: frozenset[str] = frozenset()

    @property
    def excess(self) -> tuple[Power, ...]:
        """What this login can do that a role made by Supalink could not: none for such a
        role; anything here makes the agent's server serve it read-only."""
        found: list[Power] = []
        if self.is_superuser:
            found.append(Power("SUPERUSER", "everything: files, programs, every row, every role"))
        if self.bypasses_rls and not self.is_superuser:
            found.append(Power("BYPASSRLS", "reads every row, past row level security"))
        if self.can_create_roles:
            found.append(Power("CREATEROLE", "creates roles and takes other roles' rights"))
        if self.can_create_databases:
            found.append(Power("CREATEDB", "creates databases"))
        if self.can_replicate:
            found.append(Power("REPLICATION", "streams every change and makes replication slots"))
        found += [Power(role, PREDEFINED[role]) for role in self.predefined_roles]
        if self.owned_tables:
            found.append(
                Power(
                    "table owner",
                    f"owns {self.owned_tables} table(s): reads them past row level security "
                    "unless it is forced, and can lock other clients out of them (CLUSTER, "
                    "REINDEX, VACUUM FULL; refused here by the statement check, not by the "
                    "database)",
                )
            )
        if self.definer_count:
            found.append(
                Power(
                    "SECURITY DEFINER functions",
                    f"runs {self.definer_count} function(s) with their owners' rights, granted "
                    f"to it: {_listed(self.definer_functions, self.definer_count)}",
                )
            )
        return tuple(found)

    @property
    def shared(self) -> tuple[Power, ...]:
        """What every login of this database can do, a role made by Supalink too: only the
        database's owner can take it away (REVOKE … FROM PUBLIC, DROP EXTENSION)."""
        found: list[Power] = []
        if self.remote_extensions:
            found.append(
                Power(
                    ", ".join(self.remote_extensions),
                    "installed: a function that uses it can write to this or another "
                    "database whatever the call's own transaction does",
                )
            )
        if self.wal_level == "logical":
            found.append(
                Power(
                    "wal_level = logical",
                    "a logical message (pg_logical_emit_message) reaches logical decoding "
                    "even from a rolled-back transaction; refused here by the statement check",
                )
            )
        if self.public_definer_count:
            found.append(
                Power(
                    "SECURITY DEFINER functions for PUBLIC",
                    f"every role runs {self.public_definer_count} function(s) with their "
                    f"owners' rights: "
                    f"{_listed(self.public_definer_functions, self.public_definer_count)}",
                )
            )
        return tuple(found)

    def as_dict(self) -> dict[str, Any]:
        return {
            "excess": [str(power) for power in self.excess],
            "shared": [str(power) for power in self.shared],
            "timeouts_ms": dict(self.timeouts),
            "connection_limit": self.connection_limit,
        }


def _listed(names: tuple[str, ...], count: int) -> str:
    more = count - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


async def read_powers(conn: psycopg.AsyncConnection[Any]) -> LoginPowers:
    """The powers of the login `conn` is connected as. The connection's own SETs are not
    read: the timeouts are what a new session of this login starts with."""
    cursor = await conn.execute(
        _READ,
        {
            "predefined": list(PREDEFINED),
            "remote": list(REMOTE_EXTENSIONS),
            "timeouts": list(TIMEOUTS),
            "listed": LISTED_FUNCTIONS,
        },
    )
    row = await cursor.fetchone()
    if row is None:
        raise psycopg.ProgrammingError("current_user is not in pg_roles")
    login, is_super, bypass, createrole, createdb, replication, limit, *rest = row
    predefined, owned, remote, wal_level, version, timeouts, *definers = rest
    definer_list, definer_count, public_names, public_count, all_names = definers
    settings = dict(setting.split("=", 1) for setting in timeouts)
    return LoginPowers(
        login=login,
        is_superuser=bool(is_super),
        bypasses_rls=bool(bypass or is_super),
        can_create_roles=bool(createrole),
        can_create_databases=bool(createdb),
        can_replicate=bool(replication),
        connection_limit=int(limit),
        predefined_roles=() if is_super else tuple(predefined),
        owned_tables=int(owned),
        remote_extensions=tuple(remote),
        wal_level=str(wal_level),
        server_version=int(version),
        timeouts={name: _milliseconds(value) for name, value in settings.items()},
        definer_functions=tuple(definer_list),
        definer_count=int(definer_count),
        public_definer_functions=tuple(public_names),
        public_definer_count=int(public_count),
        definer_names=frozenset(all_names),
    )


def _milliseconds(value: str) -> int:
    """pg_settings' reset_val of a timeout: milliseconds as text."""
    try:
        return max(0, int(value))
    except ValueError:
        return 0

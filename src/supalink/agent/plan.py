"""What the agent's server sends around each statement, decided once from its options, the
connection mode and what its login may do (supalink.roles.powers):

- whether writes run at all: only with `--allow-writes` and a login that can do nothing a
  role made by Supalink could not (a privileged login is served read-only);
- the limits every call runs under, each the smaller of the server's own and the login's
  (a role's `statement_timeout` of 30 s is not raised to the server's 60 s);
- how many connections the pool may hold: one fewer than the login's connection limit, so
  the `notifications` tool's listener still has one;
- the statements that open and close each call, and reset the session after it.

A connection that is a session of its own (direct, session pooler) carries the limits and
`default_transaction_read_only` as session settings, and after each call whatever session
state the call left is reset. Through a transaction pooler, session state belongs to
whichever server connection the pooler picks: the call's own transaction is the only
scope, so its limits and role are `SET LOCAL` in it, and only advisory locks are released
after it (one query message stays on one server connection).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from supalink.agent.options import ServeOptions
    from supalink.profiles import Target
    from supalink.roles import LoginPowers

# Session advisory locks outlive a ROLLBACK. Through a transaction pooler too, a query
# message stays on one server connection, so the unlock reaches the call's own.
UNLOCK: Final = "SELECT pg_advisory_unlock_all()"
# How often a backend running a statement checks that its client is still there
# (PostgreSQL 14 and later): a server killed mid-call does not leave its statement
# running until the statement timeout.
CLIENT_CHECK_MS: Final = 1000
_CLIENT_CHECK_SINCE: Final = 140000


def _quote_setting(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ceiling(ours_ms: int, login_ms: int) -> int:
    """The smaller limit; 0 is PostgreSQL's "no limit"."""
    return min(ours_ms, login_ms) if login_ms > 0 else ours_ms


@dataclass(frozen=True)
class CallPlan:
    allow_writes: bool
    own_session: bool  # not a transaction pooler: session settings stay with the connection
    settings: dict[str, str]  # the limits every call runs under, as PostgreSQL takes them
    pool_max_size: int
    listen_possible: bool  # the connection limit leaves the listener a connection
    writes_withheld: bool  # --allow-writes given, but the login is too powerful for it

    @classmethod
    def build(cls, options: ServeOptions, target: Target, powers: LoginPowers) -> CallPlan:
        timeouts = powers.timeouts
        settings = {
            name: str(_ceiling(round(seconds * 1000), timeouts.get(name, 0)))
            for name, seconds in (
                ("statement_timeout", options.statement_timeout),
                ("lock_timeout", options.lock_timeout),
                ("idle_in_transaction_session_timeout", options.idle_in_transaction_timeout),
            )
        }
        if powers.server_version >= _CLIENT_CHECK_SINCE:
            settings["client_connection_check_interval"] = str(CLIENT_CHECK_MS)
        # The guard reads quotes as PostgreSQL does with this on (its default since 9.1); a
        # role or database set to off would read 'a\'b' as one string where the guard sees
        # two, and what the guard took for a string would run.
        settings["standard_conforming_strings"] = "on"
        limit = powers.connection_limit
        pool_max = (
            options.pool_max_size if limit < 0 else max(1, min(options.pool_max_size, limit - 1))
        )
        privileged = bool(powers.excess)
        return cls(
            allow_writes=options.allow_writes and not privileged,
            own_session=target.mode is None or not target.mode.pools_transactions,
            settings=settings,
            pool_max_size=pool_max,
            listen_possible=limit < 0 or limit >= 2,
            writes_withheld=options.allow_writes and privileged,
        )

    @cached_property
    def session_sql(self) -> str:
        """What a new connection of its own is set to."""
        session = dict(self.settings)
        session["default_transaction_read_only"] = "off" if self.allow_writes else "on"
        return "; ".join(f"SET {name} = {_quote_setting(v)}" for name, v in session.items())

    @cached_property
    def begin_pieces(self) -> list[str]:
        begin = "BEGIN READ WRITE" if self.allow_writes else "BEGIN READ ONLY"
        if self.own_session:
            # The session carries the limits, and what a call changes is undone after it.
            return [begin]
        # A pooler's server connection carries whatever its last client left, a committed
        # SET ROLE among it: the call's limits and role come first.
        local = [f"SET LOCAL {name} = {_quote_setting(v)}" for name, v in self.settings.items()]
        return [begin, *local, "SET LOCAL ROLE NONE"]

    @cached_property
    def after_pieces(self) -> list[str]:
        """After each call. A read-only call is rolled back, and with it every setting, role
        and cursor it made: what outlives a ROLLBACK is prepared statements and advisory
        locks. A committed call may have changed anything: RESET ALL (role and session
        authorization with it), then the session's own settings again."""
        if not self.own_session:
            return [UNLOCK]
        if not self.allow_writes:
            return ["DEALLOCATE ALL", UNLOCK]
        return ["DEALLOCATE ALL", "CLOSE ALL", UNLOCK, "RESET ALL", "RESET ROLE", self.session_sql]

    @cached_property
    def begin_sql(self) -> str:
        return "; ".join(self.begin_pieces)

    @cached_property
    def after_sql(self) -> str:
        return "; ".join(self.after_pieces)

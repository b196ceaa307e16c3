"""How the agent's server gets its connections: the login read once, before the first
call, and the pool started from the plan made from it (agent/plan.py).

- The login is read through itself (supalink.roles.powers): a superuser is refused for
  good, a login that can never succeed (a wrong password) is said at once, and a privileged
  one is served read-only. The connection that read it becomes the pool's first.
- While the server cannot be reached, calls wait for it, at most CONNECTION_WAIT_SECONDS;
  a connection refused for a full connection limit is said at once instead, since waiting
  does not free a slot that another client holds. Once UNREACHABLE_AFTER attempts in a row
  have failed before the login was ever read, each call is answered after the next attempt
  rather than the whole wait; the attempts go on, so a database that comes up is served.
- What went wrong at the start (`start_failure`) is what `initialize`'s instructions say:
  a client that only starts the server and reads its answer is told the truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from supalink.agent.options import ServeOptions
from supalink.agent.plan import CallPlan
from supalink.error_texts import PERMANENT, TOO_MANY_CLIENTS, first_line, says
from supalink.errors import SupalinkError

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    from supalink.profiles import Target
    from supalink.roles import LoginPowers

# How long a call waits for a connection, in all, while the server is away (a restart).
CONNECTION_WAIT_SECONDS: Final = 15.0
BACKOFF: Final = (0.1, 0.25, 0.5, 1.0, 2.0)
# Failed attempts in a row, before the login was ever read, after which the database is
# said to be out of reach: three refusals take about 0.4 s, less than the SDK's import.
UNREACHABLE_AFTER: Final = 3


class Unavailable(SupalinkError):
    """No connection to the database within the wait."""


class LoginRefused(SupalinkError):
    """This login is never served: a wrong password, a superuser. Every call says why."""


def refused_superuser(login: str) -> LoginRefused:
    return LoginRefused(
        f"this login ({login}) is a superuser: an agent must never hold one. Make a role of "
        "the agent's own with `supalink role create PROFILE`, point the client's entry at its "
        "profile, then restart the client"
    )


def refused_login(error: Exception) -> LoginRefused:
    return LoginRefused(
        f"the database refused this login: {first_line(str(error))}; fix the profile in "
        "Supalink, then restart the client"
    )


def crowded(powers: LoginPowers | None) -> Unavailable:
    whose, of = "this login's", ""
    if powers is not None:
        whose = f"this login's ({powers.login})"
        of = f" of {powers.connection_limit}" if powers.connection_limit >= 0 else ""
    return Unavailable(
        f"the database refused a connection: {whose} connection limit{of}, or the server's, "
        "is reached by other clients. Close another client of this login, or raise its "
        "connection limit"
    )


@dataclass(frozen=True)
class LoginRead:
    """What became of reading the login: its powers and the plan, or why it is refused."""

    powers: LoginPowers | None = None
    plan: CallPlan | None = None
    refused: LoginRefused | None = None


def retrieved(task: asyncio.Future[Any]) -> None:
    """A task may end after whoever awaited it has gone: its outcome is read here, so that
    asyncio never reports an exception nobody retrieved."""
    if not task.cancelled():
        task.exception()


class Connections:
    """The login's facts, the call plan and the pool, once the login has been read."""

    def __init__(
        self,
        target: Target,
        options: ServeOptions,
        on_login: Callable[[LoginRead], None] | None = None,
    ) -> None:
        self.target = target
        self.options = options
        self.on_login = on_login  # told once, when the login has been read
        self.powers: LoginPowers | None = None
        self.plan: CallPlan | None = None
        self.pool: AsyncConnectionPool[Any] | None = None
        self.kwargs: dict[str, Any] = {}
        self._ready: asyncio.Future[CallPlan] | None = None
        self._attempted: asyncio.Future[None] | None = None  # done at each failed attempt
        self._crowded = False  # the last attempt met a connection limit
        self._failures = 0  # attempts in a row that failed before the login was read
        self._last_failure = ""
        self._parked: list[psycopg.AsyncConnection[Any]] = []
        # After the pool timed out, the next call first tries a connection of its own: a
        # login that can no longer succeed (a changed password) is said at once.
        self.probe = False

    async def open(self) -> None:
        """Start connecting in the background, while the server loads the SDK.

        What the login's reading imports is imported here, before anything runs beside it:
        the server imports the SDK in a thread meanwhile, and two threads importing at once
        may each hold a module the other waits for."""
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401

        from supalink.roles import read_powers  # noqa: F401

        kwargs = self.target.connection_kwargs()
        kwargs["autocommit"] = True  # the calls' transactions are this module's own
        kwargs["prepare_threshold"] = None  # nothing named is left on any server connection
        self.kwargs = kwargs
        self._attempted = asyncio.get_running_loop().create_future()
        self._ready = asyncio.create_task(self._read_login(), name="supalink-agent-login")
        self._ready.add_done_callback(retrieved)
        self._ready.add_done_callback(self._tell)

    def _tell(self, ready: asyncio.Future[CallPlan]) -> None:
        if self.on_login is None or ready.cancelled():
            return
        error = ready.exception()
        if isinstance(error, LoginRefused):
            self.on_login(LoginRead(refused=error))
        elif error is None:
            self.on_login(LoginRead(self.powers, self.plan))

    async def close(self) -> None:
        if self._ready is not None and not self._ready.done():
            self._ready.cancel()
            with contextlib.suppress(BaseException):
                await self._ready
        for conn in self._parked:
            await conn.close()
        self._parked.clear()
        if self.pool is not None:
            await self.pool.close(timeout=2.0)

    async def _read_login(self) -> CallPlan:
        """Connect until the server answers, read what the login may do, and start the pool
        with the plan made from it. Raises LoginRefused for a login never to be served."""
        import psycopg

        from supalink.roles import read_powers

        attempt = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**self.kwargs)
                try:
                    powers = await read_powers(conn)
                except BaseException:
                    await conn.close()
                    raise
                break
            except psycopg.OperationalError as error:
                if PERMANENT.search(str(error)):
                    raise refused_login(error) from None
                self._note_failure(error)
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            await asyncio.sleep(delay)
        if powers.is_superuser:
            await conn.close()
            raise refused_superuser(powers.login)
        plan = CallPlan.build(self.options, self.target, powers)
        self.powers, self.plan = powers, plan
        self._parked.append(conn)
        self.pool = self._new_pool(plan)
        await self.pool.open(wait=False)
        self._crowded = False
        return plan

    def _note_failure(self, error: Exception) -> None:
        """Calls waiting for the login hear of each failed attempt: one that met a full
        connection limit is answered at once rather than after the whole wait."""
        self._crowded = says(str(error), TOO_MANY_CLIENTS)
        self._failures += 1
        self._last_failure = first_line(str(error))
        attempted, self._attempted = self._attempted, asyncio.get_running_loop().create_future()
        if attempted is not None:
            attempted.set_result(None)

    def _new_pool(self, plan: CallPlan) -> AsyncConnectionPool[Any]:
        import psycopg
        from psycopg_pool import AsyncConnectionPool

        parked = self._parked

        class _Handed(psycopg.AsyncConnection[Any]):
            """The login check's connection is the pool's first: one handshake fewer before
            the first answer (a TLS and SCRAM exchange is hundreds of ms to a far server)."""

            @classmethod
            async def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
                if parked:
                    return parked.pop()
                return await psycopg.AsyncConnection.connect(conninfo, **kwargs)

        return AsyncConnectionPool(
            kwargs=self.kwargs,
            connection_class=_Handed,
            min_size=min(self.options.pool_min_size, plan.pool_max_size),
            max_size=plan.pool_max_size,
            open=False,
            configure=self._configure,
            timeout=CONNECTION_WAIT_SECONDS,
            name="supalink-agent",
        )

    async def _configure(self, conn: psycopg.AsyncConnection[Any]) -> None:
        assert self.plan is not None
        if self.plan.own_session:
            await run_own(conn, self.plan.session_sql)

    async def planned(self, deadline: float) -> CallPlan:
        """The call plan, once the login has been read; a refusal, a full connection limit
        or the end of the wait raise."""
        assert self._ready is not None, "open() first"
        ready = self._ready
        tried = False  # an attempt failed since this call began
        while not ready.done():
            if self._crowded:
                raise crowded(None)
            if tried and self._failures >= UNREACHABLE_AFTER:
                raise self.unreachable()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._unavailable()
            tried = await self._next_attempt(remaining)
        return ready.result()

    async def _next_attempt(self, timeout: float) -> bool:
        """Wait for the login to be read or for the next attempt to fail: whether one did."""
        assert self._ready is not None
        assert self._attempted is not None
        attempted = self._attempted
        either: set[asyncio.Future[Any]] = {self._ready, attempted}
        await asyncio.wait(either, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return attempted.done()

    def unreachable(self) -> Unavailable:
        return Unavailable(
            f"the database cannot be reached ({self._last_failure}) after {self._failures} "
            "attempts; the server keeps trying"
        )

    async def start_failure(self, deadline: float) -> SupalinkError | None:
        """Why calls fail, once the start has settled (the login read or refused, a
        connection limit met, or UNREACHABLE_AFTER attempts failed), waiting for that at
        most until `deadline`; None: nothing is known to be wrong."""
        assert self._ready is not None, "open() first"
        ready = self._ready
        while not (ready.done() or self._crowded or self._failures >= UNREACHABLE_AFTER):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            await self._next_attempt(remaining)
        if ready.done():
            error = None if ready.cancelled() else ready.exception()
            return error if isinstance(error, SupalinkError) else None
        return crowded(None) if self._crowded else self.unreachable()

    def _unavailable(self) -> Unavailable:
        why = f": {self._last_failure}" if self._last_failure else ""
        return Unavailable(
            f"no connection to the database within {CONNECTION_WAIT_SECONDS:g} s{why}"
        )

    async def check_again(self) -> None:
        """After the pool's wait ran out, one connection of the call's own says whether the
        login can still succeed."""
        import psycopg

        try:
            conn = await psycopg.AsyncConnection.connect(**self.kwargs)
        except psycopg.OperationalError as error:
            if PERMANENT.search(str(error)):
                refusal = refused_login(error)
                self._ready = asyncio.get_running_loop().create_future()
                self._ready.set_exception(refusal)
                self._ready.add_done_callback(retrieved)
                if self.pool is not None:
                    await self.pool.close(timeout=0)
                raise refusal from None
            if says(str(error), TOO_MANY_CLIENTS):
                raise crowded(self.powers) from None
            return  # unreachable for now: the pool's own wait decides
        await conn.close()
        self.probe = False


async def run_own(conn: psycopg.AsyncConnection[Any], sql: str) -> None:
    """Supalink's own fixed statements around a call, over the simple protocol and without a
    cursor: a cursor's set-up cost about as much as the round trip itself, twice a call."""
    from psycopg import errors, generators, pq

    async with conn.lock:
        conn.pgconn.send_query(sql.encode())
        results = await conn.wait(generators.execute(conn.pgconn))
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=conn.info.encoding)

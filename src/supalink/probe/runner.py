"""The connection test: each step in order, reported as it ends, stopping at the first failure.

The success path opens one libpq connection (TCP, TLS and login from the one connect) and
reads the server's facts in one round trip. Only after a failure does the test look closer
(a bare TCP connect, a TLS handshake of its own) to say what went wrong.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from typing import NoReturn

from psycopg.conninfo import make_conninfo
from psycopg.pq.abc import PGconn

from supalink.error_texts import first_line
from supalink.logs import SecretMasker
from supalink.probe import diagnosis as diagnose
from supalink.probe import libpq
from supalink.probe.diagnosis import Attempt
from supalink.probe.facts import PROBE_SQL, read_facts
from supalink.probe.network import (
    LookupFailed,
    Resolver,
    RouteChecker,
    SystemResolver,
    tcp_check,
    udp_route_check,
)
from supalink.probe.results import Diagnosis, ProbeResult, ServerFacts, Step, StepName
from supalink.probe.tlsinfo import default_root_cert, inspect_tls
from supalink.profiles import Profile, Target, build_uri
from supalink.profiles.supabase import Mode

log = logging.getLogger(__name__)

StepCallback = Callable[[Step], None]
# A closer look after a failure must not stretch the test much beyond its timeout.
LOOK_TIMEOUT = 3.0
# Looked up when the profile's host does not resolve: when it does not either, the machine
# is offline (or its DNS is), and the region, the ref or the pooler are not to blame.
KNOWN_HOST = "supabase.com"


MODE_LABELS = {
    Mode.DIRECT: "Supabase direct",
    Mode.SESSION: "Supabase session pooler",
    Mode.TRANSACTION: "Supabase transaction pooler",
    Mode.DEDICATED: "Supabase dedicated pooler",
}


class _Stop(Exception):
    """Ends the test at a failed step."""

    def __init__(self, diagnosis: Diagnosis) -> None:
        super().__init__(diagnosis.kind)
        self.diagnosis = diagnosis


class Probe:
    """One connection test of one profile. `run()` once; cancel its task to stop it.

    `on_step` is called with each step as it ends (the GUI shows them live, the CLI prints
    them). After `run()` returns, or after its task was cancelled, `result` holds the outcome;
    a cancelled test's result has the `cancelled` diagnosis and no connection is left open.
    """

    def __init__(
        self,
        target: Target,
        *,
        resolver: Resolver | None = None,
        route_checker: RouteChecker | None = None,
        clock: Callable[[], float] = time.monotonic,
        timeout: float | None = None,
        on_step: StepCallback | None = None,
    ) -> None:
        if target.profile is None:
            raise ValueError("the connection test reads a profile: parse the URI into one first")
        self.target = target
        self.profile = target.profile
        self._password = target.password
        self._resolver = resolver or SystemResolver()
        self._route_checker = route_checker or udp_route_check
        self._clock = clock
        self.timeout = float(timeout if timeout is not None else self.profile.connect_timeout)
        self._on_step = on_step
        self._masker = SecretMasker()
        self._masker.add_secrets(target.secrets)
        self.steps: list[Step] = []
        self.result: ProbeResult | None = None
        self._current = StepName.PARSE
        self._started = clock()
        self._server: ServerFacts | None = None

    async def run(self) -> ProbeResult:
        diagnosis: Diagnosis | None = None
        self._started = self._clock()
        try:
            await self._run()
        except _Stop as stop:
            diagnosis = stop.diagnosis
        except asyncio.CancelledError:
            self._record(False, "cancelled")
            self.result = ProbeResult(tuple(self.steps), diagnose.cancelled(self._current))
            log.info("connection test of %r cancelled", self.profile.name)
            raise
        self.result = ProbeResult(tuple(self.steps), diagnosis, self._server)
        log.info(
            "connection test of %r: %s",
            self.profile.name,
            "ok" if self.result.ok else self._mask(str(diagnosis and diagnosis.kind)),
        )
        return self.result

    # -- steps -------------------------------------------------------------------------------

    async def _run(self) -> None:
        profile = self._parse()
        endpoint = profile.endpoint()
        cafile = default_root_cert(profile.sslrootcert) if profile.sslmode != "disable" else None
        attempt = Attempt(
            profile, endpoint.host, endpoint.port, endpoint.user, endpoint.database, cafile=cafile
        )
        ipv4, ipv6 = await self._dns(attempt)
        address = await self._route(attempt, ipv4, ipv6)
        attempt = dataclasses.replace(attempt, address=address)
        pgconn = await self._connect(attempt)
        try:
            await self._query(attempt, pgconn)
        finally:
            pgconn.finish()

    def _parse(self) -> Profile:
        profile = self.profile
        problems = profile.problems()
        if problems:
            self._record(False, "; ".join(f"{k}: {v}" for k, v in problems.items()))
            self.result = ProbeResult(tuple(self.steps))
            profile.validated()  # raises the ProfileError (bad input, not a diagnosis)
        kind = MODE_LABELS[profile.mode] if profile.is_supabase else "custom host"
        self._pass(f"{kind}: {build_uri(profile, self._password, masked=True)}", StepName.DNS)
        return profile

    async def _dns(self, attempt: Attempt) -> tuple[list[str], list[str]]:
        host = attempt.host
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            self._pass(f"{host} is an address; nothing to look up", StepName.ROUTE)
            return ([host], []) if literal.version == 4 else ([], [host])
        try:
            async with asyncio.timeout(self.timeout):
                ipv4, ipv6 = await asyncio.gather(
                    self._resolver.lookup(host, socket.AF_INET),
                    self._resolver.lookup(host, socket.AF_INET6),
                )
        except TimeoutError:
            self._fail(
                f"no answer within {self.timeout:g} s",
                diagnose.timeout(StepName.DNS, attempt, self.timeout),
            )
        except LookupFailed as error:
            self._fail(str(error), diagnose.dns_unavailable(attempt, str(error)))
        if not ipv4 and not ipv6:
            if not await self._resolves(KNOWN_HOST):
                self._fail(
                    f"{host}: no A or AAAA record; {KNOWN_HOST} neither",
                    diagnose.offline(attempt, KNOWN_HOST),
                )
            self._fail(f"{host}: no A or AAAA record", diagnose.dns_not_found(attempt))
        listed = f"A {', '.join(ipv4) or 'none'}; AAAA {', '.join(ipv6) or 'none'}"
        self._pass(listed, StepName.ROUTE)
        return ipv4, ipv6

    async def _resolves(self, host: str) -> bool:
        """Whether `host` has an address (within the timeout)."""
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await self._resolver.lookup(host, socket.AF_INET))
        except (TimeoutError, LookupFailed):
            return False

    async def _route(self, attempt: Attempt, ipv4: list[str], ipv6: list[str]) -> str:
        if not ipv6:
            self._pass(f"IPv4 ({ipv4[0]}); IPv6 not needed", StepName.TCP)
            return ipv4[0]
        try:
            async with asyncio.timeout(self.timeout):
                routed = await self._route_checker(ipv6[0])
        except TimeoutError:
            routed = False
        if routed:
            self._pass(f"IPv6 route to {ipv6[0]}", StepName.TCP)
            return ipv6[0]
        if not ipv4:
            self._fail(
                f"no IPv6 route to {ipv6[0]} and no IPv4 address",
                diagnose.ipv6_unreachable(attempt),
            )
        self._pass(f"no IPv6 route from this machine; using IPv4 {ipv4[0]}", StepName.TCP)
        return ipv4[0]

    async def _connect(self, attempt: Attempt) -> PGconn:
        assert attempt.address is not None
        kwargs = self.target.connection_kwargs(
            connect_timeout=self.timeout, hostaddr=attempt.address
        )
        kwargs.pop("prepare_threshold", None)  # a psycopg option, not a libpq parameter
        conninfo = make_conninfo("", **kwargs)

        def phase_done(phase: StepName, pgconn: PGconn) -> None:
            if phase is StepName.TCP:
                self._pass(f"connected to {attempt.where}", StepName.TLS)
            elif phase is StepName.TLS:
                self._pass(self._tls_detail(attempt, pgconn.ssl_in_use), StepName.AUTH)
            else:
                detail = f"logged in as {attempt.user} to database {attempt.database}"
                self._pass(detail, StepName.QUERY)

        loop = asyncio.get_running_loop()
        try:
            return await libpq.connect(conninfo, loop.time() + self.timeout, phase_done)
        except libpq.ConnectFailed as failure:
            await self._diagnose_connect(failure, attempt)

    def _tls_detail(self, attempt: Attempt, encrypted: bool) -> str:
        sslmode = self.profile.sslmode
        if not encrypted:
            if sslmode == "disable":
                return "not encrypted (sslmode=disable)"
            return f"not encrypted: the server offers no TLS, and sslmode={sslmode} allows that"
        if sslmode == "verify-full":
            checked = f"host name {attempt.host} checked"
        elif sslmode == "verify-ca":
            checked = "host name not checked (sslmode=verify-ca)"
        else:
            return f"encrypted; the certificate is not checked (sslmode={sslmode})"
        return f"encrypted; certificate verified against {attempt.cafile}; {checked}"

    async def _diagnose_connect(self, failure: libpq.ConnectFailed, attempt: Attempt) -> NoReturn:
        phase = failure.phase
        self._current = phase
        if failure.timed_out:
            self._fail(
                f"no answer within {self.timeout:g} s",
                diagnose.timeout(phase, attempt, self.timeout),
            )
        found = diagnose.from_connect_error(failure.message, phase, attempt)
        if found is None and attempt.address is not None:
            look = min(LOOK_TIMEOUT, self.timeout)
            if phase is StepName.TLS or diagnose.needs_tls_look(failure.message):
                finding = await inspect_tls(
                    attempt.address, attempt.port, attempt.host, attempt.cafile, look
                )
                found = diagnose.from_tls_finding(finding, failure.message, attempt)
            elif phase is StepName.TCP:
                outcome, reason = await tcp_check(attempt.address, attempt.port, look)
                found = diagnose.from_tcp_outcome(outcome, reason, failure.message, attempt)
        self._fail(first_line(failure.message), found or diagnose.unknown(failure.message))

    async def _query(self, attempt: Attempt, pgconn: PGconn) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await libpq.query(pgconn, PROBE_SQL, loop.time() + self.timeout)
            facts = read_facts(
                results,
                login_pid=pgconn.backend_pid,
                encrypted=pgconn.ssl_in_use,
                profile=self.profile,
            )
        except libpq.QueryFailed as failure:
            if failure.timed_out:
                self._fail(
                    f"no answer within {self.timeout:g} s",
                    diagnose.timeout(StepName.QUERY, attempt, self.timeout),
                )
            found = diagnose.from_connect_error(failure.message, StepName.QUERY, attempt)
            self._fail(first_line(failure.message), found or diagnose.unknown(failure.message))
        self._server = facts
        version = facts.version.split(" on ", 1)[0].split(",", 1)[0]
        self._pass(f"{version}; current_user {facts.user}; now() {facts.now}", None)

    # -- recording ---------------------------------------------------------------------------

    def _record(self, ok: bool, detail: str) -> None:
        now = self._clock()
        step = Step(self._current, ok, (now - self._started) * 1000, self._mask(detail))
        self.steps.append(step)
        self._started = now
        log.debug("probe step %s %s: %s", step.name, "ok" if ok else "failed", step.detail)
        if self._on_step is not None:
            self._on_step(step)

    def _pass(self, detail: str, following: StepName | None) -> None:
        self._record(True, detail)
        if following is not None:
            self._current = following

    def _fail(self, detail: str, diagnosis: Diagnosis) -> NoReturn:
        self._record(False, detail)
        masked = dataclasses.replace(
            diagnosis, message=self._mask(diagnosis.message), hint=self._mask(diagnosis.hint)
        )
        raise _Stop(masked)

    def _mask(self, text: str) -> str:
        return self._masker.mask(text)


async def run_probe(
    target: Target,
    *,
    resolver: Resolver | None = None,
    route_checker: RouteChecker | None = None,
    timeout: float | None = None,
    on_step: StepCallback | None = None,
) -> ProbeResult:
    """Test the target's profile; see Probe."""
    probe = Probe(
        target,
        resolver=resolver,
        route_checker=route_checker,
        timeout=timeout,
        on_step=on_step,
    )
    return await probe.run()

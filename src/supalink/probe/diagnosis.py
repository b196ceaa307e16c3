"""Turning a failure into a diagnosis: what is wrong, and one line on what to do.

The error texts it reads (libpq's, PostgreSQL's, the poolers') are named in
`supalink.error_texts`; the wording of each diagnosis is here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from supalink import error_texts as said
from supalink.error_texts import first_line, server_text
from supalink.errors import os_error_cause
from supalink.probe.network import TcpOutcome
from supalink.probe.results import Diagnosis, DiagnosisKind, Remedy, StepName
from supalink.probe.tlsinfo import TlsFinding, TlsVerdict
from supalink.profiles import Profile
from supalink.profiles.supabase import Mode

Kind = DiagnosisKind
SUPABASE_CA_HINT = (
    "download the CA certificate (Supabase: Database Settings, SSL Configuration) and give its path"
)
OTHER_CA_HINT = "give the CA that signed the server's certificate"


@dataclass(frozen=True)
class Attempt:
    """What the probe tried to reach, for wording the diagnosis."""

    profile: Profile
    host: str
    port: int
    user: str
    database: str
    address: str | None = None
    cafile: str | None = None

    @property
    def where(self) -> str:
        if self.address and self.address != self.host:
            return f"{self.host} ({self.address}) port {self.port}"
        return f"{self.host} port {self.port}"


def needs_tls_look(message: str) -> bool:
    """A certificate or handshake failure that the server's certificate can explain."""
    if said.says(message, said.MISSING_CA_FILE + said.NO_SSL):
        return False  # said plainly already
    return said.says(message, said.TLS_WORDS)


def from_connect_error(message: str, phase: StepName, attempt: Attempt) -> Diagnosis | None:
    """The diagnosis that libpq's text alone gives; None when a closer look should decide."""
    text = server_text(message)
    lower = text.lower()
    for matches, build in _RULES:
        if matches(lower):
            return build(text, phase, attempt)
    return None


def _any(*markers: str) -> Callable[[str], bool]:
    return lambda lower: any(marker in lower for marker in markers)


def _tenant(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return tenant_not_found(attempt, text)


def _too_many(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return Diagnosis(
        Kind.TOO_MANY_CONNECTIONS,
        f"the server has no free connection slot ({first_line(text)})",
        _too_many_hint(attempt.profile),
    )


def _missing_ca(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    profile = attempt.profile
    cafile = attempt.cafile or ""
    return Diagnosis(
        Kind.TLS_FAILED,
        f"the CA certificate file {cafile} {_ca_file_problem(cafile)}, so the server's "
        f"certificate cannot be checked (sslmode={profile.sslmode})",
        SUPABASE_CA_HINT if profile.is_supabase else OTHER_CA_HINT,
        Remedy.CA_FILE,
    )


def _ca_file_problem(cafile: str) -> str:
    """What is wrong with the CA file libpq could not read, in the words of a file fault
    (libpq says only that it could not read it)."""
    try:
        Path(cafile).open("rb").close()
    except FileNotFoundError:
        return "does not exist"
    except OSError as error:
        return f"cannot be read: {os_error_cause(error, Path(cafile), 'read')}"
    return "holds no certificate that can be read"


def _database_missing(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    missing = said.DATABASE_MISSING.search(text)
    name = missing["name"] if missing and missing["name"] is not None else attempt.database
    return Diagnosis(
        Kind.DATABASE_MISSING,
        f"the database {name!r} does not exist on {attempt.host}",
        "check the database name"
        + (" (Supabase's database is called postgres)" if attempt.profile.is_supabase else ""),
    )


def _hba(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return Diagnosis(
        Kind.AUTH_FAILED,
        f"the server does not let {attempt.user} in from this address ({first_line(text)})",
        "ask the server's administrator to allow this address in pg_hba.conf, "
        "or check that sslmode matches what the server requires",
    )


def _auth(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return auth_failed(attempt, first_line(text))


def _no_ssl(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return no_ssl(attempt)


def _refused(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return refused(attempt)


def _timeout(text: str, phase: StepName, attempt: Attempt) -> Diagnosis:
    return timeout(phase, attempt, None)


# First match wins: the CA file rule sits before the database one ("… does not exist").
_RULES: tuple[tuple[Callable[[str], bool], Callable[[str, StepName, Attempt], Diagnosis]], ...] = (
    (_any(*said.TENANT_NOT_FOUND), _tenant),
    (_any(*said.TOO_MANY_CLIENTS), _too_many),
    (_any(*said.MISSING_CA_FILE), _missing_ca),
    (_any(*said.HBA_REFUSED), _hba),
    (lambda lower: said.DATABASE_MISSING.search(lower) is not None, _database_missing),
    (lambda lower: said.ROLE_MISSING.search(lower) is not None, _auth),
    (_any(*said.AUTH_FAILED), _auth),
    (_any(*said.NO_SSL), _no_ssl),
    (_any(*said.REFUSED), _refused),
    (_any(*said.TIMED_OUT), _timeout),
)


def tenant_not_found(attempt: Attempt, text: str) -> Diagnosis:
    return Diagnosis(
        Kind.TENANT_NOT_FOUND,
        f"the pooler at {attempt.host} does not know the user {attempt.user!r} ({text})",
        "wrong pooler index (aws-N) or user not in the form postgres.<ref>: copy the host and "
        "user from Connect in the Supabase dashboard, or sign in to Supabase with an access "
        "token and fill the profile from the project (the API gives the exact host)",
    )


def auth_failed(attempt: Attempt, text: str) -> Diagnosis:
    if said.says(text, said.NO_PASSWORD):
        return Diagnosis(
            Kind.AUTH_FAILED,
            f"the server asks for a password for {attempt.user}, and none was given",
            "save the password in the profile, or give it",
            Remedy.PASSWORD,
        )
    hint = "check the database password"
    if attempt.profile.is_supabase:
        hint += " (Supabase: Database Settings, Reset database password)"
        if attempt.profile.mode.on_shared_pooler:
            hint += "; through the pooler the user must be <role>.<ref>"
        elif attempt.profile.mode is Mode.DEDICATED:
            hint += "; the dedicated pooler takes the plain role name, not <role>.<ref>"
    return Diagnosis(
        Kind.AUTH_FAILED,
        f"the server refused the password for user {attempt.user!r} ({text})",
        hint,
    )


def _too_many_hint(profile: Profile) -> str:
    if not profile.is_supabase:
        return "close idle clients or lower their pool sizes, or raise max_connections"
    if profile.mode is Mode.DIRECT:
        return (
            "close idle clients or lower their pool sizes, or use the session pooler; the "
            "limit follows the compute size"
        )
    if profile.mode is Mode.DEDICATED:
        return (
            "close idle clients or lower their pool sizes; the dedicated pooler's client "
            "limit follows the compute size"
        )
    return "close idle clients or lower their pool sizes; the limit follows the compute size"


def no_ssl(attempt: Attempt) -> Diagnosis:
    return Diagnosis(
        Kind.TLS_FAILED,
        f"{attempt.where} does not offer TLS, but sslmode={attempt.profile.sslmode} requires it",
        "check the host and port (is this the right server?), turn SSL on in the server, "
        "or use sslmode=disable only on a network you trust",
    )


def refused(attempt: Attempt) -> Diagnosis:
    profile = attempt.profile
    if profile.is_supabase:
        hint = (
            "check the port (direct 5432, session pooler 5432, transaction pooler 6543) and "
            "that the project is not paused"
        )
    else:
        hint = "check the host and port, and that the server is running and listens on them"
    return Diagnosis(
        Kind.CONNECTION_REFUSED,
        f"{attempt.where} refused the connection: nothing listens there",
        hint,
    )


def timeout(phase: StepName, attempt: Attempt, seconds: float | None) -> Diagnosis:
    within = f" within {seconds:g} s" if seconds is not None else ""
    if phase is StepName.DNS:
        return Diagnosis(
            Kind.TIMEOUT,
            f"looking up {attempt.host} got no answer{within}",
            "check this machine's network connection and DNS settings",
        )
    if phase is StepName.TCP:
        return Diagnosis(
            Kind.TIMEOUT,
            f"{attempt.where} did not answer the TCP connection{within}",
            "a firewall may be dropping the packets: check the host and port, and that this "
            "network allows outgoing connections to that port",
        )
    if phase is StepName.TLS:
        return Diagnosis(
            Kind.TIMEOUT,
            f"{attempt.where} accepted the TCP connection but did not answer the TLS "
            f"request{within}",
            "check the port: whatever listens there is not answering like PostgreSQL",
        )
    what = "the login" if phase is StepName.AUTH else "the test query"
    return Diagnosis(
        Kind.TIMEOUT,
        f"the server did not finish {what}{within}",
        "the server or pooler may be overloaded: try again, or give a longer timeout",
        Remedy.LONGER_TIMEOUT,
    )


def from_tcp_outcome(outcome: TcpOutcome, reason: str, message: str, attempt: Attempt) -> Diagnosis:
    if outcome is TcpOutcome.REFUSED:
        return refused(attempt)
    if outcome is TcpOutcome.TIMEOUT:
        return timeout(StepName.TCP, attempt, None)
    if outcome is TcpOutcome.UNREACHABLE and attempt.address and ":" in attempt.address:
        return ipv6_unreachable(attempt)
    return unknown(message or reason)


def from_tls_finding(finding: TlsFinding, message: str, attempt: Attempt) -> Diagnosis:
    cert = finding.certificate
    if finding.verdict is TlsVerdict.NO_SSL:
        return no_ssl(attempt)
    if finding.verdict is TlsVerdict.UNTRUSTED and cert is not None:
        held = ", ".join(repr(name) for name in finding.ca_subjects) or "no usable certificate"
        return Diagnosis(
            Kind.TLS_FAILED,
            f"the server's certificate was issued by {cert.issuer!r}, but the CA file "
            f"{attempt.cafile} holds {held} ({finding.reason})",
            SUPABASE_CA_HINT if attempt.profile.is_supabase else OTHER_CA_HINT,
            Remedy.CA_FILE,
        )
    if finding.verdict is TlsVerdict.NAME_MISMATCH and cert is not None:
        return Diagnosis(
            Kind.TLS_FAILED,
            f"the server's certificate is for {', '.join(cert.names)}, not for {attempt.host}",
            "connect with a host name the certificate holds, or use sslmode=verify-ca to check "
            "the CA without the host name",
        )
    return Diagnosis(
        Kind.TLS_FAILED,
        f"the TLS handshake failed: {first_line(message)}",
        "check sslmode, and give the CA certificate file",
        Remedy.CA_FILE,
    )


def dns_not_found(attempt: Attempt) -> Diagnosis:
    profile = attempt.profile
    if profile.is_supabase and profile.mode.on_direct_host:
        hint = "check the project ref (Project Settings, General); a paused project has no host"
    elif profile.is_supabase:
        hint = "check the region and pooler host: copy them from Connect in the dashboard"
    else:
        hint = "check the host name for typos"
    return Diagnosis(Kind.DNS_NOT_FOUND, f"{attempt.host} does not resolve to any address", hint)


def offline(attempt: Attempt, known_host: str) -> Diagnosis:
    """No name resolves, a well-known one neither: the network, not the profile."""
    return Diagnosis(
        Kind.OFFLINE,
        f"neither {attempt.host} nor {known_host} resolves: this machine seems to be offline",
        "check this machine's network connection (and its DNS settings), then test again",
    )


def dns_unavailable(attempt: Attempt, reason: str) -> Diagnosis:
    return Diagnosis(
        Kind.DNS_NOT_FOUND,
        f"{attempt.host} could not be looked up: {reason}",
        "check this machine's network connection and DNS settings",
    )


def ipv6_unreachable(attempt: Attempt) -> Diagnosis:
    profile = attempt.profile
    if profile.is_supabase and profile.mode is Mode.DIRECT:
        hint = (
            "use the session pooler (IPv4, same features), or a network with IPv6, or "
            "Supabase's IPv4 add-on"
        )
    elif profile.is_supabase and profile.mode is Mode.DEDICATED:
        hint = (
            "use the shared transaction pooler (IPv4), or a network with IPv6, or Supabase's "
            "IPv4 add-on"
        )
    else:
        hint = "connect from a network with IPv6, or give the server an IPv4 address"
    return Diagnosis(
        Kind.IPV6_UNREACHABLE,
        f"{attempt.host} has only IPv6 addresses and this machine has no IPv6 route to them",
        hint,
    )


def cancelled(step: StepName) -> Diagnosis:
    return Diagnosis(
        Kind.CANCELLED,
        f"the test was cancelled while {step.doing}",
        "run the test again when ready",
    )


def unknown(message: str) -> Diagnosis:
    text = first_line(message) or "no message"
    return Diagnosis(
        Kind.UNKNOWN,
        f"the connection failed: {text}",
        "the server's message above says what went wrong; check the host, port and sslmode",
    )

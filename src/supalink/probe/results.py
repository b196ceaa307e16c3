"""What a connection test reports: its steps, a diagnosis when one failed, the server's facts.

Plain frozen data, so the GUI, the CLI and the JSON output all read the same thing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class StepName(StrEnum):
    PARSE = "parse"
    DNS = "dns"
    ROUTE = "route"
    TCP = "tcp"
    TLS = "tls"
    AUTH = "auth"
    QUERY = "query"

    @property
    def label(self) -> str:
        """The step's row in the window: "TLS", "Login"."""
        return _STEP_WORDS[self][0]

    @property
    def doing(self) -> str:
        """What the test does in it, for a sentence: "checking TLS"."""
        return _STEP_WORDS[self][1]


# Each step's words for a person, in one place: its label, and what the test is doing in it.
_STEP_WORDS: dict[StepName, tuple[str, str]] = {
    StepName.PARSE: ("Profile", "reading the profile"),
    StepName.DNS: ("DNS", "looking up the host name"),
    StepName.ROUTE: ("Route", "finding a route to the server"),
    StepName.TCP: ("TCP", "opening the TCP connection"),
    StepName.TLS: ("TLS", "checking TLS"),
    StepName.AUTH: ("Login", "logging in"),
    StepName.QUERY: ("Query", "running the test query"),
}

STEP_ORDER: tuple[StepName, ...] = tuple(StepName)


class DiagnosisKind(StrEnum):
    DNS_NOT_FOUND = "dns_not_found"
    OFFLINE = "offline"  # no name resolves, a well-known one neither
    IPV6_UNREACHABLE = "ipv6_unreachable"
    CONNECTION_REFUSED = "connection_refused"
    TIMEOUT = "timeout"
    TLS_FAILED = "tls_failed"
    AUTH_FAILED = "auth_failed"
    TENANT_NOT_FOUND = "tenant_not_found"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    DATABASE_MISSING = "database_missing"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Step:
    name: StepName
    ok: bool
    ms: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": str(self.name),
            "ok": self.ok,
            "ms": round(self.ms, 1),
            "detail": self.detail,
        }


class Remedy(StrEnum):
    """What the person gives to act on a hint: the CLI names its flag, the window its field."""

    CA_FILE = "ca_file"
    PASSWORD = "password"  # noqa: S105 (a kind of remedy, not a password)
    LONGER_TIMEOUT = "longer_timeout"


@dataclass(frozen=True)
class Diagnosis:
    kind: DiagnosisKind
    message: str  # what is wrong, in words a person can act on
    hint: str  # one line: what to do about it, completed by where `remedy` is given
    remedy: Remedy | None = None

    def to_dict(self) -> dict[str, str | None]:
        return {
            "kind": str(self.kind),
            "message": self.message,
            "hint": self.hint,
            "remedy": None if self.remedy is None else str(self.remedy),
        }


@dataclass(frozen=True)
class ServerFacts:
    now: str
    user: str
    version: str
    # None when the facts query failed (the basic query still answered).
    max_connections: int | None = None
    connections_in_use: int | None = None
    # libpq's own view of this client's connection: the one that crosses the network.
    encrypted: bool = False
    # pg_stat_ssl for the backend serving us; behind a pooler it describes the pooler's leg.
    backend_ssl: bool | None = None
    tls_version: str | None = None
    pooler: bool = False
    pool_mode: str | None = None  # "session" / "transaction"; None when unknown or no pooler
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        facts = dataclasses.asdict(self)
        facts["warnings"] = list(self.warnings)
        return facts


@dataclass(frozen=True)
class ProbeResult:
    steps: tuple[Step, ...]
    diagnosis: Diagnosis | None = None
    server: ServerFacts | None = None

    @property
    def ok(self) -> bool:
        return self.diagnosis is None and all(step.ok for step in self.steps)

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)

    def to_dict(self) -> dict[str, Any]:
        """The `supalink test --json` object."""
        return {
            "ok": self.ok,
            "steps": [step.to_dict() for step in self.steps],
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
            "server": self.server.to_dict() if self.server else None,
        }

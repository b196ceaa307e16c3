"""The step-by-step connection test and its diagnosis.

`Probe(profile, password).run()` (or `run_probe`) tests a profile step by step (parse, dns,
route, tcp, tls, auth, query), reports each step as it ends, and stops at the first failure
with a diagnosis a person can act on. Plain asyncio and psycopg: the GUI and the CLI share it.

The runner and the network checks load on first use (PEP 562): they bring psycopg,
cryptography and asyncio, which the main window must not wait for at start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from supalink.probe.psql import PsqlCommand, psql_command
from supalink.probe.results import (
    Diagnosis,
    DiagnosisKind,
    ProbeResult,
    ServerFacts,
    Step,
    StepName,
)

if TYPE_CHECKING:
    from supalink.probe.network import (
        LookupFailed,
        Resolver,
        RouteChecker,
        SystemResolver,
        udp_route_check,
    )
    from supalink.probe.runner import Probe, StepCallback, run_probe

_LAZY = {
    "LookupFailed": "supalink.probe.network",
    "Resolver": "supalink.probe.network",
    "RouteChecker": "supalink.probe.network",
    "SystemResolver": "supalink.probe.network",
    "udp_route_check": "supalink.probe.network",
    "Probe": "supalink.probe.runner",
    "StepCallback": "supalink.probe.runner",
    "run_probe": "supalink.probe.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = [
    "Diagnosis",
    "DiagnosisKind",
    "LookupFailed",
    "Probe",
    "ProbeResult",
    "PsqlCommand",
    "Resolver",
    "RouteChecker",
    "ServerFacts",
    "Step",
    "StepCallback",
    "StepName",
    "SystemResolver",
    "psql_command",
    "run_probe",
    "udp_route_check",
]

"""The step-by-step connection test and its diagnosis.

`Probe(Target.from_profile(profile, password)).run()` (or `run_probe`) tests a profile step
by step (parse, dns, route, tcp, tls, auth, query), reports each step as it ends, and stops at
the first failure with a diagnosis a person can act on. Plain asyncio and psycopg: the GUI
and the CLI share it.

The runner and the network checks load on first use (PEP 562): they bring psycopg,
cryptography and asyncio, which the main window must not wait for at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes
from supalink.probe.psql import PsqlCommand, psql_command
from supalink.probe.results import (
    STEP_ORDER,
    Diagnosis,
    DiagnosisKind,
    ProbeResult,
    Remedy,
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

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "LookupFailed": "network",
        "Resolver": "network",
        "RouteChecker": "network",
        "SystemResolver": "network",
        "udp_route_check": "network",
        "Probe": "runner",
        "StepCallback": "runner",
        "run_probe": "runner",
    },
)
__all__ = [
    "STEP_ORDER",
    "Diagnosis",
    "DiagnosisKind",
    "LookupFailed",
    "Probe",
    "ProbeResult",
    "PsqlCommand",
    "Remedy",
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

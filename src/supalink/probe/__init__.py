"""The step-by-step connection test and its diagnosis.

`Probe(profile, password).run()` (or `run_probe`) tests a profile step by step (parse, dns,
route, tcp, tls, auth, query), reports each step as it ends, and stops at the first failure
with a diagnosis a person can act on. Plain asyncio and psycopg: the GUI and the CLI share it.
"""

from supalink.probe.network import (
    LookupFailed,
    Resolver,
    RouteChecker,
    SystemResolver,
    udp_route_check,
)
from supalink.probe.psql import PsqlCommand, psql_command
from supalink.probe.results import (
    Diagnosis,
    DiagnosisKind,
    ProbeResult,
    ServerFacts,
    Step,
    StepName,
)
from supalink.probe.runner import Probe, StepCallback, run_probe

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

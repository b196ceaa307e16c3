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
from supalink.probe.psql import psql_command
from supalink.probe.results import (
    STEP_ORDER,
    Diagnosis,
    ProbeResult,
    Remedy,
    ServerFacts,
    Step,
    StepName,
)

if TYPE_CHECKING:
    from supalink.probe.runner import Probe

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "Probe": "runner",
    },
)
__all__ = [
    "STEP_ORDER",
    "Diagnosis",
    "Probe",
    "ProbeResult",
    "Remedy",
    "ServerFacts",
    "Step",
    "StepName",
    "psql_command",
]

"""Facts of Supabase's endpoints: refs, regions, hosts, ports and users per mode."""

from __future__ import annotations

import re
from enum import StrEnum

REF_PATTERN = re.compile(r"^[a-z0-9]{20}$")
DIRECT_HOST_PATTERN = re.compile(r"^db\.(?P<ref>[a-z0-9]{20})\.supabase\.co$")
POOLER_HOST_PATTERN = re.compile(
    r"^aws-(?P<index>\d+)-(?P<region>[a-z]{2}-[a-z]+-\d)\.pooler\.supabase\.com$"
)
POOLER_DOMAIN = ".pooler.supabase.com"
DIRECT_PORT = 5432
SESSION_PORT = 5432
TRANSACTION_PORT = 6543
DEFAULT_ROLE = "postgres"
DEFAULT_DATABASE = "postgres"

# Supabase's AWS regions.
REGIONS: tuple[str, ...] = (
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-central-2", "eu-north-1",
    "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
    "sa-east-1",
)  # fmt: skip


class Mode(StrEnum):
    DIRECT = "direct"
    SESSION = "session"
    TRANSACTION = "transaction"

    @property
    def is_pooled(self) -> bool:
        return self is not Mode.DIRECT

    @property
    def summary(self) -> str:
        """One line on what the mode needs and supports, for forms and help."""
        return MODE_SUMMARIES[self]


MODE_SUMMARIES = {
    Mode.DIRECT: "Direct: needs IPv6 (or the IPv4 add-on); prepared statements and LISTEN work.",
    Mode.SESSION: "Session pooler: works over IPv4; prepared statements and LISTEN work.",
    Mode.TRANSACTION: "Transaction pooler: IPv4, many short clients; "
    "no prepared statements, no LISTEN.",
}


def ref_problem(ref: str) -> str | None:
    if REF_PATTERN.match(ref):
        return None
    return "a project ref is 20 lowercase letters and digits (Project Settings, General)"


def region_problem(region: str) -> str | None:
    if region in REGIONS:
        return None
    return f"unknown region {region!r}; Supabase regions are: {', '.join(REGIONS)}"


def direct_host(ref: str) -> str:
    return f"db.{ref}.supabase.co"


def pooler_host(region: str, index: int) -> str:
    # The index (aws-0, aws-1, ...) cannot be derived from the region: the user gives it.
    return f"aws-{index}-{region}{POOLER_DOMAIN}"


def pooled_user(role: str, ref: str) -> str:
    """Supavisor finds the tenant by the user name's suffix."""
    return f"{role}.{ref}"

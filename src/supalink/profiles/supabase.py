"""Facts of Supabase's endpoints: refs, regions, hosts, ports and users per mode."""

from __future__ import annotations

import re
from enum import StrEnum

# Patterns as text, here and in uris.py: `re` compiles each the first time it is used (and
# keeps it), not at import, before the window's first frame (some 1.3 ms in all).
REF_PATTERN = r"^[a-z0-9]{20}$"
DIRECT_HOST_PATTERN = r"^db\.(?P<ref>[a-z0-9]{20})\.supabase\.co$"
POOLER_HOST_PATTERN = r"^aws-(?P<index>\d+)-(?P<region>[a-z]{2}-[a-z]+-\d)\.pooler\.supabase\.com$"
POOLER_DOMAIN = ".pooler.supabase.com"
DIRECT_PORT = 5432
SESSION_PORT = 5432
TRANSACTION_PORT = 6543
DEDICATED_PORT = 6543  # the dedicated pooler (PgBouncer) listens on the direct host
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
    DEDICATED = "dedicated"

    @property
    def is_pooled(self) -> bool:
        """Behind a pooler, shared or dedicated: no startup options."""
        return self is not Mode.DIRECT

    @property
    def on_shared_pooler(self) -> bool:
        """Supavisor: the aws-<N>-<region> host, the user <role>.<ref>."""
        return self in (Mode.SESSION, Mode.TRANSACTION)

    @property
    def on_direct_host(self) -> bool:
        """db.<ref>.supabase.co: IPv6 unless the project has the IPv4 add-on; plain role."""
        return self in (Mode.DIRECT, Mode.DEDICATED)

    @property
    def pools_transactions(self) -> bool:
        """A server connection is shared between transactions: no LISTEN, and a session SET
        would change other clients' sessions."""
        return self in (Mode.TRANSACTION, Mode.DEDICATED)

    @property
    def supports_listen(self) -> bool:
        return not self.pools_transactions

    @property
    def prepares(self) -> bool:
        """Prepared statements work (PgBouncer keeps them; Supavisor's transaction mode not)."""
        return self is not Mode.TRANSACTION

    @property
    def default_port(self) -> int:
        return _DEFAULT_PORTS[self]

    @property
    def summary(self) -> str:
        """One line on what the mode needs and supports, for forms and help."""
        return MODE_SUMMARIES[self]


_DEFAULT_PORTS = {
    Mode.DIRECT: DIRECT_PORT,
    Mode.SESSION: SESSION_PORT,
    Mode.TRANSACTION: TRANSACTION_PORT,
    Mode.DEDICATED: DEDICATED_PORT,
}
MODE_SUMMARIES = {
    Mode.DIRECT: "Direct: needs IPv6 (or the IPv4 add-on); prepared statements and LISTEN work.",
    Mode.SESSION: "Session pooler: works over IPv4; prepared statements and LISTEN work.",
    Mode.TRANSACTION: "Transaction pooler: IPv4, many short clients; "
    "no prepared statements, no LISTEN.",
    Mode.DEDICATED: "Dedicated pooler (Micro compute and up): needs IPv6 (or the IPv4 "
    "add-on); transaction pooling, prepared statements work, no LISTEN.",
}


def ref_problem(ref: str) -> str | None:
    if re.match(REF_PATTERN, ref):
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

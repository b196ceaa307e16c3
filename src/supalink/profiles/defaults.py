"""What a Supalink connection starts from when nobody said otherwise: the names it gives
itself on the server, how long it waits, how it checks TLS, and the guide's pool settings
(DESIGN.md). The monitor's pool, the code snippets, the profiles and the server entries
all read them here."""

from __future__ import annotations

import math

# How a connection names itself in pg_stat_activity: a profile's connections and the MCP
# servers Supalink writes are "supalink"; the monitor's pool shows as a row of its own,
# and its LISTEN connection as one more (the monitor adds LISTENER_SUFFIX).
APPLICATION_NAME = "supalink"
MONITOR_APPLICATION_NAME = f"{APPLICATION_NAME}-monitor"
LISTENER_SUFFIX = "/listen"
# How Verify names itself to an MCP server (`initialize`'s clientInfo): the agent's server
# records its calls as Supalink's own, not the agent's.
VERIFY_CLIENT_NAME = f"{APPLICATION_NAME}-verify"

SSLMODE = "verify-full"
CONNECT_TIMEOUT_SECONDS = 10


def pool_max(concurrent: int, buffer: int) -> int:
    """The guide's sizing rule: max = ceil(concurrent * 1.5) + buffer. The sizing dialog's
    suggestion and the snippets' max both come from here."""
    if concurrent < 0 or buffer < 0:
        raise ValueError("concurrent operations and buffer cannot be negative")
    return math.ceil(concurrent * 1.5) + buffer


# The guide's pool for a long-lived client. Its max of 20 is its own rule's answer for a
# dozen operations at once, the sizing dialog's starting point.
POOL_CONCURRENT_OPERATIONS = 12
POOL_BUFFER = 2
POOL_MIN_SIZE = 5
POOL_MAX_SIZE = pool_max(POOL_CONCURRENT_OPERATIONS, POOL_BUFFER)
POOL_MAX_IDLE_SECONDS = 300
STATEMENT_TIMEOUT_SECONDS = 60
HEALTH_INTERVAL_SECONDS = 60

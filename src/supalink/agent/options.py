"""How the agent's server runs: what it lets through, how much it answers, how long it waits.

`supalink mcp-serve` builds one from its flags; every other module reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from supalink.profiles import defaults

DEFAULT_MAX_ROWS: Final = 1000
# An answer is read by a language model: a few hundred kB is already more than it can use.
DEFAULT_MAX_ANSWER_BYTES: Final = 256_000
# An agent is one client: one connection serves it, a few cover overlapping calls.
POOL_MIN_SIZE: Final = 1
POOL_MAX_SIZE: Final = 5
LOCK_TIMEOUT_SECONDS: Final = 5.0
IDLE_IN_TRANSACTION_SECONDS: Final = 30.0
MAX_WAIT_SECONDS: Final = 60.0  # the longest `notifications` waits for its first arrival


@dataclass(frozen=True)
class ServeOptions:
    allow_writes: bool = False
    max_rows: int = DEFAULT_MAX_ROWS
    max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES
    statement_timeout: float = float(defaults.STATEMENT_TIMEOUT_SECONDS)
    lock_timeout: float = LOCK_TIMEOUT_SECONDS
    idle_in_transaction_timeout: float = IDLE_IN_TRANSACTION_SECONDS
    pool_min_size: int = POOL_MIN_SIZE
    pool_max_size: int = POOL_MAX_SIZE
    profile_name: str | None = None  # None: a URI from the environment

"""How the agent's server runs: what it lets through, how much it answers, how long it waits.

`supalink mcp-serve` builds one from its flags; every other module reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from supalink.profiles import defaults

DEFAULT_MAX_ROWS: Final = 1000
# The longest `notifications` waits for its first arrival: under the Node SDK's default
# request timeout (60 s, which Claude Desktop, Claude Code and Cursor keep), with room for
# the answer's way back, so that no client gives up on a wait it was allowed to ask for.
MAX_WAIT_SECONDS: Final = 50.0


@dataclass(frozen=True)
class ServeOptions:
    allow_writes: bool = False
    max_rows: int = DEFAULT_MAX_ROWS
    # An answer is read by a language model: a few hundred kB is already more than it can use.
    max_answer_bytes: int = 256_000
    statement_timeout: float = float(defaults.STATEMENT_TIMEOUT_SECONDS)
    lock_timeout: float = 5.0
    idle_in_transaction_timeout: float = 30.0
    # An agent is one client: one connection serves it, a few cover overlapping calls.
    pool_min_size: int = 1
    pool_max_size: int = 5
    profile_name: str | None = None  # None: a URI from the environment

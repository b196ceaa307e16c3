"""The guide's pool sizing rule, checked against the compute size's connection limits."""

from __future__ import annotations

from dataclasses import dataclass

from supalink.monitor.server_view import COMPUTE_SIZES, ComputeSize, compute_sizes_for
from supalink.monitor.settings import LISTENER_CONNECTIONS, PoolSettings
from supalink.profiles import defaults
from supalink.profiles.supabase import Mode

# Supabase's own services (Auth, Storage, Realtime, the dashboard) hold some connections.
SHARE_WARNING = 0.8


@dataclass(frozen=True)
class SizingAdvice:
    suggested_max: int
    total: int  # this pool plus the other pools declared
    limit: int
    limit_name: str
    verdict: str  # "ok", "tight" or "over"
    message: str


def server_limits(max_connections: int) -> ComputeSize:
    """The limits of a server whose max_connections the monitor read: its compute size when
    the figure names one, else a size of its own ("this server"), whose pooler clients are
    those of the smallest compute size that holds it (Supavisor's limit follows the compute)."""
    if sizes := compute_sizes_for(max_connections):
        return sizes[0]
    holds = next((s for s in COMPUTE_SIZES if s.max_connections >= max_connections), None)
    pooler_clients = (holds or COMPUTE_SIZES[-1]).pooler_clients
    return ComputeSize("this server", max_connections, pooler_clients)


def compute_size(name: str) -> ComputeSize:
    for size in COMPUTE_SIZES:
        if size.name.lower() == name.lower():
            return size
    raise ValueError(f"unknown compute size {name!r}")


def advise(
    concurrent: int,
    size: ComputeSize,
    mode: Mode,
    other_pools: tuple[int, ...] = (),
    buffer: int = defaults.POOL_BUFFER,
) -> SizingAdvice:
    """Suggest a max and say whether all declared pools fit under the relevant limit.

    Through the transaction pooler clients count against Supavisor's client limit;
    direct and session connections each hold a Postgres backend.
    """
    suggested = defaults.pool_max(concurrent, buffer)
    total = suggested + sum(other_pools)
    if mode is not None and mode.pools_transactions:
        limit, limit_name = size.pooler_clients, "pooler client"
    else:
        limit, limit_name = size.max_connections, "max_connections"
    if total > limit:
        verdict = "over"
        message = (
            f"{total} connections exceed {size.name}'s {limit_name} limit of {limit}: "
            "shrink the pools, use the transaction pooler, or pick a larger compute size"
        )
    elif total > limit * SHARE_WARNING:
        verdict = "tight"
        message = (
            f"{total} of {limit} ({limit_name}): little room is left for Supabase's own "
            "services and for reconnects"
        )
    else:
        verdict = "ok"
        message = f"{total} of {limit} ({limit_name}) on {size.name}: fits with room to spare"
    return SizingAdvice(suggested, total, limit, limit_name, verdict, message)


def footprint(
    pool: PoolSettings, listening: bool, max_connections: int | None, mode: Mode | None
) -> str:
    """What one monitor costs the server, said against the compute size's limit when the
    server's max_connections names one (or against max_connections itself)."""
    total = pool.server_connections(listening)
    parts = f"pool max {pool.max_size}" + (
        f", listener {LISTENER_CONNECTIONS}" if listening else ""
    )
    line = f"At most {total} server connection{'s' if total != 1 else ''} ({parts})"
    if mode is not None and mode.pools_transactions:
        return line + ": pooler clients, not server connections"
    if max_connections is None:
        return line
    sizes = compute_sizes_for(max_connections)
    of = f"{' or '.join(size.name for size in sizes)}'s" if sizes else "max_connections"
    return f"{line}: {total} of {of} {max_connections} ({total / max(1, max_connections):.0%})"

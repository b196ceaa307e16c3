"""The pool runner, stats, health checks and LISTEN with reconnect: plain asyncio and
psycopg, no Qt. `MonitorEngine` runs them all; the window and the CLI consume its events."""

from __future__ import annotations

from supalink.monitor.engine import MonitorEngine
from supalink.monitor.settings import MonitorSettings, PoolSettings, connection_kwargs

__all__ = ["MonitorEngine", "MonitorSettings", "PoolSettings", "connection_kwargs"]

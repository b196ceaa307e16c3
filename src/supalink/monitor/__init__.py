"""The pool runner, stats, health checks and LISTEN with reconnect: plain asyncio and
psycopg, no Qt. `MonitorEngine` runs them all; the window and the CLI consume its events.
What other packages may use is named in `__all__`."""

from __future__ import annotations

from supalink.monitor.bus import Batch
from supalink.monitor.engine import STOP_TIMEOUT, MonitorEngine
from supalink.monitor.events import (
    Disconnected,
    ErrorEvent,
    Event,
    EventLog,
    Gap,
    Listening,
    LogRow,
    Notification,
    matches,
)
from supalink.monitor.health import Health, HealthReport, Outage, worst
from supalink.monitor.listener import ListenerState
from supalink.monitor.server_view import COMPUTE_SIZES, ServerSnapshot
from supalink.monitor.settings import MONITOR_POOL_MAX_IDLE_SECONDS, check_channel
from supalink.monitor.sizing import advise, footprint, server_limits
from supalink.monitor.stats import StatsSample

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__all__ = [
    "COMPUTE_SIZES",
    "MONITOR_POOL_MAX_IDLE_SECONDS",
    "STOP_TIMEOUT",
    "Batch",
    "Disconnected",
    "ErrorEvent",
    "Event",
    "EventLog",
    "Gap",
    "Health",
    "HealthReport",
    "ListenerState",
    "Listening",
    "LogRow",
    "MonitorEngine",
    "Notification",
    "Outage",
    "ServerSnapshot",
    "StatsSample",
    "advise",
    "check_channel",
    "footprint",
    "matches",
    "server_limits",
    "worst",
]

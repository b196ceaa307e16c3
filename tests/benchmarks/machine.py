"""The machine a run happened on: CPU, cores, memory, OS and the stack's versions."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from tests.support.postgres import PostgresServer


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0


def _os_name() -> str:
    try:
        release = platform.freedesktop_os_release()
        name = release.get("PRETTY_NAME", release.get("NAME", "Linux"))
    except OSError:
        name = platform.system()
    return f"{name}, kernel {platform.release()}"


def describe(pg: PostgresServer | None) -> dict[str, Any]:
    from importlib.metadata import version

    import psycopg
    from PySide6 import QtCore
    from PySide6 import __version__ as pyside_version

    server = "not started"
    if pg is not None:
        with pg.admin_connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        server = str(row[0]) if row else "unknown"
    libpq = psycopg.pq.version()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(_memory_gib(), 1),
        "os": _os_name(),
        "python": platform.python_version(),
        "qt": QtCore.qVersion(),
        "pyside6": pyside_version,
        "qasync": version("qasync"),
        "psycopg": psycopg.__version__,
        "libpq": f"{libpq // 10000}.{libpq % 100}",
        "postgresql": server,
        # How busy the machine was (run queue over 1, 5 and 15 minutes), read at the end.
        "load_average": [round(load, 2) for load in os.getloadavg()],
    }


def format_description(about: dict[str, Any]) -> str:
    return (
        f"Machine: {about['cpu']}, {about['cores']} cores, {about['memory_gib']:g} GiB RAM; "
        f"{about['os']}; Python {about['python']}; Qt {about['qt']} (PySide6 "
        f"{about['pyside6']}), qasync {about['qasync']}; psycopg {about['psycopg']} with "
        f"libpq {about['libpq']}; PostgreSQL {about['postgresql']} on loopback with TLS. "
        f"Load average at the start {_loads(about.get('load_at_start'))}, at the end "
        f"{_loads(about.get('load_average'))} (1, 5, 15 min)"
    )


def _loads(loads: list[float] | None) -> str:
    return "unknown" if not loads else " / ".join(f"{load:.2f}" for load in loads)

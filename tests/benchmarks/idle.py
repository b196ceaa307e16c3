"""Idle CPU, inside a worker process: the monitor window open on a live engine (pool open,
one channel listened) without traffic, against a bare qasync loop with a window and one
psycopg LISTEN waiting in `notifies()`. CPU time of the whole process (every thread)
over the window, after a warm-up."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from supalink.profiles import Target
from tests.benchmarks.figures import cpu_seconds
from tests.benchmarks.flood import _listening, _qt_run


async def _measure(warmup: float, window: float) -> float:
    await asyncio.sleep(warmup)
    cpu, wall = cpu_seconds(), time.perf_counter()
    await asyncio.sleep(window)
    return (cpu_seconds() - cpu) / (time.perf_counter() - wall) * 100


async def _app(uri: str, warmup: float, window: float) -> float:
    from PySide6.QtCore import Qt

    from supalink.monitor.engine import MonitorEngine
    from supalink.ui.monitor_window import MonitorWindow

    monitor = MonitorWindow(
        MonitorEngine(Target.from_conninfo(uri), channels=[f"idle_{uuid.uuid4().hex[:8]}"]), "idle"
    )
    monitor.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
    monitor.show()
    await monitor.start()
    try:
        await _listening(monitor.engine)
        return await _measure(warmup, window)
    finally:
        monitor.close()
        await monitor.stop()


async def _bare(uri: str, warmup: float, window: float) -> float:
    from PySide6.QtWidgets import QMainWindow

    shown = QMainWindow()
    shown.show()
    async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
        await conn.execute(f"LISTEN idle_{uuid.uuid4().hex[:8]}")

        async def listen() -> None:
            async for _ in conn.notifies():
                pass

        listening = asyncio.create_task(listen())
        try:
            return await _measure(warmup, window)
        finally:
            listening.cancel()
            await asyncio.gather(listening, return_exceptions=True)
            shown.close()


def idle(uri: str, kind: str, warmup: float, window: float) -> dict[str, Any]:
    scenario = _app if kind == "app" else _bare
    percent = _qt_run(lambda: scenario(uri, warmup, window), timeout=warmup + window + 120)
    return {"percent": percent}


def compare(uri: str, warmup: float, window: float, busy_rate: float) -> dict[str, Any]:
    """idle_cpu_ratio: the app's window and the bare baseline idle side by side (two worker
    processes): neither does anything, so running them together only halves the wait.
    `busy_rate` is for busy_cpu_ratio, which is not measured yet."""
    import json
    import subprocess
    import sys

    from tests.benchmarks.worker import RESULT_PREFIX

    arguments = {"uri": uri, "warmup": warmup, "window": window}
    command = [sys.executable, "-m", "tests.benchmarks.worker", "idle"]
    processes = {
        kind: subprocess.Popen(
            [*command, json.dumps({**arguments, "kind": kind})],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in ("app", "bare")
    }
    percent = {}
    for kind, process in processes.items():
        out, err = process.communicate(timeout=warmup + window + 180)
        lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
        if process.returncode != 0 or not lines:
            raise RuntimeError(f"idle {kind} exited {process.returncode}: {err[-3000:]}")
        percent[kind] = json.loads(lines[-1][len(RESULT_PREFIX) :])["percent"]
    return {
        "idle_cpu_ratio": percent["app"] / percent["bare"],
        "idle_cpu_percent": percent["app"],
        "idle_cpu_bare_percent": percent["bare"],
        "idle_warmup_s": warmup,
        "idle_window_s": window,
    }

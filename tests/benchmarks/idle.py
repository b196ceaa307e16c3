"""Idle and busy CPU, inside worker processes: the monitor window open on a live engine (pool
open, one channel listened), against a bare qasync loop with a window and one psycopg LISTEN
waiting in `notifies()`. CPU time of the whole process (every thread) over the window, after
a warm-up.

- idle_cpu_ratio: no traffic;
- busy_cpu_ratio: both processes listen on the same channel, fed by one sender (in the
  process that compares them) at `busy_rate` notifications a second, from before either
  warm-up starts until both have measured: the same notifications reach both.

Each worker says when it listens and waits for the word to start its warm-up, so the two
windows cover the same seconds.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from supalink.profiles import Target
from tests.benchmarks.figures import cpu_seconds
from tests.benchmarks.flood import _listening, _qt_run
from tests.benchmarks.worker import RESULT_PREFIX

LISTENING = "LISTENING"  # a worker's line once it listens: the sender may start


async def _measure(warmup: float, window: float) -> float:
    print(LISTENING, flush=True)
    # The word to go (any line on stdin), once both listen and the sender runs.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.sleep(warmup)
    cpu, wall = cpu_seconds(), time.perf_counter()
    await asyncio.sleep(window)
    return (cpu_seconds() - cpu) / (time.perf_counter() - wall) * 100


async def _app(uri: str, channel: str, warmup: float, window: float) -> float:
    from PySide6.QtCore import Qt

    from supalink.monitor.engine import MonitorEngine
    from supalink.ui.monitor_window import MonitorWindow

    monitor = MonitorWindow(MonitorEngine(Target.from_conninfo(uri), channels=[channel]), "idle")
    monitor.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
    monitor.show()
    await monitor.start()
    try:
        await _listening(monitor.engine)
        return await _measure(warmup, window)
    finally:
        monitor.close()
        await monitor.stop()


async def _bare(uri: str, channel: str, warmup: float, window: float) -> float:
    from PySide6.QtWidgets import QMainWindow

    shown = QMainWindow()
    shown.show()
    async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
        await conn.execute(f"LISTEN {channel}")

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


def idle(uri: str, kind: str, warmup: float, window: float, channel: str) -> dict[str, Any]:
    scenario = _app if kind == "app" else _bare
    percent = _qt_run(lambda: scenario(uri, channel, warmup, window), timeout=warmup + window + 120)
    return {"percent": percent}


# A realistic event (as the soak's): a small JSON object, distinct each time.
PAYLOAD = '{"event": "order.created", "id": %d, "amount": %.2f, "at": "%s"}'


def _send_at(uri: str, channel: str, rate: float, stop: threading.Event) -> None:
    """NOTIFY on `channel` at `rate` a second (on a monotonic clock: no drift) until `stop`."""
    with psycopg.connect(uri, autocommit=True) as conn:
        sent, next_at = 0, time.monotonic()
        while not stop.wait(max(0.0, next_at - time.monotonic())):
            sent += 1
            payload = PAYLOAD % (sent, sent * 9.99, time.strftime("%Y-%m-%dT%H:%M:%S"))
            conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))
            next_at += 1 / rate


def _pair(uri: str, warmup: float, window: float, rate: float) -> dict[str, float]:
    """The app and the bare baseline side by side (two worker processes, simultaneous
    windows), on one channel; with `rate`, fed by one sender once both listen."""
    channel = f"idle_{uuid.uuid4().hex[:8]}"
    arguments = {"uri": uri, "warmup": warmup, "window": window, "channel": channel}
    command = [sys.executable, "-m", "tests.benchmarks.worker", "idle"]
    processes = {
        kind: subprocess.Popen(
            [*command, json.dumps({**arguments, "kind": kind})],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind in ("app", "bare")
    }
    stop = threading.Event()
    sender = None
    try:
        for process in processes.values():
            assert process.stdout is not None
            for line in process.stdout:  # until it listens (or ends, said below)
                if line.strip() == LISTENING:
                    break
        if rate:
            sender = threading.Thread(target=_send_at, args=(uri, channel, rate, stop))
            sender.start()
        for process in processes.values():
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        percent = {}
        for kind, process in processes.items():
            out, err = process.communicate(timeout=warmup + window + 180)
            lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
            if process.returncode != 0 or not lines:
                raise RuntimeError(f"idle {kind} exited {process.returncode}: {err[-3000:]}")
            percent[kind] = json.loads(lines[-1][len(RESULT_PREFIX) :])["percent"]
    finally:
        stop.set()
        if sender is not None:
            sender.join()
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    return percent


def compare(uri: str, warmup: float, window: float, busy_rate: float) -> dict[str, Any]:
    """idle_cpu_ratio, then busy_cpu_ratio at `busy_rate` notifications a second: each the
    app's window over the bare baseline, measured over the same seconds."""
    idle = _pair(uri, warmup, window, 0.0)
    busy = _pair(uri, warmup, window, busy_rate)
    return {
        "idle_cpu_ratio": idle["app"] / idle["bare"],
        "idle_cpu_percent": idle["app"],
        "idle_cpu_bare_percent": idle["bare"],
        "idle_warmup_s": warmup,
        "idle_window_s": window,
        "busy_cpu_ratio": busy["app"] / busy["bare"],
        "busy_cpu_percent": busy["app"],
        "busy_cpu_bare_percent": busy["bare"],
        "busy_rate_per_s": busy_rate,
    }

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
from tests.benchmarks.worker import SideFailed, result_of

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
    windows), on one channel; with `rate`, fed by one sender once both listen. A side that
    fails raises SideFailed naming it (both, when both did), once the other has ended."""
    channel = f"idle_{uuid.uuid4().hex[:8]}"
    arguments = {"uri": uri, "warmup": warmup, "window": window, "channel": channel}
    processes = {kind: _start(json.dumps({**arguments, "kind": kind})) for kind in KINDS}
    stop = threading.Event()
    sender = None
    try:
        ready = {kind: _wait_listening(process) for kind, process in processes.items()}
        if all(ready.values()):
            if rate:
                sender = threading.Thread(target=_send_at, args=(uri, channel, rate, stop))
                sender.start()
            for process in processes.values():
                _say_go(process)
        percent: dict[str, float] = {}
        failures: list[SideFailed] = []
        for kind, process in processes.items():
            stopped = not all(ready.values()) and process.poll() is None
            if stopped:
                process.kill()  # the other side never listened: no pair to measure
            out, err = process.communicate(timeout=warmup + window + 180)
            try:
                percent[kind] = result_of(kind, process.returncode, out, err)["percent"]
            except SideFailed as failure:
                if not stopped:  # one killed because the other failed did not fail itself
                    failures.append(failure)
        if failures:
            sides = " and ".join(failure.side for failure in failures)
            raise SideFailed(sides, "\n".join(failure.detail for failure in failures))
    finally:
        stop.set()
        if sender is not None:
            sender.join()
        for process in processes.values():
            if process.poll() is None:
                process.kill()
    return percent


KINDS = ("app", "bare")


def _start(arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.worker", "idle", arguments],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_listening(process: subprocess.Popen[str]) -> bool:
    """True once the worker says it listens; False when its output ended first (it died:
    its stderr says why)."""
    assert process.stdout is not None
    return any(line.strip() == LISTENING for line in process.stdout)


def _say_go(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write("go\n")
        process.stdin.flush()
    except BrokenPipeError:  # it died meanwhile: its exit code and stderr say so
        pass


def compare(uri: str, warmup: float, window: float, busy_rate: float) -> dict[str, Any]:
    """idle_cpu_ratio, then busy_cpu_ratio at `busy_rate` notifications a second: each the
    app's window over the bare baseline, measured over the same seconds. A pair with a
    failed side is left out, said under "failed", and the other pair still runs."""
    figures: dict[str, Any] = {"idle_warmup_s": warmup, "idle_window_s": window}
    failed: dict[str, str] = {}
    for name, rate in (("idle", 0.0), ("busy", busy_rate)):
        try:
            pair = _pair(uri, warmup, window, rate)
        except SideFailed as failure:
            print(f"{name}_cpu_ratio: {failure}", file=sys.stderr, flush=True)
            failed[f"{name}_cpu_ratio"] = failure.summary()
            continue
        figures[f"{name}_cpu_ratio"] = pair["app"] / pair["bare"]
        figures[f"{name}_cpu_percent"] = pair["app"]
        figures[f"{name}_cpu_bare_percent"] = pair["bare"]
    figures["busy_rate_per_s"] = busy_rate
    if failed:
        figures["failed"] = failed
    return figures

"""Guard against PySide6 builds that leak or drop references to None/True/False.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every event-loop turn,
timer callback or signal emit and aborts with `none_dealloc` after a few thousand.
Runs in a child process so such a crash fails this test instead of the whole suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

TURNS = 100_000

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from PySide6.QtCore import QObject, QTimer, Signal
    from PySide6.QtWidgets import QApplication
    from supalink.app.qt import build_event_loop

    class Emitter(QObject):
        fired = Signal(object, bool)

    def counts():
        return [sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)]

    app = QApplication([])
    loop = build_event_loop(app)
    asyncio.set_event_loop(loop)
    emitter = Emitter()
    received = []
    emitter.fired.connect(lambda value, flag: received.append(flag) if len(received) < 1 else None)
    timer_calls = []

    async def churn(turns):
        for i in range(turns):
            emitter.fired.emit(None, i % 2 == 0)
            await asyncio.sleep(0)
        timer_calls.clear()
        for _ in range(1000):
            QTimer.singleShot(0, lambda: timer_calls.append(0))
        while len(timer_calls) < 1000:
            await asyncio.sleep(0.001)

    loop.run_until_complete(churn(1000))  # warm up caches before the baseline
    before = counts()
    loop.run_until_complete(churn(int(sys.argv[1])))
    after = counts()
    print(json.dumps({"before": before, "after": after}))
    """
)


def test_event_loop_turns_and_emits_keep_singleton_refcounts() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(TURNS)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, (
        f"Qt child crashed ({result.returncode}): {result.stderr[-2000:]}"
    )
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    for name, before, after in zip(
        ("None", "True", "False"), counts["before"], counts["after"], strict=True
    ):
        # A per-turn leak or drop would move these by ~TURNS; normal churn moves them by a few.
        assert abs(after - before) < 1000, f"refcount of {name} moved {before} -> {after}"

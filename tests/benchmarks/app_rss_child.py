"""One process of app_rss_ratio: `bare URI CHANNEL` (a QMainWindow on a qasync loop, one
psycopg connection in LISTEN, awaiting `notifies()`) or `app` (Supalink's real GUI start,
`supalink` with no arguments, on SUPALINK_HOME, whose session reopens one monitor).

Each prints `LISTENING` once its channel is listened on, then runs until SIGTERM. With
SUPALINK_BENCH_MODULES=FILE it writes the names of its loaded modules there when told
(SIGUSR1), for the report's list of what the app loads that the bare window does not.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

LISTENING = "LISTENING"


def _write_modules_on_sigusr1() -> None:
    target = os.environ.get("SUPALINK_BENCH_MODULES")
    if not target:
        return

    def write(*_: object) -> None:
        with open(target, "w") as file:
            file.write("\n".join(sorted(sys.modules)) + "\n")

    signal.signal(signal.SIGUSR1, write)


def bare(uri: str, channel: str) -> int:
    import asyncio

    import psycopg
    import qasync
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = QMainWindow()
    window.show()

    async def listen() -> None:
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with await psycopg.AsyncConnection.connect(uri, autocommit=True) as conn:
            await conn.execute(f"LISTEN {channel}")
            print(LISTENING, flush=True)

            async def drain() -> None:
                async for _ in conn.notifies():
                    pass

            draining = asyncio.create_task(drain())
            await stop.wait()
            draining.cancel()
            await asyncio.gather(draining, return_exceptions=True)

    with loop:
        loop.run_until_complete(listen())
    window.close()
    return 0


def app() -> int:
    """The real start; a timer on Qt's loop says when the reopened monitor listens (it looks
    at the top-level windows by class name: nothing imported that the app does not)."""
    from supalink import cli
    from supalink.app import startup

    shown = startup.show_and_wait_for_paint
    watchers: list[Any] = []

    def watched_show(window: Any, **options: Any) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        def look() -> None:
            for widget in QApplication.topLevelWidgets():
                monitor = type(widget).__name__ == "MonitorWindow"
                engine: Any = getattr(widget, "engine", None)
                if monitor and engine.listener.state.name == "LISTENING":
                    print(LISTENING, flush=True)
                    timer.stop()

        timer = QTimer()
        timer.setInterval(100)
        timer.timeout.connect(look)
        timer.start()
        watchers.append(timer)
        shown(window, **options)

    startup.show_and_wait_for_paint = watched_show
    return cli.main([])


if __name__ == "__main__":
    _write_modules_on_sigusr1()
    arguments = sys.argv[1:]
    sys.exit(bare(arguments[1], arguments[2]) if arguments[0] == "bare" else app())

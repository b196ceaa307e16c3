"""The parts of the app's event loop (app.build_event_loop puts them together): qasync's
selector loop on the Qt application, made safe for the threads Python starts beside it.

Qt objects live on the main thread and must die there. Python's cyclic garbage collector
runs in whichever thread allocates when a threshold is crossed: a worker thread (a
`to_thread`, a DNS look-up for psycopg) could free a QObject left in a reference cycle, and
Qt then delivered a timer event to it on the main thread (a segfault in
QTimerInfoList::activateTimers, caught under gdb in the monitor's tests). So the automatic
collector is off while the app runs and a Qt timer collects on the main thread instead,
by the same generation thresholds (the recipe PyQt applications use).
"""

from __future__ import annotations

import asyncio
import collections
import gc
from collections.abc import Callable
from typing import Any, Final

import qasync
from PySide6.QtCore import QCoreApplication, QTimer

GC_INTERVAL_MS: Final = 1000


def collect_garbage_on_the_main_thread(qt_app: QCoreApplication) -> QTimer:
    """Turn the automatic collector off and collect from a timer on the main thread; one
    timer per application."""
    gc.disable()
    existing = qt_app.findChild(QTimer, _COLLECTOR_NAME)
    if isinstance(existing, QTimer):
        return existing
    timer = QTimer(qt_app)
    timer.setObjectName(_COLLECTOR_NAME)
    timer.setInterval(GC_INTERVAL_MS)
    timer.timeout.connect(collect_due_generations)
    timer.start()
    return timer


_COLLECTOR_NAME: Final = "supalink-garbage-collector"


def collect_due_generations() -> int:
    """Collect the oldest generation whose threshold is crossed, as the automatic
    collector would have; nothing when none is. Returns the generation, or -1."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = [gen for gen in range(3) if thresholds[gen] and counts[gen] > thresholds[gen]]
    if not due:
        return -1
    gc.collect(due[-1])
    return due[-1]


def selector_loop_class() -> Any:
    class SelectorLoop(qasync.QSelectorEventLoop):  # type: ignore[misc]
        """qasync's selector loop, with two changes.

        The last round of Qt events it runs after `run_until_complete` stops still counts
        as the loop running. Qt 6 closes every window on quit; the tasks their closeEvents
        start would otherwise run there with no running loop and fail on
        asyncio.get_running_loop().

        Another thread hands work to the loop the way asyncio's own loop takes it: a queue
        and a byte on the loop's self-pipe, read on the main thread. qasync emits a Qt signal
        from the calling thread instead: Qt touched from a thread that is not Qt's.
        """

        def __init__(self, *args: Any) -> None:
            self._from_threads: collections.deque[asyncio.Handle] = collections.deque()
            super().__init__(*args)

        def run_forever(self) -> None:
            try:
                super().run_forever()
            finally:
                asyncio.events._set_running_loop(self)

        def run_until_complete(self, future: Any) -> Any:
            try:
                return super().run_until_complete(future)
            finally:
                asyncio.events._set_running_loop(None)

        def call_soon_threadsafe(
            self, callback: Callable[..., object], *args: Any, context: Any = None
        ) -> asyncio.Handle:
            handle = asyncio.Handle(callback, args, self, context)
            self._from_threads.append(handle)  # deque.append is atomic
            self._write_to_self()
            return handle

        def _process_self_data(self, data: bytes) -> None:
            super()._process_self_data(data)  # signal numbers; our zero bytes are skipped
            while self._from_threads:
                handle = self._from_threads.popleft()
                if not handle.cancelled():
                    self.call_soon(handle._run)

    return SelectorLoop

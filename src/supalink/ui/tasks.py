"""Named asyncio tasks for the GUI: a new task cancels its predecessor of the same name,
and every failure is reported in one place (FeelUOwn's task manager is the model)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the main window is built before asyncio loads
    import asyncio

log = logging.getLogger(__name__)

FailureReporter = Callable[[str, BaseException], None]


class TaskRunner:
    def __init__(self, report_failure: FailureReporter | None = None) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}
        self._report_failure = report_failure

    def run(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Start `coro` as task `name`, cancelling a running task of that name first."""
        import asyncio

        self.cancel(name)
        task = asyncio.get_event_loop().create_task(coro, name=name)
        self._tasks[name] = task
        task.add_done_callback(self._finished)
        return task

    def cancel(self, name: str) -> bool:
        task = self._tasks.pop(name, None)
        if task is not None and not task.done():
            task.cancel()
            return True
        return False

    def is_running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel everything and wait (bounded) for the tasks to finish their cleanup."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            import asyncio

            await asyncio.wait(tasks, timeout=timeout)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        if self._tasks.get(task.get_name()) is task:
            del self._tasks[task.get_name()]
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        log.error("task %s failed", task.get_name(), exc_info=error)
        if self._report_failure is not None:
            self._report_failure(task.get_name(), error)

"""Catching background failures on the test event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class BackgroundTaskFailures:
    """Every task the loop creates is kept, so one that raised unseen fails the test."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []
        self.handler_errors: list[dict[str, Any]] = []

    def task_factory(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any
    ) -> asyncio.Task[Any]:
        task = asyncio.Task(coro, loop=loop, **kwargs)
        self.tasks.append(task)
        return task

    def exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.handler_errors.append(context)

    def report(self) -> list[str]:
        failures = [
            f"task {task.get_name()} raised {task.exception()!r}"
            for task in self.tasks
            if task.done() and not task.cancelled() and task.exception() is not None
        ]
        failures += [
            f"{context.get('message')}: {context.get('exception')!r}"
            for context in self.handler_errors
        ]
        return failures

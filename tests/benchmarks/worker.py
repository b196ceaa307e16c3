"""One benchmark in a process of its own (a fresh heap, a fresh QApplication):
`python -m tests.benchmarks.worker NAME JSON-ARGUMENTS`, from the repository's root.
Prints the figures as one JSON line prefixed with `RESULT `; when one side of a paired
figure fails, a line `SIDE-FAILED <side>` first, so the parent can say which."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

RESULT_PREFIX = "RESULT "
SIDE_PREFIX = "SIDE-FAILED "
STDERR_TAIL = 3000  # characters of a failed process's stderr kept in the report


class SideFailed(RuntimeError):
    """One side of a paired figure (the app, or its baseline) failed: which side, and the
    end of what it said. The harness reports it against the figure and goes on."""

    def __init__(self, side: str, detail: str) -> None:
        super().__init__(f"the {side} side failed: {detail.strip()[-STDERR_TAIL:]}")
        self.side = side
        self.detail = detail.strip()[-STDERR_TAIL:]

    def summary(self) -> str:
        """One line for the table: the side and its error (a traceback's last line, not
        Qt's chatter after it), else the last line it wrote."""
        lines = self.detail.splitlines() or ["no output"]
        errors = [line for line in lines if ERROR_LINE.match(line)]
        return f"{self.side} side failed: {(errors or lines)[-1][:160]}"


# A traceback's last line: the exception's (dotted) name and its message.
ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Timeout)\b")


@contextlib.contextmanager
def side(name: str) -> Iterator[None]:
    """Inside a worker: an exception here is this side's failure (its traceback kept)."""
    try:
        yield
    except SideFailed:
        raise
    except Exception as error:
        raise SideFailed(name, traceback.format_exc()) from error


def result_of(label: str, returncode: int | None, out: str, err: str) -> dict[str, Any]:
    """The figures a worker printed, or SideFailed naming the side it said failed (else
    `label`) with the tail of its stderr."""
    lines = out.splitlines()
    results = [line for line in lines if line.startswith(RESULT_PREFIX)]
    if returncode == 0 and results:
        figures: dict[str, Any] = json.loads(results[-1][len(RESULT_PREFIX) :])
        return figures
    sides = [line[len(SIDE_PREFIX) :].strip() for line in lines if line.startswith(SIDE_PREFIX)]
    raise SideFailed(sides[-1] if sides else label, f"exited {returncode}: {err}")


def _scenarios() -> dict[str, Callable[..., dict[str, Any]]]:
    from tests.benchmarks import flood, idle

    return {
        "ingest": flood.ingest,
        "loop_lag": flood.loop_lag,
        "soak": flood.soak,
        "idle": idle.idle,
    }


def main(argv: list[str]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    name, arguments = argv[0], json.loads(argv[1])
    try:
        figures = _scenarios()[name](**arguments)
    except SideFailed as failure:
        print(SIDE_PREFIX + failure.side, flush=True)
        print(failure.detail, file=sys.stderr, flush=True)
        return 1
    print(RESULT_PREFIX + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

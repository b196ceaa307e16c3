"""One benchmark in a process of its own (a fresh heap, a fresh QApplication):
`python -m tests.benchmarks.worker NAME JSON-ARGUMENTS`, from the repository's root.
Prints the figures as one JSON line prefixed with `RESULT `."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

RESULT_PREFIX = "RESULT "


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
    figures = _scenarios()[name](**arguments)
    print(RESULT_PREFIX + json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A process's signals as the kernel sees them (/proc/PID/status), for tests that signal a
process they started: a handler is there only once the program installed it, and a loaded
machine may take seconds to get there; a signal sent before is taken by its default action
(or lost, when a shell started the test run as a background job: SIGINT ignored)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

WAIT_SECONDS = 60.0


def signal_masks(pid: int) -> str:
    """The masks, in hex (bit N-1 is signal N): pending, blocked, ignored, caught."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError as error:
        return f"no /proc status: {error}"
    return ", ".join(line for line in status if line.startswith(("Sig", "ShdPnd")))


def caught(pid: int, signum: signal.Signals) -> bool:
    """Whether the process has a handler of its own for `signum` now."""
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return False
    for line in status:
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def wait_until_caught(
    process: subprocess.Popen[Any], signum: signal.Signals, timeout: float = WAIT_SECONDS
) -> bool:
    """Whether `process` came to handle `signum` itself, while it ran, within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if caught(process.pid, signum):
            return True
        time.sleep(0.02)
    return False


@contextlib.contextmanager
def ctrl_c_reaching_children() -> Iterator[None]:
    """A shell starts a background job (`.ci/run &`) with SIGINT ignored, and every process
    started from it inherits that: a Ctrl-C sent to the child would be lost. While this
    holds, a child starts with SIGINT as a terminal's foreground job has it."""
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # SIG_DFL after exec
    try:
        yield
    finally:
        if before is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

"""Named points between the steps of a change to a profile, where a test can stop it.

Why this exists: a profile is written to two stores that cannot change together (the
settings file and the OS keyring), and what a `kill -9` between two writes leaves behind
is the thing to test. The tests start a real `supalink profile add|remove|rename` with
SUPALINK_TEST_PAUSE_AT set to one of these names, wait until it says it stopped there,
and kill it with SIGKILL. Unset, as it always is outside those tests, a point costs one
environment lookup and does nothing.
"""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "SUPALINK_TEST_PAUSE_AT"
PAUSED = "supalink: paused at "  # the line a test waits for, on stderr
_LONGEST_PAUSE = 120.0  # a test that fails before its kill leaves no process for long


def pause_point(name: str) -> None:
    """Stop here for a while when the environment asks for `name`."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    sys.stderr.write(f"{PAUSED}{name}\n")
    sys.stderr.flush()
    time.sleep(_LONGEST_PAUSE)

"""The composition root: where the paths, the stores, the services, the Qt application and
its loop are put together, and the app is run and shut down.

`run_gui`, `run_demo` and `self_check` are what `supalink` starts (launch.py);
`build_context` builds the windows' services (context.py), `build_event_loop` the one loop
(qt.py, with the application's name, icon and messages). The windows' life from the first
paint to the quit is in startup.py and quitting.py, the tray's wiring in tray.py, the
session remembered between runs in session.py (the data) and session_keeper.py (the
windows). Only this package and ui/ import Qt. Its modules import Qt and the heavy parts
inside their functions (session_keeper.py, Qt through and through, is itself imported
so), so importing the package costs the start nothing.
"""

from __future__ import annotations

from supalink.app.launch import run_demo, run_gui, self_check

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__all__ = [
    "run_demo",
    "run_gui",
    "self_check",
]

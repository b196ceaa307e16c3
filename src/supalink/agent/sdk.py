"""The MCP SDK's server side, loaded without the SDK's two front doors.

`import mcp.server.lowlevel` first runs `mcp/__init__.py` and `mcp/server/__init__.py`, which
import everything the SDK has: its client (and through it httpx), its high-level server
(MCPServer: resources, prompts, URI templates), the stdio transports. `mcp-serve` uses the
low-level server and nothing else; the rest cost it 5 MB of its 85 MB resident after its
first answer and about a seventh of the SDK's import time (measured here). So the two
packages are entered as they are, empty (their folders, no code run), and the modules the
server uses load from them alone: nothing in them reads a name from either front door.

If an SDK to come needs its front doors after all (an import fails), everything of the SDK
loaded so far is forgotten and it is imported the ordinary way. A process that already has
the SDK (the app, a test) keeps it as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Final

# The packages whose `__init__` imports the whole SDK.
FRONT_DOORS: Final = ("mcp", "mcp.server")
# What the server uses (agent/server.py, agent/stdio.py).
SERVER_MODULES: Final = (
    "mcp.server.lowlevel",
    "mcp.shared.exceptions",
    "mcp.shared.message",
    "mcp.types",
    "mcp_types",
)


def load_server_side() -> bool:
    """Import the SDK's server side; True when that was without its front doors."""
    if "mcp" in sys.modules:
        _import_all()
        return False
    try:
        for name in FRONT_DOORS:
            _enter_unopened(name)
        _import_all()
    except Exception:  # whatever an SDK or an importer (a frozen app's) makes of it
        _forget_sdk()
        _import_all()
        return False
    return True


def _import_all() -> None:
    for name in SERVER_MODULES:
        importlib.import_module(name)


def _enter_unopened(name: str) -> None:
    """The package `name` as a module that has its folder but has not run its `__init__`."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not a package here", name=name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def _forget_sdk() -> None:
    for name in [name for name in sys.modules if name == "mcp" or name.startswith("mcp.")]:
        del sys.modules[name]

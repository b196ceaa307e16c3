"""What the server's start costs: the SDK's server side loads without the SDK's front doors,
and the ordinary way wherever that cannot be (agent/sdk.py); the collector waits for the
start to be over (agent/server.py). Each case in a fresh interpreter: what it imports and
what it leaves to the collector are the point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def _loaded(prelude: str) -> dict[str, object]:
    prelude = "import json, sys\n" + textwrap.dedent(prelude)
    code = prelude + textwrap.dedent(
        """
        from supalink.agent.sdk import load_server_side
        unopened = load_server_side()
        from mcp.server.lowlevel import Server
        from mcp.shared.exceptions import MCPError
        from mcp.shared.message import SessionMessage
        from mcp.types import CallToolResult, TextContent
        print(json.dumps({
            "unopened": unopened,
            "client": "mcp.client" in sys.modules,
            "mcpserver": "mcp.server.mcpserver" in sys.modules,
            "httpx": any(name.startswith("httpx") for name in sys.modules),
        }))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return found


def test_the_server_side_loads_without_the_client_or_the_high_level_server() -> None:
    """If an SDK to come breaks this, the server still starts (the ordinary way), 5 MB
    heavier and slower: this says so."""
    assert _loaded("") == {
        "unopened": True,
        "client": False,
        "mcpserver": False,
        "httpx": False,
    }


def test_a_process_that_has_the_sdk_keeps_it() -> None:
    assert _loaded("import mcp")["unopened"] is False


def test_a_front_door_that_is_needed_means_the_ordinary_way() -> None:
    """An SDK whose server side reads a name from `mcp` itself: imported whole after all."""
    prelude = """
    import importlib
    real = importlib.import_module
    def needs_the_front_door(name, package=None):
        module = real(name, package)
        if name == "mcp.shared.message" and not hasattr(sys.modules["mcp"], "ClientSession"):
            raise ImportError("cannot import name 'ClientSession' from 'mcp'")
        return module
    importlib.import_module = needs_the_front_door
    """
    found = _loaded(prelude)
    assert found["unopened"] is False
    assert found["client"] is True  # the front door ran


def test_the_collector_waits_for_the_start_then_leaves_what_it_made_alone() -> None:
    code = textwrap.dedent(
        """
        import gc, json
        from supalink.agent import collect_later
        from supalink.agent.server import _collect_from_here
        collect_later()
        held = not gc.isenabled()
        kept = [[n] for n in range(1000)]  # what a start makes and keeps
        _collect_from_here()
        print(json.dumps({"held": held, "on": gc.isenabled(), "frozen": gc.get_freeze_count()}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["held"] is True
    assert found["on"] is True
    assert found["frozen"] >= 1000

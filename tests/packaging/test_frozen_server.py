"""The frozen app carries `supalink mcp-serve`: the spec names the agent's server and the
SDK's server side as hidden imports, and the smoke test looks for them and runs the server.

The agent package loads its modules on first use and imports the SDK inside functions, for
a quick start: the spec names them so that a change to those lazy imports cannot drop the
server from the bundle without a test failing first.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

from supalink.agent.options import ServeOptions
from supalink.agent.tools import tool_specs
from tests.packaging.files import PACKAGING, REPO
from tests.packaging.test_build_files import SPEC, load_script

SOURCE = REPO / "src" / "supalink"
# What the spec must name for the server, whatever else collect_submodules finds.
SERVER_MODULES = (
    "supalink.agent",
    "supalink.agent.server",
    "supalink.agent.tools",
    "supalink.agent.session",
    "supalink.agent.stdio",
    "supalink.commands.mcp_serve",
    "mcp.server.lowlevel",
    "mcp.server.stdio",
    "mcp.types",
    "mcp_types",
)


def spec_hidden_imports() -> set[str]:
    """The strings in the spec's `hiddenimports = [...]`, and nowhere else in it."""
    tree = ast.parse(SPEC.read_text(), filename=str(SPEC))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "hiddenimports" for target in node.targets
        ):
            return {
                leaf.value
                for leaf in ast.walk(node.value)
                if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str)
            }
    raise AssertionError(f"{SPEC} assigns no hiddenimports")


def sdk_modules_the_server_imports() -> set[str]:
    """Every `mcp…` module that the agent package and its command import, at any depth, and
    those agent/sdk.py imports by name."""
    from supalink.agent.sdk import SERVER_MODULES as LOADED_BY_NAME

    files = [*(SOURCE / "agent").glob("*.py"), SOURCE / "commands" / "mcp_serve.py"]
    found: set[str] = set(LOADED_BY_NAME)
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {name for name in names if name.split(".")[0] in ("mcp", "mcp_types")}
    return found


def test_the_spec_names_the_agents_server_and_the_sdks_server_modules() -> None:
    hidden = spec_hidden_imports()
    missing = [name for name in SERVER_MODULES if name not in hidden]
    assert not missing, f"packaging/supalink.spec's hiddenimports lack {missing}"


def test_the_spec_names_every_sdk_module_the_server_imports() -> None:
    imported = sdk_modules_the_server_imports()
    assert {"mcp.server.lowlevel", "mcp.server.stdio"} <= imported  # the scan sees them
    assert imported <= spec_hidden_imports()


def test_the_named_modules_exist() -> None:
    # A renamed module would leave the spec naming nothing, and PyInstaller only warns.
    for name in SERVER_MODULES:
        assert importlib.util.find_spec(name) is not None, name


def test_the_smoke_test_looks_for_the_server_and_expects_its_six_tools() -> None:
    smoke = load_script(PACKAGING / "smoke_test.py")
    assert {"supalink.agent.server", "mcp.server.lowlevel", "mcp.server.stdio", "mcp_types"} <= set(
        smoke.HIDDEN_MODULES
    )
    assert sorted(smoke.SERVER_TOOLS) == sorted(spec.name for spec in tool_specs(ServeOptions()))
    assert callable(smoke.check_mcp_serve)


def test_the_smoke_test_fails_loudly_when_mcp_serve_is_not_the_server(tmp_path: Path) -> None:
    smoke = load_script(PACKAGING / "smoke_test.py")
    fake = tmp_path / "supalink"
    fake.write_text("#!/bin/sh\necho 'usage: supalink [-h]'\n")
    fake.chmod(0o755)
    with pytest.raises(smoke.SmokeTestFailure, match="does not read as its usage"):
        smoke.check_mcp_serve(fake)


def test_the_smoke_tests_mcp_check_passes_on_the_installed_console_script() -> None:
    """The same check the frozen executable gets, here on the venv's `supalink`: its
    initialize and tools/list over stdio, with no database."""
    smoke = load_script(PACKAGING / "smoke_test.py")
    script = Path(sys.executable).with_name("supalink")
    assert "six tools" in smoke.check_mcp_serve(script)

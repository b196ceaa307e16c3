"""Claude Code's CLI (`@anthropic-ai/claude-code`) from the npm registry, installed once into
a persistent folder: `claude mcp get NAME` and `claude mcp list` read the user's and the
project's files and need no login.

The version is pinned, so what a test asserts about its output holds until it is moved on
purpose. The first install downloads some 400 MB (under a minute here); afterwards nothing
is downloaded. With the registry unreachable the install fails, and the test with it,
saying so: it never skips.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.reference_server import CACHE_ENV, ensure_node
from tests.support.system_tools import machine_setup

PACKAGE = "@anthropic-ai/claude-code"
VERSION = "2.1.337"


def install_claude_code() -> Path:
    """The `claude` program, installing it the first time."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "supalink-tests" / "npm")
    prefix = root / f"claude-code-{VERSION}"
    program = prefix / "node_modules" / ".bin" / "claude"
    with machine_setup():
        if not program.exists():
            ensure_node()
            prefix.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(
                [
                    "npm",
                    "install",
                    "--prefix",
                    str(prefix),
                    "--no-audit",
                    "--no-fund",
                    f"{PACKAGE}@{VERSION}",
                ],
                env={
                    **os.environ,
                    "npm_config_cache": str(root),
                    "npm_config_update_notifier": "false",
                },
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if done.returncode != 0 or not program.exists():
                raise RuntimeError(
                    f"could not install {PACKAGE}@{VERSION} from the npm registry (is it "
                    f"reachable?): {done.stderr.strip()[-2000:]}"
                )
    return program


def claude(program: Path, *args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`claude ARGS…` for a user whose home is `home`, in the project folder `cwd`."""
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", os.defpath),
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return subprocess.run(
        [str(program), *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

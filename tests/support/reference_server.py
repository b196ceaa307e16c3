"""The real reference MCP server from the npm registry, installed once into a persistent cache.

`npx -y @modelcontextprotocol/server-postgres` installs into `<npm cache>/_npx/<hash>`, the
hash being the first 16 hex digits of the SHA-512 of the package spec. The fixture warms
that cache once (about 4 s, the only download); afterwards servers run with
`npm_config_offline=true`, so npx resolves from the cache in about a second and a test
can never download. The folder's `.bin` on PATH gives the `mcp-server-postgres` binary
that the `guide` template names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from supalink.mcp.templates import REFERENCE_BINARY, REFERENCE_PACKAGE
from tests.support.system_tools import machine_setup

CACHE_ENV = "SUPALINK_TEST_NPM_CACHE"


@dataclass(frozen=True)
class ReferenceServer:
    cache: Path
    bin_dir: Path

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment in which `npx -y <package>` and `mcp-server-postgres` run offline."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', os.defpath)}"
        env.update(
            npm_config_cache=str(self.cache),
            npm_config_offline="true",
            npm_config_update_notifier="false",
            npm_config_fund="false",
            npm_config_audit="false",
        )
        return env


def _npx_bin_dir(cache: Path, spec: str) -> Path:
    digest = hashlib.sha512(spec.encode()).hexdigest()[:16]
    return cache / "_npx" / digest / "node_modules" / ".bin"


def ensure_node() -> None:
    if shutil.which("npx"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", "nodejs", "npm"],
            check=True,
            env=env,
            capture_output=True,
        )
    if not shutil.which("npx"):
        raise RuntimeError("the MCP tests need Node.js and npx (Debian packages nodejs, npm)")


def install_reference_server() -> ReferenceServer:
    """The server from the npm cache, warming the cache the first time."""
    cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "supalink-tests" / "npm")
    bin_dir = _npx_bin_dir(cache, REFERENCE_PACKAGE)
    cache.mkdir(parents=True, exist_ok=True)
    with machine_setup():
        if not (bin_dir / REFERENCE_BINARY).exists():
            _install(cache, bin_dir)
    return ReferenceServer(cache, bin_dir)


def _install(cache: Path, bin_dir: Path) -> None:
    ensure_node()
    # Without a URI the server prints its usage and exits 1: the install is what we want.
    warm = subprocess.run(
        ["npx", "-y", REFERENCE_PACKAGE],
        env={
            **os.environ,
            "npm_config_cache": str(cache),
            "npm_config_update_notifier": "false",
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert (bin_dir / REFERENCE_BINARY).exists(), warm.stdout + warm.stderr

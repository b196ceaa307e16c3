"""Whether a template's server can start where the client will start it, beyond its command
being found (launch_env): what the command itself needs there.

`uvx postgres-mcp` runs the package with a Python that uv picks; postgres-mcp requires
Python >= 3.12, and with only 3.11 at hand uvx fails at the client's first start ("the
current Python version (3.11.7) does not satisfy Python>=3.12") unless it may download one.
`uv python find '<spec>'` answers, without downloading, whether uv has such a Python: it is
asked with the client's environment (launch_env), bounded by a timeout, before the file is
written, so the person hears what is missing while they can still act on it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Final

from supalink.mcp.launch_env import Finder, client_environment, launched_command
from supalink.mcp.templates import PYTHON_REQUIRES, ServerEntry

UV_TIMEOUT_SECONDS: Final = 10.0
_UVX: Final = "uvx"
_UV: Final = "uv"

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class PythonCheck:
    """What uv said about a Python for a package uvx starts. `found`: the interpreter it
    would use (None: none); `uv`: the uv asked (None: not found, nothing asked); `detail`:
    uv's own line when it found none or failed; `timed_out`: it did not answer in time."""

    package: str
    spec: str
    uv: PurePath | None
    found: str | None = None
    detail: str = ""
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.found is not None

    @property
    def install_version(self) -> str:
        """The version to name in `uv python install` (">=3.12" -> "3.12")."""
        match = re.search(r"\d+(\.\d+)*", self.spec)
        return match[0] if match else self.spec


def python_requirement(entry: ServerEntry, finder: Finder) -> tuple[str, str] | None:
    """(package, Python specifier) when the entry's server is a package uvx runs that needs
    a Python of some version (`PYTHON_REQUIRES`); None otherwise, and when the entry picks
    its Python itself (`--python`)."""
    host = finder.host
    command = launched_command(entry)
    if host.path(command).stem != _UVX:
        return None
    args = list(entry.args)
    if command != entry.command:  # the keyring launcher's: uvx's arguments follow it
        args = args[args.index(command) + 1 :]
    if any(arg == "--python" or arg.startswith(("--python=", "-p")) for arg in args):
        return None
    package = next((arg for arg in args if not arg.startswith("-")), None)
    if package is None:
        return None
    name = re.split(r"[=<>~!@\[ ]", package, maxsplit=1)[0]
    spec = PYTHON_REQUIRES.get(name)
    return None if spec is None else (name, spec)


def _uv_beside(uvx: PurePath, finder: Finder, path_env: str | None) -> PurePath | None:
    """uv itself: beside uvx (every installer puts them together), else where the shell
    finds it."""
    beside = uvx.with_name(_UV + uvx.suffix)
    if finder.is_program(beside):
        return beside
    return finder.find(_UV, path_env)


def check_python(
    entry: ServerEntry,
    finder: Finder,
    environ: Mapping[str, str],
    *,
    timeout: float = UV_TIMEOUT_SECONDS,
    run: Runner = subprocess.run,
) -> PythonCheck | None:
    """Whether uv has a Python the entry's package can run on, asked as the client would
    start it (its environment on `finder`'s host, for a user whose own is `environ`). None
    when the entry needs nothing of the kind, or its uvx was not found (said elsewhere)."""
    need = python_requirement(entry, finder)
    uvx = finder.host.path(launched_command(entry))
    if need is None or not uvx.is_absolute():
        return None
    package, spec = need
    uv = _uv_beside(uvx, finder, environ.get("PATH"))
    if uv is None:
        return PythonCheck(package, spec, None)
    # Only the client's environment: the entry's own env holds the URI and its password.
    env = client_environment(finder.host, environ)
    options: dict[str, Any] = {"capture_output": True, "text": True, "errors": "replace"}
    try:
        done = run(
            [str(uv), "python", "find", spec],
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            **options,
        )
    except subprocess.TimeoutExpired:
        return PythonCheck(package, spec, uv, timed_out=True)
    except OSError as error:
        return PythonCheck(package, spec, uv, detail=str(error))
    lines = (done.stdout or "").strip().splitlines()
    if done.returncode == 0 and lines:
        return PythonCheck(package, spec, uv, found=lines[-1].strip())
    said = (done.stderr or done.stdout or "").strip().splitlines()
    return PythonCheck(package, spec, uv, detail=said[0].strip() if said else "")

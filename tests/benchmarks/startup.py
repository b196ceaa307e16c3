"""Start times, each measured from spawning a process: the app's main window against a
bare PySide6 window, and the keyring launcher against starting the server directly."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.figures import median
from tests.benchmarks.services import Services

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHILD = HERE / "startup_child.py"
TRIVIAL_SERVER = "/bin/true"


def compile_package() -> None:
    """Bytecode for every module of the package, as an install has (pip compiles what it
    installs): an editable checkout run with PYTHONDONTWRITEBYTECODE (set on this
    machine) would otherwise compile its sources again at every start and time that."""
    import compileall

    import supalink

    compileall.compile_dir(Path(supalink.__file__).parent, quiet=1)


def _time_to_shown(kind: str, env: dict[str, str]) -> float:
    """Seconds from spawn to the child's `shown` line (its main window's first paint)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(CHILD), kind],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=REPO,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    shown = time.perf_counter() - started
    _, errors = child.communicate(timeout=60)
    if line.strip() != "shown" or child.returncode != 0:
        raise RuntimeError(f"{kind} start failed ({child.returncode}): {errors.strip()[-2000:]}")
    return shown


def startup(services: Services, runs: int) -> dict[str, Any]:
    """startup_ratio: the app's time to its first painted main window (offscreen, a saved
    profile whose password is in the Secret Service) over a bare QMainWindow's."""
    compile_package()
    with tempfile.TemporaryDirectory(prefix="supalink-bench-home-") as home:
        services.save_profile(Path(home))
        env = {**os.environ, "SUPALINK_HOME": home}
        # One of each first: the interpreter's and Qt's files are then in the page cache.
        _time_to_shown("bare", env)
        _time_to_shown("app", env)
        _time_to_shown("bare-scheme", env)
        bare, app, bare_scheme = [], [], []
        for _ in range(runs):  # interleaved, so a slow moment hits all alike
            bare.append(_time_to_shown("bare", env))
            app.append(_time_to_shown("app", env))
            bare_scheme.append(_time_to_shown("bare-scheme", env))
    return {
        "startup_ratio": median(app) / median(bare),
        "startup_app_s": median(app),
        "startup_bare_s": median(bare),
        # Reported only: the bare window that asks Qt for the desktop's colour scheme first.
        "startup_bare_scheme_s": median(bare_scheme),
        "startup_runs": runs,
    }


def _time_process(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{argv[:4]} failed ({result.returncode}): {result.stderr.strip()}")
    return took


def launcher(services: Services, runs: int) -> dict[str, Any]:
    """launcher_overhead_ms: `<python> -m supalink mcp-run --profile NAME -- /bin/true` (the
    command a keyring entry in a client's config runs; it reads the password from the
    Secret Service and execs the server) minus `/bin/true` itself."""
    compile_package()
    from supalink.mcp.templates import launcher_command

    with tempfile.TemporaryDirectory(prefix="supalink-bench-home-") as home:
        name = services.save_profile(Path(home))
        env = {**os.environ, "SUPALINK_HOME": home}
        command, launcher_args = launcher_command()
        launched = [command, *launcher_args, "--profile", name, "--", TRIVIAL_SERVER]
        _time_process(launched, env)
        direct, through = [], []
        for _ in range(runs):
            direct.append(_time_process([TRIVIAL_SERVER], env))
            through.append(_time_process(launched, env))
    return {
        "launcher_overhead_ms": (median(through) - median(direct)) * 1000,
        "launcher_total_ms": median(through) * 1000,
        "launcher_direct_ms": median(direct) * 1000,
        "launcher_runs": runs,
    }

"""app_rss_ratio: the resident memory of the app with its main window and one monitor open
(the session reopens it: one channel listened), `after` seconds after its start, over a bare
qasync window with psycopg and one LISTEN (app_rss_child.py), both started at once.

Beside the ratio: the two absolute figures, and the modules the app has loaded that the bare
window has not (their count, and the top-level packages they come from).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from tests.benchmarks.figures import rss_mb
from tests.benchmarks.services import Services
from tests.benchmarks.startup import compile_package
from tests.benchmarks.worker import SideFailed

HERE = Path(__file__).resolve().parent
CHILD = HERE / "app_rss_child.py"
LISTENING = "LISTENING"  # app_rss_child.LISTENING (not imported: it is a script)
LISTEN_TIMEOUT = 60.0


def _remember_monitor(home: Path, profile: str, channel: str) -> None:
    """The session a person leaves with one monitor open on `channel`: the app reopens it."""
    from keyring.backends.SecretService import Keyring

    from supalink.app.session import SESSION_KEY, MonitorState, Session
    from supalink.profiles.repository import ProfileRepository
    from supalink.profiles.secrets import KeyringSecretStore
    from supalink.profiles.settings import SettingsFile

    settings = SettingsFile(home / "config" / "settings.json")
    repository = ProfileRepository(settings, KeyringSecretStore(Keyring()))
    session = Session(monitors=(MonitorState(profile, (channel,)),))
    repository.set_preference(SESSION_KEY, session.to_preference())


def _wait_listening(processes: dict[str, subprocess.Popen[str]], deadline: float) -> set[str]:
    """The sides that said LISTENING before `deadline` (or before their output ended)."""
    waiting: dict[Any, str] = {process.stdout: kind for kind, process in processes.items()}
    ready: set[str] = set()
    while waiting and time.monotonic() < deadline:
        readable, _, _ = select.select(list(waiting), [], [], 0.2)
        for stream in readable:
            line = stream.readline()
            if not line or line.strip() == LISTENING:
                kind = waiting.pop(stream)
                if line:
                    ready.add(kind)
    return ready


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def _only_in_app(app_modules: Path, bare_modules: Path) -> tuple[int, int, list[str]]:
    app = set(app_modules.read_text().split()) if app_modules.exists() else set()
    bare = set(bare_modules.read_text().split()) if bare_modules.exists() else set()
    extra = app - bare
    packages = Counter(name.split(".")[0] for name in extra)
    return len(app), len(bare), [f"{name} {count}" for name, count in packages.most_common(8)]


def app_rss(services: Services, after: float) -> dict[str, Any]:
    compile_package()
    assert services.pg is not None
    uri = services.pg.uri()
    channel = f"rss_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="supalink-bench-home-") as home:
        profile = services.save_profile(Path(home))
        _remember_monitor(Path(home), profile, channel)
        modules = {kind: Path(home) / f"modules-{kind}.txt" for kind in ("app", "bare")}
        commands = {"app": ["app"], "bare": ["bare", uri, channel]}
        started = time.monotonic()
        processes = {
            kind: subprocess.Popen(
                [sys.executable, str(CHILD), *command],
                env={
                    **os.environ,
                    "SUPALINK_HOME": home,
                    "SUPALINK_BENCH_MODULES": str(modules[kind]),
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for kind, command in commands.items()
        }
        rss: dict[str, float] = {}
        try:
            ready = _wait_listening(processes, started + LISTEN_TIMEOUT)
            if ready == set(processes):
                time.sleep(max(0.0, started + after - time.monotonic()))
                for kind, process in processes.items():
                    if process.poll() is None:
                        rss[kind] = rss_mb(process.pid)
                        process.send_signal(signal.SIGUSR1)
                time.sleep(0.5)  # each writes its modules' names
        finally:
            outputs = {kind: _stop(process) for kind, process in processes.items()}
        failed = [kind for kind in processes if kind not in rss]
        if failed:
            detail = "\n".join(
                f"{kind} exited {processes[kind].returncode}: {outputs[kind][1]}" for kind in failed
            )
            raise SideFailed(" and ".join(failed), detail)
        app_count, bare_count, packages = _only_in_app(modules["app"], modules["bare"])
    return {
        "app_rss_ratio": rss["app"] / rss["bare"],
        "app_rss_mb": rss["app"],
        "app_rss_bare_mb": rss["bare"],
        "app_rss_after_s": after,
        "app_rss_app_modules": app_count,
        "app_rss_bare_modules": bare_count,
        "app_rss_only_in_app": packages,
    }

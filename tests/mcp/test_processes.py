"""Detecting a running client with what the OS already has."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from supalink.mcp.processes import running_processes


@pytest.fixture
def fake_client() -> Iterator[tuple[str, int]]:
    """A process whose argv[0] is a fresh client-like name (its comm stays `sleep`)."""
    name = f"claude-desktop-{uuid.uuid4().hex[:6]}"
    process = subprocess.Popen(["bash", "-c", f"exec -a {name} sleep 60"])
    comm = Path(f"/proc/{process.pid}/comm")
    deadline = time.monotonic() + 10
    while comm.read_text().strip() != "sleep":  # until bash has exec'd
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        yield name, process.pid
    finally:
        process.kill()
        process.wait()


def test_found_by_program_name_in_proc(fake_client: tuple[str, int]) -> None:
    name, pid = fake_client
    found = running_processes([name])
    assert [(process.pid, process.name) for process in found] == [(pid, name)]


def test_found_by_comm_and_through_ps(fake_client: tuple[str, int]) -> None:
    _, pid = fake_client
    assert pid in {process.pid for process in running_processes(["sleep"])}
    # `ps -o comm=` is how macOS is asked; procps answers the same question here.
    assert pid in {process.pid for process in running_processes(["sleep"], platform="darwin")}


def test_nothing_running_means_no_warning() -> None:
    absent = f"no-such-client-{uuid.uuid4().hex}"
    assert running_processes([absent]) == []
    assert running_processes([absent], platform="darwin") == []
    assert running_processes([]) == []

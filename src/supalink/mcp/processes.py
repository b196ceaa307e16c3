"""Processes as Supalink needs to see them: whether an MCP client is running, and which
servers this process started (to kill one that outlives `config verify`'s budget).

A running client must be quit and restarted to read a changed config, and Claude
Desktop may write its file back while it runs, undoing the change. Detection
uses what every OS already has (/proc, `ps`, `tasklist`): no new dependency.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

# Interpreters whose first argument names the program they run.
_LAUNCHERS = frozenset({"node", "node.exe", "electron", "python", "python3"})


@dataclass(frozen=True)
class RunningProcess:
    pid: int
    name: str


def running_processes(
    names: Collection[str], *, platform: str = sys.platform, proc_root: Path = Path("/proc")
) -> list[RunningProcess]:
    """Processes (other than this one) whose program name is one of `names`."""
    if not names:
        return []
    if platform.startswith("linux"):
        found = _from_proc(names, proc_root)
    elif platform == "win32":
        found = _from_tasklist(names)
    else:
        found = _from_ps(names)
    return [process for process in found if process.pid != os.getpid()]


def _program_names(argv: list[str]) -> list[str]:
    names = [PurePosixPath(argv[0]).name] if argv and argv[0] else []
    if names and names[0] in _LAUNCHERS and len(argv) > 1:
        names.append(PurePosixPath(argv[1]).name)
    return names


def _from_proc(names: Collection[str], proc_root: Path) -> list[RunningProcess]:
    found = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            comm = (entry / "comm").read_text(errors="replace").strip()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        for name in [*_program_names(argv), comm]:
            if name in names:
                found.append(RunningProcess(int(entry.name), name))
                break
    return found


def _run(argv: list[str], timeout: float = 10) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout


def _from_ps(names: Collection[str]) -> list[RunningProcess]:
    found = []
    for line in _run(["ps", "-A", "-o", "pid=", "-o", "comm="]).splitlines():
        pid, _, command = line.strip().partition(" ")
        # macOS prints the executable's full path; its last part is the program name.
        name = PurePosixPath(command.strip()).name
        if pid.isdigit() and name in names:
            found.append(RunningProcess(int(pid), name))
    return found


def _from_tasklist(names: Collection[str]) -> list[RunningProcess]:
    wanted = {name.casefold() for name in names}
    found = []
    for line in _run(["tasklist", "/fo", "csv", "/nh"]).splitlines():
        fields = [field.strip('"') for field in line.split('","')]
        if len(fields) > 1 and fields[1].isdigit():
            name = PureWindowsPath(fields[0]).name
            if name.casefold() in wanted:
                found.append(RunningProcess(int(fields[1]), name))
    return found


def child_groups(proc: Path = Path("/proc")) -> set[int]:
    """This process's children that lead a process group of their own, as the MCP SDK
    starts a server (a new session): on Linux from /proc, elsewhere on POSIX from `ps`; none
    on Windows, where the SDK ends the server's job object without a SIGTERM grace."""
    if os.name == "nt":
        return set()
    me = os.getpid()
    rows: list[tuple[int, int, int]] = []
    tasks = proc / str(me) / "task"
    if (tasks / str(me) / "children").exists():  # a kernel built without it: ps below
        pids = {int(pid) for task in tasks.iterdir() for pid in _read(task / "children").split()}
        for pid in pids:
            # After the command's name, which may hold spaces and parentheses: state, ppid,
            # pgrp.
            fields = _read(proc / str(pid) / "stat").rpartition(")")[2].split()
            if len(fields) >= 3:
                rows.append((pid, int(fields[1]), int(fields[2])))
    else:
        listing = _run(["ps", "-A", "-o", "pid=,ppid=,pgid="], timeout=5)
        rows = [
            (int(a), int(b), int(c)) for a, b, c in (line.split() for line in listing.splitlines())
        ]
    return {pid for pid, ppid, pgid in rows if ppid == me and pgid == pid}


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:  # the process has gone meanwhile
        return ""


def kill_groups(groups: set[int]) -> None:
    """Kill each process group in `groups` (a server and what it started); one that is gone
    already is passed over."""
    import signal

    for group in groups:
        with contextlib.suppress(OSError):  # gone already, or not ours to signal
            os.killpg(group, signal.SIGKILL)

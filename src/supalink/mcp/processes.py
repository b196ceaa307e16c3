"""Whether an MCP client is running.

A running client must be quit and restarted to read a changed config, and Claude
Desktop may write its file back while it runs, undoing the change. Detection
uses what every OS already has (/proc, `ps`, `tasklist`): no new dependency.
"""

from __future__ import annotations

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


def _run(argv: list[str]) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
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

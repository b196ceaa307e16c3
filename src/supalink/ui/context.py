"""What the windows are given by the composition root (app.py): services, not globals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from supalink.profiles import ProfileRepository
from supalink.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from supalink.ui.monitors import Monitors


@dataclass
class AppContext:
    repository: ProfileRepository  # profiles, and their passwords: keyring, then this session
    tasks: TaskRunner
    backup_dir: Path  # where changed MCP client config files are backed up
    keyring_description: str
    keyring_usable: bool
    monitors: Monitors | None = None  # set by the app once Qt is up
    audit_file: Path | None = None  # what the agents' servers ran, for the monitors' Agent tab

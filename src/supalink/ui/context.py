"""What the windows are given by the composition root (app.py): services, not globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from supalink.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from supalink.profiles import ProfileRepository
    from supalink.ui.monitors import Monitors


@dataclass
class AppContext:
    # Profiles, and their passwords (keyring, then this session): opened when first used,
    # which in the app is after the first frame (its modules and the settings file's checks
    # need not hold it up).
    open_repository: Callable[[], ProfileRepository]
    tasks: TaskRunner
    backup_dir: Path  # where changed MCP client config files are backed up
    keyring_description: str
    keyring_usable: bool
    monitors: Monitors | None = None  # set by the app once Qt is up
    audit_file: Path | None = None  # what the agents' servers ran, for the monitors' Agent tab

    @cached_property
    def repository(self) -> ProfileRepository:
        return self.open_repository()

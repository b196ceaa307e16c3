"""What the windows are given by the composition root (app.py): services, not globals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from supalink.paths import AppPaths
from supalink.profiles.repository import ProfileRepository
from supalink.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from supalink.ui.monitors import Monitors


@dataclass
class AppContext:
    paths: AppPaths
    repository: ProfileRepository
    tasks: TaskRunner
    keyring_description: str
    keyring_usable: bool
    # Passwords the user typed but chose not to save: this process only.
    session_passwords: dict[str, str] = field(default_factory=dict)
    monitors: Monitors | None = None  # set by the app once Qt is up

    def password_for(self, name: str) -> str | None:
        if name in self.session_passwords:
            return self.session_passwords[name]
        return self.repository.password(name)

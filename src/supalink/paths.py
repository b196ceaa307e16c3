"""Where Supalink keeps its files: one object over platformdirs, redirectable in tests."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "supalink"

# Tests and portable installs point every folder below one root with this variable.
HOME_OVERRIDE_ENV = "SUPALINK_HOME"


@dataclass(frozen=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def for_user(cls) -> AppPaths:
        """The user's folders, or those under $SUPALINK_HOME when it is set."""
        override = os.environ.get(HOME_OVERRIDE_ENV)
        if override:
            return cls.under(Path(override))
        from platformdirs import PlatformDirs

        dirs = PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            log_dir=Path(dirs.user_log_dir),
        )

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        return cls(
            config_dir=root / "config",
            data_dir=root / "data",
            log_dir=root / "log",
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "supalink.log"

    @property
    def backup_dir(self) -> Path:
        """Copies of the MCP client config files Supalink changed, the last 10 of each."""
        return self.data_dir / "backups"

    @property
    def audit_file(self) -> Path:
        """What the agents' servers ran (`supalink mcp-serve`), JSON lines, rotated by size."""
        return self.data_dir / "audit.jsonl"


def resources_dir() -> Path:
    """The shipped assets: inside the package in a wheel or a frozen build, the repository's
    `resources/` folder in an editable checkout."""
    packaged = Path(__file__).resolve().parent / "resources"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"

"""The freedesktop validators, installed with apt on Debian when missing, never skipped."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tests.support.system_tools import _apt_install

# program -> Debian package that ships it
VALIDATOR_PACKAGES = {"desktop-file-validate": "desktop-file-utils", "appstreamcli": "appstream"}


@dataclass(frozen=True)
class LinuxValidators:
    desktop_file_validate: Path
    appstreamcli: Path


def _missing() -> list[str]:
    return [program for program in VALIDATOR_PACKAGES if shutil.which(program) is None]


def ensure_linux_validators() -> LinuxValidators:
    missing = _missing()
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        _apt_install(sorted({VALIDATOR_PACKAGES[program] for program in missing}))
        missing = _missing()
    if missing:
        names = ", ".join(f"{p} (Debian package {VALIDATOR_PACKAGES[p]})" for p in missing)
        raise RuntimeError(f"the packaging tests need these programs, which are missing: {names}")
    found = {program: shutil.which(program) for program in VALIDATOR_PACKAGES}
    return LinuxValidators(
        desktop_file_validate=Path(found["desktop-file-validate"] or ""),
        appstreamcli=Path(found["appstreamcli"] or ""),
    )

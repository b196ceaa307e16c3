"""PostgreSQL and pgbouncer refuse to run as root: pick the account they run as."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from tests.support.system_tools import machine_setup

FALLBACK_USER = "supalink-test"


class AccountKwargs(TypedDict, total=False):
    """The subprocess.run/Popen keyword arguments that run a command as an account."""

    user: int
    group: int
    extra_groups: list[int]


@dataclass(frozen=True)
class ServiceAccount:
    uid: int
    gid: int
    name: str

    @property
    def is_switch_needed(self) -> bool:
        return self.uid != os.geteuid()

    def popen_kwargs(self) -> AccountKwargs:
        if not self.is_switch_needed:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def give(self, path: Path) -> None:
        """Hand a file or a whole folder to this account."""
        if not self.is_switch_needed:
            return
        for root, dirs, files in os.walk(path):
            os.chown(root, self.uid, self.gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), self.uid, self.gid)
        os.chown(path, self.uid, self.gid)


def service_account() -> ServiceAccount:
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return ServiceAccount(entry.pw_uid, entry.pw_gid, entry.pw_name)
    with machine_setup():
        for name in ("postgres", FALLBACK_USER):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return ServiceAccount(entry.pw_uid, entry.pw_gid, entry.pw_name)
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run([useradd, "--system", "--no-create-home", FALLBACK_USER], check=True)
        entry = pwd.getpwnam(FALLBACK_USER)
        return ServiceAccount(entry.pw_uid, entry.pw_gid, entry.pw_name)

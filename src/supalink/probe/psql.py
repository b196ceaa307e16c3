"""The psql command that reaches the same database as a profile, for the person to try."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from supalink.logs import MASK
from supalink.profiles import Profile, build_uri


@dataclass(frozen=True)
class PsqlCommand:
    argv: tuple[str, ...]
    # The password goes through PGPASSWORD: argv is visible to every user of the machine.
    env: Mapping[str, str] = field(default_factory=dict)

    def shell(self) -> str:
        """One line to show or copy, the password as ****."""
        prefix = f"PGPASSWORD={MASK} " if "PGPASSWORD" in self.env else ""
        return prefix + shlex.join(self.argv)


def psql_command(
    profile: Profile, password: str | None = None, program: str = "psql"
) -> PsqlCommand:
    """`psql '<URI without password>'` with sslmode and sslrootcert in the URI."""
    uri = build_uri(profile, None)
    env = {"PGPASSWORD": password} if password is not None else {}
    return PsqlCommand((program, uri), env)

"""A connection profile: a Supabase project in one mode, or any other Postgres host."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Final

from supalink import sentences
from supalink.errors import BadInput
from supalink.profiles import defaults, supabase
from supalink.profiles.supabase import Mode

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_SSLMODE = defaults.SSLMODE
DEFAULT_CONNECT_TIMEOUT = defaults.CONNECT_TIMEOUT_SECONDS
DEFAULT_APPLICATION_NAME = defaults.APPLICATION_NAME
MAX_NAME_LENGTH = 64
# What a profile can be marked, to tell a production database from the others at a glance
# (DBeaver's connection types, TablePlus's colour tags); None: not marked. The UI gives each
# its colour (ui/environment.py); writes allowed to a production database are asked twice.
PRODUCTION = "production"
ENVIRONMENTS = (PRODUCTION, "staging", "development")


# What each field holds: the form and the CLI give these types, a hand-edited settings file
# may not. (type, None allowed, the type in words)
_FIELD_KINDS: Final[dict[str, tuple[type, bool, str]]] = {
    "name": (str, False, "text"),
    "mode": (Mode, False, f"one of {', '.join(mode.value for mode in Mode)}"),
    "ref": (str, True, "text"),
    "region": (str, True, "text"),
    "pooler_index": (int, True, "a whole number"),
    "pooler_host": (str, True, "text"),
    "host": (str, True, "text"),
    "port": (int, True, "a whole number"),
    "user": (str, False, "text"),
    "database": (str, False, "text"),
    "sslmode": (str, False, "text"),
    "sslrootcert": (str, True, "text"),
    "connect_timeout": (int, False, "a whole number"),
    "application_name": (str, False, "text"),
    "environment": (str, True, "text"),
}


class ProfileError(BadInput):
    """A field is invalid; `field` names it so a form can show the message beside it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(sentences.invalid_field(field, message))
        self.field = field
        self.reason = message


@dataclass(frozen=True)
class Endpoint:
    """Where a connection goes, and as whom."""

    host: str
    port: int
    user: str
    database: str


@dataclass(frozen=True)
class Profile:
    """A saved connection, without its password."""

    name: str
    mode: Mode = Mode.DIRECT
    ref: str | None = None  # None: a custom (self-hosted, local) host
    region: str | None = None
    pooler_index: int | None = None
    pooler_host: str | None = None  # given instead of region + index
    host: str | None = None  # custom hosts only
    port: int | None = None  # custom hosts, or an explicit port override
    user: str = supabase.DEFAULT_ROLE  # the role; on the pooler it logs in as <role>.<ref>
    database: str = supabase.DEFAULT_DATABASE
    sslmode: str = DEFAULT_SSLMODE
    sslrootcert: str | None = None
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    application_name: str = DEFAULT_APPLICATION_NAME
    environment: str | None = None  # one of ENVIRONMENTS

    @property
    def is_supabase(self) -> bool:
        return self.ref is not None

    @property
    def is_production(self) -> bool:
        return self.environment == PRODUCTION

    def replace(self, **changes: object) -> Profile:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def problems(self) -> dict[str, str]:
        """Every invalid field with its message; empty when the profile is usable. A field of
        the wrong type (a hand-edited settings file) is all that is said: the checks of its
        value would not apply."""
        if found := self._type_problems():
            return found
        name_problem = profile_name_problem(self.name)
        if name_problem:
            found["name"] = name_problem
        if self.ref is not None:
            found.update(self._supabase_problems(self.ref))
        elif not self.host:
            found["host"] = "a host is needed (or a Supabase project ref)"
        elif not _is_hostname(self.host):
            found["host"] = "not a valid host name or IP address"
        if self.port is not None and not 1 <= self.port <= 65535:
            found["port"] = "a port is between 1 and 65535"
        if not self.user:
            found["user"] = "a user is needed"
        elif any(c in self.user for c in "\x00\n"):
            found["user"] = "the user name cannot hold control characters"
        if not self.database:
            found["database"] = "a database name is needed"
        found.update(self._option_problems())
        return found

    def _option_problems(self) -> dict[str, str]:
        """The connection's options and the profile's label."""
        found: dict[str, str] = {}
        if self.sslmode not in SSL_MODES:
            found["sslmode"] = f"SSL mode is one of: {', '.join(SSL_MODES)}"
        if not 1 <= self.connect_timeout <= 600:
            found["connect_timeout"] = "the connect timeout is 1 to 600 seconds"
        if len(self.application_name.encode()) > 63:
            found["application_name"] = "PostgreSQL keeps only 63 bytes of an application name"
        if self.environment is not None and self.environment not in ENVIRONMENTS:
            found["environment"] = (
                f"the environment is one of {', '.join(ENVIRONMENTS)} (or none), "
                f"not {_shown(self.environment)}"
            )
        return found

    def _type_problems(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name, (kind, optional, words) in _FIELD_KINDS.items():
            value = getattr(self, name)
            if value is None and optional:
                continue
            # bool is an int to isinstance: true is no port.
            if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
                continue
            nothing = " or nothing" if optional else ""
            found[name] = f"must be {words}{nothing}, not {_shown(value)}"
        return found

    def _supabase_problems(self, ref: str) -> dict[str, str]:
        found: dict[str, str] = {}
        if problem := supabase.ref_problem(ref):
            found["ref"] = problem
        if self.mode.on_shared_pooler and not self.pooler_host:
            if not self.region:
                found["region"] = "the pooler needs the project's region (or a pooler host)"
            elif problem := supabase.region_problem(self.region):
                found["region"] = problem
            if self.pooler_index is None:
                found["pooler_index"] = (
                    "the pooler index (the N in aws-N-<region>) cannot be guessed: "
                    "copy it from Connect in the Supabase dashboard"
                )
        if self.pooler_index is not None and not 0 <= self.pooler_index <= 99:
            found["pooler_index"] = "the pooler index is a small number such as 0 or 1"
        if self.pooler_host and not _is_hostname(self.pooler_host):
            found["pooler_host"] = "not a valid host name"
        return found

    def validated(self) -> Profile:
        """This profile, or a ProfileError for its first invalid field."""
        for field, message in self.problems().items():
            raise ProfileError(field, message)
        return self

    @property
    def login_user(self) -> str:
        if self.ref is not None and self.mode.on_shared_pooler:
            role = self.user.removesuffix(f".{self.ref}")
            return supabase.pooled_user(role, self.ref)
        return self.user

    def endpoint(self) -> Endpoint:
        if self.ref is None:
            if self.host is None:
                raise ProfileError("host", "a host is needed (or a Supabase project ref)")
            return Endpoint(self.host, self.port or 5432, self.user, self.database)
        if self.mode.on_direct_host:  # direct, or the dedicated pooler beside it
            host = supabase.direct_host(self.ref)
        elif self.pooler_host:
            host = self.pooler_host
        elif self.region is not None and self.pooler_index is not None:
            host = supabase.pooler_host(self.region, self.pooler_index)
        else:
            raise ProfileError("region", "the pooler needs the region and index, or its host")
        return Endpoint(host, self.port or self.mode.default_port, self.login_user, self.database)


def profile_name_problem(name: str) -> str | None:
    if not name.strip():
        return "a profile needs a name"
    if name != name.strip():
        return "a name cannot start or end with spaces"
    if len(name) > MAX_NAME_LENGTH:
        return f"a name is at most {MAX_NAME_LENGTH} characters"
    if hidden := next((c for c in name if _is_hidden(c)), None):
        # Said as its code point: printed, it would do what it is refused for.
        return (
            "a name cannot hold control, bidirectional or other invisible characters "
            f"(it holds U+{ord(hidden):04X})"
        )
    return None


# A name is printed in lists, prompts, Keychain Access and the MCP client's config: a
# character that is not drawn, or that moves or hides the text around it (U+202E turns
# "prod\u202eved" into "prodved" read backwards), would make it read as another name.
# Cc: control characters; Cf: format characters (bidi controls U+061C, U+200E/F,
# U+202A-U+202E, U+2066-U+2069, zero-width spaces and joiners, soft hyphen, BOM);
# Zl/Zp: line and paragraph separators; Cs: lone surrogates, which no file can hold.
_HIDDEN_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))


def _is_hidden(character: str) -> bool:
    if character.isascii():  # most names: no unicodedata to load (0.3 ms of a start)
        return not character.isprintable()
    import unicodedata

    return unicodedata.category(character) in _HIDDEN_CATEGORIES


# libpq (16 and later) reads sslrootcert=system as "the operating system's trust store".
SYSTEM_TRUST_STORE = "system"


def ca_file_problem(path: str) -> str | None:
    """Why the CA certificate file at `path` cannot verify a server: it is not there, or it
    is not a file. Asked when a profile is saved with one, not when one is read back: a
    profile whose file has gone since still opens, and its connection test says so."""
    if path == SYSTEM_TRUST_STORE:
        return None
    import os

    if os.path.isfile(path):
        return None
    if os.path.exists(path):
        return f"the CA certificate {path} is not a file"
    return f"the CA certificate file {path} does not exist"


def _is_hostname(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    if len(host) > 253 or not host:
        return False
    labels = host.rstrip(".").split(".")
    return all(
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isalnum() or c in "-_" for c in label)
        for label in labels
    )


def _shown(value: object) -> str:
    """A value as the settings file spells it, cut short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = f"the text {value!r}"
    elif isinstance(value, int | float):
        text = f"the number {value!r}"
    elif isinstance(value, list | tuple):
        return "a list"
    elif isinstance(value, dict):
        return "an object"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"

"""What can stop a role from being planned, created, shown, rotated or dropped. Each error
carries its facts; the CLI words them as its flags, the window in its own words."""

from __future__ import annotations

from supalink.errors import SupalinkError, UsageError


class InvalidRoleName(UsageError):
    """Not a plain identifier, or a name PostgreSQL keeps for itself: refused before any SQL."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name!r} is not a role name Supalink creates: {reason}")
        self.name = name
        self.reason = reason


class InvalidTableName(UsageError):
    def __init__(self, text: str) -> None:
        super().__init__(f"{text!r} is not a table written as SCHEMA.TABLE")
        self.text = text


class InvalidSpec(UsageError):
    """A setting of the role out of its range (`field` names it)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field.replace('_', ' ')}: {reason}")
        self.field = field
        self.reason = reason


class UnknownObjects(UsageError):
    """Schemas or tables asked for that the database does not have (or the admin cannot see)."""

    def __init__(self, kind: str, names: tuple[str, ...]) -> None:
        super().__init__(f"no such {kind} in the database: {', '.join(names)}")
        self.kind = kind
        self.names = names


class NeedsSavedProfile(UsageError):
    """A role is made for a saved profile: the new profile copies its connection."""

    def __init__(self) -> None:
        super().__init__("an agent role is made from a saved profile, not a bare URI")


class ProfileExists(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a profile named {name!r} already exists")
        self.name = name


class CannotCreateRoles(SupalinkError):
    """The admin login has neither CREATEROLE nor superuser."""

    def __init__(self, login: str) -> None:
        super().__init__(f"the login {login!r} cannot create roles (it has no CREATEROLE)")
        self.login = login


class CannotGrant(SupalinkError):
    """The admin login may not pass these rights on (it neither owns them nor holds them
    with the grant option)."""

    def __init__(self, login: str, names: tuple[str, ...]) -> None:
        super().__init__(f"the login {login!r} cannot grant access to: {', '.join(names)}")
        self.login = login
        self.names = names


class RoleExists(SupalinkError):
    """A role of that name is there already: Supalink never changes a role silently."""

    def __init__(self, role: str, *, made_by_supalink: bool) -> None:
        super().__init__(f"a role named {role!r} already exists")
        self.role = role
        self.made_by_supalink = made_by_supalink  # only such a role may be replaced


class RoleMissing(SupalinkError):
    def __init__(self, role: str) -> None:
        super().__init__(f"there is no role named {role!r} in the database")
        self.role = role


class RoleOwnsObjects(SupalinkError):
    """Dropping (or replacing) a role that owns something would take it with it."""

    def __init__(self, role: str, objects: tuple[str, ...]) -> None:
        shown = ", ".join(objects[:10]) + (f" and {len(objects) - 10} more" if objects[10:] else "")
        super().__init__(f"the role {role!r} owns objects: {shown}")
        self.role = role
        self.objects = objects


class NotAnAgentProfile(UsageError):
    """The profile was not made by Supalink for an agent, so no admin login is remembered."""

    def __init__(self, profile: str) -> None:
        super().__init__(f"profile {profile!r} is not an agent profile Supalink made")
        self.profile = profile


class PasswordMissing(SupalinkError):
    def __init__(self, profile: str) -> None:
        super().__init__(f"profile {profile!r} has no saved password")
        self.profile = profile


class ServerRefused(SupalinkError):
    """The server (or the connection to it) failed the work; nothing was committed.
    `text` is the server's first line, already masked."""

    def __init__(self, action: str, text: str) -> None:
        super().__init__(f"{action} failed, nothing was changed: {text}")
        self.action = action
        self.text = text


class LoginNotAccepted(SupalinkError):
    """The new password is in the database and the keyring, and the login still fails after
    the retries (a pooler's credential cache can lag behind a change)."""

    def __init__(self, profile: str, text: str, attempts: int) -> None:
        super().__init__(
            f"the new password of profile {profile!r} is saved, but the login still fails "
            f"after {attempts} tries: {text}"
        )
        self.profile = profile
        self.text = text
        self.attempts = attempts

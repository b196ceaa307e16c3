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


class UnverifiedLink(SupalinkError):
    """A link an earlier version kept: no id, so no mark in the database to check it by."""

    def __init__(self, profile: str, role: str) -> None:
        super().__init__(
            f"the agent link of profile {profile!r} (role {role!r}) was made by an earlier "
            "Supalink, without an id, and cannot be verified"
        )
        self.profile = profile
        self.role = role


class LinkMismatch(SupalinkError):
    """The link no longer matches the profile as it is now (`what`: "role", "place",
    "admin profile" or "admin's server"); `linked` is what the link holds, `now` what is."""

    def __init__(self, profile: str, what: str, linked: str, now: str, role: str = "") -> None:
        if what == "role":
            text = (
                f"profile {profile!r} logs in as {now!r}, but its agent link names role "
                f"{linked!r}: it is not the profile that role was made for"
            )
        elif what == "place":
            text = f"profile {profile!r} logs in at {now}, but its agent role was made at {linked}"
        elif what == "admin profile":
            text = f"the admin profile {linked!r} that made the role of {profile!r} is gone"
        else:
            text = (
                f"the admin profile of {profile!r} now reaches {now}, not the server its "
                f"role was made on ({linked})"
            )
        super().__init__(f"{text}; nothing was changed")
        self.profile = profile
        self.what = what
        self.linked = linked
        self.now = now
        self.role = role  # the link's role


class RoleNotMarked(SupalinkError):
    """The role in the database lacks the mark (comment) Supalink wrote on the one it made
    for this profile: another role of that name, or one Supalink never made."""

    def __init__(self, role: str, profile: str, comment: str | None) -> None:
        shown = "none" if not comment else repr(comment[:80] + ("…" if comment[80:] else ""))
        super().__init__(
            f"the role {role!r} in the database does not carry the mark Supalink wrote on the "
            f"role it made for profile {profile!r} (its comment: {shown}); nothing was changed"
        )
        self.role = role
        self.profile = profile
        self.comment = comment


class AgentProfileHasRole(SupalinkError):
    """Removing an agent profile alone would leave its role in the database."""

    def __init__(self, profile: str, role: str, admin_profile: str) -> None:
        super().__init__(
            f"profile {profile!r} is the login of role {role!r}, which Supalink made through "
            f"{admin_profile!r}: removed alone, it would leave the role in the database"
        )
        self.profile = profile
        self.role = role
        self.admin_profile = admin_profile


class PendingChange(SupalinkError):
    """A change to this profile or role was interrupted and could not be settled yet (the
    database did not answer): nothing more is changed until it is."""

    def __init__(self, action: str, profile: str, role: str, started: str) -> None:
        super().__init__(
            f"the {action} of role {role!r} (profile {profile!r}) interrupted at {started} "
            "is not settled yet; nothing was changed"
        )
        self.action = action
        self.profile = profile
        self.role = role
        self.started = started


class ChangeUnfinished(SupalinkError):
    """The database has the change, and a later step (the keyring, the settings file)
    failed: the journal keeps it, and it is finished when the journal is next read."""

    def __init__(self, action: str, profile: str, role: str, cause: str) -> None:
        super().__init__(
            f"the {action} of role {role!r} is in the database, and updating profile "
            f"{profile!r} failed: {cause}; it is kept in the journal and finished next time"
        )
        self.action = action
        self.profile = profile
        self.role = role
        self.cause = cause


class CannotAdopt(SupalinkError):
    """A role taken on as an agent's must be one its profile logs in as, with no power an
    agent's own role would not have."""

    def __init__(self, profile: str, role: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"role {role!r} cannot become the agent role of {profile!r}: {reason}")
        self.profile = profile
        self.role = role
        self.reason = reason
        self.field = field  # "admin": the admin profile is what is missing or wrong

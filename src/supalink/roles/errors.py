"""What can stop a role from being planned, created, shown, rotated or dropped. Each error
carries its facts and its kind; its sentence is in sentences.py, the CLI adds its flags and
the window its own fields. A profile name taken is profiles' ProfileExists."""

from __future__ import annotations

from supalink import sentences
from supalink.errors import BadInput, SupalinkError


class InvalidRoleName(BadInput):
    """Not a plain identifier, or a name PostgreSQL keeps for itself: refused before any SQL."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(sentences.invalid_role_name(name, reason))
        self.name = name
        self.reason = reason


class InvalidTableName(BadInput):
    def __init__(self, text: str) -> None:
        super().__init__(sentences.invalid_table_name(text))
        self.text = text


class InvalidSpec(BadInput):
    """A setting of the role out of its range (`field` names it)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(sentences.invalid_field(field, reason))
        self.field = field
        self.reason = reason


class UnknownObjects(BadInput):
    """Schemas or tables asked for that the database does not have (or the admin cannot see)."""

    def __init__(self, what: str, names: tuple[str, ...]) -> None:
        super().__init__(sentences.unknown_objects(what, names))
        self.what = what  # "schema" or "table"
        self.names = names


class NeedsSavedProfile(BadInput):
    """A role is made for a saved profile: the new profile copies its connection."""

    def __init__(self) -> None:
        super().__init__(sentences.needs_saved_profile())


class NotAnAgentProfile(BadInput):
    """The profile was not made by Supalink for an agent, so no admin login is remembered."""

    def __init__(self, profile: str) -> None:
        super().__init__(sentences.not_an_agent_profile(profile))
        self.profile = profile


class CannotCreateRoles(SupalinkError):
    """The admin login has neither CREATEROLE nor superuser."""

    def __init__(self, login: str) -> None:
        super().__init__(sentences.cannot_create_roles(login))
        self.login = login


class CannotGrant(SupalinkError):
    """The admin login may not pass these rights on (it neither owns them nor holds them
    with the grant option)."""

    def __init__(self, login: str, names: tuple[str, ...]) -> None:
        super().__init__(sentences.cannot_grant(login, names))
        self.login = login
        self.names = names


class RoleExists(SupalinkError):
    """A role of that name is there already: Supalink never changes a role silently."""

    def __init__(self, role: str, *, made_by_supalink: bool) -> None:
        super().__init__(sentences.role_exists(role))
        self.role = role
        self.made_by_supalink = made_by_supalink  # only such a role may be replaced


class RoleMissing(SupalinkError):
    def __init__(self, role: str) -> None:
        super().__init__(sentences.role_missing(role))
        self.role = role


class RoleOwnsObjects(SupalinkError):
    """Dropping (or replacing) a role that owns something would take it with it."""

    def __init__(self, role: str, objects: tuple[str, ...]) -> None:
        super().__init__(sentences.role_owns_objects(role, objects))
        self.role = role
        self.objects = objects


class PasswordMissing(SupalinkError):
    def __init__(self, profile: str) -> None:
        super().__init__(sentences.password_missing(profile))
        self.profile = profile


class ServerRefused(SupalinkError):
    """The server (or the connection to it) failed the work; nothing was committed.
    `text` is the server's first line, already masked."""

    def __init__(self, action: str, text: str) -> None:
        super().__init__(sentences.server_refused(action, text))
        self.action = action
        self.text = text


class LoginNotAccepted(SupalinkError):
    """The new password is in the database and the keyring, and the login still fails after
    the retries (a pooler's credential cache can lag behind a change)."""

    def __init__(self, profile: str, text: str, attempts: int) -> None:
        super().__init__(sentences.login_not_accepted(profile, text, attempts))
        self.profile = profile
        self.text = text
        self.attempts = attempts


class UnverifiedLink(SupalinkError):
    """A link an earlier version kept: no id, so no mark in the database to check it by."""

    def __init__(self, profile: str, role: str) -> None:
        super().__init__(sentences.unverified_link(profile, role))
        self.profile = profile
        self.role = role


class LinkMismatch(SupalinkError):
    """The link no longer matches the profile as it is now (`what`: "role", "place",
    "admin profile" or "admin's server"); `linked` is what the link holds, `now` what is."""

    def __init__(self, profile: str, what: str, linked: str, now: str, role: str = "") -> None:
        super().__init__(sentences.link_mismatch(profile, what, linked, now))
        self.profile = profile
        self.what = what
        self.linked = linked
        self.now = now
        self.role = role  # the link's role


class RoleNotMarked(SupalinkError):
    """The role in the database lacks the mark (comment) Supalink wrote on the one it made
    for this profile: another role of that name, or one Supalink never made."""

    def __init__(self, role: str, profile: str, comment: str | None) -> None:
        super().__init__(sentences.role_not_marked(role, profile, comment))
        self.role = role
        self.profile = profile
        self.comment = comment


class AgentProfileHasRole(SupalinkError):
    """Removing an agent profile alone would leave its role in the database."""

    def __init__(self, profile: str, role: str, admin_profile: str) -> None:
        super().__init__(sentences.agent_profile_has_role(profile, role, admin_profile))
        self.profile = profile
        self.role = role
        self.admin_profile = admin_profile


class PendingChange(SupalinkError):
    """A change to this profile or role was interrupted and could not be settled yet (the
    database did not answer): nothing more is changed until it is."""

    def __init__(self, action: str, profile: str, role: str, started: str) -> None:
        super().__init__(sentences.pending_change(action, profile, role, started))
        self.action = action
        self.profile = profile
        self.role = role
        self.started = started


class ChangeUnfinished(SupalinkError):
    """The database has the change, and a later step (the keyring, the settings file)
    failed: the journal keeps it, and it is finished when the journal is next read."""

    def __init__(self, action: str, profile: str, role: str, cause: str) -> None:
        super().__init__(sentences.change_unfinished(action, profile, role, cause))
        self.action = action
        self.profile = profile
        self.role = role
        self.cause = cause


class CannotAdopt(SupalinkError):
    """A role taken on as an agent's must be one its profile logs in as, with no power an
    agent's own role would not have."""

    def __init__(self, profile: str, role: str, reason: str, *, field: str | None = None) -> None:
        super().__init__(sentences.cannot_adopt(profile, role, reason))
        self.profile = profile
        self.role = role
        self.reason = reason
        self.field = field  # "admin": the admin profile is what is missing or wrong

"""What the errors of profiles/, roles/ and supabase_api/ say: one function per sentence,
named by what it says, from the facts the error carries.

The error classes call them, so a sentence reads the same in the CLI, in a window and in
an MCP client's log; commands/ adds its flags and ui/ its buttons after it. No sentence
here names a CLI flag or a button. Nothing here holds a secret: a server's text reaches
these functions already masked.
"""

from __future__ import annotations

from collections.abc import Sequence

# --- profiles -----------------------------------------------------------------------------


def invalid_field(field: str, reason: str) -> str:
    """A field of a profile (or of a role's settings) that cannot be, and why."""
    return f"{field.replace('_', ' ')}: {reason}"


# What to do without a keyring, after any "no usable keyring" error.
NO_KEYRING_ADVICE = (
    "Supalink keeps project refs and passwords only in the OS keyring "
    "(Secret Service/GNOME Keyring or KWallet on Linux, Keychain on macOS, Credential Manager "
    "on Windows). On a Linux desktop, install and unlock gnome-keyring or KWallet. Without a "
    "keyring, Supabase profiles cannot be saved: give the URI to each command instead "
    "(custom-host profiles can be saved without their password)."
)


def no_usable_keyring(why: str) -> str:
    """The short form, for a list's line or the window's keyring label."""
    return f"no usable keyring: {why}"


def keyring_unusable(why: str, detail: str | None = None) -> str:
    said = no_usable_keyring(why) if detail is None else f"{no_usable_keyring(why)}: {detail}"
    return f"{said}. {NO_KEYRING_ADVICE}"


def keyring_refused(store: str, action: str, kind: str, error: str) -> str:
    return f"{store} could not {action} the {kind}: {error}"


def keyring_refused_whole(reason: str, *, locked: bool) -> str:
    """`keyring_refused`'s reason, and what to do when the keyring is locked."""
    if locked:
        return (
            f"{reason}. The keyring is locked: unlock it (log in to your desktop session) "
            "and retry."
        )
    return f"{reason}."


def profile_not_found(profile: str) -> str:
    return f"no profile named {profile!r}"


def profile_exists(profile: str) -> str:
    return f"a profile named {profile!r} already exists"


def project_ref_missing(profile: str, store: str) -> str:
    return (
        f"the project ref of profile {profile!r} is missing from the keyring ({store}); "
        "add the profile again"
    )


def password_not_in_keyring(profile: str, store: str) -> str:
    return (
        f"profile {profile!r} has no password in the keyring ({store}); save it in "
        "Supalink, then restart the client"
    )


def password_missing_from_keyring(profile: str, store: str) -> str:
    return (
        f"the keyring entry for the password of profile {profile!r} is missing ({store}): "
        "it was deleted outside Supalink; save the password again"
    )


def locked(reason: str) -> str:
    """How a locked profile's state reads, in a list and in an error."""
    return f"locked: the keyring did not answer: {reason}"


def profile_locked(profile: str, reason: str) -> str:
    return f"profile {profile!r} is {locked(reason)}"


def profile_not_saved(profile: str, kinds: Sequence[str], reason: str) -> str:
    """A change the keyring refused before anything was written."""
    verb = "is" if len(kinds) == 1 else "are"
    return (
        f"profile {profile!r} was not saved: its {' and '.join(kinds)} {verb} kept only in "
        f"the keyring, which did not answer: {reason}. A custom-host profile saves without "
        "its password."
    )


# --- roles --------------------------------------------------------------------------------


def invalid_role_name(name: str, reason: str) -> str:
    return f"{name!r} is not a role name Supalink creates: {reason}"


def invalid_table_name(text: str) -> str:
    return f"{text!r} is not a table written as SCHEMA.TABLE"


def unknown_objects(what: str, names: Sequence[str]) -> str:
    return f"no such {what} in the database: {', '.join(names)}"


def needs_saved_profile() -> str:
    return "an agent role is made from a saved profile, not a bare URI"


def not_an_agent_profile(profile: str) -> str:
    return f"profile {profile!r} is not an agent profile Supalink made"


def password_missing(profile: str) -> str:
    return f"profile {profile!r} has no saved password"


def cannot_create_roles(login: str) -> str:
    return f"the login {login!r} cannot create roles (it has no CREATEROLE)"


def cannot_grant(login: str, names: Sequence[str]) -> str:
    return f"the login {login!r} cannot grant access to: {', '.join(names)}"


def role_exists(role: str) -> str:
    return f"a role named {role!r} already exists"


def role_missing(role: str) -> str:
    return f"there is no role named {role!r} in the database"


def role_owns_objects(role: str, objects: Sequence[str]) -> str:
    shown = ", ".join(objects[:10]) + (f" and {len(objects) - 10} more" if objects[10:] else "")
    return f"the role {role!r} owns objects: {shown}"


def server_refused(action: str, text: str) -> str:
    return f"{action} failed, nothing was changed: {text}"


def login_not_accepted(profile: str, text: str, attempts: int) -> str:
    return (
        f"the new password of profile {profile!r} is saved, but the login still fails "
        f"after {attempts} tries: {text}"
    )


def unverified_link(profile: str, role: str) -> str:
    return (
        f"the agent link of profile {profile!r} (role {role!r}) was made by an earlier "
        "Supalink, without an id, and cannot be verified"
    )


def link_mismatch(profile: str, what: str, linked: str, now: str) -> str:
    """`what` no longer matches: "role", "place", "admin profile" or "admin's server"."""
    texts = {
        "role": f"profile {profile!r} logs in as {now!r}, but its agent link names role "
        f"{linked!r}: it is not the profile that role was made for",
        "place": f"profile {profile!r} logs in at {now}, but its agent role was made at {linked}",
        "admin profile": f"the admin profile {linked!r} that made the role of {profile!r} is gone",
        "admin's server": f"the admin profile of {profile!r} now reaches {now}, not the server "
        f"its role was made on ({linked})",
    }
    return f"{texts[what]}; nothing was changed"


def role_not_marked(role: str, profile: str, comment: str | None) -> str:
    shown = "none" if not comment else repr(comment[:80] + ("…" if comment[80:] else ""))
    return (
        f"the role {role!r} in the database does not carry the mark Supalink wrote on the "
        f"role it made for profile {profile!r} (its comment: {shown}); nothing was changed"
    )


def agent_profile_has_role(profile: str, role: str, admin_profile: str) -> str:
    return (
        f"profile {profile!r} is the login of role {role!r}, which Supalink made through "
        f"{admin_profile!r}: removed alone, it would leave the role in the database"
    )


def pending_change(action: str, profile: str, role: str, started: str) -> str:
    return (
        f"the {action} of role {role!r} (profile {profile!r}) interrupted at {started} "
        "is not settled yet; nothing was changed"
    )


def change_unfinished(action: str, profile: str, role: str, cause: str) -> str:
    return (
        f"the {action} of role {role!r} is in the database, and updating profile "
        f"{profile!r} failed: {cause}; it is kept in the journal and finished next time"
    )


def cannot_adopt(profile: str, role: str, reason: str) -> str:
    return f"role {role!r} cannot become the agent role of {profile!r}: {reason}"


# --- supabase_api -------------------------------------------------------------------------


def api_url_refused(url: str, reason: str) -> str:
    return f"SUPALINK_SUPABASE_API={url!r} is refused: {reason}"


def invalid_ref(ref: str, reason: str) -> str:
    return f"{ref!r}: {reason}"


def not_signed_in(store: str) -> str:
    return f"not signed in to Supabase: no access token in {store}"


def token_rejected() -> str:
    return "Supabase rejected the access token (401): it is wrong, expired or revoked"


def missing_permissions(what: str, permissions: Sequence[str], message: str | None) -> str:
    named = ", ".join(permissions) if permissions else None
    lacks = f"lacks {named}" if named else f"lacks a permission ({message or 'no detail'})"
    return f"the access token may not read {what} (403): it {lacks}"


def project_not_found(ref: str) -> str:
    return f"no project {ref!r} among those the access token can see"


def project_not_ready(ref: str, name: str, status: str, *, paused: bool) -> str:
    state = "paused" if paused else "not healthy"
    return (
        f"project {name!r} ({ref}) is {state} (status {status}): "
        "restore or wait for it in the Supabase dashboard, then try again"
    )


def no_dedicated_pooler(ref: str) -> str:
    return f"project {ref!r} has no dedicated pooler (it comes with Micro compute and up)"


def api_unreachable(url: str, cause: str) -> str:
    return f"cannot reach the Supabase Management API at {url}: {cause}"


def rate_limited(retry_after: int) -> str:
    return (
        f"the Supabase Management API is rate limiting this token (429): "
        f"try again in {retry_after} s"
    )


def unexpected_answer(path: str, detail: str) -> str:
    return f"the Supabase Management API answered {path} unexpectedly: {detail}"


# --- profiles: export and import ----------------------------------------------------------


def exported_without_ref(profile: str, reason: str) -> str:
    """A Supabase profile whose ref could not be read: it goes out without it."""
    return (
        f"profile {profile!r} was exported without its project ref ({reason}); whoever "
        "imports it is asked for it"
    )


def ref_not_in_keyring() -> str:
    return "it is not in the keyring"


def not_a_profiles_file(source: str, why: str) -> str:
    return f"{source} is not a file of exported Supalink profiles: {why}; nothing was imported"


def newer_profiles_file(source: str, version: int, reads: int) -> str:
    return (
        f"{source} holds profiles in format {version}, written by a newer Supalink (this one "
        f"reads format {reads}): update Supalink; nothing was imported"
    )


def import_problem(position: int, name: str | None, problem: str) -> str:
    """One profile of an import file that cannot be imported: by its place, and its name."""
    named = f" ({name!r})" if name else ""
    return f"profile {position}{named}: {problem}"


def ref_of_custom_host() -> str:
    return "a custom-host profile has no project ref"


def name_twice_in_file() -> str:
    return "the file holds this name more than once"


def import_refused(source: str, problems: Sequence[str]) -> str:
    """Every problem of an import file, said at once."""
    count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
    return f"{source} has {count}, nothing was imported: {'; '.join(problems)}"


def import_clashes(names: Sequence[str]) -> str:
    listed = ", ".join(repr(name) for name in names)
    many = len(names) > 1
    return (
        f"{'profiles' if many else 'a profile'} named {listed} {'are' if many else 'is'} "
        "saved here already; nothing was imported"
    )


def refs_needed(names: Sequence[str]) -> str:
    listed = ", ".join(repr(name) for name in names)
    which = "profiles" if len(names) > 1 else "profile"
    return (
        f"the project ref of {which} {listed} is not in the file (the keyring that held it "
        "was locked when it was exported) and must be entered; nothing was imported"
    )


# --- mcp: Claude Desktop Extensions -------------------------------------------------------


def extension_needs_keyring(profile: str) -> str:
    """A bundle's server reads the password from the keyring when Claude starts it: a
    profile whose password is kept nowhere, or in this session only, would never connect."""
    return (
        f"profile {profile!r} has no password in the keyring, so the extension's server "
        "would have nothing to connect with: save the profile's password in the keyring first"
    )

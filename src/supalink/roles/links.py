"""Which admin profile made which agent profile, and how Supalink knows the link still points
at what it was made for.

A link is kept in the settings file's preferences under the agent profile's name (names,
the server's place and a random id; no secret): the role, the admin profile, the host, port
and database the agent logs in to, and the id that Supalink also wrote on the role in the
database (`COMMENT ON ROLE … IS 'supalink agent <id>'`, in the transaction that created it).
Rotate and drop act only when the link matches the profile as it is now and the role in the
database carries that mark: a profile removed and added again for another login, a
hand-edited link, or a role Supalink never made, is refused before anything changes."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from supalink.profiles import Profile, ProfileRepository
from supalink.roles.errors import (
    AgentProfileHasRole,
    LinkMismatch,
    NotAnAgentProfile,
    UnverifiedLink,
)

PREFERENCE = "agent_roles"


def new_link_id() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Place:
    """Where a profile logs in: host, port and database, as the endpoint reaches them. A
    Supabase project's ref stays in the keyring: the host holds `<ref>` in its place, and
    `project` a fingerprint of the ref that tells two projects apart."""

    host: str
    port: int
    database: str
    project: str | None = None

    @classmethod
    def of(cls, profile: Profile) -> Place:
        endpoint = profile.endpoint()
        if profile.ref is None:
            return cls(endpoint.host, endpoint.port, endpoint.database)
        fingerprint = hashlib.sha256(f"supalink project {profile.ref}".encode()).hexdigest()
        host = endpoint.host.replace(profile.ref, "<ref>")
        return cls(host, endpoint.port, endpoint.database, fingerprint[:16])

    def same_server(self, other: Place) -> bool:
        """One project (whatever the connection mode), or one host and port."""
        if self.project is not None or other.project is not None:
            return self.project == other.project
        return (self.host, self.port) == (other.host, other.port)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class AgentLink:
    profile: str  # the agent's profile
    admin_profile: str  # the profile whose login created the role
    role: str
    id: str | None = None  # None: made by an earlier version, which wrote no id
    place: Place | None = None  # where the agent's profile logged in when it was made

    def as_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {"admin": self.admin_profile, "role": self.role}
        if self.id is not None:
            item["id"] = self.id
        if self.place is not None:
            item["host"], item["port"] = self.place.host, self.place.port
            item["database"], item["project"] = self.place.database, self.place.project
        return item

    @classmethod
    def from_item(cls, profile: str, item: object) -> AgentLink | None:
        """A stored link, None when it is not one. Without an id, or with its place not all
        there (a hand edit), it has no id: unverified."""
        if not isinstance(item, dict) or not {"admin", "role"} <= item.keys():
            return None
        found = cls(profile, str(item["admin"]), str(item["role"]))
        link_id, host, port, database = (item.get(k) for k in ("id", "host", "port", "database"))
        project = item.get("project")
        if not (isinstance(link_id, str) and link_id and isinstance(host, str)):
            return found
        if not (isinstance(port, int) and isinstance(database, str)):
            return found
        if project is not None and not isinstance(project, str):
            return found
        return cls(
            profile, found.admin_profile, found.role, link_id, Place(host, port, database, project)
        )


def agent_profile(admin: Profile, name: str, role: str) -> Profile:
    """The agent's profile: the admin's host, port, database, mode and TLS settings, logging
    in as `role` (Profile.endpoint adds `.<ref>` on Supabase's shared pooler)."""
    return admin.replace(name=name, user=role)


def profile_role(profile: Profile) -> str:
    """The role a profile logs in as, without the shared pooler's `.<ref>`."""
    return profile.user.removesuffix(f".{profile.ref}") if profile.ref else profile.user


def _links(repository: ProfileRepository) -> dict[str, Any]:
    stored = repository.preference(PREFERENCE, {})
    return dict(stored) if isinstance(stored, dict) else {}


def stored_link(repository: ProfileRepository, profile: str) -> AgentLink | None:
    """The link kept under `profile`'s name, as stored, whatever the profile is now."""
    return AgentLink.from_item(profile, _links(repository).get(profile))


def link_of(repository: ProfileRepository, profile: str) -> AgentLink:
    """The link of an existing profile, as stored (not checked: see `verified`)."""
    repository.record(profile)  # ProfileNotFound first: the profile itself may be missing
    link = stored_link(repository, profile)
    if link is None:
        raise NotAnAgentProfile(profile)
    return link


def verified(repository: ProfileRepository, profile: str) -> AgentLink:
    """The link of `profile` when it matches the profile as it is now: it has an id, the
    profile logs in as its role at its place, and its admin profile is there and reaches
    the same server. The role's mark in the database is checked by whoever connects."""
    link = link_of(repository, profile)
    if link.id is None or link.place is None:
        raise UnverifiedLink(profile, link.role)
    agent = repository.load(profile).profile
    if (role := profile_role(agent)) != link.role:
        raise LinkMismatch(profile, "role", link.role, role, link.role)
    if (place := Place.of(agent)) != link.place:
        raise LinkMismatch(profile, "place", str(link.place), str(place), link.role)
    if link.admin_profile not in repository.names():
        raise LinkMismatch(profile, "admin profile", link.admin_profile, "", link.role)
    admin = Place.of(repository.load(link.admin_profile).profile)
    if not admin.same_server(link.place):
        raise LinkMismatch(profile, "admin's server", str(link.place), str(admin), link.role)
    return link


def is_linked_login(repository: ProfileRepository, link: AgentLink) -> bool:
    """Whether profile `link.profile` is there and logs in as the link's role at its place."""
    if link.profile not in repository.names():
        return False
    agent = repository.load(link.profile).profile
    return profile_role(agent) == link.role and Place.of(agent) == link.place


def profile_of(repository: ProfileRepository, link: AgentLink) -> str | None:
    """The profile a half-done change finishes on: the one whose stored link has this link's
    id (its own name, or the name it was renamed to meanwhile) and that still logs in as
    its role at its place; None when there is none."""
    names = [link.profile] + [name for name in _links(repository) if name != link.profile]
    for name in names:
        stored = stored_link(repository, name)
        found = stored is not None and stored.id == link.id and name in repository.names()
        if found and stored is not None and is_linked_login(repository, stored):
            return name
    return None


def remember(repository: ProfileRepository, link: AgentLink) -> None:
    links = _links(repository)
    links[link.profile] = link.as_item()
    repository.set_preference(PREFERENCE, links)


def forget(repository: ProfileRepository, profile: str) -> None:
    """Forget the link kept under `profile` (none: nothing is written)."""
    links = _links(repository)
    if links.pop(profile, None) is not None:
        repository.set_preference(PREFERENCE, links)


def forget_id(repository: ProfileRepository, link_id: str | None) -> None:
    """Forget every link with this id (a dropped role's, under whatever name it is kept)."""
    links = _links(repository)
    kept = {name: item for name, item in links.items() if not _has_id(item, link_id)}
    if link_id is not None and kept != links:
        repository.set_preference(PREFERENCE, kept)


def _has_id(item: object, link_id: str | None) -> bool:
    return isinstance(item, dict) and item.get("id") == link_id


def renamed_in(preferences: dict[str, Any], old: str, new: str) -> bool:
    """Carry the links of a renamed profile in a settings document's preferences: the link
    kept under `old` (an agent profile's) goes under `new`, and links whose admin was `old`
    name `new`. True when anything changed. Pure, for a repository that renames in one
    write of the settings file."""
    stored = preferences.get(PREFERENCE)
    if not isinstance(stored, dict):
        return False
    links = dict(stored)
    changed = False
    if old in links:
        links[new] = links.pop(old)
        changed = True
    for name, item in links.items():
        if isinstance(item, dict) and item.get("admin") == old:
            links[name] = {**item, "admin": new}
            changed = True
    if changed:
        preferences[PREFERENCE] = links
    return changed


def removed_in(preferences: dict[str, Any], name: str) -> bool:
    """Drop the link kept under a removed profile's name from a settings document's
    preferences; True when there was one. Pure, like `renamed_in`."""
    stored = preferences.get(PREFERENCE)
    if not isinstance(stored, dict) or name not in stored:
        return False
    preferences[PREFERENCE] = {key: item for key, item in stored.items() if key != name}
    return True


def with_links_renamed(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    """For `repository.rename(old, new, also=...)`: the links follow the profile in the same
    settings write as the rename."""

    def change(preferences: dict[str, Any]) -> None:
        renamed_in(preferences, old, new)

    return change


def with_link_removed(name: str) -> Callable[[dict[str, Any]], None]:
    """For `repository.remove(name, also=...)`: its link goes in the same settings write as
    the profile (after `check_removal`)."""

    def change(preferences: dict[str, Any]) -> None:
        removed_in(preferences, name)

    return change


def link_renamed(repository: ProfileRepository, old: str, new: str) -> None:
    """After `repository.rename(old, new)`: the links follow the profile (one settings
    write; nothing when `old` had no link and made no role)."""
    preferences = {PREFERENCE: _links(repository)}
    if renamed_in(preferences, old, new):
        repository.set_preference(PREFERENCE, preferences[PREFERENCE])


def check_removal(repository: ProfileRepository, name: str, *, keep_role: bool) -> AgentLink | None:
    """Before removing profile `name`: its link when it is the login of a role Supalink made
    (None when it is not). Refused with AgentProfileHasRole unless `keep_role`: removed
    alone, the profile would leave its role in the database, with a login no one holds."""
    link = stored_link(repository, name)
    if link is None:
        return None
    # Read without the keyring: the stored user is the role (the pooler's suffix is added
    # when it connects). A link left by a profile of that name removed before is not its.
    user = repository.record(name).profile.user
    if user != link.role and not user.startswith(f"{link.role}."):
        return None
    if not keep_role:
        raise AgentProfileHasRole(name, link.role, link.admin_profile)
    return link

"""Which admin profile made which agent profile: kept in the settings file's preferences
(names only, no secret), so rotate and drop act through the login that made the role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from supalink.profiles import Profile, ProfileRepository
from supalink.roles.errors import NotAnAgentProfile

PREFERENCE = "agent_roles"


@dataclass(frozen=True)
class AgentLink:
    profile: str  # the agent's profile
    admin_profile: str  # the profile whose login created the role
    role: str


def agent_profile(admin: Profile, name: str, role: str) -> Profile:
    """The agent's profile: the admin's host, port, database, mode and TLS settings, logging
    in as `role` (Profile.endpoint adds `.<ref>` on Supabase's shared pooler)."""
    return admin.replace(name=name, user=role)


def _links(repository: ProfileRepository) -> dict[str, Any]:
    stored = repository.preference(PREFERENCE, {})
    return dict(stored) if isinstance(stored, dict) else {}


def link_of(repository: ProfileRepository, profile: str) -> AgentLink:
    repository.record(profile)  # ProfileNotFound first: the profile itself may be missing
    item = _links(repository).get(profile)
    if not isinstance(item, dict) or not {"admin", "role"} <= item.keys():
        raise NotAnAgentProfile(profile)
    return AgentLink(profile, str(item["admin"]), str(item["role"]))


def remember(repository: ProfileRepository, link: AgentLink) -> None:
    links = _links(repository)
    links[link.profile] = {"admin": link.admin_profile, "role": link.role}
    repository.set_preference(PREFERENCE, links)


def forget(repository: ProfileRepository, profile: str) -> None:
    links = _links(repository)
    if links.pop(profile, None) is not None:
        repository.set_preference(PREFERENCE, links)

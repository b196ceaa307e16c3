"""Least-privilege database roles for agents: plan and create one through an admin login
(the SQL previewed with its password masked, run in one transaction, the new profile's
password straight into the keyring), describe what any login can see, rotate its password
and drop it through the admin that made it. No Qt; each module loads on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.roles.create import RolePlan, apply, plan_create
    from supalink.roles.errors import (
        CannotCreateRoles,
        CannotGrant,
        InvalidRoleName,
        InvalidSpec,
        InvalidTableName,
        LoginNotAccepted,
        NeedsSavedProfile,
        NotAnAgentProfile,
        PasswordMissing,
        ProfileExists,
        RoleExists,
        RoleMissing,
        RoleOwnsObjects,
        ServerRefused,
        UnknownObjects,
    )
    from supalink.roles.lifecycle import DropPlan, Rotated, drop, plan_drop, rotate
    from supalink.roles.links import AgentLink, link_of
    from supalink.roles.powers import LoginPowers, Power, read_powers
    from supalink.roles.report import RoleReport, describe
    from supalink.roles.spec import (
        RoleSpec,
        TableName,
        default_role_name,
        role_name_problem,
    )
    from supalink.roles.verdict import TooPowerful, known_by_name, login_role, too_powerful

_HOMES = {
    "create": ("RolePlan", "apply", "plan_create"),
    "errors": (
        "CannotCreateRoles",
        "CannotGrant",
        "InvalidRoleName",
        "InvalidSpec",
        "InvalidTableName",
        "LoginNotAccepted",
        "NeedsSavedProfile",
        "NotAnAgentProfile",
        "PasswordMissing",
        "ProfileExists",
        "RoleExists",
        "RoleMissing",
        "RoleOwnsObjects",
        "ServerRefused",
        "UnknownObjects",
    ),
    "lifecycle": ("DropPlan", "Rotated", "drop", "plan_drop", "rotate"),
    "links": ("AgentLink", "link_of"),
    "powers": ("LoginPowers", "Power", "read_powers"),
    "report": ("RoleReport", "describe"),
    "spec": ("RoleSpec", "TableName", "default_role_name", "role_name_problem"),
    "verdict": ("TooPowerful", "known_by_name", "login_role", "too_powerful"),
}
__getattr__ = lazy_attributes(__name__, _HOMES)
__all__ = [
    "AgentLink",
    "CannotCreateRoles",
    "CannotGrant",
    "DropPlan",
    "InvalidRoleName",
    "InvalidSpec",
    "InvalidTableName",
    "LoginNotAccepted",
    "LoginPowers",
    "NeedsSavedProfile",
    "NotAnAgentProfile",
    "PasswordMissing",
    "Power",
    "ProfileExists",
    "RoleExists",
    "RoleMissing",
    "RoleOwnsObjects",
    "RolePlan",
    "RoleReport",
    "RoleSpec",
    "Rotated",
    "ServerRefused",
    "TableName",
    "TooPowerful",
    "UnknownObjects",
    "apply",
    "default_role_name",
    "describe",
    "drop",
    "known_by_name",
    "link_of",
    "login_role",
    "plan_create",
    "plan_drop",
    "read_powers",
    "role_name_problem",
    "rotate",
    "too_powerful",
]

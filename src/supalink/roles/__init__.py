"""Least-privilege database roles for agents: plan and create one through an admin login
(the SQL previewed with its password masked, run in one transaction, the new profile's
password straight into the keyring), describe what any login can see, rotate its password
and drop it through the admin that made it, only while its link matches the profile and the
role carries Supalink's mark; each change journaled, so the next one settles any that was
interrupted (`recover`). No Qt; each module loads on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from supalink.lazy import lazy_attributes

if TYPE_CHECKING:
    from supalink.roles.adoption import adopt
    from supalink.roles.create import RolePlan, apply, plan_create
    from supalink.roles.errors import (
        AgentProfileHasRole,
        CannotAdopt,
        CannotCreateRoles,
        CannotGrant,
        ChangeUnfinished,
        InvalidRoleName,
        InvalidSpec,
        InvalidTableName,
        LinkMismatch,
        LoginNotAccepted,
        NeedsSavedProfile,
        NotAnAgentProfile,
        PasswordMissing,
        PendingChange,
        RoleExists,
        RoleMissing,
        RoleNotMarked,
        RoleOwnsObjects,
        ServerRefused,
        UnknownObjects,
        UnverifiedLink,
    )
    from supalink.roles.journal import pending_login_password
    from supalink.roles.lifecycle import DropPlan, Rotated, drop, plan_drop, rotate
    from supalink.roles.links import (
        AgentLink,
        check_removal,
        forget,
        link_of,
        link_renamed,
        removed_in,
        renamed_in,
        with_link_removed,
        with_links_renamed,
    )
    from supalink.roles.powers import LoginPowers, Power, read_powers
    from supalink.roles.report import RoleReport, describe
    from supalink.roles.settle import Settled, Unsettled, changes_under_way, recover
    from supalink.roles.spec import (
        RoleSpec,
        TableName,
        default_role_name,
        role_name_problem,
    )
    from supalink.roles.verdict import TooPowerful, known_by_name, login_role, too_powerful

_HOMES = {
    "adoption": ("adopt",),
    "create": ("RolePlan", "apply", "plan_create"),
    "errors": (
        "AgentProfileHasRole",
        "CannotAdopt",
        "CannotCreateRoles",
        "CannotGrant",
        "ChangeUnfinished",
        "InvalidRoleName",
        "InvalidSpec",
        "InvalidTableName",
        "LinkMismatch",
        "LoginNotAccepted",
        "NeedsSavedProfile",
        "NotAnAgentProfile",
        "PasswordMissing",
        "PendingChange",
        "RoleExists",
        "RoleMissing",
        "RoleNotMarked",
        "RoleOwnsObjects",
        "ServerRefused",
        "UnknownObjects",
        "UnverifiedLink",
    ),
    "journal": ("pending_login_password",),
    "lifecycle": ("DropPlan", "Rotated", "drop", "plan_drop", "rotate"),
    "links": (
        "AgentLink",
        "check_removal",
        "forget",
        "link_of",
        "link_renamed",
        "removed_in",
        "renamed_in",
        "with_link_removed",
        "with_links_renamed",
    ),
    "powers": ("LoginPowers", "Power", "read_powers"),
    "report": ("RoleReport", "describe"),
    "settle": ("Settled", "Unsettled", "changes_under_way", "recover"),
    "spec": ("RoleSpec", "TableName", "default_role_name", "role_name_problem"),
    "verdict": ("TooPowerful", "known_by_name", "login_role", "too_powerful"),
}
__getattr__ = lazy_attributes(__name__, _HOMES)
__all__ = [
    "AgentLink",
    "AgentProfileHasRole",
    "CannotAdopt",
    "CannotCreateRoles",
    "CannotGrant",
    "ChangeUnfinished",
    "DropPlan",
    "InvalidRoleName",
    "InvalidSpec",
    "InvalidTableName",
    "LinkMismatch",
    "LoginNotAccepted",
    "LoginPowers",
    "NeedsSavedProfile",
    "NotAnAgentProfile",
    "PasswordMissing",
    "PendingChange",
    "Power",
    "RoleExists",
    "RoleMissing",
    "RoleNotMarked",
    "RoleOwnsObjects",
    "RolePlan",
    "RoleReport",
    "RoleSpec",
    "Rotated",
    "ServerRefused",
    "Settled",
    "TableName",
    "TooPowerful",
    "UnknownObjects",
    "Unsettled",
    "UnverifiedLink",
    "adopt",
    "apply",
    "changes_under_way",
    "check_removal",
    "default_role_name",
    "describe",
    "drop",
    "forget",
    "known_by_name",
    "link_of",
    "link_renamed",
    "login_role",
    "pending_login_password",
    "plan_create",
    "plan_drop",
    "read_powers",
    "recover",
    "removed_in",
    "renamed_in",
    "role_name_problem",
    "rotate",
    "too_powerful",
    "with_link_removed",
    "with_links_renamed",
]

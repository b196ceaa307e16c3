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
        InvalidRoleName,
        InvalidSpec,
        InvalidTableName,
        LinkMismatch,
        PasswordMissing,
        RoleExists,
        UnverifiedLink,
    )
    from supalink.roles.lifecycle import drop, plan_drop, rotate
    from supalink.roles.links import AgentLink, check_removal, with_link_removed, with_links_renamed
    from supalink.roles.powers import LoginPowers, read_powers
    from supalink.roles.report import RoleReport, describe
    from supalink.roles.settle import Settled, Unsettled, changes_under_way, recover
    from supalink.roles.spec import RoleSpec, TableName, default_role_name
    from supalink.roles.verdict import TooPowerful, known_by_name, too_powerful

# Generated from the imports above by `python -m supalink.lazy`: do not edit.
__getattr__ = lazy_attributes(
    __name__,
    {
        "adopt": "adoption",
        "RolePlan": "create",
        "apply": "create",
        "plan_create": "create",
        "AgentProfileHasRole": "errors",
        "CannotAdopt": "errors",
        "CannotCreateRoles": "errors",
        "InvalidRoleName": "errors",
        "InvalidSpec": "errors",
        "InvalidTableName": "errors",
        "LinkMismatch": "errors",
        "PasswordMissing": "errors",
        "RoleExists": "errors",
        "UnverifiedLink": "errors",
        "drop": "lifecycle",
        "plan_drop": "lifecycle",
        "rotate": "lifecycle",
        "AgentLink": "links",
        "check_removal": "links",
        "with_link_removed": "links",
        "with_links_renamed": "links",
        "LoginPowers": "powers",
        "read_powers": "powers",
        "RoleReport": "report",
        "describe": "report",
        "Settled": "settle",
        "Unsettled": "settle",
        "changes_under_way": "settle",
        "recover": "settle",
        "RoleSpec": "spec",
        "TableName": "spec",
        "default_role_name": "spec",
        "TooPowerful": "verdict",
        "known_by_name": "verdict",
        "too_powerful": "verdict",
    },
)
__all__ = [
    "AgentLink",
    "AgentProfileHasRole",
    "CannotAdopt",
    "CannotCreateRoles",
    "InvalidRoleName",
    "InvalidSpec",
    "InvalidTableName",
    "LinkMismatch",
    "LoginPowers",
    "PasswordMissing",
    "RoleExists",
    "RolePlan",
    "RoleReport",
    "RoleSpec",
    "Settled",
    "TableName",
    "TooPowerful",
    "Unsettled",
    "UnverifiedLink",
    "adopt",
    "apply",
    "changes_under_way",
    "check_removal",
    "default_role_name",
    "describe",
    "drop",
    "known_by_name",
    "plan_create",
    "plan_drop",
    "read_powers",
    "recover",
    "rotate",
    "too_powerful",
    "with_link_removed",
    "with_links_renamed",
]

"""An agent link cannot point at the wrong thing: a profile removed and added again for
another login, a hand-edited link, or a role Supalink never made is refused by rotate and
drop with one line, its password and the role untouched; a link an earlier version kept is
refused until adopted; a rename carries the link; removing an agent profile alone is
refused unless its role is kept on purpose."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from supalink import roles
from supalink.commands.role import worded
from supalink.profiles import KeyringSecretStore, SecretKind
from supalink.roles.links import forget, link_of, link_renamed, removed_in, renamed_in
from tests.roles.agents import comment_of, create_agent, edit_links, logs_in, stored_links
from tests.roles.conftest import ADMIN_PASSWORD, Supabase, repository_under
from tests.roles.test_role_cli import role


def one_line_refusal(result: Any, *said: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for text in said:
        assert text in result.stderr


@pytest.mark.slow
def test_a_profile_removed_and_added_again_for_another_login_is_refused(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = supabase.role_name()
    created = role("create", admin, "--name", name, "--as", "ag3", "--yes", home=home)
    assert created.returncode == 0, created.stderr
    # Removed as earlier versions removed it (its link left behind), then added again as
    # an unrelated profile: the admin's own login, with the admin's real password.
    repository = repository_under(home)
    repository.remove("ag3")
    assert "ag3" in stored_links(home)
    repository.save(supabase.admin_profile("ag3"), ADMIN_PASSWORD)

    for args in (["rotate", "ag3"], ["drop", "ag3", "--yes"]):
        refused = role(*args, home=home)
        one_line_refusal(
            refused,
            f"profile 'ag3' logs in as {supabase.admin!r}, but its agent link names role {name!r}",
            "nothing was changed",
        )
    assert KeyringSecretStore().get("ag3", SecretKind.PASSWORD) == ADMIN_PASSWORD
    assert logs_in(home, "ag3")
    assert supabase.role_exists(name)

    # The same login at another place (another port) is refused too, naming both places.
    repository.save(supabase.admin_profile("ag3", user=name, port=1), "x", replace=True)
    refused = role("rotate", "ag3", home=home)
    one_line_refusal(
        refused,
        "profile 'ag3' logs in at 127.0.0.1:1/",
        f"but its agent role was made at 127.0.0.1:{supabase.pg.port}/{supabase.database}",
    )
    assert KeyringSecretStore().get("ag3", SecretKind.PASSWORD) == "x"


def hand_made_role(supabase: Supabase, comment: str | None = None) -> tuple[str, str]:
    """A login role made by hand, as a DBA would (Supalink never saw it); name, password."""
    name, password = supabase.role_name("analyst"), uuid.uuid4().hex
    with supabase.connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)
            )
        )
        if comment is not None:
            conn.execute(
                sql.SQL("COMMENT ON ROLE {} IS {}").format(
                    sql.Identifier(name), sql.Literal(comment)
                )
            )
    return name, password


@pytest.mark.slow
def test_a_hand_edited_link_to_a_role_supalink_never_made_is_refused(
    home: Path, admin: str, supabase: Supabase
) -> None:
    analyst, password = hand_made_role(supabase, "the BI team's login")
    repository = repository_under(home)
    repository.save(supabase.admin_profile("bi", user=analyst), password)
    # A link in this version's form, with an id the role does not carry.
    edit_links(
        home,
        lambda links: links.update(
            bi={
                "admin": admin,
                "role": analyst,
                "id": "0" * 32,
                "host": "127.0.0.1",
                "port": supabase.pg.port,
                "database": supabase.database,
                "project": None,
            }
        ),
    )
    for args in (["rotate", "bi"], ["drop", "bi", "--yes"]):
        refused = role(*args, home=home)
        one_line_refusal(
            refused,
            f"the role {analyst!r} in the database does not carry the mark Supalink "
            "wrote on the role it made for profile 'bi' (its comment: \"the BI team's login\")",
        )
    assert supabase.role_exists(analyst)
    assert logs_in(home, "bi")
    assert comment_of(supabase, analyst) == "the BI team's login"

    # In an earlier version's form (no id): unverified, whatever the role is.
    edit_links(home, lambda links: links.update(bi={"admin": admin, "role": analyst}))
    refused = role("drop", "bi", "--yes", home=home)
    one_line_refusal(
        refused,
        f"the agent link of profile 'bi' (role {analyst!r}) was made by an earlier "
        f"Supalink, without an id, and cannot be verified: if the profile is the role's login, "
        f"adopt it with `supalink role adopt bi --role {analyst}`",
    )
    # Adopting it is refused too: its comment is its own.
    adopted = role("adopt", "bi", "--role", analyst, home=home)
    one_line_refusal(adopted, 'it has a comment of its own: "the BI team\'s login"')
    assert supabase.role_exists(analyst)
    assert comment_of(supabase, analyst) == "the BI team's login"


@pytest.mark.slow
def test_an_earlier_versions_link_is_adopted_then_rotates_and_drops(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = create_agent(home, admin, supabase, "old-agent")
    # What an earlier version left: a link without id or place, its own words on the role.
    edit_links(home, lambda links: links.update({"old-agent": {"admin": admin, "role": name}}))
    with supabase.connect() as conn:
        conn.execute(
            sql.SQL("COMMENT ON ROLE {} IS {}").format(
                sql.Identifier(name), sql.Literal("Agent role made by Supalink for profile x")
            )
        )
    refused = role("rotate", "old-agent", home=home)
    one_line_refusal(refused, "cannot be verified", f"--role {name}`")

    wrong = role("adopt", "old-agent", "--role", supabase.admin, home=home)
    assert wrong.returncode == 1
    assert f"the profile logs in as {name!r}" in wrong.stderr
    adopted = role("adopt", "old-agent", "--role", name, home=home)
    assert adopted.returncode == 0, adopted.stderr
    link = stored_links(home)["old-agent"]
    assert comment_of(supabase, name) == f"supalink agent {link['id']}"
    rotated = role("rotate", "old-agent", home=home)
    assert rotated.returncode == 0, rotated.stderr
    assert logs_in(home, "old-agent")
    dropped = role("drop", "old-agent", "--yes", home=home)
    assert dropped.returncode == 0, dropped.stderr
    assert not supabase.role_exists(name)


def test_a_login_with_powers_is_not_adopted(home: Path, admin: str, supabase: Supabase) -> None:
    repository_under(home).save(supabase.admin_profile("powerful"), ADMIN_PASSWORD)
    refused = role("adopt", "powerful", "--role", supabase.admin, "--admin", admin, home=home)
    one_line_refusal(
        refused,
        f"role {supabase.admin!r} cannot become the agent role of 'powerful': it has "
        "powers an agent's role would not: BYPASSRLS, CREATEROLE",
    )
    none = role("adopt", "powerful", "--role", supabase.admin, home=home)
    assert none.returncode == 1
    assert "--admin: role" in none.stderr
    assert comment_of(supabase, supabase.admin) is None
    assert "powerful" not in stored_links(home)


def test_a_rename_carries_the_link_of_the_agent_and_of_its_admin(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = create_agent(home, admin, supabase, "before")
    repository = repository_under(home)
    repository.rename("before", "after")
    link_renamed(repository, "before", "after")
    repository.rename(admin, "admin-renamed")
    link_renamed(repository, admin, "admin-renamed")
    assert stored_links(home).keys() == {"after"}
    link = link_of(repository_under(home), "after")
    assert (link.role, link.admin_profile) == (name, "admin-renamed")
    asyncio.run(roles.rotate(repository_under(home), "after"))
    assert logs_in(home, "after")


def test_the_changes_a_repository_makes_in_the_same_write_as_a_rename_or_removal() -> None:
    preferences: dict[str, Any] = {"agent_roles": {"a": {"admin": "x", "role": "r"}}}
    assert renamed_in(preferences, "x", "y")
    assert renamed_in(preferences, "a", "b")
    assert preferences == {"agent_roles": {"b": {"admin": "y", "role": "r"}}}
    assert not renamed_in(preferences, "nobody", "z")
    roles.with_links_renamed("b", "c")(preferences)
    assert preferences == {"agent_roles": {"c": {"admin": "y", "role": "r"}}}
    roles.with_link_removed("c")(preferences)
    assert preferences == {"agent_roles": {}}
    assert not removed_in(preferences, "c")
    other = {"theme": "dark"}
    roles.with_links_renamed("b", "c")(other)
    roles.with_link_removed("c")(other)
    assert other == {"theme": "dark"}


def test_removing_an_agent_profile_alone_is_refused_unless_its_role_is_kept(
    home: Path, admin: str, supabase: Supabase
) -> None:
    name = create_agent(home, admin, supabase, "kept")
    repository = repository_under(home)
    with pytest.raises(roles.AgentProfileHasRole) as refused:
        roles.check_removal(repository, "kept", keep_role=False)
    assert str(worded(refused.value)) == (
        f"profile 'kept' is the login of role {name!r}, which Supalink made through {admin!r}: "
        "removed alone, it would leave the role in the database: drop both with "
        "`supalink role drop kept --yes`, or remove the profile alone with --keep-role"
    )
    assert roles.check_removal(repository, admin, keep_role=False) is None
    link = roles.check_removal(repository, "kept", keep_role=True)
    assert link is not None
    assert link.role == name
    repository.remove("kept")
    forget(repository, "kept")
    assert stored_links(home) == {}
    assert supabase.role_exists(name)
    # A link an earlier version left behind does not hold up an unrelated profile's removal.
    edit_links(home, lambda links: links.update(other={"admin": admin, "role": name}))
    repository_under(home).save(supabase.admin_profile("other"), ADMIN_PASSWORD)
    assert roles.check_removal(repository_under(home), "other", keep_role=False) is None


def profile_cli(*args: str, home: Path) -> Any:
    from tests.support.cli import run_cli

    return run_cli("profile", *args, home=home, text=True)


@pytest.mark.slow
def test_the_profile_commands_keep_the_link_and_the_role_as_they_are_wired(
    home: Path, admin: str, supabase: Supabase
) -> None:
    """`profile rename` carries an agent's link; `profile remove` refuses to leave its role
    behind unless --keep-role, and then removes the link with the profile."""
    name = create_agent(home, admin, supabase, "wired")
    renamed = profile_cli("rename", "wired", "wired2", home=home)
    assert renamed.returncode == 0, renamed.stderr
    rotated = role("rotate", "wired2", home=home)
    assert rotated.returncode == 0, rotated.stderr
    assert logs_in(home, "wired2")
    one_line_refusal(profile_cli("remove", "wired2", home=home), "--keep-role", name)
    kept = profile_cli("remove", "wired2", "--keep-role", home=home)
    assert kept.returncode == 0, kept.stderr
    assert f"the role {name!r} Supalink made for it stays in the database" in kept.stdout
    assert stored_links(home) == {}
    assert supabase.role_exists(name)

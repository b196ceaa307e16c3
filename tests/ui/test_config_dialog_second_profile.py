"""Write config for a second profile: the dialog says in words that the `supabase` entry
connects the first profile now, and offers a name of the second's own; the plan carries
the fact as data (mcp.writer), for the CLI as for the window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from supalink.mcp import CLIENTS, DEFAULT_SERVER_NAME, ConfigWriter, entry_for_profile
from supalink.mcp.writer import EntryOwner, entry_owner, own_name
from supalink.profiles import Profile, Target
from supalink.ui.config_dialog import ConfigDialog
from supalink.ui.context import AppContext
from tests.ui.test_config_dialog import claude_host


def profile(name: str, port: int) -> Profile:
    return Profile(name, host="127.0.0.1", port=port, user="app", sslmode="disable")


def dialog_for(qtbot: Any, context: AppContext, tmp_path: Path, chosen: Profile) -> ConfigDialog:
    if chosen.name not in context.repository.names():
        context.repository.save(chosen, "pw")
    dialog = ConfigDialog(
        context.tasks,
        context.backup_dir,
        Target.from_profile(chosen, "pw"),
        password_in_keyring=True,
        host=claude_host(tmp_path),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_second_profile_is_told_it_repoints_the_entry_and_offered_its_own_name(
    qtbot: Any,
    app_context: AppContext,
    tmp_path: Path,
    message_boxes: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    try:
        first = dialog_for(qtbot, app_context, tmp_path, profile("Prod", 5432))
        assert not first.repoint.isVisible()  # a new entry: nothing to say
        assert first.write()
        again = dialog_for(qtbot, app_context, tmp_path, profile("Prod", 5432))
        assert not again.repoint.isVisible()  # its own entry: an update, not a repoint

        second = dialog_for(qtbot, app_context, tmp_path, profile("Staging EU", 6543))
        assert second.choices.server_name.text() == DEFAULT_SERVER_NAME
        assert second.repoint.isVisible()
        note = second.repoint.message.text()
        assert "'supabase' entry in this file connects the profile 'Prod' now" in note
        assert "'Staging EU' instead" in note
        assert second.repoint.button.text() == "Name it 'supabase-staging-eu'"
        second.repoint.button.click()
        assert second.choices.server_name.text() == "supabase-staging-eu"
        assert not second.repoint.isVisible()
        assert second.write()
        servers = json.loads(Path(second.choices.path.text()).read_text())["mcpServers"]
        assert set(servers) == {"supabase", "supabase-staging-eu"}
        assert servers["supabase"]["args"][-1] == "Prod"  # the first one's entry kept
        assert servers["supabase-staging-eu"]["args"][-1] == "Staging EU"

        # Back on the default name, the name offered is the entry it already has.
        third = dialog_for(qtbot, app_context, tmp_path, profile("Staging EU", 6543))
        assert third.repoint.button.text() == "Name it 'supabase-staging-eu'"
    finally:
        for name in app_context.repository.names():
            app_context.repository.remove(name)


def test_the_plan_names_a_uri_entry_s_database_without_its_password(tmp_path: Path) -> None:
    config = tmp_path / "claude_desktop_config.json"
    uri = "postgresql://admin:s3cret@db.example.com:5433/shop?sslmode=require"
    config.write_text(json.dumps({"mcpServers": {"supabase": {"command": "x", "args": [uri]}}}))
    ours = profile("Local", 5432)
    target = Target.from_profile(ours, "pw")
    planned = entry_for_profile(target, password_in_keyring=True)
    found = ConfigWriter(tmp_path / "backups").plan_entry(
        CLIENTS["claude"], config, planned, DEFAULT_SERVER_NAME, target
    )
    assert found.replaces == EntryOwner(database="admin@db.example.com:5433/shop")
    assert found.own_name == "supabase-local"
    assert "s3cret" not in repr(found.replaces)


def test_entry_owners_and_own_names() -> None:
    assert entry_owner({"command": "/bin/supalink", "args": ["mcp-serve", "--profile", "A"]}) == (
        EntryOwner(profile="A")
    )
    launcher = ["mcp-run", "--profile", "B", "--", "uvx", "postgres-mcp", "--profile", "x"]
    assert entry_owner({"command": "supalink", "args": launcher}) == EntryOwner(profile="B")
    assert entry_owner({"url": "https://example.com/mcp"}) is None
    assert entry_owner({"command": "npx", "args": ["-y", "pkg"]}) is None
    assert own_name("Prod (EU)", "supabase", {"supabase-prod-eu"}) == "supabase-prod-eu-2"
    assert own_name("日本", "supabase", ()) == "supabase-profile"


def test_the_dialog_fits_a_small_screen_and_names_what_guide_is(
    qtbot: Any, app_context: AppContext, tmp_path: Path
) -> None:
    try:
        dialog = dialog_for(qtbot, app_context, tmp_path, profile("Small screen", 5432))
        assert dialog.minimumSizeHint().width() <= 1024
        guide = dialog.choices.template.itemText(dialog.choices.template.findData("guide"))
        assert "setup guide" in guide
        assert "mcp-server-postgres" in guide
    finally:
        app_context.repository.remove("Small screen")

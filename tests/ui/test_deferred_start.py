"""The app shows its main window before the keyring is probed and the profiles are loaded
(app.run_windows): the window fills in afterwards, as if it had been built loaded."""

from __future__ import annotations

from typing import Any

from keyring.backends.fail import Keyring as FailKeyring

from supalink.app import KEYRING_NOT_PROBED, build_context, probe_keyring_of
from supalink.paths import AppPaths
from supalink.profiles.model import Profile
from supalink.profiles.secrets import KeyringSecretStore
from supalink.ui.context import AppContext
from supalink.ui.main_window import MainWindow
from tests.support.postgres import SPECIAL_PASSWORD


def test_the_window_fills_in_the_keyring_and_the_first_profile_once_loaded(
    qtbot: Any, app_context: AppContext
) -> None:
    profile = Profile("Deferred", host="127.0.0.1", port=5432, user="app")
    app_context.repository.save(profile, SPECIAL_PASSWORD)
    app_context.keyring_description = KEYRING_NOT_PROBED
    try:
        window = MainWindow(app_context, load_profiles=False)
        qtbot.addWidget(window)
        window.show()
        assert window.current_name is None
        assert window.form.name.text() == ""
        assert window.keyring_label.text() == f"Keyring: {KEYRING_NOT_PROBED}"

        probe_keyring_of(app_context)
        window.load_profiles()
        assert window.keyring_label.text().startswith("Keyring: Secret Service")
        assert window.profiles.current() == "Deferred"
        assert window.form.name.text() == "Deferred"
        assert window.form.password_text() == SPECIAL_PASSWORD
        assert window.form.password_status.text().startswith("Saved in Secret Service")
        assert window.form.save_password.isEnabled()
        assert not window.dirty
    finally:
        app_context.repository.remove("Deferred")


def test_an_unusable_keyring_found_late_is_no_edit_of_the_profile(
    qtbot: Any, tmp_path: Any, message_boxes: list[tuple[str, str]]
) -> None:
    context = build_context(
        AppPaths.under(tmp_path), KeyringSecretStore(FailKeyring()), probe_keyring=False
    )
    assert context.keyring_description == KEYRING_NOT_PROBED
    window = MainWindow(context, load_profiles=False)
    qtbot.addWidget(window)
    window.show()
    probe_keyring_of(context)
    window.load_profiles()
    assert window.keyring_label.text() == "Keyring: no usable keyring"
    assert not window.form.save_password.isEnabled()
    assert window.form.password_status.text().startswith("Not saved: no usable keyring")
    assert window.form.name.text() == "New profile"
    assert message_boxes == []  # no "save the changes?" for an edit nobody made
    assert not window.dirty

"""The connection form, typed into as a person would."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from supalink.profiles.supabase import Mode
from supalink.ui.profile_form import ProfileForm
from tests.support.postgres import PostgresServer

REF = "abcdefghijklmnopqrst"
DASHBOARD = f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-1-eu-central-1.pooler.supabase.com:6543/postgres"


def make_form(qtbot: Any, usable: bool = True) -> ProfileForm:
    form = ProfileForm("Secret Service (GNOME Keyring)", usable)
    qtbot.addWidget(form)
    form.show()
    return form


def test_each_field_validates_as_you_type(qtbot: Any) -> None:
    form = make_form(qtbot)
    qtbot.keyClicks(form.name, "Prod")
    qtbot.keyClicks(form.server.ref, "ABC")
    assert "20 lowercase letters" in form.rows["ref"].message.text()
    assert form.rows["ref"].message.isVisible()
    form.server.ref.clear()
    qtbot.keyClicks(form.server.ref, REF)
    assert not form.rows["ref"].message.isVisible()
    assert not form.rows["region"].message.isVisible()  # not touched yet
    assert "region" in form.reveal_problems()
    assert "region" in form.rows["region"].message.text()
    form.server.region.setCurrentIndex(form.server.region.findData("eu-west-1"))
    assert not form.rows["region"].message.isVisible()
    assert "cannot be guessed" in form.rows["pooler_index"].message.text()
    form.server.pooler_index.setValue(0)
    assert form.problems() == {}
    assert form.uri.text().startswith(f"postgresql://postgres.{REF}@aws-0-eu-west-1.pooler")


def test_pasting_a_dashboard_uri_fills_the_form(qtbot: Any) -> None:
    form = make_form(qtbot)
    qtbot.keyClicks(form.name, "Prod")
    form.paste.setText(DASHBOARD)
    profile = form.profile()
    assert profile.name == "Prod"
    assert profile.ref == REF
    assert profile.mode is Mode.TRANSACTION
    assert profile.region == "eu-central-1"
    assert profile.pooler_index == 1
    assert form.password.text() == ""
    assert "Type the database password" in form.paste.placeholderText()
    assert "no prepared statements, no LISTEN" in form.server.mode_summary.text()


def test_a_bad_paste_says_why_beside_the_box(qtbot: Any) -> None:
    form = make_form(qtbot)
    form.paste.setText("mysql://root@localhost/db")
    assert "not a Postgres URI" in form.rows["paste"].message.text()


def test_password_is_masked_shown_on_request_and_masked_in_the_uri(qtbot: Any) -> None:
    form = make_form(qtbot)
    form.paste.setText(DASHBOARD.replace("[YOUR-PASSWORD]", "hunter2-secret"))
    qtbot.keyClicks(form.name, "Prod")
    assert form.password.echoMode() == QLineEdit.EchoMode.Password
    assert "hunter2-secret" not in form.password.displayText()
    assert "hunter2-secret" not in form.uri.text()
    assert ":****@" in form.uri.text()
    qtbot.mouseClick(form.show_password, Qt.MouseButton.LeftButton)
    assert form.password.displayText() == "hunter2-secret"
    qtbot.mouseClick(form.show_password, Qt.MouseButton.LeftButton)
    assert form.password.echoMode() == QLineEdit.EchoMode.Password
    assert form.password_status.text() == "Will be saved in Secret Service (GNOME Keyring)"


def test_without_a_keyring_the_password_is_not_saved_and_it_says_so(qtbot: Any) -> None:
    form = make_form(qtbot, usable=False)
    assert not form.save_password.isEnabled()
    assert "no usable keyring" in form.password_status.text()
    assert not form.wants_password_saved()


def test_custom_host_shows_host_and_port_only(qtbot: Any) -> None:
    form = make_form(qtbot)
    form.server.custom_kind.setChecked(True)
    assert form.rows["host"].isVisible()
    assert not form.rows["ref"].isVisible()
    assert not form.rows["region"].isVisible()
    qtbot.keyClicks(form.name, "Local")
    qtbot.keyClicks(form.server.host, "::1")
    assert form.problems() == {}
    assert "@[::1]:5432/postgres" in form.uri.text()


def test_ca_file_subject_and_expiry_are_shown(qtbot: Any, pg: PostgresServer) -> None:
    form = make_form(qtbot)
    form.tls.sslrootcert.setText(str(pg.ca_cert))
    assert "Supalink Test CA" in form.tls.ca_info.text()
    assert "valid until" in form.tls.ca_info.text()
    form.tls.sslrootcert.setText(str(pg.ca_cert) + ".missing")
    assert "no file at" in form.tls.ca_info.text()


def test_tab_moves_through_the_form_in_reading_order(qtbot: Any) -> None:
    form = make_form(qtbot)
    form.activateWindow()
    form.paste.setFocus()
    qtbot.waitUntil(form.paste.hasFocus)
    seen = []
    for _ in range(6):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == [
        form.name,
        form.environment,
        form.server.supabase_kind,
        form.server.ref,
        form.server.mode,
        form.server.region,
    ]


def test_every_input_has_an_accessible_name(qtbot: Any) -> None:
    form = make_form(qtbot)
    server, tls = form.server, form.tls
    fields = [
        form.paste,
        form.name,
        form.environment,
        server.ref,
        server.mode,
        server.region,
        server.pooler_index,
    ]
    fields += [server.pooler_host, server.host, server.port, form.user, form.database]
    fields += [form.password, tls.sslmode, tls.sslrootcert, form.connect_timeout]
    fields += [form.application_name, form.uri]
    for widget in fields:
        assert widget.accessibleName(), widget


def test_typing_a_uri_never_fills_the_form_from_a_part_of_it(qtbot: Any) -> None:
    """`postgresql://p` is a URI whose host is `p`: typed, it waits for Enter."""
    form = make_form(qtbot)
    qtbot.keyClicks(form.name, "Prod")
    typed = "postgresql://p"
    qtbot.keyClicks(form.paste, typed)
    assert form.paste.text() == typed  # still there, the form untouched
    assert form.server.supabase_kind.isChecked()
    assert form.server.host.text() == ""
    assert "Press Enter" in form.rows["paste"].message.text()
    form.paste.clear()
    qtbot.keyClicks(form.paste, DASHBOARD)
    assert form.server.ref.text() == ""
    qtbot.keyClick(form.paste, Qt.Key.Key_Return)
    profile = form.profile()
    assert (profile.name, profile.ref, profile.region) == ("Prod", REF, "eu-central-1")
    assert form.paste.text() == ""


def test_a_pasted_uri_fills_the_form_at_once(qtbot: Any) -> None:
    form = make_form(qtbot)
    QApplication.clipboard().setText(DASHBOARD)
    form.paste.setFocus()
    form.paste.paste()  # what Ctrl+V does
    assert form.profile().ref == REF
    assert form.profile().pooler_index == 1


def test_the_supabase_ca_hint_shows_only_for_supabase_projects(qtbot: Any) -> None:
    form = make_form(qtbot)
    assert form.tls.ca_hint.isVisible()
    assert "Supabase" in form.tls.ca_hint.text()
    form.server.custom_kind.setChecked(True)
    assert not form.tls.ca_hint.isVisible()


def test_a_dedicated_pooler_profile_opens_and_its_dashboard_uri_fills_the_form(
    qtbot: Any,
) -> None:
    from supalink.profiles import Profile

    form = make_form(qtbot)
    form.set_profile(Profile("D", mode=Mode.DEDICATED, ref=REF))
    assert form.server.mode.currentData() == Mode.DEDICATED.value
    assert not form.server.region.isVisible()  # the dedicated pooler is on db.<ref>, no region
    assert f"db.{REF}.supabase.co:6543" in form.uri.text()
    other = make_form(qtbot)
    QApplication.clipboard().setText(
        f"postgresql://postgres:[YOUR-PASSWORD]@db.{REF}.supabase.co:6543/postgres"
    )
    other.paste.setFocus()
    other.paste.paste()
    assert other.profile().mode is Mode.DEDICATED
    assert other.profile().user == "postgres"

"""The main window with no usable keyring (issue 18, 1), and with a keyring entry deleted
behind Supalink's back: profiles that can open open, custom-host profiles save, Supabase
profiles are listed as locked with the reason, a password not at hand is asked once and held
for this session. Profiles saved in the real Secret Service; then the window is given keyring's
fail backend, or the Secret Service backend with nobody on the bus; Test runs against the real
PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from supalink.paths import AppPaths
from supalink.profiles import KeyringSecretStore, Profile, ProfileRepository, SecretKind, parse_uri
from supalink.profiles.secrets import SERVICE, account_name
from supalink.profiles.settings import SettingsFile
from supalink.ui.context import AppContext
from supalink.ui.main_window import PROBE_TASK, MainWindow
from tests.support.postgres import PostgresServer
from tests.support.secret_service import SecretService
from tests.support.typing import type_text
from tests.support.windows import context_on

REF = "plmoknijbuhvygctfxrd"
URI = (
    f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-0-eu-west-2.pooler.supabase.com:5432/postgres"
)
LOCKED = "locked: the keyring did not answer: "
ASK = "supalink.ui.password_prompt.QInputDialog.getText"


def keyring_repository(home: Path) -> ProfileRepository:
    from keyring.backends.SecretService import Keyring

    settings = SettingsFile(AppPaths.under(home).settings_file)
    return ProfileRepository(settings, KeyringSecretStore(Keyring()))


@pytest.fixture
def saved(tmp_path: Path, pg: PostgresServer, secret_service: SecretService) -> Iterator[list[str]]:
    """A Supabase profile and one for the test server, both with their password in the real
    Secret Service; removed from it afterwards."""
    suffix = uuid.uuid4().hex[:6]
    repository = keyring_repository(tmp_path)
    supabase = parse_uri(URI, name=f"prod-{suffix}").profile
    repository.save(supabase, "pw-of-prod")
    local = Profile(
        f"local-{suffix}",
        host="127.0.0.1",
        port=pg.port,
        user=pg.role,
        sslrootcert=str(pg.ca_cert),
    )
    repository.save(local, pg.password)
    yield [supabase.name, local.name]
    keyring_repository(tmp_path).remove(supabase.name)
    keyring_repository(tmp_path).remove(local.name)


@pytest.fixture(params=["no-keyring", "not-answering"])
def down(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AppContext]:
    """The window's context as supalink.app builds it, with keyring's fail backend (no Secret
    Service when the app started) or the Secret Service backend and nobody on the bus."""
    from keyring.backends.fail import Keyring as Fail
    from keyring.backends.SecretService import Keyring

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'nobody'}")
    secrets = KeyringSecretStore(Fail() if request.param == "no-keyring" else Keyring())
    yield context_on(AppPaths.under(tmp_path), secrets)
    monkeypatch.undo()  # the real Secret Service again, for the fixture's clean-up


def open_window(qtbot: Any, context: AppContext) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(1024, 768)
    window.show()
    return window


def item_of(window: MainWindow, name: str) -> Any:
    listed = window.profiles.list
    items = [listed.item(row) for row in range(listed.count())]
    [item] = [
        item
        for item in items
        if window.profiles.current() is not None and item.text().startswith(name)
    ]
    return item


async def finished(window: MainWindow) -> None:
    while window.context.tasks.is_running(PROBE_TASK):
        await asyncio.sleep(0.02)


def test_what_can_open_opens_and_supabase_profiles_are_listed_locked(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    saved: list[str],
    down: AppContext,
    pg: PostgresServer,
    message_boxes: list[tuple[str, str]],
) -> None:
    prod, local = saved
    window = open_window(qtbot, down)
    assert window.profiles.list.count() == 2  # the locked one listed, not hidden
    locked = item_of(window, prod)
    assert locked.text().endswith("· locked")
    assert locked.toolTip().startswith(LOCKED)
    assert window.current_name == local  # the first one that opens
    assert window.form.server.host.text() == "127.0.0.1"
    status = window.form.password_status.text()
    assert status.startswith("Saved in the keyring, which did not answer (")
    assert window.keyring_label.text() in (
        "Keyring: no usable keyring: no OS keyring backend is available",
        "Keyring: Secret Service, did not answer",
    )
    assert not window.form.save_password.isEnabled()
    assert message_boxes == []

    window.profiles.list.setCurrentRow(0)  # the locked one: the status bar says why
    assert window.current_name == local
    assert window.profiles.current() == local
    assert window.statusBar().currentMessage() == (
        f"{prod} is locked: its project ref is only in the keyring, which did not answer"
    )
    assert message_boxes == []

    asked: list[str] = []

    def answer(*args: Any, **kwargs: Any) -> tuple[str, bool]:
        asked.append(args[2])
        return pg.password, True

    with patch(ASK, answer):
        window.test()
        qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
        assert window.test_panel.result is not None
        assert window.test_panel.result.ok
        window.test()  # asked once: held for this session
        qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
    assert asked == [f"Password for {local} (held for this session, not saved):"]
    assert window.form.password_status.text().endswith("(held for this session)")

    qtbot.keyClicks(window.form.database, "x")  # an edit of the custom-host profile saves
    assert window.save_profile(), message_boxes
    assert message_boxes == []
    repository = keyring_repository(window.context.repository.settings_file.path.parents[1])
    assert repository.names() == [prod, local]  # nothing lost


def test_a_new_custom_host_profile_saves_and_write_config_needs_no_keyring(
    qtbot: Any, saved: list[str], down: AppContext, message_boxes: list[tuple[str, str]]
) -> None:
    from supalink.ui.config_dialog import ConfigDialog

    window = open_window(qtbot, down)
    window.new_profile()
    form = window.form
    form.name.setText("Here")
    form.server.custom_kind.setChecked(True)
    form.server.host.setText("db.example.com")
    form.tls.sslmode.setCurrentText("require")
    type_text(qtbot, form.password, "typed-now")
    assert form.password_status.text().startswith("Not saved: no usable keyring")
    shown: list[ConfigDialog] = []

    def exec_(dialog: ConfigDialog) -> int:
        shown.append(dialog)
        return 0

    with patch.object(ConfigDialog, "exec", exec_):
        window.write_config()  # saves first, as ever; now the save works
    assert message_boxes == []
    assert len(shown) == 1
    shown[0].close()
    repository = down.repository
    assert repository.names() == [*saved, "Here"]
    assert not repository.record("Here").password_saved
    assert repository.password_value("Here", keyring_may_fail=True) == "typed-now"  # session only
    assert b"typed-now" not in repository.settings_file.path.read_bytes()


def test_a_new_supabase_profile_is_refused_with_the_reason(
    qtbot: Any, saved: list[str], down: AppContext, message_boxes: list[tuple[str, str]]
) -> None:
    window = open_window(qtbot, down)
    window.new_profile()
    window.form.name.setText("Another")
    window.form.paste.setText(URI.replace(REF, "abcdefghijklmnopqrst"))
    assert not window.save_profile()
    [(title, text)] = message_boxes
    assert title == "Could not save the profile"
    assert "was not saved: its project ref is kept only in the keyring" in text
    assert down.repository.names() == saved


def test_a_keyring_entry_deleted_behind_supalinks_back_is_said_and_asked_once(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    tmp_path: Path,
    saved: list[str],
    pg: PostgresServer,
) -> None:
    from keyring.backends.SecretService import Keyring

    _, local = saved
    Keyring().delete_password(SERVICE, account_name(local, SecretKind.PASSWORD))
    secrets = KeyringSecretStore(Keyring())
    context = context_on(AppPaths.under(tmp_path), secrets)
    window = open_window(qtbot, context)
    window.profiles.list.setCurrentRow(1)
    assert window.current_name == local
    status = window.form.password_status.text()
    assert status.startswith("The keyring entry for this password is missing")
    assert "Saved in" not in status
    assert item_of(window, local).toolTip() == status  # not "password saved in the keyring"
    asked: list[str] = []

    def answer(*args: Any, **kwargs: Any) -> tuple[str, bool]:
        asked.append(args[2])
        return pg.password, True

    with patch(ASK, answer):
        window.test()
        qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
        window.test()
        qasync_loop.run_until_complete(asyncio.wait_for(finished(window), 30))
    assert len(asked) == 1
    assert window.test_panel.result is not None
    assert window.test_panel.result.ok
    assert context.repository.password_value(local) == pg.password  # held for this session
    assert secrets.get(local, SecretKind.PASSWORD) is None  # and nowhere else


def test_with_every_profile_locked_the_window_opens_on_a_new_one(
    qtbot: Any, tmp_path: Path, message_boxes: list[tuple[str, str]]
) -> None:
    """Supabase profiles only, saved where their refs were at hand; then no keyring."""
    from keyring.backends.fail import Keyring as Fail

    from supalink.profiles import MemorySecretStore

    paths = AppPaths.under(tmp_path)
    saving = ProfileRepository(SettingsFile(paths.settings_file), MemorySecretStore())
    saving.save(parse_uri(URI, name="Production").profile, "pw")
    context = context_on(paths, KeyringSecretStore(Fail()))
    window = open_window(qtbot, context)
    assert window.profiles.list.count() == 1
    assert window.profiles.current() == ""
    assert window.current_name is None
    assert window.form.name.text() == "New profile"
    assert not window.welcome.isVisible()  # there are profiles: locked ones
    assert window.keyring_label.text() == (
        "Keyring: no usable keyring: no OS keyring backend is available"
    )
    assert message_boxes == []

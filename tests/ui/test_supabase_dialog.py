"""Sign in to Supabase… against the Management API's loopback stand-in and the real Secret
Service: a wrong token is said and not kept, the right one is kept and lists the projects,
the picked project fills a profile with the API's exact host, a paused one is said."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from supalink.profiles import KeyringSecretStore, Mode, SecretKind
from supalink.supabase_api import save_token, saved_token
from supalink.ui.supabase_dialog import SupabaseDialog
from supalink.ui.tasks import TaskRunner
from tests.support.supabase_api import (
    HEALTHY_HOST,
    HEALTHY_REF,
    PAUSED_REF,
    TOKEN,
    StandIn,
)


def until(loop: asyncio.AbstractEventLoop, condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    loop.run_until_complete(asyncio.wait_for(wait(), 30))


def texts(dialog: SupabaseDialog) -> str:
    shown = [label.text() for label in dialog.findChildren(QLabel)]
    shown += [edit.text() for edit in dialog.findChildren(QLineEdit)]
    return "\n".join(shown)


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    """A window behind the dialog, as the main window is: the last one closing ends the loop."""
    behind = QWidget()
    qtbot.addWidget(behind)
    behind.show()
    return behind


def open_dialog(window: QWidget, keyring: KeyringSecretStore, stand_in: StandIn) -> SupabaseDialog:
    dialog = SupabaseDialog(TaskRunner(), keyring, window, api_url=stand_in.url)
    dialog.show()
    return dialog


def pick(dialog: SupabaseDialog, ref: str) -> None:
    for row in range(dialog.projects.count()):
        if ref in dialog.projects.item(row).text():
            dialog.projects.setCurrentRow(row)
            return
    raise AssertionError(f"{ref} is not listed")


def test_sign_in_pick_a_project_and_fill_a_profile(
    window: QWidget,
    qasync_loop: asyncio.AbstractEventLoop,
    keyring: KeyringSecretStore,
    stand_in: StandIn,
) -> None:
    dialog = open_dialog(window, keyring, stand_in)
    assert "https://supabase.com/dashboard/account/tokens" in dialog.about.text()
    assert dialog.token.isVisible()

    dialog.token.setText("sbp_" + "9" * 40)
    dialog.sign_in_button.click()
    until(qasync_loop, dialog.status.text)
    assert "rejected the access token (401)" in dialog.status.text()
    assert keyring.get("supabase", SecretKind.ACCESS_TOKEN) is None

    dialog.token.setText(TOKEN)
    dialog.sign_in_button.click()
    until(qasync_loop, lambda: dialog.projects.count() == 3)
    assert saved_token(keyring) == TOKEN
    assert dialog.token.text() == ""
    assert not dialog.token.isVisible()
    assert dialog.sign_out_button.isVisible()
    assert TOKEN not in texts(dialog)

    pick(dialog, PAUSED_REF)
    dialog.fill_button.click()
    until(qasync_loop, dialog.status.text)
    assert "is paused (status INACTIVE)" in dialog.status.text()
    assert dialog.profile is None

    pick(dialog, HEALTHY_REF)
    assert dialog.name.text() == "shop"
    dialog.mode.setCurrentIndex(dialog.mode.findData(Mode.TRANSACTION))
    assert "no LISTEN" in dialog.mode_summary.text()
    dialog.fill_button.click()
    until(qasync_loop, lambda: dialog.profile is not None)
    assert dialog.profile is not None
    endpoint = dialog.profile.endpoint()
    expected = (HEALTHY_HOST, 6543, f"postgres.{HEALTHY_REF}")
    assert (endpoint.host, endpoint.port, endpoint.user) == expected
    assert dialog.result() == SupabaseDialog.DialogCode.Accepted


def test_signed_in_it_lists_at_once_and_signs_out(
    window: QWidget,
    qasync_loop: asyncio.AbstractEventLoop,
    keyring: KeyringSecretStore,
    stand_in: StandIn,
) -> None:
    save_token(keyring, TOKEN)
    dialog = open_dialog(window, keyring, stand_in)
    until(qasync_loop, lambda: dialog.projects.count() == 3)
    assert not dialog.token.isVisible()
    dialog.sign_out_button.click()
    assert keyring.get("supabase", SecretKind.ACCESS_TOKEN) is None
    assert dialog.projects.count() == 0
    assert dialog.token.isVisible()

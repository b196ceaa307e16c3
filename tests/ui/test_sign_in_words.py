"""The Sign in dialog's words (issue 31, point 8d), against the Management API's stand-in:
project statuses in words, a labelled token field, and a list that says it is loading at
once and offers Retry when the API stalls or fails."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from supalink.profiles import KeyringSecretStore
from supalink.supabase_api import save_token
from supalink.ui.supabase_dialog import SupabaseDialog
from supalink.ui.tasks import TaskRunner
from tests.support.supabase_api import Reply, StandIn, default_stand_in, running


@dataclass
class StalledStandIn(StandIn):
    """The stand-in whose answers wait until `gate` is set: an API that stalls."""

    gate: threading.Event = field(default_factory=threading.Event)

    def answer(self, path: str, authorization: str | None) -> Reply:
        self.gate.wait(30)
        return super().answer(path, authorization)


@pytest.fixture
def stalled() -> Iterator[StalledStandIn]:
    stand_in = StalledStandIn(**dataclasses.asdict(default_stand_in()))
    with running(stand_in):
        try:
            yield stand_in
        finally:
            stand_in.gate.set()


@pytest.fixture
def window(qtbot: QtBot) -> QWidget:
    behind = QWidget()
    qtbot.addWidget(behind)
    behind.show()
    return behind


def until(loop: asyncio.AbstractEventLoop, condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    loop.run_until_complete(asyncio.wait_for(wait(), 30))


def listed(dialog: SupabaseDialog) -> list[str]:
    return [dialog.projects.item(row).text() for row in range(dialog.projects.count())]


def test_a_stalled_list_says_it_is_loading_then_offers_retry(
    window: QWidget,
    qasync_loop: asyncio.AbstractEventLoop,
    keyring: KeyringSecretStore,
    stalled: StalledStandIn,
) -> None:
    save_token(keyring, stalled.token)
    dialog = SupabaseDialog(TaskRunner(), keyring, window, api_url=stalled.url, api_timeout=0.5)
    dialog.show()
    # At once, before the API has said anything.
    assert dialog.loading.isVisible()
    assert dialog.busy.isVisible()
    assert not dialog.retry_button.isVisible()
    until(qasync_loop, dialog.status.text)
    assert "no answer within 0.5 s" in dialog.status.text()
    assert dialog.retry_button.isVisible()
    assert not dialog.loading.isVisible()

    stalled.gate.set()
    dialog.retry_button.click()
    assert dialog.loading.isVisible()
    until(qasync_loop, lambda: dialog.projects.count() == 3)
    assert not dialog.retry_button.isVisible()
    assert not dialog.loading.isVisible()
    assert dialog.status.text() == ""


def test_a_failed_list_offers_retry_and_statuses_are_words(
    window: QWidget,
    qasync_loop: asyncio.AbstractEventLoop,
    keyring: KeyringSecretStore,
    stand_in: StandIn,
) -> None:
    stand_in.queue("/v1/projects", Reply(503, {"message": "Service Unavailable"}))
    save_token(keyring, stand_in.token)
    dialog = SupabaseDialog(TaskRunner(), keyring, window, api_url=stand_in.url)
    dialog.show()
    until(qasync_loop, dialog.status.text)
    assert "503" in dialog.status.text()
    assert dialog.retry_button.isVisible()
    dialog.retry_button.click()
    until(qasync_loop, lambda: dialog.projects.count() == 3)
    shown = "\n".join(listed(dialog))
    assert "(ap-southeast-2, Active)" in shown
    assert "(eu-north-1, Paused)" in shown
    assert "(sa-east-1, Active, unhealthy)" in shown
    assert "ACTIVE_HEALTHY" not in shown
    assert "INACTIVE" not in shown


def test_the_token_field_has_a_label_that_leads_to_it(
    window: QWidget, keyring: KeyringSecretStore, stand_in: StandIn
) -> None:
    dialog = SupabaseDialog(TaskRunner(), keyring, window, api_url=stand_in.url)
    dialog.show()
    assert dialog.token_label.isVisible()
    assert dialog.token_label.text() == "Access &token"
    assert dialog.token_label.buddy() is dialog.token

"""Issue 31, point 5: a test result does not crowd out the form. The form keeps most of the
height, the panel's details fold away and the height the person gave it is kept, and a
diagnosis that names a field ("choose it in CA file") scrolls the form to that field and
puts the cursor there. Real PostgreSQL, real Qt offscreen."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QScrollArea, QWidget

from supalink.profiles.model import Profile
from supalink.ui.context import AppContext
from supalink.ui.form_area import FORM_LEAST, PANEL_PREFERENCE
from supalink.ui.main_window import PROBE_TASK, MainWindow
from tests.support.postgres import PostgresServer

MISSING = "the CA file, gone"
FORM_SHARE = 0.55  # of the form and panel's height, at least, that the form keeps


def local(pg: PostgresServer, **changes: Any) -> Profile:
    return Profile(
        "Local", host="127.0.0.1", port=pg.port, user=pg.role, sslrootcert=str(pg.ca_cert)
    ).replace(**changes)


def after_a_test(
    qtbot: Any,
    loop: asyncio.AbstractEventLoop,
    context: AppContext,
    profile: Profile,
    password: str,
    size: tuple[int, int],
) -> MainWindow:
    """A window of `size` showing `profile`, once its test ended."""
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    window.form.set_profile(profile, password)
    form_scroll(window).verticalScrollBar().setValue(0)  # the form's top, as it opens
    window.test()
    finish(qtbot, loop, window)
    return window


def finish(qtbot: Any, loop: asyncio.AbstractEventLoop, window: MainWindow) -> None:
    async def finished() -> None:
        while window.context.tasks.is_running(PROBE_TASK):
            await asyncio.sleep(0.02)

    loop.run_until_complete(asyncio.wait_for(finished(), 30))
    qtbot.wait(10)  # the layout settles


def form_scroll(window: MainWindow) -> QScrollArea:
    """The scroll area the form is in (found from the form: wherever the window puts it)."""
    parent = window.form.parentWidget()
    while not isinstance(parent, QScrollArea):
        assert parent is not None, "the form is in a scroll area"
        parent = parent.parentWidget()
    return parent


def in_view(scroll: QScrollArea, widget: QWidget) -> bool:
    viewport = scroll.viewport()
    where = QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size())
    return viewport.rect().contains(where)


def test_a_test_result_leaves_the_form_most_of_the_height(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    window = after_a_test(qtbot, qasync_loop, app_context, local(pg), pg.password, (1100, 760))
    panel = window.test_panel
    assert panel.result is not None
    assert panel.result.ok
    form = form_scroll(window).height()
    assert form >= FORM_SHARE * (form + panel.height()), (form, panel.height())


def test_the_details_fold_away_and_the_panel_keeps_the_height_it_was_given(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    window = after_a_test(qtbot, qasync_loop, app_context, local(pg), pg.password, (1100, 760))
    panel, area = window.test_panel, window.form_area
    opened = panel.height()
    panel.details_button.click()
    qtbot.wait(10)
    assert not panel.steps.isVisible()
    assert not panel.psql_row.isVisible()
    assert panel.diagnosis.isVisible()  # the result's one line stays
    assert panel.height() < opened
    assert form_scroll(window).height() > area.height() - panel.height() - 10
    panel.details_button.click()
    qtbot.wait(10)
    assert panel.steps.isVisible()
    assert panel.height() == opened
    # Dragged higher, then hidden by another profile and shown by the next test: as left.
    area.moveSplitter(area.height() - opened - 60, 1)
    dragged = panel.height()
    assert dragged > opened
    window.new_profile()
    assert not panel.isVisible()
    window.form.set_profile(local(pg), pg.password)
    window.test()
    finish(qtbot, qasync_loop, window)
    assert panel.isVisible()
    assert panel.height() == dragged


def test_the_panel_s_height_and_folded_details_are_remembered_for_the_next_window(
    qtbot: Any, qasync_loop: asyncio.AbstractEventLoop, app_context: AppContext, pg: PostgresServer
) -> None:
    first = after_a_test(qtbot, qasync_loop, app_context, local(pg), pg.password, (1100, 760))
    area = first.form_area
    area.moveSplitter(area.height() - first.test_panel.height() - 80, 1)
    dragged = first.test_panel.height()
    qtbot.waitUntil(lambda: saved(app_context).get("height") == dragged, timeout=5000)
    second = after_a_test(qtbot, qasync_loop, app_context, local(pg), pg.password, (1100, 760))
    assert second.test_panel.height() == dragged
    second.test_panel.details_button.click()
    qtbot.waitUntil(lambda: saved(app_context).get("details") is False, timeout=5000)
    third = after_a_test(qtbot, qasync_loop, app_context, local(pg), pg.password, (1100, 760))
    assert not third.test_panel.details_shown
    assert not third.test_panel.steps.isVisible()


def saved(context: AppContext) -> dict[str, object]:
    stored = context.repository.preference(PANEL_PREFERENCE, {})
    assert isinstance(stored, dict)
    return stored


@pytest.mark.parametrize(
    ("changes", "password_given", "field", "words"),
    [
        ({"sslmode": "verify-full", "sslrootcert": MISSING}, True, "CA", "CA file"),
        ({}, False, "password", "Password"),  # none given: the server asks for one
    ],
    ids=["ca-file", "password"],
)
def test_a_diagnosis_that_names_a_field_scrolls_the_form_to_it(
    qtbot: Any,
    qasync_loop: asyncio.AbstractEventLoop,
    app_context: AppContext,
    pg: PostgresServer,
    changes: dict[str, str],
    password_given: bool,
    field: str,
    words: str,
) -> None:
    # 1366x768 at 200 %: 683x364 px, less a panel; the window is as small as it may be.
    if changes.get("sslrootcert") == MISSING:
        changes = {**changes, "sslrootcert": str(pg.ca_cert) + ".missing"}
    profile = local(pg, **changes)
    password = pg.password if password_given else ""
    window = after_a_test(qtbot, qasync_loop, app_context, profile, password, (683, 330))
    assert words in window.test_panel.diagnosis.text()
    assert form_scroll(window).height() >= FORM_LEAST  # the form keeps its room here too
    widget = window.form.tls.sslrootcert if field == "CA" else window.form.password
    assert in_view(form_scroll(window), widget)
    assert window.focusWidget() is widget

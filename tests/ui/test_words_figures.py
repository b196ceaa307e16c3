"""Words and figures a tester met (issue 31, point 8): what the form, the test, the sign-in
list, the sizing and snippets and the chart say."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from supalink import profiles
from supalink.probe import Probe, Step, StepName
from supalink.profiles import Target
from supalink.ui.profile_form import PASTE_PROMPT, ProfileForm
from tests.support.postgres import PostgresServer, local_profile

REF = "abcdefghijklmnopqrst"
DASHBOARD = f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-1-eu-central-1.pooler.supabase.com:6543/postgres"


def make_form(qtbot: Any) -> ProfileForm:
    form = ProfileForm("Secret Service (GNOME Keyring)", True)
    qtbot.addWidget(form)
    form.show()
    return form


def saved(uri: str, name: str) -> profiles.Profile:
    return profiles.parse_uri(uri, name=name).profile


def test_the_paste_hint_goes_when_another_profile_is_opened_or_a_new_one_started(
    qtbot: Any,
) -> None:
    form = make_form(qtbot)
    form.paste.setText(DASHBOARD)
    assert "Type the database password" in form.paste.placeholderText()
    form.set_profile(saved("postgresql://app@localhost:5432/shop", "Shop"))
    assert form.paste.placeholderText() == PASTE_PROMPT
    form.paste.setText(DASHBOARD)
    form.set_profile(None)
    assert form.paste.placeholderText() == PASTE_PROMPT


def test_a_saved_postgres_user_shows_as_text(qtbot: Any) -> None:
    form = make_form(qtbot)
    form.set_profile(None)
    assert form.user.text() == ""  # the default, greyed as a placeholder
    form.set_profile(saved("postgresql://postgres@localhost:5432/postgres", "Local"))
    assert form.user.text() == "postgres"
    assert form.profile().user == "postgres"


def test_a_cancelled_test_names_its_step_in_words(pg: PostgresServer) -> None:
    """Cancelled once TCP is through: the step in flight is TLS, said as a person would."""
    profile = local_profile(pg, sslmode="require")

    async def scenario() -> Probe:
        task: asyncio.Task[object] | None = None

        def on_step(step: Step) -> None:
            if step.name is StepName.TCP and task is not None:
                task.cancel()

        probe = Probe(Target.from_profile(profile, pg.password), on_step=on_step)
        task = asyncio.create_task(probe.run())
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return probe

    result = asyncio.run(scenario()).result
    assert result is not None
    assert result.diagnosis is not None
    assert result.diagnosis.message == "the test was cancelled while checking TLS"

from __future__ import annotations

from typing import Any

from supalink.profiles.supabase import Mode
from supalink.ui.sizing_dialog import SizingDialog


def test_suggestion_and_limit_follow_the_inputs(qtbot: Any) -> None:
    dialog = SizingDialog(Mode.SESSION)
    qtbot.addWidget(dialog)
    dialog.concurrent.setValue(20)
    assert dialog.advice.suggested_max == 32
    assert "Suggested pool max: <b>32</b>" in dialog.suggested.text()
    assert dialog.advice.verdict == "ok"
    dialog.add_pool("worker", 25)
    assert dialog.advice.total == 57
    assert dialog.advice.verdict == "tight"
    dialog.mode.setCurrentIndex(dialog.mode.findData(Mode.TRANSACTION))
    assert dialog.advice.limit == 200
    assert dialog.advice.verdict == "ok"

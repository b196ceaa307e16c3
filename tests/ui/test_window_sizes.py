"""Issue 31, point 4: every window fits a laptop's screen at 100 % and at 200 %. Each window
(every QDialog and QMainWindow of ui/, and the prompts Qt makes for ui/'s static calls) is
opened in its fullest state by a child process per screen (QT_SCALE_FACTOR is read before
the QApplication exists; the offscreen platform takes the screen's size from a JSON file).
Its minimum size fits the screen less a desktop panel; as wide as the screen, it shows
everything whole (tests/support/window_sizes.py says what "cut" means) within that height;
and no button's text is cut at its minimum size."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.window_sizes import PROMPTS, WINDOW_CLASSES

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "src" / "supalink" / "ui"
# Qt's top-level window classes: a ui/ class made from one (or from one of ui/'s) is a window.
TOP_LEVEL = {
    "QDialog",
    "QMainWindow",
    "QWizard",
    "QMessageBox",
    "QInputDialog",
    "QFileDialog",
    "QProgressDialog",
}
STATIC_DIALOGS = ("QInputDialog.get",)
# (QT_SCALE_FACTOR, screen width, height): at 200 % 1366x768 is 683x384 px and 1024x768 is
# 512x384 px, the narrowest room: there the main window's buttons and the monitor's counts
# take a second line, the form's labels go above their fields.
SCREENS = [(1, 1024, 768), (1, 1366, 768), (2, 1366, 768), (2, 1024, 768)]


def window_classes() -> set[str]:
    """The classes of ui/ that are top-level windows, whatever their module."""
    bases: dict[str, set[str]] = {}
    for module in UI.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
    found: set[str] = set()
    while True:
        more = {name for name, named in bases.items() if named & (TOP_LEVEL | found)} - found
        if not more:
            return found
        found |= more


def prompting_modules() -> set[str]:
    """The ui/ modules that open a dialog Qt makes (QInputDialog.getText and its kind)."""
    return {
        module.stem
        for module in UI.glob("*.py")
        if any(call in module.read_text(encoding="utf-8") for call in STATIC_DIALOGS)
    }


def test_every_window_of_ui_is_checked() -> None:
    assert window_classes() == set(WINDOW_CLASSES)
    assert prompting_modules() == set(PROMPTS)


@pytest.mark.slow
def test_every_window_fits_a_small_screen_at_100_and_200_percent(tmp_path: Path) -> None:
    children = []
    for factor, width, height in SCREENS:
        screen = tmp_path / f"screen-{factor}-{width}.json"
        shape = {"name": "laptop", "x": 0, "y": 0, "width": width, "height": height}
        dpi = {"logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        screen.write_text(json.dumps({"screens": [shape | dpi]}))
        environment = {
            **os.environ,
            "QT_SCALE_FACTOR": str(factor),
            "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
        }
        command = [sys.executable, "-m", "tests.support.window_sizes"]
        children.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    wrong = []
    for (factor, width, height), child in zip(SCREENS, children, strict=True):
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        report = json.loads(out)
        room_width, room_height = report.pop("room")
        assert report.pop("ratio") == factor
        names = {name.split()[0] for name in report}
        assert names >= set(WINDOW_CLASSES), names
        assert set(PROMPTS.values()) <= set(report)
        where = f"{width}x{height} at {factor * 100} %"
        for name, seen in report.items():
            least_width, least_height = seen["minimum"]
            if least_width > room_width or least_height > room_height:
                wrong.append(f"{where}: {name}'s minimum size {least_width}x{least_height}")
            if seen["least_height"] > room_height:
                wrong.append(f"{where}: {name} needs {seen['least_height']} px of height")
            wrong += [f"{where}: {name}: {problem}" for problem in seen["problems"]]
    assert not wrong, "\n".join(wrong)

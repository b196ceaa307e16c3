"""The main window's right-hand side above its buttons: the connection form (with the
welcome above it, on a first launch) in a scroll area, and the test panel under it once a
test ran, split so that the form keeps its room: a test result takes at most a share of
the height the first time, then the height the person dragged it to, and its details may be
hidden; both are remembered in the settings file's preferences. A diagnosis that names a
field (CA file, Password, Connect timeout) scrolls the form to it and puts the cursor
there."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel, QScrollArea, QSplitter, QVBoxLayout, QWidget

from supalink.errors import SupalinkError
from supalink.ui.theme import Tone, toned

if TYPE_CHECKING:
    from supalink.ui.context import AppContext
    from supalink.ui.probe_panel import ProbePanel  # built on the first test, after the paint
    from supalink.ui.profile_form import ProfileForm  # built with the profiles (add_form)

log = logging.getLogger(__name__)

# The least height of the form's scroll area beside a test result: a few fields with their
# labels. Small enough for the window to fit 1366x768 at 200 % (683x364 px).
FORM_LEAST = 120
VERTICAL = 2  # Qt.Orientation.Vertical
PANEL_SHARE = 0.4  # of the height, at most, for a test result the first time it shows
# The preference that keeps the test panel as the person left it: its height (details
# shown) and whether the details show.
PANEL_PREFERENCE = "test_panel"
SAVE_DELAY_MS = 500  # a drag moves the splitter many times: the file is written once
OPENING = "Opening your profiles…"  # where the form goes, until it comes with the profiles


class FormArea(QSplitter):
    def __init__(self, context: AppContext) -> None:
        # Neither a parent nor Qt.Orientation.Vertical given here: either builds the Qt
        # namespace's enums before the first paint (tests/ui/test_deferred_start.py).
        super().__init__()
        self.setProperty("orientation", VERTICAL)
        self.form: ProfileForm | None = None
        self.context = context  # its repository, for the panel's height: after the paint
        self.column = QWidget()  # the welcome goes on top of the form, when there is one
        self.column_layout = QVBoxLayout(self.column)
        self.column_layout.setContentsMargins(0, 0, 0, 0)
        self.opening: QLabel | None = toned(QLabel(OPENING), Tone.HINT)
        self.opening.setMargin(9)  # where the form's first label will be
        self.column_layout.addWidget(self.opening)
        self.column_layout.addStretch(1)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setWidget(self.column)
        self.form_scroll.setMinimumHeight(FORM_LEAST)
        self.addWidget(self.form_scroll)
        self.setChildrenCollapsible(False)
        self.panel: ProbePanel | None = None
        self.panel_height: int | None = None  # as the person left it, details shown
        self.splitterMoved.connect(self._moved)

    def minimumSizeHint(self) -> QSize:
        """As wide as the form's least width, its scroll bar beside it: narrowed further, the
        form would scroll sideways; the profile list gives up its room first."""
        hint = super().minimumSizeHint()
        scroll = self.form_scroll
        beside = scroll.verticalScrollBar().sizeHint().width() + 2 * scroll.frameWidth()
        return hint.expandedTo(QSize(self.column.minimumSizeHint().width() + beside, 0))

    def add_form(self, form: ProfileForm) -> None:
        """The form in place of the words saying the profiles are being opened."""
        if self.opening is not None:
            self.opening.deleteLater()
            self.opening = None
            self.column_layout.takeAt(self.column_layout.count() - 1)  # the room under them
        self.form = form
        self.column_layout.addWidget(form)
        form.show()  # now, not on the loop's next turn, as a layout shows a late child

    def add_welcome(self, welcome: QWidget) -> None:
        self.column_layout.insertWidget(0, welcome)

    def add_panel(self, panel: ProbePanel) -> None:
        from PySide6.QtCore import QTimer

        self.panel = panel
        self.addWidget(panel)
        remembered = self._remembered()
        height = remembered.get("height")
        self.panel_height = height if isinstance(height, int) and height > 0 else None
        panel.show_details(remembered.get("details") is not False)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._remember)
        panel.details_toggled.connect(lambda _: self._save_timer.start())
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 0)
        panel.grown.connect(self.fit_panel)
        panel.field_pointed.connect(self.point_at)

    def show_panel(self, panel: ProbePanel) -> None:
        """Show the test panel at the height it had, or a share of the area's."""
        from PySide6.QtCore import QTimer

        assert panel is self.panel, "add_panel first"
        panel.show()
        self.fit_panel()
        QTimer.singleShot(0, self, self.fit_panel)  # again once the window's layout settled

    def fit_panel(self) -> None:
        panel = self.panel
        if panel is None or panel.isHidden():
            return
        total = sum(self.sizes()) or self.height()
        wanted = panel.whole_height()
        if panel.details_shown:
            wanted = self.panel_height or min(wanted, int(total * PANEL_SHARE))
        height = max(panel.minimumSizeHint().height(), min(wanted, total - FORM_LEAST))
        self.setSizes([total - height, height])

    def point_at(self, key: str) -> None:
        """Scroll the form to the field `key` and put the cursor in it."""
        from PySide6.QtCore import Qt, QTimer

        assert self.form is not None  # a diagnosis follows a test of the form's profile
        row = self.form.rows[key]
        self.form_scroll.ensureWidgetVisible(row)
        # Again once the panel has its height for the whole result: the form's is then known.
        QTimer.singleShot(0, self, lambda: self.form_scroll.ensureWidgetVisible(row))
        for field in row.findChildren(QWidget):  # the row's first field, in its order
            if field.focusPolicy() & Qt.FocusPolicy.TabFocus and field.isVisibleTo(row):
                field.setFocus()
                return

    def _moved(self, *_: int) -> None:
        if self.panel is not None and self.panel.isVisible() and self.panel.details_shown:
            self.panel_height = self.sizes()[1]
            self._save_timer.start()

    def _remembered(self) -> dict[str, object]:
        try:
            stored = self.context.repository.preference(PANEL_PREFERENCE, {})
        except SupalinkError:  # settings it cannot read: the window says why elsewhere
            return {}
        return stored if isinstance(stored, dict) else {}

    def _remember(self) -> None:
        assert self.panel is not None
        shown = {"height": self.panel_height, "details": self.panel.details_shown}
        try:
            self.context.repository.set_preference(PANEL_PREFERENCE, shown)
        except SupalinkError as error:  # a read-only settings file: as it was, next time
            log.warning("could not remember the test panel's height: %s", error)


__all__ = ["FORM_LEAST", "FormArea"]

"""The connection form's section that says where the database is: a Supabase project (its ref,
the connection mode and, on the shared pooler, the region with the pooler's index, or the
pooler host as the dashboard shows it) or another Postgres host and its port."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QComboBox, QLabel, QRadioButton, QSpinBox, QWidget

from supalink.profiles import REGIONS, Mode, Profile
from supalink.ui.form_fields import line_edit
from supalink.ui.theme import Tone, toned

MODE_LABELS = {
    Mode.DIRECT: "Direct connection",
    Mode.SESSION: "Session pooler",
    Mode.TRANSACTION: "Transaction pooler",
    Mode.DEDICATED: "Dedicated pooler",
}
NO_INDEX = -1
# Their Alt letters are chosen with the form's (profile_form.LABELS).
LABELS = {
    "kind": "Kind",
    "ref": "Pro&ject ref",
    "mode": "Mod&e",
    "region": "Re&gion",
    "pooler_index": "Pooler",
    "host": "H&ost",
    "port": "Po&rt",
}
DEFAULT_PORT = 5432


class ServerFields:
    """The section's widgets (the form lays them out and listens to them), row by row."""

    def __init__(self, parent: QWidget) -> None:
        self.supabase_kind = QRadioButton("Supabase project")
        self.custom_kind = QRadioButton("Other Postgres host")
        self.kind_group = QButtonGroup(parent)
        for button in (self.supabase_kind, self.custom_kind):
            self.kind_group.addButton(button)
        self.ref = line_edit("Project ref", "20 lowercase letters and digits")
        self.ref.setMaxLength(20)
        self.mode = QComboBox()
        self.mode.setAccessibleName("Connection mode")
        for mode, mode_label in MODE_LABELS.items():
            self.mode.addItem(mode_label, mode)
        self.mode_summary = toned(QLabel(), Tone.HINT)
        self.mode_summary.setWordWrap(True)
        self.region = QComboBox()
        self.region.setAccessibleName("Region")
        self.region.addItem("Choose the project's region…", None)
        for region in REGIONS:
            self.region.addItem(region, region)
        self.pooler_index = QSpinBox()
        self.pooler_index.setAccessibleName("Pooler index")
        self.pooler_index.setRange(NO_INDEX, 99)
        self.pooler_index.setSpecialValueText("aws-?")
        self.pooler_index.setPrefix("aws-")
        self.pooler_host = line_edit("Pooler host", "or the pooler host, as the dashboard shows")
        self.host = line_edit("Host", "db.example.com, 127.0.0.1 or ::1")
        self.port = QSpinBox()
        self.port.setAccessibleName("Port")
        self.port.setRange(1, 65535)
        self.port.setValue(DEFAULT_PORT)

    @property
    def rows(self) -> dict[str, tuple[QWidget, ...]]:
        """Each row's widgets, in the form's order."""
        return {
            "kind": (self.supabase_kind, self.custom_kind),
            "ref": (self.ref,),
            "mode": (self.mode,),
            "region": (self.region,),
            "pooler_index": (self.pooler_index, self.pooler_host),
            "host": (self.host,),
            "port": (self.port,),
        }

    @property
    def watched(self) -> dict[str, QWidget | QButtonGroup]:
        """The fields whose changes are edits, by the profile's field they set."""
        return {
            "kind": self.kind_group,
            "ref": self.ref,
            "mode": self.mode,
            "region": self.region,
            "pooler_index": self.pooler_index,
            "pooler_host": self.pooler_host,
            "host": self.host,
            "port": self.port,
        }

    def is_supabase(self) -> bool:
        return self.supabase_kind.isChecked()

    def show(self, profile: Profile) -> None:
        (self.supabase_kind if profile.is_supabase else self.custom_kind).setChecked(True)
        self.ref.setText(profile.ref or "")
        self.mode.setCurrentIndex(self.mode.findData(profile.mode))
        self.region.setCurrentIndex(max(0, self.region.findData(profile.region)))
        index = profile.pooler_index
        self.pooler_index.setValue(NO_INDEX if index is None else index)
        self.pooler_host.setText(profile.pooler_host or "")
        self.host.setText(profile.host or "")
        self.port.setValue(profile.port or DEFAULT_PORT)

    def placed(self, profile: Profile) -> Profile:
        """`profile` where the fields say the database is."""
        is_supabase = self.is_supabase()
        mode = Mode(self.mode.currentData()) if is_supabase else Mode.DIRECT
        index = self.pooler_index.value()
        return profile.replace(
            mode=mode,
            ref=self.ref.text().strip() if is_supabase else None,
            region=self.region.currentData() if is_supabase and mode.on_shared_pooler else None,
            pooler_index=None if index == NO_INDEX or not is_supabase else index,
            pooler_host=(self.pooler_host.text().strip() or None) if is_supabase else None,
            host=None if is_supabase else self.host.text().strip(),
            port=None if is_supabase else self.port.value(),
        )

    def refresh(self) -> dict[str, bool]:
        """The mode's summary, and the region and index only when no pooler host is given;
        which rows show for the kind and mode."""
        is_supabase = self.is_supabase()
        mode = Mode(self.mode.currentData())
        pooled = is_supabase and mode.on_shared_pooler  # the dedicated one is on db.<ref>
        self.mode_summary.setText(mode.summary)
        self.pooler_index.setEnabled(not self.pooler_host.text().strip())
        self.region.setEnabled(not self.pooler_host.text().strip())
        return {
            "ref": is_supabase,
            "mode": is_supabase,
            "region": pooled,
            "pooler_index": pooled,
            "host": not is_supabase,
            "port": not is_supabase,
        }


__all__ = ["LABELS", "MODE_LABELS", "NO_INDEX", "ServerFields"]

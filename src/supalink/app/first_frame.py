"""The preferences the first frame needs (the theme, the desktop's colour scheme last seen,
the windows' places), read from the settings file as it stands: no profile checked, no lock
taken, nothing set aside. The profiles' repository reads the whole file, and says what is
wrong with it, once the window is up (profiles/settings.py is the file's home; a test holds
the two to the same key)."""

from __future__ import annotations

from pathlib import Path

from supalink.files import parse_json, read_plain_file

PREFERENCES_KEY = "preferences"  # profiles/settings.py writes them under it


class FirstFramePreferences:
    def __init__(self, settings_file: Path) -> None:
        self.values: dict[str, object] = {}
        try:
            document = parse_json(read_plain_file(settings_file).decode("utf-8-sig"))
        except (OSError, ValueError):  # none yet, or unreadable: the window says why later
            return
        found = document.get(PREFERENCES_KEY) if isinstance(document, dict) else None
        if isinstance(found, dict):
            self.values = found

    def preference(self, key: str, default: object = None) -> object:
        return self.values.get(key, default)


__all__ = ["PREFERENCES_KEY", "FirstFramePreferences"]

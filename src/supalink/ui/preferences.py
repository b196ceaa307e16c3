"""Where the windows read the app's preferences from (the theme, the desktop's colour scheme
last seen, the windows' places): the profiles' repository, or before the first frame the
settings file as it stands (app/first_frame.py), so that the repository opens after it."""

from __future__ import annotations

from typing import Protocol


class Preferences(Protocol):
    def preference(self, key: str, default: object = None) -> object: ...


__all__ = ["Preferences"]

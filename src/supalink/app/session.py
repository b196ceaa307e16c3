"""The session the app remembers between runs: where its windows were (each on a named
screen, maximized or not) and which monitors were open, with their channels and tab.

Plain data kept under one preference of the settings file (SESSION_KEY), as JSON, and the
one rule for putting a remembered rect back on a screen (`fitted`). No Qt here: the
windows' side is session_keeper.py. A session read back is taken as far as it makes sense:
a hand-edited or older file loses what it cannot say, never the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SESSION_KEY = "session"

# x, y, width, height: as Qt's QRect, but testable without a screen.
Rect = tuple[int, int, int, int]


@dataclass(frozen=True)
class Place:
    """Where a window was: the screen's name and the rect on it, its corner counted from the
    screen's own (screens are moved around; the rect on the screen is what the person
    chose). For a maximized window, the rect it goes back to when un-maximized."""

    screen: str
    rect: Rect
    maximized: bool = False


@dataclass(frozen=True)
class MonitorState:
    """An open monitor: its profile's name, the channels listened on, the tab shown."""

    profile: str
    channels: tuple[str, ...] = ()
    tab: str | None = None
    place: Place | None = None


@dataclass(frozen=True)
class Session:
    main: Place | None = None
    monitors: tuple[MonitorState, ...] = ()

    def to_preference(self) -> dict[str, Any]:
        return {
            "main": _place_value(self.main),
            "monitors": [
                {
                    "profile": monitor.profile,
                    "channels": list(monitor.channels),
                    "tab": monitor.tab,
                    "place": _place_value(monitor.place),
                }
                for monitor in self.monitors
            ],
        }


def session_from(value: object) -> Session:
    """The session a preference holds; what is not as written above is left out."""
    if not isinstance(value, dict):
        return Session()
    monitors: list[MonitorState] = []
    seen: set[str] = set()
    listed = value.get("monitors")
    for item in listed if isinstance(listed, list) else ():
        monitor = _monitor_from(item)
        if monitor is not None and monitor.profile not in seen:  # one window per profile
            seen.add(monitor.profile)
            monitors.append(monitor)
    return Session(_place_from(value.get("main")), tuple(monitors))


def fitted(rect: Rect, area: Rect) -> Rect:
    """`rect` put inside `area` (a screen's available geometry): shrunk to fit when larger,
    moved in when any of it is outside, left alone otherwise."""
    x, y, width, height = rect
    area_x, area_y, area_width, area_height = area
    width = max(1, min(width, area_width))
    height = max(1, min(height, area_height))
    x = min(max(x, area_x), area_x + area_width - width)
    y = min(max(y, area_y), area_y + area_height - height)
    return x, y, width, height


def _place_value(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {"screen": place.screen, "rect": list(place.rect), "maximized": place.maximized}


def _place_from(value: object) -> Place | None:
    if not isinstance(value, dict):
        return None
    screen, rect, maximized = value.get("screen"), value.get("rect"), value.get("maximized")
    if not isinstance(screen, str) or not isinstance(rect, list) or len(rect) != 4:
        return None
    if not all(type(number) is int for number in rect):  # bool is an int, and no size
        return None
    x, y, width, height = rect
    if width <= 0 or height <= 0:
        return None
    return Place(screen, (x, y, width, height), maximized is True)


def _monitor_from(value: object) -> MonitorState | None:
    if not isinstance(value, dict):
        return None
    profile, channels, tab = value.get("profile"), value.get("channels"), value.get("tab")
    if not isinstance(profile, str) or not profile:
        return None
    names = channels if isinstance(channels, list) else []
    kept = tuple(dict.fromkeys(name for name in names if isinstance(name, str) and name))
    return MonitorState(
        profile, kept, tab if isinstance(tab, str) else None, _place_from(value.get("place"))
    )

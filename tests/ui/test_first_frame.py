"""The first frame's preferences come from the settings file as it stands
(supalink.app.first_frame): what the repository wrote reads back the same, and a file it
cannot use gives none, without a lock taken or the file set aside (the repository does
that, and says why, once the window is up)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from supalink.app.first_frame import FirstFramePreferences
from supalink.app.session import SESSION_KEY, Place, Session
from supalink.profiles import MemorySecretStore, Profile
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.settings import SettingsFile


def test_what_the_repository_wrote_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    repository = ProfileRepository(SettingsFile(path), MemorySecretStore())
    repository.save(Profile("p", host="127.0.0.1", port=5432, user="u"), None)
    session = Session(main=Place("offscreen", (300, 80, 900, 600), maximized=True))
    repository.set_preference("theme", "dark")
    repository.set_preference(SESSION_KEY, session.to_preference())

    first_frame = FirstFramePreferences(path)
    for key in ("theme", SESSION_KEY, "missing"):
        assert first_frame.preference(key, "default") == repository.preference(key, "default")


@pytest.mark.parametrize(
    "content", [None, b"{not json", b"[1, 2]", b'{"preferences": 3}', b"\xff\xfe\x00", "folder"]
)
def test_a_file_it_cannot_use_gives_no_preference_and_stays_where_it_is(
    tmp_path: Path, content: bytes | str | None
) -> None:
    path = tmp_path / "settings.json"
    if content == "folder":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    before = sorted(os.listdir(tmp_path))

    assert FirstFramePreferences(path).preference("theme") is None
    assert sorted(os.listdir(tmp_path)) == before  # nothing set aside, no lock file

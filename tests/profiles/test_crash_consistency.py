"""kill -9 at every step of `supalink profile add|remove|rename` and of a save over an
existing profile: what is left is the old state, the new one, or what `profile list` notes
and `profile repair --yes` repairs in one step. Real processes, stopped at a named pause
point (profiles/pause.py) and killed with SIGKILL; the real Secret Service."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from supalink.paths import AppPaths
from supalink.profiles.journal import JOURNAL_NAME
from supalink.profiles.pause import PAUSE_ENV, PAUSED
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.secrets import KeyringSecretStore, SecretKind
from supalink.profiles.settings import SettingsFile
from tests.support.cli import SUPALINK, run_cli
from tests.support.secret_service import SecretService

OLD_REF, NEW_REF = "oldrefoldrefoldrefol", "newrefnewrefnewrefne"
OLD_PASSWORD, NEW_PASSWORD = "old-password-1", "new-password-2"
PASSWORD, REF = SecretKind.PASSWORD, SecretKind.PROJECT_REF
STAGED = (SecretKind.PASSWORD_BEING_SAVED, SecretKind.PROJECT_REF_BEING_SAVED)


def uri(ref: str, region: str = "eu-central-1") -> str:
    return f"postgresql://postgres.{ref}@aws-0-{region}.pooler.supabase.com:5432/postgres"


@dataclass
class Home:
    """A SUPALINK_HOME, its profiles read fresh each time, and the keyring they use."""

    root: Path

    def repository(self) -> ProfileRepository:
        from keyring.backends.SecretService import Keyring

        settings = SettingsFile(AppPaths.under(self.root).settings_file)
        return ProfileRepository(settings, KeyringSecretStore(Keyring()))

    def names(self) -> list[str]:
        return self.repository().names()

    def entries(self, name: str) -> dict[SecretKind, str]:
        """Every keyring entry under `name`, staged ones included."""
        store = self.repository().secrets
        found = {kind: store.get(name, kind) for kind in (PASSWORD, REF, *STAGED)}
        return {kind: value for kind, value in found.items() if value is not None}

    def journal(self) -> Path:
        return AppPaths.under(self.root).config_dir / JOURNAL_NAME

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """A run to its end, in this process."""
        return run_cli(*args, home=self.root, stdin=stdin, text=True)

    def kill_at(self, point: str, *args: str, stdin: str = "") -> None:
        """Run `supalink ARGS` until it stops at `point`, then SIGKILL it there."""
        env = {**os.environ, "SUPALINK_HOME": str(self.root), PAUSE_ENV: point}
        process = subprocess.Popen(
            [SUPALINK, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        guard = threading.Timer(60, process.kill)  # a process that never pauses fails, not hangs
        guard.start()
        try:
            assert process.stdin is not None
            assert process.stderr is not None
            process.stdin.write(stdin)
            process.stdin.close()
            said = []
            for line in process.stderr:
                said.append(line)
                if line.startswith(PAUSED):
                    break
            assert said[-1:] == [f"{PAUSED}{point}\n"], said
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(timeout=10) == -signal.SIGKILL
            process.stderr.close()
        finally:
            guard.cancel()

    def leftovers_noted(self) -> str:
        """What `profile list` says on stderr (the note, when something is left)."""
        listed = self.run("profile", "list")
        assert listed.returncode == 0, listed.stderr
        return listed.stderr

    def repair(self) -> tuple[str, str]:
        """`profile repair`'s listing, then `profile repair --yes`'s report."""
        found = self.run("profile", "repair")
        assert found.returncode == 0, found.stderr
        repaired = self.run("profile", "repair", "--yes")
        assert repaired.returncode == 0, repaired.stderr
        again = self.run("profile", "repair")
        assert again.stdout == "nothing to repair\n", again.stdout
        assert not self.journal().exists()
        return found.stdout, repaired.stdout


@pytest.fixture
def home(tmp_path: Path, secret_service: SecretService) -> Home:
    return Home(tmp_path)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def a_profile(home: Home, name: str) -> None:
    from supalink.profiles import parse_uri

    home.repository().save(parse_uri(uri(OLD_REF), name=name).profile, OLD_PASSWORD)


def nothing_left(home: Home, *names: str) -> None:
    for name in names:
        assert home.entries(name) == {}, name


# ----- profile add -----------------------------------------------------------------------

ADD_ARGS = {
    "supabase": ("--uri", uri(NEW_REF)),
    "custom": ("--host", "db.example.com"),
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(ADD_ARGS))
@pytest.mark.parametrize("point", ["add:journaled", "add:keyring-written", "add:settings-written"])
def test_profile_add_killed(home: Home, point: str, kind: str) -> None:
    name = unique("added")
    add = ("profile", "add", name, *ADD_ARGS[kind], "--password-stdin")
    home.kill_at(point, *add, stdin=NEW_PASSWORD)
    written = {PASSWORD: NEW_PASSWORD} | ({REF: NEW_REF} if kind == "supabase" else {})
    if point == "add:settings-written":  # the new state; the journal's note is done
        assert home.names() == [name]
        assert home.entries(name) == written
        assert home.repository().password_value(name) == NEW_PASSWORD
        assert home.leftovers_noted() == ""
        assert home.repair() == ("nothing to repair\n", "nothing to repair\n")
        assert home.entries(name) == written
        return
    assert home.names() == []  # the old state, plus entries no profile has
    orphans = written if point == "add:keyring-written" else {}
    assert home.entries(name) == orphans
    if orphans:
        entries = "entry" if len(orphans) == 1 else "entries"
        assert home.leftovers_noted() == (
            f"note: {len(orphans)} orphaned keyring {entries}: run `supalink profile repair`\n"
        )
    found, repaired = home.repair()
    if orphans:
        assert found.startswith(f"{name!r}: its ")
        assert "saved by a `profile add` that stopped before the profile" in found
        assert found.endswith("run `supalink profile repair --yes` to repair it all\n")
        assert repaired.endswith(": deleted\n")
    else:
        assert (found, repaired) == ("nothing to repair\n", "nothing to repair\n")
    nothing_left(home, name)


@pytest.mark.slow
def test_the_next_add_of_that_name_repairs_what_a_killed_one_left(home: Home) -> None:
    name = unique("again")
    add = ("profile", "add", name, "--uri", uri(NEW_REF), "--password-stdin")
    home.kill_at("add:keyring-written", *add, stdin=NEW_PASSWORD)
    again = home.run("profile", "add", name, "--host", "db.example.com", "--no-save-password")
    assert again.returncode == 0, again.stderr
    assert home.entries(name) == {}  # the killed add's entries went before this one began
    assert home.run("profile", "repair").stdout == "nothing to repair\n"


# ----- a save over an existing profile (profile add --replace, the window's Save) ----------


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["save:journaled", "save:staged", "save:settings-written", "save:moved"]
)
def test_profile_add_replace_killed(home: Home, point: str) -> None:
    name = unique("replaced")
    a_profile(home, name)
    # Another region too: a ref and password alone leave the settings as they were.
    new_uri = uri(NEW_REF, region="eu-west-2")
    replace = ("profile", "add", name, "--uri", new_uri, "--replace", "--password-stdin")
    home.kill_at(point, *replace, stdin=NEW_PASSWORD)
    old = {PASSWORD: OLD_PASSWORD, REF: OLD_REF}
    new = {PASSWORD: NEW_PASSWORD, REF: NEW_REF}
    staged = {
        SecretKind.PASSWORD_BEING_SAVED: NEW_PASSWORD,
        SecretKind.PROJECT_REF_BEING_SAVED: NEW_REF,
    }
    # The profile as it opens, before any repair: old or new, never a mix.
    repository = home.repository()
    opened = (repository.load(name).profile.ref, repository.password_value(name))
    expected = {
        "save:journaled": (old, "nothing to repair\n", old),
        "save:staged": (old | staged, "did not take effect", old),
        "save:settings-written": (old | staged, "stopped halfway", new),
        "save:moved": (new, "nothing to repair\n", new),
    }
    entries, found_words, after = expected[point]
    assert home.entries(name) == entries
    assert opened == (after[REF], after[PASSWORD])
    note = "note: 2 orphaned keyring entries: run `supalink profile repair`\n"
    assert home.leftovers_noted() == (note if staged.keys() <= entries.keys() else "")
    found, repaired = home.repair()
    assert found_words in found
    if "halfway" in found:
        assert repaired.endswith(": moved into the profile\n")
    assert home.entries(name) == after
    repository = home.repository()
    assert (repository.load(name).profile.ref, repository.password_value(name)) == opened


# ----- profile rename ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["rename:journaled", "rename:copied", "rename:settings-written", "rename:old-deleted"]
)
def test_profile_rename_killed(home: Home, point: str) -> None:
    old, new = unique("before"), unique("after")
    a_profile(home, old)
    home.kill_at(point, "profile", "rename", old, new)
    secrets = {PASSWORD: OLD_PASSWORD, REF: OLD_REF}
    took_effect = point in ("rename:settings-written", "rename:old-deleted")
    kept, gone = (new, old) if took_effect else (old, new)
    assert home.names() == [kept]
    assert home.entries(kept) == secrets  # the password is never only in a dead process
    both = point in ("rename:copied", "rename:settings-written")
    assert home.entries(gone) == (secrets if both else {})
    found, repaired = home.repair()
    if both:
        assert found.startswith(f"{gone!r}: its ")
        how = "left by a rename" if took_effect else "copied by a rename that did not take effect"
        assert f"{how}; the profile is {kept!r}" in found
        assert repaired.endswith(": deleted\n")
    else:
        assert found == "nothing to repair\n"
    assert home.entries(kept) == secrets
    nothing_left(home, gone)
    assert home.repository().password_value(kept) == OLD_PASSWORD


# ----- profile remove ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["remove:journaled", "remove:settings-written", "remove:keyring-deleted"]
)
def test_profile_remove_killed(home: Home, point: str) -> None:
    name = unique("removed")
    a_profile(home, name)
    home.kill_at(point, "profile", "remove", name)
    secrets = {PASSWORD: OLD_PASSWORD, REF: OLD_REF}
    if point == "remove:journaled":  # the old state
        assert home.names() == [name]
        assert home.entries(name) == secrets
        assert home.repair() == ("nothing to repair\n", "nothing to repair\n")
        assert home.entries(name) == secrets
        return
    assert home.names() == []
    left = secrets if point == "remove:settings-written" else {}
    assert home.entries(name) == left
    found, repaired = home.repair()
    if left:
        assert "left by the removal of the profile" in found
        assert repaired.endswith(": deleted\n")
    nothing_left(home, name)


@pytest.mark.slow
def test_a_save_of_new_secrets_alone_killed_once_they_are_staged_opens_with_them(
    home: Home,
) -> None:
    """The settings the same, the staged ref and password are the new state already: a
    profile opening reads them, and repair moves them in."""
    name = unique("secrets-only")
    a_profile(home, name)
    replace = ("profile", "add", name, "--uri", uri(NEW_REF), "--replace", "--password-stdin")
    home.kill_at("save:staged", *replace, stdin=NEW_PASSWORD)
    repository = home.repository()
    assert (repository.load(name).profile.ref, repository.password_value(name)) == (
        NEW_REF,
        NEW_PASSWORD,
    )
    found, repaired = home.repair()
    assert "of a save that stopped halfway" in found
    assert repaired.endswith(": moved into the profile\n")
    assert home.entries(name) == {PASSWORD: NEW_PASSWORD, REF: NEW_REF}

"""What `profile add` (and `rename`, `monitor`) refuse or warn about, as a person sees it:
a name with control, bidi or invisible characters, a CA file that is not there, a password
written into a URI on the command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from supalink.paths import AppPaths
from supalink.profiles import MemorySecretStore, Profile, ProfileError
from supalink.profiles.repository import ProfileRepository
from supalink.profiles.settings import SettingsFile
from tests.support.cli import run_cli

# No keyring at all: none of these needs one.
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
WARNING = (
    "warning: the password in --uri is on the command line, where other programs (ps) and "
    "your shell's history can read it; leave it out of the URI and pipe it in with "
    "--password-stdin\n"
)
SECRET = "s3cret-on-argv"


def supalink(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, env=NO_KEYRING, cwd=cwd, text=True)


def saved_names(home: Path) -> list[str]:
    settings = SettingsFile(AppPaths.under(home).settings_file)
    return ProfileRepository(settings, MemorySecretStore()).names()


def local(home: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return supalink(
        home, "profile", "add", name, "--host", "127.0.0.1", "--no-save-password", *extra
    )


# ----- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", ["\u202e", "\u2066", "\u200f", "\x1b", "\u200b"])
def test_a_name_with_a_bidi_or_control_character_is_one_line_and_exit_2(
    tmp_path: Path, hidden: str
) -> None:
    added = local(tmp_path, f"prod{hidden}ved")
    assert added.returncode == 2
    assert added.stdout == ""
    assert added.stderr == (
        "supalink profile: error: name: a name cannot hold control, bidirectional or other "
        f"invisible characters (it holds U+{ord(hidden):04X})\n"
    )
    assert saved_names(tmp_path) == []


def test_a_rename_to_such_a_name_is_refused_too(tmp_path: Path) -> None:
    assert local(tmp_path, "prod").returncode == 0
    renamed = supalink(tmp_path, "profile", "rename", "prod", "prod\u202edev")
    assert renamed.returncode == 2
    assert renamed.stderr.count("\n") == 1
    assert "\u202e" not in renamed.stderr
    assert saved_names(tmp_path) == ["prod"]


# ----- the CA file -------------------------------------------------------------------------


def test_a_ca_file_that_is_not_there_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "prod-ca-2021.crt"
    added = local(tmp_path, "prod", "--sslrootcert", str(missing))
    assert added.returncode == 2
    assert added.stderr == (
        f"supalink profile: error: sslrootcert: the CA certificate file {missing} does not exist\n"
    )
    folder = local(tmp_path, "prod", "--sslrootcert", str(tmp_path))
    assert folder.returncode == 2
    assert folder.stderr == (
        f"supalink profile: error: sslrootcert: the CA certificate {tmp_path} is not a file\n"
    )
    uri = f"postgresql://u@127.0.0.1/db?sslmode=verify-full&sslrootcert={missing}"
    from_uri = supalink(tmp_path, "profile", "add", "prod", "--uri", uri, "--no-save-password")
    assert from_uri.returncode == 2
    assert from_uri.stderr.count("\n") == 1
    assert "does not exist" in from_uri.stderr
    assert saved_names(tmp_path) == []


def test_a_ca_file_given_relative_is_kept_absolute(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_text("not checked here, only found\n")
    add = ("profile", "add", "prod", "--host", "127.0.0.1", "--no-save-password")
    added = supalink(tmp_path, *add, "--sslrootcert", "certs/ca.crt", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    system = local(tmp_path, "sys", "--sslrootcert", "system")  # libpq's OS trust store
    assert system.returncode == 0, system.stderr
    settings = SettingsFile(AppPaths.under(tmp_path).settings_file)
    repository = ProfileRepository(settings, MemorySecretStore())
    assert repository.record("prod").profile.sslrootcert == str(tmp_path / "certs" / "ca.crt")
    assert repository.record("sys").profile.sslrootcert == "system"


def test_a_profile_whose_ca_file_went_since_still_saves_and_renames(tmp_path: Path) -> None:
    """Only a profile saved with a CA file new to it is checked: a change that leaves the
    file as it was is no place to refuse (the connection test says it is gone); a copy, a
    new profile, is."""
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    repository = ProfileRepository(SettingsFile(tmp_path / "settings.json"), MemorySecretStore())
    profile = Profile("prod", host="127.0.0.1", sslrootcert=str(ca))
    repository.save(profile)
    ca.unlink()
    repository.save(profile.replace(database="other"), replace=True)
    repository.rename("prod", "prod-2")
    assert repository.names() == ["prod-2"]
    with pytest.raises(ProfileError, match="does not exist") as refused:
        repository.duplicate("prod-2", "prod-3")
    assert refused.value.field == "sslrootcert"
    with pytest.raises(ProfileError, match="does not exist"):
        repository.save(profile.replace(sslrootcert=str(tmp_path / "other.crt")), replace=True)
    assert repository.names() == ["prod-2"]


# ----- a password on the command line ------------------------------------------------------


def test_profile_add_warns_of_a_password_written_into_the_uri(tmp_path: Path) -> None:
    uri = f"postgresql://u:{SECRET}@127.0.0.1/db"
    added = supalink(tmp_path, "profile", "add", "p", "--uri", uri, "--no-save-password")
    assert added.returncode == 0, added.stderr
    assert added.stderr == WARNING
    placeholder = "postgresql://u:[YOUR-PASSWORD]@127.0.0.1/db"
    quiet = supalink(tmp_path, "profile", "add", "q", "--uri", placeholder, "--no-save-password")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""


@pytest.mark.parametrize(
    "uri",
    [f"postgresql://u:{SECRET}@127.0.0.1:1/db", f"host=127.0.0.1 port=1 user=u password={SECRET}"],
    ids=["uri", "conninfo"],
)
def test_monitor_warns_of_a_password_written_into_the_uri(tmp_path: Path, uri: str) -> None:
    # Port 1: nothing listens; it says so after the warning and gives up after 0.3 s.
    watched = supalink(tmp_path, "monitor", "--uri", uri, "--duration", "0.3")
    assert watched.returncode == 1
    warning, *rest = watched.stderr.splitlines(keepends=True)
    assert warning == WARNING
    assert [line.startswith("supalink monitor: never connected") for line in rest] == [True]
    assert SECRET not in watched.stdout + watched.stderr


@pytest.mark.parametrize(
    "uri", ["postgresql://u@127.0.0.1:1/db", "postgresql://u:[YOUR-PASSWORD]@127.0.0.1:1/db"]
)
def test_monitor_says_nothing_of_a_uri_without_its_password(tmp_path: Path, uri: str) -> None:
    watched = supalink(tmp_path, "monitor", "--uri", uri, "--duration", "0.3")
    assert watched.returncode == 1
    assert "warning" not in watched.stderr

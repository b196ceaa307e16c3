"""No usable keyring: every profile that can open opens, custom-host profiles save, Supabase
profiles (their ref in the keyring) are listed as locked with the reason, nothing is lost and
nothing is written in plain text. Profiles saved in the real Secret Service, then the CLI run
with no Secret Service on its bus (keyring's fail backend) or with the Secret Service backend
and nobody answering it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from supalink.paths import AppPaths
from supalink.profiles import (
    KeyringSecretStore,
    Profile,
    ProfileLocked,
    ProfileRepository,
    SecretKind,
    parse_uri,
)
from supalink.profiles.settings import SettingsFile
from tests.support.cli import run_cli
from tests.support.postgres import PostgresServer
from tests.support.profiles import save_profile
from tests.support.secret_service import SecretService
from tests.support.system_tools import SystemTools

REF = "qazwsxedcrfvtgbyhnuj"
URI = (
    f"postgresql://postgres.{REF}:[YOUR-PASSWORD]@aws-0-eu-west-2.pooler.supabase.com:5432/postgres"
)
PASSWORD = "pw-of-the-keyring-only"
LOCKED = "locked: the keyring did not answer: "


def saved_in_the_keyring(home: Path) -> tuple[str, str]:
    """A Supabase profile and a custom-host one, both with their password in the real
    Secret Service; their names."""
    from keyring.backends.SecretService import Keyring

    suffix = uuid.uuid4().hex[:6]
    repository = ProfileRepository(
        SettingsFile(AppPaths.under(home).settings_file), KeyringSecretStore(Keyring())
    )
    supabase = parse_uri(URI, name=f"prod-{suffix}").profile
    repository.save(supabase, PASSWORD)
    custom = Profile(f"local-{suffix}", host="127.0.0.1", port=5432)
    repository.save(custom, PASSWORD)
    return supabase.name, custom.name


def forget(home: Path, *names: str) -> None:
    from keyring.backends.SecretService import Keyring

    repository = ProfileRepository(
        SettingsFile(AppPaths.under(home).settings_file), KeyringSecretStore(Keyring())
    )
    for name in names:
        repository.remove(name)


def dead_bus(tmp_path: Path) -> str:
    return f"unix:path={tmp_path / 'nobody-listens'}"


# keyring's own choice (no bus: its fail backend), or the Secret Service backend with the
# service gone (the daemon stopped after the choice).
VARIANTS = {
    "no-keyring": {},
    "not-answering": {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"},
}


def run(
    home: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, home=home, env=env, stdin=stdin, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_cli_opens_and_saves_what_it_can_and_lists_the_rest_as_locked(
    tmp_path: Path, secret_service: SecretService, variant: str
) -> None:
    prod, local = saved_in_the_keyring(tmp_path)
    env = {"DBUS_SESSION_BUS_ADDRESS": dead_bus(tmp_path), **VARIANTS[variant]}
    new = f"new-{uuid.uuid4().hex[:6]}"

    added = run(
        tmp_path, env, "profile", "add", new, "--host", "db.example.com", "--no-save-password"
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout == f"saved profile {new!r} (password not saved)\n"

    listed = run(tmp_path, env, "profile", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert list(rows) == [prod, local, new]  # the locked one listed, not hidden
    assert rows[prod]["locked"].startswith(LOCKED)
    assert rows[local]["locked"] is None
    assert rows[new]["locked"] is None
    text = run(tmp_path, env, "profile", "list")
    [prod_line] = [line for line in text.stdout.splitlines() if line.startswith(prod)]
    assert LOCKED in prod_line

    shown = run(tmp_path, env, "profile", "show", new, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["host"] == "db.example.com"
    assert shown.stderr == ""
    custom = run(tmp_path, env, "profile", "show", local, "--json")
    assert custom.returncode == 0, custom.stderr
    assert json.loads(custom.stdout)["password_missing_from_keyring"] is False
    [warning] = custom.stderr.splitlines()
    assert warning.startswith("warning: the password is in the keyring, which did not answer: ")
    locked = run(tmp_path, env, "profile", "show", prod)
    assert locked.returncode == 1
    [line] = locked.stderr.splitlines()
    assert f"profile {prod!r} is {LOCKED}" in line

    refused = run(
        tmp_path, env, "profile", "add", "other", "--uri", URI, "--password-stdin", stdin=PASSWORD
    )
    assert refused.returncode == 1
    assert "keyring" in refused.stderr

    # Back with its keyring, nothing was lost; nothing secret went into the file.
    from keyring.backends.SecretService import Keyring

    repository = ProfileRepository(
        SettingsFile(AppPaths.under(tmp_path).settings_file), KeyringSecretStore(Keyring())
    )
    assert repository.names() == [prod, local, new]
    assert repository.load(prod).profile.ref == REF
    assert repository.password_value(prod) == PASSWORD
    on_disk = AppPaths.under(tmp_path).settings_file.read_bytes()
    assert REF.encode() not in on_disk
    assert PASSWORD.encode() not in on_disk
    forget(tmp_path, prod, local, new)


def test_the_repository_without_an_answering_keyring(
    tmp_path: Path, secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the Secret Service backend with nobody on the bus."""
    from keyring.backends.SecretService import Keyring

    prod, local = saved_in_the_keyring(tmp_path)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", dead_bus(tmp_path))
    repository = ProfileRepository(
        SettingsFile(AppPaths.under(tmp_path).settings_file), KeyringSecretStore(Keyring())
    )
    problem = repository.keyring_problem()
    assert problem is not None
    assert problem.startswith("Secret Service could not read")
    assert repository.locked() == {prod: LOCKED + problem}
    with pytest.raises(ProfileLocked, match=f"profile {prod!r} is locked: the keyring did not"):
        repository.load(prod)
    assert repository.load(local).profile.host == "127.0.0.1"  # opens, without its password
    assert repository.password(local, keyring_may_fail=True) is None
    assert not repository.password_missing(local)  # not known to be missing
    repository.hold_password(local, "typed-this-session")
    assert repository.password_value(local, keyring_may_fail=True) == "typed-this-session"
    # A change to a custom-host profile keeps its saved password's place, and the locked one.
    edited = repository.load(local).profile.replace(database="other")
    record = repository.save(edited, None, replace=True)
    assert record.password_saved
    assert repository.names() == [prod, local]
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.bus_address)
    assert repository.keyring_problem() is None
    assert repository.locked() == {}
    assert repository.load(prod).profile.ref == REF
    assert repository.secrets.get(local, SecretKind.PASSWORD) == PASSWORD
    forget(tmp_path, prod, local)


@pytest.fixture
def locked_keyring(
    system_tools: SystemTools, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[SecretService]:
    """A gnome-keyring of this test's own (locking the session's would lock every later
    test out), holding the two profiles' secrets, then locked: no prompt can unlock it here."""
    import secretstorage

    service = SecretService(
        system_tools.dbus_daemon, system_tools.gnome_keyring_daemon, tmp_path / "keyring"
    )
    service.start()
    try:
        for key, value in service.environment().items():
            monkeypatch.setenv(key, value)
        saved_in_the_keyring(tmp_path)
        connection = secretstorage.dbus_init()
        try:
            secretstorage.get_default_collection(connection).lock()
        finally:
            connection.close()
        yield service
    finally:
        service.stop()


def test_a_locked_keyring_locks_the_supabase_profiles_and_says_so(
    tmp_path: Path, locked_keyring: SecretService
) -> None:
    listed = run(tmp_path, {}, "profile", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    prod, local = (row for row in json.loads(listed.stdout))
    assert prod["locked"] == LOCKED + (
        "Secret Service (GNOME Keyring) could not read the project ref: KeyringLocked: "
        "Failed to unlock the collection!"
    )
    assert local["locked"] is None
    added = run(
        tmp_path, {}, "profile", "add", "here", "--host", "db.example.com", "--no-save-password"
    )
    assert added.returncode == 0, added.stderr
    shown = run(tmp_path, {}, "profile", "show", prod["name"])
    assert shown.returncode == 1
    assert "The keyring is locked: unlock it" in shown.stderr


def test_a_custom_host_profile_tests_with_the_password_given_and_no_keyring(
    tmp_path: Path, secret_service: SecretService, pg: PostgresServer
) -> None:
    name = save_profile(tmp_path, pg, prefix="tested")
    env = {"DBUS_SESSION_BUS_ADDRESS": dead_bus(tmp_path)}
    tested = run(tmp_path, env, "test", name, "--password-stdin", stdin=pg.password)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    without = run(tmp_path, env, "test", name)  # its password is in the silent keyring
    assert without.returncode == 1
    [line] = without.stderr.splitlines()
    assert "no usable keyring" in line
    assert pg.password not in tested.stdout + tested.stderr + without.stderr
    forget(tmp_path, name)


ON_A_LOCKED_KEYRING = """
import json, sys
from keyring.backends.SecretService import Keyring
from supalink.profiles.secrets import KeyringRefused, KeyringSecretStore, SecretKind

direct = KeyringSecretStore(direct=True)
refusals = []
for store in (direct, KeyringSecretStore(Keyring())):
    try:
        store.get(sys.argv[1], SecretKind.PASSWORD)
    except KeyringRefused as refused:
        refusals.append([str(refused), refused.locked])
said = {"usable": direct.is_usable, "description": direct.description, "refusals": refusals}
print(json.dumps(said))
"""


def test_the_direct_store_on_a_locked_keyring_refuses_as_keyring_does(
    tmp_path: Path, locked_keyring: SecretService
) -> None:
    """The app's store reads the Secret Service itself; a locked collection is left to
    keyring, which asks to unlock it (no prompt can show here) and says it is locked. In a
    process of its own: keyring leaves its connection open when it finds the collection
    locked."""
    from keyring.backends.SecretService import Keyring

    settings = SettingsFile(AppPaths.under(tmp_path).settings_file)
    names = ProfileRepository(settings, KeyringSecretStore(Keyring())).names()
    prod = next(name for name in names if name.startswith("prod-"))
    result = subprocess.run(
        [sys.executable, "-c", ON_A_LOCKED_KEYRING, prod],
        env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")},  # no keyringrc.cfg
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    said = json.loads(result.stdout)
    assert said["usable"]
    assert said["description"] == "Secret Service (GNOME Keyring)"
    [direct, through_keyring] = said["refusals"]
    assert direct == through_keyring
    assert direct[1]  # locked


NOBODY_ANSWERS = """
import json
from supalink.profiles.secrets import KeyringSecretStore, SecretKind, SecretStoreError

store = KeyringSecretStore(direct=True)
try:
    store.get("anyone", SecretKind.PASSWORD)
except SecretStoreError as error:
    refused = error.reason
print(json.dumps({"usable": store.is_usable, "description": store.description, "read": refused}))
"""


def test_the_direct_store_with_nobody_on_the_bus_has_no_usable_keyring(tmp_path: Path) -> None:
    """Nobody answers the Secret Service: keyring's own choice (its fail backend) says why.
    In a process of its own: keyring keeps the backend it chose first for the process."""
    result = subprocess.run(
        [sys.executable, "-c", NOBODY_ANSWERS],
        env={
            **os.environ,
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "DBUS_SESSION_BUS_ADDRESS": dead_bus(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == {
        "usable": False,
        "description": "no usable keyring",
        "read": "no usable keyring: no OS keyring backend is available",
    }

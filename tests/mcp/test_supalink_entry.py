"""The `supalink` template planned: Supalink's own server by absolute path, the profile's name
or the URI in env, writes only when asked, and the warnings for the servers that are kept."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.errors import UsageError
from supalink.mcp import (
    EntryWarning,
    LauncherServerWithoutKeyring,
    PasswordNotSaved,
    ServerEntry,
    WritesNeedSupalinkServer,
    entry_for_profile,
    entry_for_uri,
    uri_target,
)
from supalink.mcp.templates import (
    keyring_entry,
    launcher_command,
    serve_args,
    supalink_command,
    supalink_entry,
)
from supalink.profiles import Profile, Target
from tests.support.postgres import SPECIAL_PASSWORD

ENCODED = quote(SPECIAL_PASSWORD, safe="")
URI = f"postgresql://supalink_app:{ENCODED}@127.0.0.1:5432/postgres"
SUPALINK = str(Path(sys.executable).with_name("supalink"))


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "prod-ca-2021.crt"
    path.write_text("-----BEGIN CERTIFICATE-----\n")
    return path


def profile_target(ca: Path | None, password: str | None = SPECIAL_PASSWORD) -> Target:
    profile = Profile(
        "Prod agent",
        host="127.0.0.1",
        port=5432,
        user="supalink_app",
        sslrootcert=str(ca) if ca else None,
    )
    return Target.from_profile(profile, password)


def test_a_profile_with_its_password_in_the_keyring_gets_supalinks_server_by_name(
    ca: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPALINK_HOME", raising=False)
    planned = entry_for_profile(profile_target(ca), password_in_keyring=True)
    assert planned.entry.as_json() == {
        "command": SUPALINK,
        "args": ["mcp-serve", "--profile", "Prod agent"],
    }
    assert planned.secrets == ()
    assert planned.warnings == ()  # the server reads the profile's CA itself


def test_writes_are_allowed_only_when_asked_and_then_warned_about(ca: Path) -> None:
    planned = entry_for_profile(profile_target(ca), password_in_keyring=True, allow_writes=True)
    assert planned.entry.args[-1] == "--allow-writes"
    assert serve_args(planned.entry) == ("--profile", "Prod agent", "--allow-writes")
    assert planned.warnings == (EntryWarning.WRITES_ALLOWED,)
    assert "change" in EntryWarning.WRITES_ALLOWED
    uri = entry_for_uri(uri_target(URI, ca), allow_writes=True)
    assert uri.entry.args[-1] == "--allow-writes"
    assert EntryWarning.WRITES_ALLOWED in uri.warnings


@pytest.mark.parametrize("template", ["reference", "guide", "postgres-mcp", "keyring"])
def test_allowing_writes_with_another_server_is_bad_input(ca: Path, template: str) -> None:
    with pytest.raises(WritesNeedSupalinkServer) as raised:
        entry_for_profile(
            profile_target(ca), password_in_keyring=True, template=template, allow_writes=True
        )
    assert isinstance(raised.value, UsageError)
    assert raised.value.template == template
    if template != "keyring":
        with pytest.raises(WritesNeedSupalinkServer):
            entry_for_uri(uri_target(URI, ca), template, allow_writes=True)


def test_a_uri_goes_in_the_entrys_env_never_in_argv(ca: Path) -> None:
    planned = entry_for_uri(uri_target(URI, ca))
    uri = f"{URI}?sslmode=verify-full&sslrootcert={quote(str(ca), safe='/')}"
    assert planned.entry.command == SUPALINK
    assert planned.entry.args == ("mcp-serve", "--uri-env", "SUPALINK_DATABASE_URI")
    assert planned.entry.env["SUPALINK_DATABASE_URI"] == uri
    assert not any(ENCODED in arg or SPECIAL_PASSWORD in arg for arg in planned.entry.args)
    assert set(planned.secrets) == {SPECIAL_PASSWORD, ENCODED}
    assert planned.warnings == (EntryWarning.CREDENTIALS_IN_FILE,)


def test_a_session_password_goes_in_env_with_supalinks_server_not_the_archived_one(
    ca: Path,
) -> None:
    planned = entry_for_profile(profile_target(ca), password_in_keyring=False)
    assert planned.entry.command == SUPALINK
    assert planned.entry.args == ("mcp-serve", "--uri-env", "SUPALINK_DATABASE_URI")
    uri = planned.entry.env["SUPALINK_DATABASE_URI"]
    assert uri.startswith(f"postgresql://supalink_app:{ENCODED}@127.0.0.1:5432/postgres?")
    assert f"sslrootcert={quote(str(ca), safe='/')}" in uri
    assert SPECIAL_PASSWORD in planned.secrets
    assert planned.warnings == (EntryWarning.CREDENTIALS_IN_FILE,)
    with pytest.raises(PasswordNotSaved) as raised:
        entry_for_profile(profile_target(ca, password=None), password_in_keyring=False)
    assert not raised.value.for_launcher


def test_a_ca_for_this_entry_is_passed_to_the_server_by_absolute_path(
    ca: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ca.parent)
    planned = entry_for_profile(
        profile_target(None), password_in_keyring=True, sslrootcert=Path(ca.name)
    )
    assert planned.entry.args == ("mcp-serve", "--profile", "Prod agent", "--sslrootcert", str(ca))
    assert planned.warnings == ()
    without = entry_for_profile(profile_target(None), password_in_keyring=True)
    assert without.warnings == (EntryWarning.NO_CA,)


def test_a_portable_installs_home_goes_with_the_entry(tmp_path: Path) -> None:
    environ = {"SUPALINK_HOME": str(tmp_path)}
    by_name = supalink_entry(profile_name="p", environ=environ)
    assert by_name.env == {"SUPALINK_HOME": str(tmp_path)}
    by_uri = supalink_entry(uri=URI, environ=environ)
    assert by_uri.env == {"SUPALINK_DATABASE_URI": URI, "SUPALINK_HOME": str(tmp_path)}
    assert supalink_entry(profile_name="p", environ={}).env == {}


@pytest.mark.parametrize(
    ("template", "server"),
    [("reference", None), ("guide", None), ("keyring", "reference"), ("keyring", "guide")],
)
def test_the_archived_server_is_warned_about_however_it_is_chosen(
    ca: Path, template: str, server: str | None
) -> None:
    planned = entry_for_profile(
        profile_target(ca), password_in_keyring=True, template=template, server=server
    )
    assert planned.warnings[0] is EntryWarning.ESCAPABLE_READ_ONLY
    assert "archived" in EntryWarning.ESCAPABLE_READ_ONLY
    assert "escaped" in EntryWarning.ESCAPABLE_READ_ONLY
    if template != "keyring":
        assert entry_for_uri(uri_target(URI, ca), template).warnings[0] is (
            EntryWarning.ESCAPABLE_READ_ONLY
        )


def test_the_other_servers_are_not_warned_about_as_archived(ca: Path) -> None:
    for template in ("postgres-mcp", "keyring", "supalink"):
        planned = entry_for_profile(profile_target(ca), password_in_keyring=True, template=template)
        assert EntryWarning.ESCAPABLE_READ_ONLY not in planned.warnings, template
    # The launcher starts postgres-mcp when no server is chosen: the archived one never is.
    launched = entry_for_profile(profile_target(ca), password_in_keyring=True, template="keyring")
    assert launched.entry.args[-2:] == ("postgres-mcp", "--access-mode=restricted")
    assert keyring_entry("p").args[-2:] == ("postgres-mcp", "--access-mode=restricted")
    with pytest.raises(LauncherServerWithoutKeyring):
        entry_for_profile(profile_target(ca), password_in_keyring=True, server="guide")


def test_libpq_servers_need_a_ca_only_to_verify() -> None:
    """Supalink's server is on libpq, which checks the certificate in the verify-* modes only;
    node-postgres checks it in every TLS mode."""
    required = uri_target("postgresql://u@h/db?sslmode=require")
    assert EntryWarning.NO_CA not in entry_for_uri(required).warnings
    assert EntryWarning.NO_CA in entry_for_uri(required, "reference").warnings
    assert EntryWarning.NO_CA in entry_for_uri(uri_target("postgresql://u@h/db")).warnings


def test_supalink_is_started_by_absolute_path_whatever_the_install(tmp_path: Path) -> None:
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.symlink_to(sys.executable)
    # No console script: the interpreter where it lies (not the link's target), with -m.
    assert supalink_command(executable=str(python), frozen=False, platform="linux") == (
        str(python),
        ("-m", "supalink"),
    )
    (bin_dir / "supalink").write_text("#!/bin/sh\n")
    assert supalink_command(executable=str(python), frozen=False, platform="linux") == (
        str(bin_dir / "supalink"),
        (),
    )
    scripts = tmp_path / "Scripts"
    scripts.mkdir()
    (scripts / "supalink.exe").write_bytes(b"MZ")
    assert supalink_command(executable=str(scripts / "python.exe"), frozen=False, platform="win32")[
        0
    ] == str(scripts / "supalink.exe")
    # Frozen: the app itself, or on Windows its console twin (the app has no stdio there).
    app = tmp_path / "app"
    app.mkdir()
    (app / "supalink-cli.exe").write_bytes(b"MZ")
    frozen = str(app / "supalink.exe")
    assert supalink_command(executable=frozen, frozen=True, platform="win32") == (
        str(app / "supalink-cli.exe"),
        (),
    )
    assert supalink_command(executable=frozen, frozen=True, platform="darwin") == (frozen, ())


def test_this_install_runs_the_console_script_for_both_entries() -> None:
    assert supalink_command() == (SUPALINK, ())
    assert launcher_command() == (SUPALINK, ("mcp-run",))
    assert os.path.isabs(supalink_command()[0])


def test_an_entry_that_runs_supalinks_server_is_known_by_its_args() -> None:
    assert serve_args(ServerEntry("/x/python", ("-m", "supalink", "mcp-serve", "--profile", "p")))
    assert serve_args(ServerEntry(SUPALINK, ("mcp-serve",))) == ()
    assert serve_args(ServerEntry("npx", ("-y", "@modelcontextprotocol/server-postgres", URI))) is (
        None
    )
    assert serve_args(ServerEntry(SUPALINK, ("mcp-run", "--profile", "p", "--", "npx"))) is None

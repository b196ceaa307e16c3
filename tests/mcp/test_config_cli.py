"""`supalink config` as a user runs it: outputs, exit codes, files, no password leaks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support.cli import SUPALINK, run_cli, spawn_cli
from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.profiles import add_profile_with_cli
from tests.support.reference_server import ReferenceServer
from tests.support.secret_service import SecretService
from tests.support.tls import TlsFiles

ENCODED = quote(SPECIAL_PASSWORD, safe="")
URI = f"postgresql://supalink_app:{ENCODED}@127.0.0.1:5432/postgres"
URI_ENV = "SUPALINK_DATABASE_URI"
IN_FILE = "warning: the database password is written into the config file (readable only by you)"
OTHER = '{\n  "globalShortcut": "Ctrl+Space"\n}\n'


def config(
    *args: str, home: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """In this process but `verify`, whose --timeout counts from its process's start;
    `env` is the whole environment when given."""
    run = spawn_cli if args[:1] == ("verify",) else run_cli
    return run("config", *args, home=home, stdin=stdin, environ=env, timeout=120, text=True)


def assert_no_password(*texts: str) -> None:
    for text in texts:
        for form in (SPECIAL_PASSWORD, ENCODED):
            assert form not in text


@pytest.fixture
def ca(tls_files: TlsFiles) -> Path:
    return tls_files.ca_cert


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(OTHER)
    return path


def write(cfg: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return config(
        "write",
        "--client",
        "claude",
        "--config",
        str(cfg),
        "--uri",
        "-",
        *extra,
        home=home,
        stdin=URI + "\n",
    )


def test_clients_lists_every_client_and_its_file(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    result = config("clients", home=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "claude",
        "claude-code",
        "cursor",
        "windsurf",
        "vscode",
        "copilot",
        "zed",
    ]
    assert f"{tmp_path}/Claude/claude_desktop_config.json  (no file yet)" in lines[0]
    assert f"servers     {tmp_path}/Code/User/mcp.json" in lines[4]


def test_dry_run_shows_the_masked_diff_and_writes_nothing(
    tmp_path: Path, cfg: Path, ca: Path
) -> None:
    result = write(cfg, tmp_path / "home", "--sslrootcert", str(ca), "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"--- {cfg} (now)\n+++ {cfg} (after)\n")
    assert '+    "supabase": {' in result.stdout
    assert (
        f'"{URI_ENV}": "postgresql://supalink_app:****@127.0.0.1:5432/postgres?sslmode=verify-full'
        in result.stdout
    )
    assert result.stderr == (
        f"{IN_FILE}; a saved profile (--profile) with its password in the keyring keeps it out\n"
        "dry run: nothing written\n"
    )
    assert cfg.read_text() == OTHER
    assert not (tmp_path / "home" / "data").exists()  # no backup: nothing was replaced
    assert_no_password(result.stdout, result.stderr)


def test_write_then_again_then_replace_then_remove(tmp_path: Path, cfg: Path, ca: Path) -> None:
    home = tmp_path / "home"
    first = write(cfg, home, "--sslrootcert", str(ca))
    assert first.returncode == 0, first.stderr
    backup = Path(first.stdout.splitlines()[-1].removeprefix("backup: "))
    assert first.stdout.splitlines()[-2] == f"wrote {cfg}"
    assert backup.read_text() == OTHER
    assert backup.is_relative_to(home / "data" / "backups")
    written = json.loads(cfg.read_text())
    assert written["globalShortcut"] == "Ctrl+Space"
    # Supalink's own server by default, the URI in its env (never in argv).
    assert written["mcpServers"]["supabase"] == {
        "command": SUPALINK,
        "args": ["mcp-serve", "--uri-env", URI_ENV],
        "env": {URI_ENV: f"{URI}?sslmode=verify-full&sslrootcert={ca}", "SUPALINK_HOME": str(home)},
    }
    assert cfg.stat().st_mode & 0o777 == 0o600
    assert IN_FILE in first.stderr

    again = write(cfg, home, "--sslrootcert", str(ca))
    assert (again.returncode, again.stdout) == (0, f"{cfg}: 'supabase' is already up to date\n")

    before = cfg.read_bytes()
    refused = write(cfg, home, "--sslrootcert", str(ca), "--template", "guide")
    assert refused.returncode == 1
    assert "already has a different 'supabase' entry; confirm with --yes" in refused.stderr
    assert f'-      "command": "{SUPALINK}",' in refused.stdout  # the entry it would replace
    assert cfg.read_bytes() == before

    replaced = write(cfg, home, "--sslrootcert", str(ca), "--template", "guide", "--yes")
    assert replaced.returncode == 0, replaced.stderr
    assert (
        "warning: the reference server is archived and its read-only mode can be escaped"
        in replaced.stderr
    )
    assert "--template supalink is read-only in depth" in replaced.stderr
    assert json.loads(cfg.read_text())["mcpServers"]["supabase"]["command"] == "mcp-server-postgres"

    args = ("--client", "claude", "--config", str(cfg))
    not_confirmed = config("remove", *args, home=home)
    assert not_confirmed.returncode == 1
    assert "confirm with --yes to remove 'supabase'" in not_confirmed.stderr
    removed = config("remove", *args, "--yes", home=home)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(cfg.read_text()) == {"globalShortcut": "Ctrl+Space", "mcpServers": {}}
    absent = config("remove", *args, "--yes", home=home)
    assert (absent.returncode, absent.stdout) == (0, "")
    assert "nothing to remove" in absent.stderr

    outputs = [r.stdout + r.stderr for r in (first, again, refused, replaced, removed, absent)]
    assert_no_password(*outputs, (home / "log" / "supalink.log").read_text())
    assert len(list(backup.parent.iterdir())) == 3


def test_without_a_ca_it_writes_and_warns(tmp_path: Path, cfg: Path) -> None:
    result = write(cfg, tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert "warning: no CA certificate given (--sslrootcert)" in result.stderr
    assert "verify-full" in result.stderr
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert "sslrootcert" not in entry["env"][URI_ENV]


def test_show_masks_passwords(tmp_path: Path, cfg: Path, ca: Path) -> None:
    home = tmp_path / "home"
    assert write(cfg, home, "--sslrootcert", str(ca), "--server-name", "db").returncode == 0
    shown = config("show", "--client", "claude", "--config", str(cfg), home=home)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["db"]["command"] == SUPALINK
    assert "postgresql://supalink_app:****@" in shown.stdout
    one = config(
        "show", "--client", "claude", "--config", str(cfg), "--server-name", "db", home=home
    )
    assert json.loads(one.stdout)["command"] == SUPALINK
    missing = config(
        "show", "--client", "claude", "--config", str(cfg), "--server-name", "x", home=home
    )
    assert (missing.returncode, missing.stderr) == (1, f"supalink config: no 'x' entry in {cfg}\n")
    no_file = config("show", "--client", "claude", "--config", str(tmp_path / "n.json"), home=home)
    assert no_file.returncode == 1
    assert_no_password(shown.stdout, one.stdout)


def test_a_malformed_file_is_refused_with_line_and_column(tmp_path: Path) -> None:
    cfg = tmp_path / "c.json"
    cfg.write_bytes(b'{\n  "mcpServers": {\n    "a": 1,\n  }\n}\n')
    result = write(cfg, tmp_path / "home", "--yes", "--force")
    assert result.returncode == 1
    assert result.stderr == (
        f"supalink config: {cfg} is not valid JSON: "
        "Expecting property name enclosed in double quotes (a comment or a trailing comma: "
        "JSONC, which this client does not read) at line 4, column 3\n"
    )
    assert cfg.read_bytes() == b'{\n  "mcpServers": {\n    "a": 1,\n  }\n}\n'
    assert sorted(tmp_path.iterdir()) == [cfg, tmp_path / "home"]
    assert not (tmp_path / "home" / "data").exists()


# Another entry's password that only reading the entry finds (a secret-named variable).
OTHERS_PASSWORD = "plain-Secret-9"
OTHERS = '"other": {"command": "uvx", "env": {"PGPASSWORD": "plain-Secret-9"}}'


def test_nothing_of_a_file_that_cannot_be_parsed_is_shown(tmp_path: Path) -> None:
    """A trailing comma, then a key held twice (which json reads as its last value): the
    other entry's password is never shown, whatever the action."""
    cfg = tmp_path / "c.json"
    home = tmp_path / "home"
    cfg.write_text(f'{{\n  "mcpServers": {{\n    {OTHERS},\n  }}\n}}\n')
    target = ("--client", "claude", "--config", str(cfg))
    for result in (
        write(cfg, home, "--dry-run"),
        config("remove", *target, "--server-name", "other", "--yes", home=home),
        config("show", *target, home=home),
    ):
        assert result.returncode == 1
        assert result.stderr == (
            f"supalink config: {cfg} is not valid JSON: "
            "Expecting property name enclosed in double quotes (a comment or a trailing comma: "
            "JSONC, which this client does not read) at line 4, column 3\n"
        )
        assert OTHERS_PASSWORD not in result.stdout + result.stderr
    cfg.write_text(f'{{"mcpServers": {{{OTHERS}, "other": {{"command": "uvx"}}}}}}\n')
    twice = write(cfg, home, "--dry-run")
    assert twice.returncode == 0, twice.stderr
    assert OTHERS_PASSWORD not in twice.stdout + twice.stderr
    assert twice.stdout.splitlines()[3:] == [
        f"-({cfg} (now) holds a key twice in one object: not shown, as the passwords in it "
        "could not all be found)",
        f"+({cfg} (after) holds a key twice in one object: not shown, as the passwords in it "
        "could not all be found)",
    ]


@pytest.mark.parametrize(
    "args",
    [
        ["write", "--client", "emacs", "--uri", URI],
        ["write", "--client", "cursor", "--uri", URI, "--workspace", "."],
        ["write", "--client", "claude", "--uri", "mysql://u@h/db"],
        ["write", "--client", "claude", "--uri", URI, "--sslrootcert", "/nonexistent.crt"],
        ["write", "--client", "claude", "--uri", URI, "--profile", "p"],
        ["write", "--client", "claude"],
        ["write", "--client", "claude", "--uri", URI, "--template", "nope"],
        ["write", "--client", "claude", "--uri", URI, "--template", "keyring"],
        ["write", "--client", "claude", "--uri", URI, "--server", "guide"],
        ["write", "--client", "claude", "--uri", URI, "--template", "reference", "--allow-writes"],
        ["write", "--client", "claude", "--uri", URI, "--template", "guide", "--allow-writes"],
        ["verify", "--client", "claude", "--timeout", "0"],
        ["show"],
        [],
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = config(*args, "--config", str(tmp_path / "c.json"), home=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert not (tmp_path / "c.json").exists()
    assert_no_password(result.stderr)


def test_a_running_client_is_warned_about(tmp_path: Path, cfg: Path) -> None:
    fake = subprocess.Popen(["bash", "-c", "exec -a claude-desktop sleep 60"])
    try:
        result = write(cfg, tmp_path / "home")
    finally:
        fake.kill()
        fake.wait()
    assert result.returncode == 0, result.stderr
    assert f"warning: Claude Desktop is running (pid {fake.pid}" in result.stderr
    assert "quit it fully and start it again" in result.stderr


@pytest.mark.slow
def test_profile_write_then_verify_end_to_end(
    tmp_path: Path,
    pg: PostgresServer,
    secret_service: SecretService,
    reference_server: ReferenceServer,
) -> None:
    home, cfg = tmp_path / "home", tmp_path / "Claude" / "claude_desktop_config.json"
    name = add_profile_with_cli(home, pg, prefix="local")
    target = ("--client", "claude", "--config", str(cfg))
    # The keyring launcher reads the password and starts the reference server with it.
    written = config(
        "write",
        *target,
        "--profile",
        name,
        "--template",
        "keyring",
        "--server",
        "reference",
        home=home,
    )
    assert written.returncode == 0, written.stderr
    # The profile's CA is used: the only warning is about the server chosen.
    assert written.stderr.startswith("warning: the reference server is archived")
    assert written.stderr.count("\n") == 1
    entry = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert entry["command"] == SUPALINK  # the console script, by absolute path
    assert entry["args"][:3] == ["mcp-run", "--profile", name]
    # The launched command by the path where the shell finds it (the client's PATH is not
    # the shell's), with its folder first on the PATH the server gets (npx needs node).
    npx = shutil.which("npx")
    assert entry["args"][-3:] == [npx, "-y", "@modelcontextprotocol/server-postgres"]
    assert entry["env"]["PATH"].startswith(f"{Path(str(npx)).parent}:")
    assert written.stdout.startswith(f"server command: {npx} (written in full: ")
    assert_no_password(cfg.read_text())

    # The test's offline npm cache is in this shell's environment only.
    verified = config(
        "verify", *target, "--env", "shell", home=home, env=reference_server.environment()
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("supabase: the server answered query 'select 1' in ")
    assert_no_password(written.stdout, written.stderr, verified.stdout, verified.stderr)

    # The guide's server behind the launcher, and the URI written into the file on request.
    for extra in (("--template", "keyring", "--server", "guide"), ("--template", "reference")):
        rewritten = config("write", *target, "--profile", name, "--yes", *extra, home=home)
        assert rewritten.returncode == 0, rewritten.stderr
        verified = config(
            "verify", *target, "--env", "shell", home=home, env=reference_server.environment()
        )
        assert verified.returncode == 0, (extra, verified.stderr)
    # The URI without its password (argv is any local user's to read), the password in
    # the entry's PGPASSWORD.
    reference = json.loads(cfg.read_text())["mcpServers"]["supabase"]
    assert reference["args"][2] == pg.uri().replace(f":{quote(pg.password, safe='')}@", "@")
    assert reference["env"]["PGPASSWORD"] == pg.password


@pytest.mark.slow
def test_verify_failures_exit_1_with_the_reason(
    tmp_path: Path, pg: PostgresServer, tls_files: TlsFiles, reference_server: ReferenceServer
) -> None:
    home, cfg = tmp_path / "home", tmp_path / "c.json"
    env = reference_server.environment()
    uri = pg.uri(sslmode=None)
    args = ("--client", "cursor", "--config", str(cfg))
    written = config(
        "write",
        *args,
        "--uri",
        "-",
        "--sslrootcert",
        str(tls_files.other_ca_cert),
        "--template",
        "reference",
        home=home,
        stdin=uri,
    )
    assert written.returncode == 0, written.stderr
    failed = config("verify", *args, "--env", "shell", home=home, env=env)
    assert failed.returncode == 1
    assert failed.stderr.startswith("supalink config: calling query with 'select 1' failed:")
    assert "certificate" in failed.stderr
    missing = config("verify", *args, "--server-name", "other", home=home, env=env)
    assert (missing.returncode, missing.stderr) == (
        1,
        f"supalink config: no 'other' entry in {cfg}\n",
    )
    assert_no_password(failed.stdout, failed.stderr)


def test_the_mcp_packages_errors_are_worded_with_this_commands_flags(tmp_path: Path) -> None:
    """The errors carry what needs doing; only the command names its flags for it."""
    from supalink import mcp
    from supalink.commands.config_write import worded
    from supalink.errors import UsageError

    path = tmp_path / "c.json"
    cases = {
        mcp.ConfigChanged(path): "use --force to apply the change to the file as it is now",
        mcp.ConfirmationRequired(path, "db", "replace"): "confirm with --yes to replace it",
        mcp.ConfirmationRequired(path, "db", "remove"): "confirm with --yes to remove 'db'",
        mcp.PasswordNotSaved("p", for_launcher=False): "save it in the keyring, or pass --uri",
        mcp.KeyringNeedsProfile(): "--template keyring needs --profile",
        mcp.LauncherServerWithoutKeyring(): "--server goes with --template keyring",
        mcp.WritesNeedSupalinkServer("guide"): "--allow-writes goes with --template supalink",
    }
    for error, flags in cases.items():
        assert "--" not in str(error), error
        assert flags in str(worded(error))
    assert isinstance(worded(mcp.KeyringNeedsProfile()), UsageError)  # bad input: exit 2
    assert isinstance(worded(mcp.WritesNeedSupalinkServer("guide")), UsageError)
    missing = mcp.MissingCaFile(path)
    assert worded(missing) is missing  # nothing to add

"""A URI that cannot be read after its password: no command quotes the password back, in
any message, on stdout, on stderr or in the log file."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.paths import AppPaths
from tests.support.cli import run_cli, spawn_cli
from tests.support.postgres import SPECIAL_PASSWORD
from tests.support.secret_service import SecretService

PASSWORD = "Sekr3t-Pw-4711"
AT_PASSWORD = "Pa@ss-w0rd-99"  # unencoded '@': a parser may split at it
ENCODED = quote(SPECIAL_PASSWORD, safe="")

MALFORMED = [
    f"postgresql://u:{PASSWORD}@[::1x]:5432/db",  # not an IPv6 address
    f"postgresql://u:{PASSWORD}@[::1/db",  # no closing bracket
    f"postgresql://u:{PASSWORD}@[::1]x/db",  # junk after the bracket
    f"postgresql://u:{PASSWORD}@host:12ab/db",  # a port that is no number
    f"postgresql://u:{PASSWORD}@ho st/db",  # a space in the host
    f"postgresql://u:{AT_PASSWORD}@[::1x]:5432/db",
    f"postgresql://u:{AT_PASSWORD}@[::1/db",
    f"postgresql://u:{AT_PASSWORD}@host:99999/db",
    f"postgresql://u:{ENCODED}@[::1x]:5432/db",
    f"postgresql://u:{ENCODED}@host:0/db",
]


def _commands(home: Path) -> dict[str, list[str]]:
    return {
        "parse": ["parse"],
        "profile add": ["profile", "add", "leaky", "--uri"],
        "test": ["test", "--timeout", "2", "--uri"],
        "config write": [
            "config",
            "write",
            "--client",
            "cursor",
            "--config",
            str(home / "mcp.json"),
            "--yes",
            "--uri",
        ],
        "monitor": ["monitor", "--duration", "1", "--uri"],
    }


def _leaked(data: bytes) -> list[str]:
    pieces = [PASSWORD, AT_PASSWORD, "ss-w0rd", ENCODED, quote(AT_PASSWORD, safe="")]
    pieces += [SPECIAL_PASSWORD, SPECIAL_PASSWORD.split("@")[1]]
    return [piece for piece in pieces if piece.encode() in data]


def _assert_quotes_no_password(home: Path, stdout: bytes, stderr: bytes) -> None:
    output = stdout + stderr
    assert b"Traceback" not in output, output.decode(errors="replace")
    assert _leaked(output) == [], output.decode(errors="replace")
    log_file = AppPaths.under(home).log_file
    if log_file.exists():
        assert _leaked(log_file.read_bytes()) == []
    config = home / "mcp.json"
    if config.exists():  # the password is in it as asked: then it is the owner's alone
        assert config.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("command", list(_commands(Path())))
@pytest.mark.parametrize("uri", MALFORMED)
def test_no_message_quotes_the_password_of_a_malformed_uri(
    command: str, uri: str, tmp_path: Path, secret_service: SecretService
) -> None:
    """In this process: every byte the command writes on its stdout and stderr, and its log."""
    result = run_cli(*_commands(tmp_path)[command], uri, home=tmp_path)
    _assert_quotes_no_password(tmp_path, result.stdout, result.stderr)


@pytest.mark.parametrize("command", list(_commands(Path())))
def test_the_process_quotes_no_password_of_a_malformed_uri(
    command: str, tmp_path: Path, secret_service: SecretService
) -> None:
    """The same as a real process: what reaches its file descriptors, up to its exit."""
    uri = MALFORMED[5]  # an unencoded '@' in the password and no closing bracket
    result = spawn_cli(*_commands(tmp_path)[command], uri, home=tmp_path)
    _assert_quotes_no_password(tmp_path, result.stdout, result.stderr)


@pytest.mark.parametrize("uri", MALFORMED)
def test_parse_says_what_is_wrong_and_exits_2(uri: str, tmp_path: Path) -> None:
    result = run_cli("parse", uri, home=tmp_path)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.startswith(b"supalink parse: error: ")
    assert result.stderr.count(b"\n") == 1


def test_the_masker_of_uri_messages_masks_every_candidate() -> None:
    from supalink.profiles.uris import UriError, parse_uri

    with pytest.raises(UriError) as raised:
        parse_uri(f"postgresql://u:{PASSWORD}@[::1x]/db")
    assert PASSWORD not in str(raised.value)
    assert "[::1x]" in str(raised.value)

"""Secrets are masked before anything reaches the log file."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supalink.logs import MASK, SecretMasker, _mask_uri_passwords, configure_logging
from tests.support.postgres import SPECIAL_PASSWORD


@pytest.fixture
def log_to(tmp_path: Path) -> Iterator[tuple[Path, SecretMasker]]:
    masker = SecretMasker()
    log_file = tmp_path / "log" / "supalink.log"
    handler = configure_logging(log_file, masker, max_bytes=4096, backup_count=2)
    yield log_file, masker
    logging.getLogger("supalink").removeHandler(handler)
    handler.close()


def test_uri_conninfo_and_registered_secrets_are_masked(
    log_to: tuple[Path, SecretMasker],
) -> None:
    log_file, masker = log_to
    encoded = quote(SPECIAL_PASSWORD, safe="")
    masker.add_secret(SPECIAL_PASSWORD)
    log = logging.getLogger("supalink.test")
    log.info("connecting to postgresql://postgres.abc:%s@aws-0-eu.pooler.supabase.com/db", encoded)
    log.info("conninfo host=x password='%s' user=y", "hunter22-conninfo")
    log.info("env PGPASSWORD=%s", "hunter22-env")
    log.info('json {"password": "%s"}', "hunter22-json")
    log.info("raw secret %s in text", SPECIAL_PASSWORD)
    try:
        raise RuntimeError(f"failed: postgres://u:{encoded}@h/d")
    except RuntimeError:
        log.exception("with traceback")

    data = log_file.read_bytes()
    for secret in (SPECIAL_PASSWORD, encoded, "hunter22"):
        assert secret.encode() not in data
    assert b"postgresql://postgres.abc:****@aws-0-eu.pooler.supabase.com/db" in data
    assert b"postgres://u:****@h/d" in data


def test_unencoded_at_sign_in_password_is_masked() -> None:
    masked = SecretMasker().mask("postgresql://postgres:p@ss@db.x.supabase.co:5432/postgres")
    assert masked == "postgresql://postgres:****@db.x.supabase.co:5432/postgres"


def test_uri_without_password_is_unchanged() -> None:
    text = "postgresql://postgres@db.x.supabase.co:5432/postgres and https://example.com:443/x"
    assert SecretMasker().mask(text) == text


def test_log_file_rotates(log_to: tuple[Path, SecretMasker]) -> None:
    log_file, _ = log_to
    log = logging.getLogger("supalink.test")
    for i in range(200):
        log.info("line %d %s", i, "x" * 60)
    assert log_file.exists()
    assert (log_file.parent / "supalink.log.1").exists()
    assert not (log_file.parent / "supalink.log.3").exists()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("host=h password=hunter22 sslmode=require", "host=h password=**** sslmode=require"),
        ("host=h password='hun ter22' sslmode=require", "host=h password=**** sslmode=require"),
        (
            "postgresql://h/db?password=hunter22&sslmode=require",
            "postgresql://h/db?password=****&sslmode=require",
        ),
        (
            "postgresql://h/db?sslmode=require&password=hun%26ter22&application_name=x",
            "postgresql://h/db?sslmode=require&password=****&application_name=x",
        ),
        (
            '{"URI": "postgresql://h/db?password=hunter22", "next": 1}',
            '{"URI": "postgresql://h/db?password=****", "next": 1}',
        ),
        ("run --password hunter22 --json", "run --password **** --json"),
        ('run --password "hun ter22" --json', "run --password **** --json"),
        ("run --password=hunter22 --json", "run --password=**** --json"),
        ('["--password", "hunter22", "--json"]', '["--password", "****", "--json"]'),
        ("env PGPASSWORD=hunter22 PGHOST=h", "env PGPASSWORD=**** PGHOST=h"),
    ],
)
def test_masking_keeps_the_rest_of_the_string(text: str, masked: str) -> None:
    assert SecretMasker().mask(text) == masked


def test_log_file_and_its_rotated_files_are_private(tmp_path: Path) -> None:
    log_file = tmp_path / "log" / "supalink.log"
    log_file.parent.mkdir()
    log_file.write_text("from an older version\n")
    log_file.chmod(0o644)
    older = log_file.with_name("supalink.log.1")
    older.write_text("rotated by an older version\n")
    older.chmod(0o644)
    handler = configure_logging(log_file, SecretMasker(), max_bytes=2048, backup_count=3)
    try:
        log = logging.getLogger("supalink.test")
        for i in range(200):
            log.info("line %d %s", i, "x" * 60)
    finally:
        logging.getLogger("supalink").removeHandler(handler)
        handler.close()
    files = sorted(log_file.parent.iterdir())
    assert [path.name for path in files] == [
        "supalink.log",
        "supalink.log.1",
        "supalink.log.2",
        "supalink.log.3",
    ]
    assert {path.name: path.stat().st_mode & 0o777 for path in files} == {
        path.name: 0o600 for path in files
    }


def test_a_new_log_file_is_private(tmp_path: Path) -> None:
    log_file = tmp_path / "fresh" / "supalink.log"
    handler = configure_logging(log_file, SecretMasker())
    try:
        logging.getLogger("supalink.test").info("hello")
    finally:
        logging.getLogger("supalink").removeHandler(handler)
        handler.close()
    assert log_file.stat().st_mode & 0o777 == 0o600
    assert b"hello" in log_file.read_bytes()


def test_the_cli_creates_its_log_file_private(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from supalink.paths import AppPaths

    supalink = str(Path(sys.executable).with_name("supalink"))
    subprocess.run(
        [supalink, "parse", "postgresql://u@h/db"],
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert AppPaths.under(tmp_path).log_file.stat().st_mode & 0o777 == 0o600


def test_a_supabase_access_token_is_masked_by_its_shape() -> None:
    token = "sbp_" + "0123456789abcdef" * 2 + "01234567"
    masked = SecretMasker().mask(f"Authorization: Bearer {token} for GET /v1/projects")
    assert masked == f"Authorization: Bearer {MASK} for GET /v1/projects"
    assert SecretMasker().mask("sbp_tooshort stays") == "sbp_tooshort stays"


# The one-pattern definition of a URI's password that logs.py reads from each "://" instead.
_URI_PASSWORD_PATTERN = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>\S*)(?=@)"
)
_URI_PIECES = st.sampled_from(
    ["a", "Z", "1", "+", ".", "-", ":", "/", "://", "@", " ", "\n", "é", "postgresql://", "u:p@h"]
)


@given(st.lists(_URI_PIECES, max_size=16).map("".join))
def test_uri_passwords_are_what_the_one_pattern_would_mask(text: str) -> None:
    expected = _URI_PASSWORD_PATTERN.sub(lambda m: m["head"] + MASK, text)
    assert _mask_uri_passwords(text) == expected


def test_a_long_statement_is_masked_whole() -> None:
    """The one pattern was tried again at every letter of a word: 17 s for 100 kB."""
    word = "x" * 2_000_000
    text = f"select '{word}' from postgresql://agent:hunter22@db.example.com/postgres"
    masked = SecretMasker().mask(text)
    assert masked == text.replace("hunter22", MASK)

"""Secrets are masked before anything reaches the log file."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from supalink.logs import SecretMasker, configure_logging
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

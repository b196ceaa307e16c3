"""Snippets read the password from the environment and are valid code."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from supalink.profiles.model import Profile
from supalink.profiles.snippets import snippets_for
from supalink.profiles.supabase import Mode
from tests.support.reference_server import ensure_node

PROFILES = [
    Profile("d", Mode.DIRECT, ref="abcdefghijklmnopqrst", sslrootcert="/etc/ca dir/ca.crt"),
    Profile("t", Mode.TRANSACTION, ref="abcdefghijklmnopqrst", region="us-east-1", pooler_index=0),
    Profile("c", host="::1", port=6000, user="o'brien", database='my "db"', sslmode="require"),
]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_password_is_an_environment_reference(profile: Profile) -> None:
    texts = {snippet.key: snippet.text for snippet in snippets_for(profile)}
    assert set(texts) == {"dotenv", "node", "python", "psql"}
    assert "PGPASSWORD" in texts["dotenv"]
    assert "process.env.PGPASSWORD" in texts["node"]
    assert 'os.environ["PGPASSWORD"]' in texts["python"]
    assert "PGPASSWORD=" not in texts["dotenv"].replace("# PGPASSWORD", "")
    for text in texts.values():
        assert "password=" not in text.lower().replace('password=os.environ["pgpassword"]', "")


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_python_snippet_compiles_and_node_snippet_parses(profile: Profile, tmp_path: Path) -> None:
    texts = {snippet.key: snippet.text for snippet in snippets_for(profile)}
    compile(texts["python"], "snippet.py", "exec")
    ensure_node()
    node = shutil.which("node")
    assert node is not None
    script = tmp_path / "snippet.mjs"
    script.write_text(texts["node"])
    subprocess.run([node, "--check", str(script)], check=True, capture_output=True)


def test_transaction_mode_turns_prepared_statements_off_in_python() -> None:
    text = next(s.text for s in snippets_for(PROFILES[1]) if s.key == "python")
    assert "prepare_threshold=None" in text

"""`supalink monitor --password-stdin`: the password comes from stdin, never argv or output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import quote

from tests.support.postgres import SPECIAL_PASSWORD, PostgresServer
from tests.support.profiles import SUPALINK, save_profile
from tests.support.secret_service import SecretService

FORMS = (SPECIAL_PASSWORD.encode(), quote(SPECIAL_PASSWORD, safe="").encode())


def no_password_uri(pg: PostgresServer) -> str:
    ca = quote(str(pg.ca_cert), safe="/")
    return (
        f"postgresql://{pg.role}@127.0.0.1:{pg.port}/postgres?sslmode=verify-full&sslrootcert={ca}"
    )


def monitor_until_listening(home: Path, *args: str, password: str) -> tuple[int, bytes, bytes]:
    """Run the monitor with `password` on stdin until it listens; check its argv and
    environment hold no password while it runs, then stop it with Ctrl-C."""
    process = subprocess.Popen(
        [SUPALINK, "monitor", *args, "--channel", "jobs", "--json", "--password-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SUPALINK_HOME": str(home)},
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdin.write(password.encode() + b"\n")
    process.stdin.close()
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not any(json.loads(line)["event"] == "listening" for line in list(lines)):
            assert process.poll() is None, process.stderr.read()
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
        proc = Path(f"/proc/{process.pid}")
        for seen in ((proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()):
            assert all(form not in seen for form in FORMS)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    with process.stdout, process.stderr:
        return process.returncode, b"".join(lines), process.stderr.read()


def test_a_uri_without_its_password_connects_with_the_one_on_stdin(
    pg: PostgresServer, tmp_path: Path
) -> None:
    code, out, err = monitor_until_listening(
        tmp_path, "--uri", no_password_uri(pg), password=pg.password
    )
    assert code == 0, err
    assert err == b""
    assert all(form not in out for form in FORMS)
    log = tmp_path / "log" / "supalink.log"
    assert all(form not in log.read_bytes() for form in FORMS)


def test_a_saved_profile_without_a_password_takes_the_one_on_stdin(
    pg: PostgresServer, tmp_path: Path, secret_service: SecretService
) -> None:
    name = save_profile(tmp_path, pg, with_password=False, prefix="stdin")
    code, out, err = monitor_until_listening(tmp_path, name, password=pg.password)
    assert code == 0, err
    assert all(form not in out + err for form in FORMS)


def test_an_empty_stdin_is_bad_input(pg: PostgresServer, tmp_path: Path) -> None:
    result = subprocess.run(
        [SUPALINK, "monitor", "--uri", no_password_uri(pg), "--password-stdin"],
        input=b"",
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr == (
        b"supalink monitor: error: --password-stdin was given but standard input was empty\n"
    )


def test_without_it_the_same_uri_is_refused(pg: PostgresServer, tmp_path: Path) -> None:
    """The password on stdin is what let the monitor in."""
    result = subprocess.run(
        [SUPALINK, "monitor", "--uri", no_password_uri(pg), "--duration", "10"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, "SUPALINK_HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert b"password" in result.stderr

"""pgbouncer in session mode with TLS on both sides: the stand-in for Supabase's session pooler."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.accounts import ServiceAccount, service_account
from tests.support.ports import free_port, wait_for_port
from tests.support.postgres import PostgresServer
from tests.support.system_tools import SystemTools


@dataclass
class Pgbouncer:
    executable: Path
    root: Path
    server: PostgresServer
    account: ServiceAccount
    pool_mode: str = "session"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def logfile(self) -> Path:
        return self.root / "pgbouncer.log"

    def configure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tls = self.server.tls
        # Its own copy of the key, owned by the account it runs as.
        for source in (tls.server_cert, tls.server_key, tls.ca_cert):
            shutil.copy(source, self.root / source.name)
        (self.root / tls.server_key.name).chmod(0o600)
        # pgbouncer authenticates clients and then the server with the role's SCRAM secret.
        (self.root / "userlist.txt").write_text(
            f'"{self.server.role}" "{self.server.scram_secret()}"\n'
        )
        (self.root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=localhost port={self.server.port}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1,::1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = scram-sha-256\n"
            f"auth_file = {self.root / 'userlist.txt'}\n"
            f"pool_mode = {self.pool_mode}\n"
            "max_client_conn = 500\n"
            "default_pool_size = 40\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            "client_tls_sslmode = require\n"
            f"client_tls_cert_file = {self.root / tls.server_cert.name}\n"
            f"client_tls_key_file = {self.root / tls.server_key.name}\n"
            f"client_tls_ca_file = {self.root / tls.ca_cert.name}\n"
            "server_tls_sslmode = verify-full\n"
            f"server_tls_ca_file = {self.root / tls.ca_cert.name}\n"
            f"logfile = {self.logfile}\n"
        )
        self.account.give(self.root)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(self.executable), str(self.root / "pgbouncer.ini")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
            **self.account.popen_kwargs(),
        )
        try:
            wait_for_port("127.0.0.1", self.port)
        except OSError:
            self.stop()
            log = self.logfile.read_text() if self.logfile.exists() else "(no log)"
            raise RuntimeError(f"pgbouncer did not start:\n{log}") from None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def uri(self, host: str = "127.0.0.1", **kwargs: object) -> str:
        return self.server.uri(host, port=self.port, **kwargs)  # type: ignore[arg-type]


@contextmanager
def running_pgbouncer(
    system_tools: SystemTools, root: Path, server: PostgresServer, pool_mode: str = "session"
) -> Iterator[Pgbouncer]:
    """A pgbouncer of its own in front of `server`, under `root`, as the service account."""
    bouncer = Pgbouncer(
        system_tools.pgbouncer, root, server, service_account(), pool_mode=pool_mode
    )
    bouncer.configure()
    bouncer.start()
    try:
        yield bouncer
    finally:
        bouncer.stop()

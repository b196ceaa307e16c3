"""A throwaway PostgreSQL cluster on loopback: SSL, scram-sha-256, IPv4 and IPv6."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from supalink.profiles import Profile
from tests.support.accounts import ServiceAccount, service_account
from tests.support.ports import free_port
from tests.support.scratch import scratch_root
from tests.support.system_tools import SystemTools
from tests.support.tls import TlsFiles

# Every character that breaks a hand-built URI or conninfo string.
SPECIAL_PASSWORD = "p@ss:w/rd%#?& é\"'"
APP_ROLE = "supalink_app"
SUPERUSER = "postgres"
INITDB_ARGS = (
    "-U",
    SUPERUSER,
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
)


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    account: ServiceAccount
    tls: TlsFiles
    ssl: bool = True
    max_connections: int = 100
    port: int = field(default_factory=free_port)
    role: str = APP_ROLE
    password: str = SPECIAL_PASSWORD
    extra_conf: str = ""  # more postgresql.conf lines (wal_level = logical, …)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    @property
    def ca_cert(self) -> Path:
        return self.tls.ca_cert

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            text=True,
            cwd=self.root,
            **self.account.popen_kwargs(),
        )

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        certs = self.root / "certs"
        certs.mkdir(exist_ok=True)
        # The server reads its own copy of the key: it must be owned by it, mode 0600.
        for source in (self.tls.server_cert, self.tls.server_key, self.tls.ca_cert):
            shutil.copy(source, certs / source.name)
        (certs / self.tls.server_key.name).chmod(0o600)
        self.account.give(self.root)
        shutil.copytree(initdb_template(self.bindir, self.account), self.datadir, symlinks=True)
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# supalink test cluster\n"
                "listen_addresses = '127.0.0.1,::1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                f"max_connections = {self.max_connections}\n"
                "superuser_reserved_connections = 3\n"
                "password_encryption = 'scram-sha-256'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "shared_buffers = 32MB\n"
                f"ssl = {'on' if self.ssl else 'off'}\n"
                f"ssl_cert_file = '{certs / self.tls.server_cert.name}'\n"
                f"ssl_key_file = '{certs / self.tls.server_key.name}'\n"
                f"{self.extra_conf}\n"
            )
        (self.datadir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
            "host all all ::1/128 scram-sha-256\n"
        )
        self.account.give(self.datadir)

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "-t", "60", "stop")

    def is_running(self) -> bool:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "status")
        except subprocess.CalledProcessError:
            return False
        return True

    def create_role(self) -> None:
        with self.admin_connect() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(self.role), sql.Literal(self.password)
                )
            )
            conn.execute(sql.SQL("GRANT pg_monitor TO {}").format(sql.Identifier(self.role)))

    def admin_connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """The superuser over the Unix socket (trust): for fixtures, never for code under test."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
        )

    def scram_secret(self) -> str:
        with self.admin_connect() as conn:
            row = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (self.role,)
            ).fetchone()
        assert row is not None
        return str(row[0])

    def uri(
        self,
        host: str = "127.0.0.1",
        *,
        port: int | None = None,
        password: str | None = None,
        dbname: str = "postgres",
        sslmode: str | None = "verify-full",
        sslrootcert: Path | None = None,
        role: str | None = None,
    ) -> str:
        """A percent-encoded URI for the app role (or `role`), the way users paste them."""
        netloc_host = f"[{host}]" if ":" in host else host
        secret = self.password if password is None else password
        uri = (
            f"postgresql://{quote(role or self.role, safe='')}:{quote(secret, safe='')}"
            f"@{netloc_host}:{port or self.port}/{quote(dbname, safe='')}"
        )
        params = []
        if sslmode:
            params.append(f"sslmode={sslmode}")
            if sslmode in ("verify-ca", "verify-full"):
                params.append(f"sslrootcert={quote(str(sslrootcert or self.ca_cert), safe='/')}")
        return uri + ("?" + "&".join(params) if params else "")


def initdb_template(bindir: Path, account: ServiceAccount) -> Path:
    """A data folder as `initdb INITDB_ARGS` leaves it, made once for this PostgreSQL and
    these arguments and shared by every worker and run: initdb takes about a second (several
    on a loaded machine) and every test server needs one; a copy takes a few milliseconds.
    Made in a folder of its own, then renamed into place: a worker never sees half of one."""
    version = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    made_by = repr((version, str(bindir), INITDB_ARGS, account.uid, account.gid))
    key = hashlib.sha256(made_by.encode()).hexdigest()[:16]
    cache = scratch_root() / f"supalink-test-initdb-{key}"
    if (cache / "made-by").exists():
        return cache / "data"
    build = Path(tempfile.mkdtemp(prefix=f"{cache.name}.", dir=cache.parent))
    try:
        build.chmod(0o755)
        account.give(build)
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(build / "data"), *INITDB_ARGS],
            capture_output=True,
            text=True,
            check=True,
            cwd=build,
            **account.popen_kwargs(),
        )
        (build / "made-by").write_text(made_by + "\n")
        os.rename(build, cache)  # refused when another worker's is there already: use it
    except OSError:
        if not (cache / "made-by").exists():
            raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return cache / "data"


def integer(value: object) -> int:
    """A column psycopg reads as an int (a count, a pid), out of a row `admin_connect` types
    as tuple[object, ...]."""
    assert isinstance(value, int), repr(value)
    return value


def start_postgres(
    system_tools: SystemTools, root: Path, tls_files: TlsFiles, **options: Any
) -> PostgresServer:
    """A started server under `root`, run as the unprivileged service account, its role made."""
    server = PostgresServer(system_tools.pg_bindir, root, service_account(), tls_files, **options)
    server.init()
    server.start()
    server.create_role()
    return server


def local_profile(
    server: PostgresServer, host: str = "127.0.0.1", port: int | None = None, **changes: Any
) -> Profile:
    """A custom-host profile for the test role, verify-full against the test CA."""
    profile = Profile(
        "local",
        host=host,
        port=port or server.port,
        user=server.role,
        sslmode="verify-full",
        sslrootcert=str(server.ca_cert),
    )
    return profile.replace(**changes)

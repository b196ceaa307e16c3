"""The real services the benchmarks run against, started by the benchmark itself: a
PostgreSQL with SSL (verify-full) on loopback and a Secret Service on a private D-Bus.
The same helpers the test suite's fixtures use (tests/support)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.accounts import service_account
from tests.support.postgres import PostgresServer
from tests.support.secret_service import SecretService
from tests.support.system_tools import SystemTools, ensure_system_tools
from tests.support.tls import make_tls_files


@dataclass
class Services:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="supalink-bench-")))
    tools: SystemTools | None = None
    pg: PostgresServer | None = None
    secrets: SecretService | None = None

    def start_postgres(self) -> PostgresServer:
        self.root.chmod(0o755)  # the server runs as another account when we are root
        self.tools = self.tools or ensure_system_tools()
        tls = make_tls_files(self.tools.openssl, self.root / "tls")
        server = PostgresServer(self.tools.pg_bindir, self.root / "pg", service_account(), tls)
        server.init()
        server.start()
        server.create_role()
        self.pg = server
        return server

    def start_secret_service(self) -> SecretService:
        """gnome-keyring on a private bus; this process and its children are pointed at it."""
        self.tools = self.tools or ensure_system_tools()
        service = SecretService(
            self.tools.dbus_daemon, self.tools.gnome_keyring_daemon, self.root / "secrets"
        )
        service.start()
        os.environ.update(service.environment())
        self.secrets = service
        return service

    def save_profile(self, home: Path) -> str:
        """A profile for the SSL server under SUPALINK_HOME=`home`, its password in the
        Secret Service: what a user who pressed Save has."""
        from keyring.backends.SecretService import Keyring

        from supalink.profiles.model import Profile
        from supalink.profiles.repository import ProfileRepository
        from supalink.profiles.secrets import KeyringSecretStore
        from supalink.profiles.settings import SettingsFile

        assert self.pg is not None
        name = f"bench-{uuid.uuid4().hex[:6]}"
        settings = SettingsFile(home / "config" / "settings.json")
        repository = ProfileRepository(settings, KeyringSecretStore(Keyring()))
        profile = Profile(
            name,
            host="127.0.0.1",
            port=self.pg.port,
            user=self.pg.role,
            sslrootcert=str(self.pg.ca_cert),
        )
        repository.save(profile, self.pg.password)
        return name

    def stop(self) -> None:
        if self.secrets is not None:
            self.secrets.stop()
        if self.pg is not None and self.pg.is_running():
            self.pg.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

"""The windows' services, built once: the profiles' repository over the secret store, the
task runner, and where backups and the audit go. The keyring's probe can wait until the
main window is up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supalink.paths import AppPaths
    from supalink.profiles import ProfileRepository, SecretStore
    from supalink.ui import AppContext

log = logging.getLogger(__name__)

KEYRING_NOT_PROBED = "the keyring (checking…)"


def build_context(
    paths: AppPaths, secrets: SecretStore | None = None, *, probe_keyring: bool = True
) -> AppContext:
    """The windows' services. Without `probe_keyring` the keyring's description and
    usability are placeholders until `probe_keyring_of(context)`: the probe asks the
    Secret Service, or imports keyring and asks every backend (about 0.3 s), which the GUI
    does after its window is up. The store reads directly (KeyringSecretStore's `direct`):
    keyring loads only when a secret is saved or deleted. The repository opens when first
    used (the GUI: after its first frame)."""
    from supalink.ui import AppContext, TaskRunner

    def opened() -> ProfileRepository:
        from supalink.profiles import KeyringSecretStore, open_repository

        return open_repository(paths, secrets or KeyringSecretStore(direct=True))

    context = AppContext(
        open_repository=opened,
        tasks=TaskRunner(lambda name, error: log.error("task %s failed: %s", name, error)),
        backup_dir=paths.backup_dir,
        keyring_description=KEYRING_NOT_PROBED,
        keyring_usable=True,
        audit_file=paths.audit_file,
    )
    if probe_keyring:
        probe_keyring_of(context)
    return context


def probe_keyring_of(context: AppContext) -> None:
    store = context.repository.secrets
    context.keyring_description = store.description
    context.keyring_usable = getattr(store, "is_usable", True)

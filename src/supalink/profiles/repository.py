"""Profiles as the app and the CLI see them: settings file plus keyring, kept consistent."""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from supalink.errors import SupalinkError, UsageError
from supalink.paths import AppPaths
from supalink.profiles.model import Profile, ProfileError, profile_name_problem
from supalink.profiles.secrets import (
    PROFILE_KINDS,
    KeyringSecretStore,
    MemorySecretStore,
    SecretKind,
    SecretStore,
    SecretStoreError,
)
from supalink.profiles.settings import LoadedSettings, ProfileRecord, Settings, SettingsFile

if TYPE_CHECKING:
    from supalink.profiles.target import Target

log = logging.getLogger(__name__)


class ProfileNotFound(UsageError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no profile named {name!r} (see `supalink profile list`)")


class PasswordNotInKeyring(SupalinkError):
    """A process an MCP client started reads the keyring only: this session's password is
    in another process."""

    def __init__(self, name: str, store: str) -> None:
        super().__init__(
            f"profile {name!r} has no password in the keyring ({store}); save it in "
            "Supalink, then restart the client"
        )
        self.profile = name


class PasswordMissingFromKeyring(PasswordNotInKeyring):
    """The settings say the profile's password is in the keyring, and the keyring has no
    entry for it: deleted there by another program or by hand."""

    def __init__(self, name: str, store: str) -> None:
        SupalinkError.__init__(
            self,
            f"the keyring entry for the password of profile {name!r} is missing ({store}): "
            "it was deleted outside Supalink; save the password again",
        )
        self.profile = name
        self.store = store


class ProfileLocked(SecretStoreError):
    """A Supabase profile whose ref is in a keyring that does not answer: it is listed, it
    cannot open, and nothing is written that would drop it."""

    def __init__(self, name: str, error: SecretStoreError) -> None:
        # The whole message, what to do included; the short reason for lists.
        super().__init__(f"profile {name!r} is {locked_because(str(error))}", error.reason)
        self.profile = name


def locked_because(reason: str) -> str:
    """How a locked profile's state reads, in a list and in an error."""
    return f"locked: the keyring did not answer: {reason}"


@dataclass(frozen=True)
class SavedProfile:
    """A profile as it opens, and whether its password is in the keyring."""

    profile: Profile  # with its ref, read back from the keyring
    password_saved: bool


@dataclass(frozen=True)
class Password:
    """A profile's password, and where it came from."""

    value: str = field(repr=False)
    in_keyring: bool  # False: given in this session and not saved (the launcher cannot read it)


class ProfileRepository:
    """Writes the keyring first, then the settings file, so the file never names a
    profile whose secrets failed to save; when the settings write fails, the keyring is put
    back as it was, so it holds nothing for a profile the file does not name. Every change
    re-reads the settings file under its lock (other processes change it too).

    Passwords come from one layered store: the keyring for those saved, then this
    session's memory for those typed (or asked for) and not saved."""

    def __init__(
        self,
        settings_file: SettingsFile,
        secrets: SecretStore,
        session: MemorySecretStore | None = None,
    ) -> None:
        self.settings_file = settings_file
        self.secrets = secrets
        self.session = session or MemorySecretStore()
        self._loaded: LoadedSettings | None = None

    @property
    def notice(self) -> str | None:
        """A message to show once, e.g. that a corrupt settings file was moved aside."""
        return self._load().notice

    def _load(self) -> LoadedSettings:
        if self._loaded is None:
            self._loaded = self.settings_file.load()
        return self._loaded

    @property
    def _settings(self) -> Settings:
        return self._load().settings

    def preference(self, key: str, default: object = None) -> object:
        return self._settings.preferences.get(key, default)

    def set_preference(self, key: str, value: object) -> None:
        """App preferences (theme, window state) live in the same settings file."""
        with self._editing() as settings:
            settings.preferences[key] = value
            self._write(settings)

    def records(self) -> list[ProfileRecord]:
        """Every profile as stored, without touching the keyring."""
        return list(self._settings.profiles.values())

    def names(self) -> list[str]:
        return list(self._settings.profiles)

    def record(self, name: str) -> ProfileRecord:
        try:
            return self._settings.profiles[name]
        except KeyError:
            raise ProfileNotFound(name) from None

    def load(self, name: str) -> SavedProfile:
        record = self.record(name)
        profile = record.profile
        if record.is_supabase:
            try:
                ref = self.secrets.get(name, SecretKind.PROJECT_REF)
            except SecretStoreError as error:
                raise ProfileLocked(name, error) from None
            if ref is None:
                raise UsageError(
                    f"the project ref of profile {name!r} is missing from the keyring "
                    f"({self.secrets.description}); add the profile again"
                )
            profile = profile.replace(ref=ref)
        return SavedProfile(profile, record.password_saved)

    def password(
        self, name: str, *, missing_is_error: bool = False, keyring_may_fail: bool = False
    ) -> Password | None:
        """The profile's password: the keyring's when saved there, else this session's.
        With `missing_is_error`, a password saved in the keyring whose entry has gone (and
        none held in this session) raises PasswordMissingFromKeyring instead of None. With
        `keyring_may_fail`, a keyring that does not answer gives this session's password (or
        None), for the window, which opens the profile and asks for it once, instead of
        SecretStoreError."""
        saved_there = self.record(name).password_saved
        if saved_there:
            try:
                saved = self.secrets.get(name, SecretKind.PASSWORD)
            except SecretStoreError:
                if not keyring_may_fail:
                    raise
                saved = None
                missing_is_error = False  # not known to be missing: the keyring did not say
            if saved is not None:
                return Password(saved, in_keyring=True)
        held = self.session.get(name, SecretKind.PASSWORD)
        if held is None and saved_there and missing_is_error:
            raise PasswordMissingFromKeyring(name, self.secrets.description)
        return None if held is None else Password(held, in_keyring=False)

    def password_missing(self, name: str) -> bool:
        """Whether the settings say the password is in the keyring and the keyring has
        none (False when the keyring does not answer: see `keyring_problem`)."""
        if not self.record(name).password_saved:
            return False
        try:
            return self.secrets.get(name, SecretKind.PASSWORD) is None
        except SecretStoreError:
            return False

    def keyring_problem(self) -> str | None:
        """Why the keyring does not answer now, in a few words; None when it answers or no
        profile keeps anything there. One read: it is one keyring for every profile."""
        kept = [record for record in self.records() if record.is_supabase or record.password_saved]
        if not kept:
            return None
        probe = kept[0]
        kind = SecretKind.PROJECT_REF if probe.is_supabase else SecretKind.PASSWORD
        try:
            self.secrets.get(probe.profile.name, kind)
        except SecretStoreError as error:
            return error.reason
        return None

    def locked(self) -> dict[str, str]:
        """The Supabase profiles that cannot open now (their ref is in a keyring that does
        not answer), each with why; listed, never hidden."""
        supabase = [record.profile.name for record in self.records() if record.is_supabase]
        problem = self.keyring_problem() if supabase else None
        return {name: locked_because(problem) for name in supabase} if problem else {}

    def keyring_target(self, name: str, sslrootcert: str | None = None) -> Target:
        """What a server an MCP client starts connects with (the keyring launcher, the
        agent's server): the profile with its password from the keyring, and `sslrootcert`
        instead of the profile's CA when given."""
        from supalink.profiles.target import Target  # not for the window's first frame

        profile = self.load(name).profile
        password = self.password(name, missing_is_error=True)
        if password is None or not password.in_keyring:
            raise PasswordNotInKeyring(name, self.secrets.description)
        if sslrootcert is not None:
            profile = profile.replace(sslrootcert=sslrootcert)
        return Target.from_profile(profile, password.value)

    def password_value(
        self, name: str, *, missing_is_error: bool = False, keyring_may_fail: bool = False
    ) -> str | None:
        """The password itself, wherever it is kept (see `password`)."""
        password = self.password(
            name, missing_is_error=missing_is_error, keyring_may_fail=keyring_may_fail
        )
        return None if password is None else password.value

    def hold_password(self, name: str, password: str | None) -> None:
        """Keep a password for this session only (None forgets it): typed and not saved,
        or asked for when a profile saved without one is opened."""
        if password is None:
            self.session.delete(name, SecretKind.PASSWORD)
        else:
            self.session.set(name, SecretKind.PASSWORD, password)

    def save(
        self,
        profile: Profile,
        password: str | None = None,
        *,
        save_password: bool = True,
        replace: bool = False,
    ) -> ProfileRecord:
        """Add or replace a profile. With `save_password` False any saved password is removed;
        with a None password and `save_password` True a saved one is kept."""
        profile.validated()
        with self._editing() as settings:
            existing = settings.profiles.get(profile.name)
            if existing is not None and not replace:
                raise UsageError(f"a profile named {profile.name!r} already exists")
            if existing is None:  # a new profile: nothing held for an old one of that name
                self.hold_password(profile.name, None)
            kinds = []
            if profile.ref is not None:
                kinds.append(SecretKind.PROJECT_REF)
            if (password is not None and save_password) or (
                not save_password and existing is not None and existing.password_saved
            ):
                kinds.append(SecretKind.PASSWORD)
            try:
                before = {kind: self.secrets.get(profile.name, kind) for kind in kinds}
            except SecretStoreError as error:
                raise SecretStoreError(
                    f"profile {profile.name!r} was not saved: its {' and '.join(kinds)} "
                    f"{'is' if len(kinds) == 1 else 'are'} kept only in the keyring, which did "
                    f"not answer: {error.reason}. A custom-host profile saves without its "
                    "password.",
                    error.reason,
                ) from None
            try:
                if profile.ref is not None:
                    self.secrets.set(profile.name, SecretKind.PROJECT_REF, profile.ref)
                if password is not None and save_password:
                    self.secrets.set(profile.name, SecretKind.PASSWORD, password)
                    password_saved = True
                elif not save_password:
                    if existing is not None and existing.password_saved:
                        self.secrets.delete(profile.name, SecretKind.PASSWORD)
                    password_saved = False
                else:
                    password_saved = existing.password_saved if existing else False
                record = ProfileRecord(
                    profile.replace(ref=None), profile.is_supabase, password_saved
                )
                settings.profiles[profile.name] = record
                self._write(settings, extra_refs=(profile.ref or "",))
            except BaseException:
                self._put_back(profile.name, before)
                raise
        log.info("saved profile %r", profile.name)
        return record

    def _put_back(self, name: str, before: dict[SecretKind, str | None]) -> None:
        """The keyring as it was before a save or removal whose settings write failed."""
        for kind, value in before.items():
            try:
                if value is None:
                    self.secrets.delete(name, kind)
                else:
                    self.secrets.set(name, kind, value)
            except SecretStoreError as error:  # the save's own error is the one to report
                log.warning("could not put back the %s of %r in the keyring: %s", kind, name, error)

    def remove(self, name: str) -> None:
        with self._editing() as settings:
            record = settings.profiles.get(name)
            if record is None:
                raise ProfileNotFound(name)
            kinds = list(PROFILE_KINDS) if record.is_supabase or record.password_saved else []
            # A settings write that fails (a full disk) must not cost the password.
            before = {kind: self.secrets.get(name, kind) for kind in kinds}
            try:
                for kind in kinds:
                    self.secrets.delete(name, kind)
                del settings.profiles[name]
                self._write(settings)
            except BaseException:
                self._put_back(name, before)
                raise
        self.hold_password(name, None)
        log.info("removed profile %r and its keyring entries", name)

    def rename(self, old: str, new: str) -> None:
        self._copy(old, new)
        self.remove(old)

    def duplicate(self, old: str, new: str) -> None:
        self._copy(old, new)

    def _copy(self, old: str, new: str) -> None:
        if problem := profile_name_problem(new):
            raise ProfileError("name", problem)
        saved = self.load(old)
        password = self.password(old)  # a keyring that does not answer refuses the copy
        kept = password.value if password is not None and password.in_keyring else None
        self.save(saved.profile.replace(name=new), kept, save_password=saved.password_saved)
        if password is not None and not password.in_keyring:
            self.hold_password(new, password.value)

    @contextlib.contextmanager
    def _editing(self) -> Iterator[Settings]:
        """A copy of the settings as the file holds them now, under its lock, to change and
        write; this repository then shows what the file holds (with other processes' profiles
        read meanwhile): the changed copy once written, the file's own when the write failed."""
        with self.settings_file.editing() as loaded:
            working = copy.deepcopy(loaded.settings)
            shown = loaded.settings
            try:
                yield working
                shown = working
            finally:
                notice = self._loaded.notice if self._loaded is not None else None
                self._loaded = LoadedSettings(shown, notice or loaded.notice)

    def _write(self, settings: Settings, extra_refs: tuple[str, ...] = ()) -> None:
        # Refs are long and distinctive, so finding one in the text means a host or user
        # spelled it out; passwords are never serialized at all.
        refs: list[str] = []
        for record in settings.profiles.values():
            if not record.is_supabase:
                continue
            try:
                refs.append(self.secrets.get(record.profile.name, SecretKind.PROJECT_REF) or "")
            except SecretStoreError as error:
                # A keyring that does not answer cannot say the other refs either; a locked
                # profile goes back as the file held it, so this write loses none of them.
                log.info("wrote the settings without checking locked profiles: %s", error.reason)
                break
        self.settings_file.save(settings, forbidden=(*refs, *extra_refs))


def open_repository(paths: AppPaths, secrets: SecretStore | None = None) -> ProfileRepository:
    return ProfileRepository(SettingsFile(paths.settings_file), secrets or KeyringSecretStore())

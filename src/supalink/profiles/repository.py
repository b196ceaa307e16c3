"""Profiles as the app and the CLI see them: settings file plus keyring, kept consistent."""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from supalink import sentences
from supalink.paths import AppPaths
from supalink.profiles.model import Profile, ProfileError, ca_file_problem, profile_name_problem
from supalink.profiles.profile_preferences import read_in, removed_in, renamed_in, set_in
from supalink.profiles.repository_errors import (
    PasswordMissingFromKeyring,
    PasswordNotInKeyring,
    ProfileExists,
    ProfileLocked,
    ProfileNotFound,
    ProfileNotSaved,
    ProjectRefMissing,
)
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
    from supalink.profiles.changes import Commit, KeyringChanges
    from supalink.profiles.target import Target

log = logging.getLogger(__name__)

# A change to the app's preferences made in the same settings write as a profile's rename or
# removal: roles/ keeps its agent links there, and they must change with the profile or not
# at all.
PreferencesChange = Callable[[dict[str, Any]], None]

__all__ = [
    "Password",
    "PasswordMissingFromKeyring",
    "PasswordNotInKeyring",
    "PreferencesChange",
    "ProfileExists",
    "ProfileLocked",
    "ProfileNotFound",
    "ProfileNotSaved",
    "ProfileRepository",
    "ProjectRefMissing",
    "SavedProfile",
    "open_repository",
]


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
    """Every change re-reads the settings file under its lock (other processes change it
    too) and holds it to its end; the order of its settings and keyring writes is
    profiles/changes.py's, so that a process killed between two of them leaves what the
    next change to that profile, or `repair`, finishes or undoes. A settings write that
    fails undoes the keyring writes before it.

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

    @functools.cached_property
    def changes(self) -> KeyringChanges:
        """Built on first use: the app's first frame reads only preferences, and the journal
        (with its hashing, from OpenSSL) loads after it."""
        from supalink.profiles.changes import KeyringChanges
        from supalink.profiles.journal import Journal

        return KeyringChanges(self.secrets, Journal.beside(self.settings_file.path))

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
            self._write(settings, None)

    def profile_preference(self, name: str, key: str, default: object = None) -> object:
        """A preference of profile `name`'s own: it follows a rename and goes with a removal."""
        return read_in(self._settings.preferences, name, key, default)

    def set_profile_preference(self, name: str, key: str, value: object) -> None:
        with self._editing() as settings:
            set_in(settings.preferences, name, key, value)
            self._write(settings, None)

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
                ref = self.changes.read(name, SecretKind.PROJECT_REF, record)
            except SecretStoreError as error:
                raise ProfileLocked(name, error) from None
            if ref is None:
                raise ProjectRefMissing(name, self.secrets.description)
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
        record = self.record(name)
        saved_there = record.password_saved
        if saved_there:
            try:
                saved = self.changes.read(name, SecretKind.PASSWORD, record)
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
        record = self.record(name)
        if not record.password_saved:
            return False
        try:
            return self.changes.read(name, SecretKind.PASSWORD, record) is None
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
        return {name: sentences.locked(problem) for name in supabase} if problem else {}

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
        with a None password and `save_password` True a saved one is kept. A CA file given
        anew must be there."""
        profile.validated()
        name = profile.name
        with self._editing(name) as settings:
            existing = settings.profiles.get(name)
            if existing is not None and not replace:
                raise ProfileExists(name)
            cafile = profile.sslrootcert
            renewed = existing is None or existing.profile.sslrootcert != cafile
            if cafile and renewed and (problem := ca_file_problem(cafile)):
                raise ProfileError("sslrootcert", problem)
            if existing is None:  # a new profile: nothing held for an old one of that name
                self.hold_password(name, None)
            values: dict[SecretKind, str] = {}
            if profile.ref is not None:
                values[SecretKind.PROJECT_REF] = profile.ref
            if password is not None and save_password:
                values[SecretKind.PASSWORD] = password
            kept = existing is not None and existing.password_saved
            password_saved = save_password and (SecretKind.PASSWORD in values or kept)
            record = ProfileRecord(profile.replace(ref=None), profile.is_supabase, password_saved)
            settings.profiles[name] = record
            commit = functools.partial(self._write, settings, profile.ref)
            if existing is None and values:
                self._answering(name, tuple(values))
                self.changes.add(name, values, commit)
            elif existing is None:
                commit()
            else:
                self._replace(existing, record, values, commit)
        log.info("saved profile %r", name)
        return record

    def _replace(
        self,
        existing: ProfileRecord,
        record: ProfileRecord,
        values: dict[SecretKind, str],
        commit: Commit,
    ) -> None:
        from supalink.profiles.journal import fingerprint  # loaded with the first change

        name = record.profile.name
        drop = []
        if existing.password_saved and not record.password_saved:
            drop.append(SecretKind.PASSWORD)
        if existing.is_supabase and not record.is_supabase:
            drop.append(SecretKind.PROJECT_REF)
        if not values and not drop:
            commit()  # the settings alone: no keyring at all
            return
        before = self._answering(name, (*values, *drop))
        changed = {kind: value for kind, value in values.items() if before[kind] != value}
        dropped = tuple(kind for kind in drop if before[kind] is not None)
        if len(changed) == 1 and not dropped and fingerprint(record) == fingerprint(existing):
            # One entry and nothing else: its write is the whole change, old or new.
            [(kind, value)] = changed.items()
            self.secrets.set(name, kind, value)
        elif changed or dropped:
            self.changes.save(name, record, changed, dropped, commit)
        else:
            commit()

    def _answering(self, name: str, kinds: tuple[SecretKind, ...]) -> dict[SecretKind, str | None]:
        """The profile's entries of `kinds` as they are, read before anything is written:
        a keyring that does not answer refuses the change before it starts."""
        try:
            return {kind: self.secrets.get(name, kind) for kind in kinds}
        except SecretStoreError as error:
            raise ProfileNotSaved(name, kinds, error.reason) from None

    def remove(self, name: str, *, also: PreferencesChange | None = None) -> bool:
        """Remove the profile, then its keyring entries; whether those went too (False: the
        keyring failed after the settings were written, and `repair` deletes them). `also`
        changes the preferences in the same settings write (roles/' agent links)."""
        with self._editing(name) as settings:
            record = settings.profiles.get(name)
            if record is None:
                raise ProfileNotFound(name)
            del settings.profiles[name]
            removed_in(settings.preferences, name)
            if also is not None:
                also(settings.preferences)
            commit = functools.partial(self._write, settings, None)
            if record.is_supabase or record.password_saved:
                # A keyring that does not answer refuses the removal: nothing is lost.
                self.secrets.get(name, PROFILE_KINDS[0])
                entries_gone = self.changes.remove(name, PROFILE_KINDS, commit)
            else:
                commit()
                entries_gone = True
        self.hold_password(name, None)
        log.info("removed profile %r and its keyring entries", name)
        return entries_gone

    def rename(self, old: str, new: str, *, also: PreferencesChange | None = None) -> None:
        """The profile and its keyring entries under a new name: copied there, the settings
        written, then the old entries deleted. `also` as for `remove`."""
        if problem := profile_name_problem(new):
            raise ProfileError("name", problem)
        with self._editing(old, new) as settings:
            record = settings.profiles.get(old)
            if record is None:
                raise ProfileNotFound(old)
            if new in settings.profiles:
                raise ProfileExists(new)
            values = self._entries_of(record)
            moved = ProfileRecord(
                record.profile.replace(name=new),
                record.is_supabase,
                SecretKind.PASSWORD in values,  # a password gone from the keyring stays gone
            )
            settings.profiles = {
                new if key == old else key: moved if key == old else value
                for key, value in settings.profiles.items()
            }
            renamed_in(settings.preferences, old, new)
            if also is not None:
                also(settings.preferences)
            commit = functools.partial(self._write, settings, values.get(SecretKind.PROJECT_REF))
            if values:
                self.changes.rename(old, new, values, commit)
            else:
                commit()
        held = self.session.get(old, SecretKind.PASSWORD)
        self.hold_password(old, None)
        if held is not None:
            self.hold_password(new, held)
        log.info("renamed profile %r to %r", old, new)

    def _entries_of(self, record: ProfileRecord) -> dict[SecretKind, str]:
        name = record.profile.name
        values: dict[SecretKind, str] = {}
        if record.is_supabase:
            ref = self.secrets.get(name, SecretKind.PROJECT_REF)
            if ref is None:
                raise ProjectRefMissing(name, self.secrets.description)
            values[SecretKind.PROJECT_REF] = ref
        if record.password_saved:
            password = self.secrets.get(name, SecretKind.PASSWORD)
            if password is not None:
                values[SecretKind.PASSWORD] = password
        return values

    def duplicate(self, old: str, new: str) -> None:
        if problem := profile_name_problem(new):
            raise ProfileError("name", problem)
        saved = self.load(old)
        password = self.password(old)  # a keyring that does not answer refuses the copy
        kept = password.value if password is not None and password.in_keyring else None
        self.save(saved.profile.replace(name=new), kept, save_password=saved.password_saved)
        if password is not None and not password.in_keyring:
            self.hold_password(new, password.value)

    @contextlib.contextmanager
    def _editing(self, *names: str) -> Iterator[Settings]:
        """A copy of the settings as the file holds them now, under its lock, to change and
        write; this repository then shows what the file holds (with other processes' profiles
        read meanwhile): the changed copy once written, the file's own when the write failed.
        An interrupted change to any of `names` is finished or undone first."""
        with self.settings_file.editing() as loaded:
            for entry in self.changes.journal.pending():
                if set(entry.names) & set(names):
                    self.changes.settle(entry, loaded.settings.profiles)
            # Records are frozen: a new dict of them is a copy; the preferences may nest.
            stored = loaded.settings
            working = Settings(dict(stored.profiles), copy.deepcopy(stored.preferences))
            shown = loaded.settings
            try:
                yield working
                shown = working
            finally:
                notice = self._loaded.notice if self._loaded is not None else None
                self._loaded = LoadedSettings(shown, notice or loaded.notice)

    def _write(self, settings: Settings, ref: str | None) -> None:
        # The ref of the profile written now: it must not be spelled out in a host or a user
        # name. The other profiles' are not read (one keyring read each, 250 of them took
        # seconds): their text is as the file already held it.
        self.settings_file.save(settings, forbidden=(ref,) if ref else ())


def open_repository(paths: AppPaths, secrets: SecretStore | None = None) -> ProfileRepository:
    return ProfileRepository(SettingsFile(paths.settings_file), secrets or KeyringSecretStore())

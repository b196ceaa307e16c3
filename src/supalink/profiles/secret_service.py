"""The Secret Service (org.freedesktop.secrets), spoken to over D-Bus with jeepney for what
every start of the app or of an MCP server asks of it: is it there, which program answers
it, and one entry read.

keyring's backend goes through secretstorage, which opens an encrypted (Diffie-Hellman)
session and for it loads cryptography: its Rust library alone is some 7 MB of a process's
memory, for good. This session is "plain", as many Secret Service clients open: the secret
crosses the user's own session bus, a local socket, unencrypted; what could read it there
(the bus daemon, a process of the same user monitoring the bus) could ask the Secret
Service for it anyway. The entries are keyring's own (its attributes, the default
collection), and saving and deleting stay with keyring (secrets.KeyringSecretStore).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# secretstorage's own D-Bus library (keyring's, on Linux), without type hints.
from jeepney import (  # type: ignore[import-untyped]
    DBusAddress,
    DBusErrorResponse,
    MessageType,
    Properties,
    new_method_call,
)
from jeepney.bus_messages import message_bus  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

BUS_NAME = "org.freedesktop.secrets"
_SERVICE = DBusAddress("/org/freedesktop/secrets", BUS_NAME, "org.freedesktop.Secret.Service")
# keyring's SecretService backend keeps its entries in the collection the alias names.
_DEFAULT_COLLECTION = DBusAddress(
    "/org/freedesktop/secrets/aliases/default", BUS_NAME, "org.freedesktop.Secret.Collection"
)
# The programs that answer on the bus name, by their process name.
_PROGRAMS = {
    "gnome-keyring-daemon": "GNOME Keyring",
    "gnome-keyring-d": "GNOME Keyring",  # /proc's comm keeps 15 characters
    "keepassxc": "KeePassXC",
    "kwalletd5": "KWallet",
    "kwalletd6": "KWallet",
    "ksecretd": "KWallet",
    "oo7-daemon": "oo7",
}


class Unreadable(Exception):
    """The entry could not be read this way (the collection or the item is locked, there is
    no default collection, the service answered with an error): keyring's library, which
    can ask the person to unlock, should read it."""


def _call(connection: Any, message: Any, timeout: float | None) -> tuple[Any, ...]:
    reply = connection.send_and_get_reply(message, timeout=timeout)
    if reply.header.message_type == MessageType.error:
        raise Unreadable(DBusErrorResponse(reply).name)
    body: tuple[Any, ...] = reply.body
    return body


def is_available(timeout: float = 1.0) -> bool:
    """Whether a program owns the bus name or the bus can start one: keyring's own test
    (secretstorage.check_service_availability) before it picks this backend."""
    try:
        with open_dbus_connection(bus="SESSION", auth_timeout=timeout) as connection:
            (owned,) = _call(connection, message_bus.NameHasOwner(BUS_NAME), timeout)
            if owned:
                return True
            (names,) = _call(connection, message_bus.ListActivatableNames(), timeout)
    except Exception:  # no session bus, or it did not answer
        return False
    return BUS_NAME in names


def provider(timeout: float = 1.0) -> str | None:
    """The program that owns the bus name, named as a person knows it; None when that
    cannot be told (no bus, no owner, no /proc)."""
    try:
        with open_dbus_connection(bus="SESSION", auth_timeout=timeout) as connection:
            (pid,) = _call(connection, message_bus.GetConnectionUnixProcessID(BUS_NAME), timeout)
        program = Path(f"/proc/{int(pid)}/comm").read_text().strip()
    except Exception:  # no session bus, nobody owns the name, not Linux: say less
        return None
    return _PROGRAMS.get(program, program or None)


def read(service: str, account: str, timeout: float | None = None) -> str | None:
    """The first entry of keyring's for `service` and `account` in the default collection,
    or None when there is none; Unreadable when it cannot be read this way."""
    with open_dbus_connection(bus="SESSION") as connection:

        def ask(address: Any, method: str, signature: str = "", *body: Any) -> tuple[Any, ...]:
            return _call(connection, new_method_call(address, method, signature, body), timeout)

        ((_, locked),) = _call(connection, Properties(_DEFAULT_COLLECTION).get("Locked"), timeout)
        if locked:
            raise Unreadable("the collection is locked")
        query = {"service": service, "username": account}
        (items,) = ask(_DEFAULT_COLLECTION, "SearchItems", "a{ss}", query)
        if not items:
            return None
        _, session = ask(_SERVICE, "OpenSession", "sv", "plain", ("s", ""))
        try:
            item = DBusAddress(items[0], BUS_NAME, "org.freedesktop.Secret.Item")
            # A locked item answers with an error (Unreadable).
            ((_, _, value, _),) = ask(item, "GetSecret", "o", session)
        finally:
            ask(DBusAddress(session, BUS_NAME, "org.freedesktop.Secret.Session"), "Close")
    text: str = bytes(value).decode("utf-8")
    return text

"""The MCP client's own log of a server: the first place to look when a server fails.

Claude Desktop writes one file per server (`mcp-server-<name>.log`: what the server printed
on stderr, and its starts and exits) and `mcp.log` (every server's connection events, each
line tagged `[<name>]`). Where a client keeps no log Supalink knows, there is none to show.
Passwords in what is shown are masked: a server may print its connection string.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Final

from supalink.logs import SecretMasker
from supalink.mcp.clients import Host, McpClient, claude_package

# At most this much of the end of a file is read: a log can grow to gigabytes.
TAIL_BYTES: Final = 1_000_000
DEFAULT_LINES: Final = 40


def log_folder(client: McpClient, host: Host) -> PurePath | None:
    """Where `client` keeps its logs; None for a client whose logs Supalink does not know."""
    if client.id != "claude":
        return None
    if host.is_macos:
        return host.under_home("Library", "Logs", "Claude")
    if host.is_windows:
        package = claude_package(host)
        if package is not None:  # MSIX redirects %APPDATA% into the package, logs included
            return package / "LocalCache" / "Roaming" / "Claude" / "logs"
        return host.appdata() / "Claude" / "logs"
    return host.xdg_config_home() / "Claude" / "logs"


@dataclass(frozen=True)
class ClientLog:
    """The end of one log file as it concerns one server; `lines` is empty when the file
    does not exist (the client never started the server) or holds nothing of it."""

    path: PurePath
    exists: bool
    lines: tuple[str, ...]


def server_logs(
    client: McpClient,
    host: Host,
    server_name: str,
    *,
    lines: int = DEFAULT_LINES,
    masker: SecretMasker | None = None,
) -> list[ClientLog]:
    """The server's own log, then the client's shared one (only the lines tagged with the
    server's name). An OSError other than a missing file is raised for the caller to word."""
    folder = log_folder(client, host)
    if folder is None:
        return []
    masker = masker or SecretMasker()
    own = folder / f"mcp-server-{server_name}.log"
    shared = folder / "mcp.log"
    tag = f"[{server_name}]"
    return [
        _read(own, lines, masker, None),
        _read(shared, lines, masker, tag),
    ]


def _read(path: PurePath, count: int, masker: SecretMasker, tag: str | None) -> ClientLog:
    try:
        text = _tail_text(Path(path))
    except FileNotFoundError:
        return ClientLog(path, False, ())
    found: Iterable[str] = text.splitlines()
    if tag is not None:
        found = (line for line in found if tag in line)
    kept = list(found)[-count:] if count > 0 else []
    return ClientLog(path, True, tuple(masker.mask(line) for line in kept))


def _tail_text(path: Path) -> str:
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        start = max(0, size - TAIL_BYTES)
        file.seek(start)
        data = file.read(TAIL_BYTES)
    if start > 0:  # the first line read is most likely cut: drop it
        data = data.partition(b"\n")[2]
    return data.decode("utf-8", errors="replace")

"""The MCP client's own log of a server: the first place to look when a server fails.

Claude Desktop writes one file per server (`mcp-server-<name>.log`: what the server printed
on stderr, and its starts and exits) and `mcp.log` (every server's connection events, each
line tagged `[<name>]`). Where a client keeps no log Supalink knows, there is none to show.
Passwords in what is shown are masked: a server may print its connection string, or its
environment. A log line is not a URI or a conninfo string: a `PGPASSWORD=` or `password=`
there is masked whole, to its closing quote or to the end of the line, spaces and all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Final
from urllib.parse import quote, quote_plus

from supalink.files import read_plain_tail
from supalink.logs import MASK, SecretMasker
from supalink.mcp.clients import Host, McpClient, claude_package

# At most this much of the end of a file is read: a log can grow to gigabytes.
TAIL_BYTES: Final = 1_000_000
DEFAULT_LINES: Final = 40
# `PGPASSWORD=…`, `password=…` (`--password=…`, `?password=…`) and `"password": …`: the value
# quoted (to its closing quote, or the line's end when there is none) or bare (to the line's
# end: what libpq or a shell took as the password may well hold spaces).
_WHOLE_PASSWORD: Final = re.compile(
    r"""(?P<head>(?:["'](?:PGPASSWORD|password)["']\s*:|(?<![A-Za-z0-9_])"""
    r"""(?:PGPASSWORD|password)\s*=)\s*)"""
    r"""(?P<secret>"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|.+)""",
    re.IGNORECASE,
)


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


def password_forms(password: str) -> list[str]:
    """The ways a password may be written in a log: as it is, percent-encoded (in a URI,
    '/' kept or not, or a form's '+' for a space) and escaped in a JSON string."""
    forms = {
        password,
        quote(password, safe=""),
        quote(password),
        quote_plus(password),
        json.dumps(password)[1:-1],
        json.dumps(password, ensure_ascii=False)[1:-1],
    }
    return sorted(forms)


def mask_line(line: str, masker: SecretMasker) -> str:
    """`line` with every password in it masked: what follows a `PGPASSWORD=` or
    `password=` whole (its quotes kept), and elsewhere what `masker` knows (URIs, the
    secrets it was given)."""
    pieces = []
    done = 0
    for match in _WHOLE_PASSWORD.finditer(line):
        secret = match["secret"]
        opening = secret[0] if secret[0] in "\"'" else ""
        closing = opening if len(secret) > 1 and secret.endswith(opening) else ""
        pieces += [masker.mask(line[done : match.start()]), match["head"]]
        pieces.append(f"{opening}{MASK}{closing}")
        done = match.end()
    pieces.append(masker.mask(line[done:]))
    return "".join(pieces)


def _read(path: PurePath, count: int, masker: SecretMasker, tag: str | None) -> ClientLog:
    try:
        text = _tail_text(Path(path))
    except FileNotFoundError:
        return ClientLog(path, False, ())
    found: Iterable[str] = text.splitlines()
    if tag is not None:
        found = (line for line in found if tag in line)
    kept = list(found)[-count:] if count > 0 else []
    return ClientLog(path, True, tuple(mask_line(line, masker) for line in kept))


def _tail_text(path: Path) -> str:
    """The end of the log (a plain file only: a FIFO in its place is refused, not waited
    on), from the first whole line."""
    data, cut = read_plain_tail(path, TAIL_BYTES)
    if cut:  # the first line read is most likely cut: drop it
        data = data.partition(b"\n")[2]
    return data.decode("utf-8", errors="replace")

"""What `supalink config write` says about an entry beyond its diff: the server command it
names and where that was found, whether the server can start where the client starts it
(uvx and the Python it needs), and where a password the entry holds is shown (the client's
own commands, a project folder's file)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from supalink.errors import SupalinkError

if TYPE_CHECKING:
    from supalink.mcp import McpClient, Plan, PlannedEntry


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def say_shown(args: argparse.Namespace, client: McpClient, planned: PlannedEntry) -> None:
    """Where else a password in the entry is shown: the client's own commands that print an
    entry as the file holds it, and a project folder's file, which version control shares."""
    import shlex

    if not planned.secrets:
        return
    for command in client.shows_entry:
        shown = command.format(name=shlex.quote(args.server_name))
        _say(f"warning: `{shown}` prints this entry with the password in clear")
    if getattr(args, "workspace", None) is not None:
        _say(
            "warning: the file is in a project folder: keep it out of version control, or "
            "keep the password out of it (a saved profile, --template supalink)"
        )


def say_python(client: McpClient, planned: PlannedEntry) -> None:
    """Whether the Python the server needs is there for uvx where the client starts it."""
    import os
    import shlex

    from supalink.mcp import Finder, Host, check_python

    checked = check_python(planned.entry, Finder(Host.current()), os.environ)
    if checked is None:
        return
    needs = f"{checked.package} needs Python {checked.spec}"
    install = f"`uv python install {checked.install_version}`"
    if checked.ok:
        print(f"python: {checked.found} ({needs}; found by uv)")
        return
    if checked.uv is None:
        said = "uv, which would say whether uvx has one, was not found beside uvx"
    elif checked.timed_out:
        said = "uv did not answer in time whether it has one"
    else:
        found = f" ({checked.detail})" if checked.detail else ""
        said = (
            f"uv finds none where {client.name} starts it "
            f"(`uv python find {shlex.quote(checked.spec)}`{found}); uvx will try to download "
            "one at the server's first start, which fails offline or with downloads turned off"
        )
    _say(f"warning: {needs}: {said}; install one now with {install}")


def say_command(client: McpClient, planned: PlannedEntry, plan: Plan) -> None:
    """Which server command the entry names, found where: a desktop client starts servers
    without the shell's PATH, so the entry names it in full."""
    from supalink.mcp import load_document, uses_built_in_node

    found = planned.command
    if found is None:
        return
    if found.found is None:
        needs = "Node.js" if found.node else "uv" if found.name.startswith("uv") else found.name
        _say(
            f"warning: {found.name} was not found on this machine (PATH, uv, nvm, fnm, "
            f"Volta, mise, asdf, Homebrew): install {needs}; the entry names it as "
            f"{found.name}, which {client.name} may not find"
        )
    else:
        print(
            f"server command: {found.found} (written in full: {client.name} does not start "
            "servers with your shell's PATH)"
        )
    try:
        root = load_document(plan.path, plan.old, jsonc=client.jsonc).value
    except SupalinkError:
        root = None
    if found.node and uses_built_in_node(root):
        _say(
            f"warning: {client.name} runs MCP servers with its built-in Node.js "
            "(isUsingBuiltInNodeForMcp in the file), which sees no globally installed "
            f"packages: set it to false for {found.name} to be found, or use --template "
            "supalink, which needs no Node.js"
        )

"""`supalink config extension`: write a Claude Desktop Extension (`.mcpb`) that starts
Supalink's own read-only server for a saved profile, the other way into Claude Desktop beside
the JSON entry that `config write` puts in its config file.

With `--profile` the bundle runs this install of Supalink and offers that profile; with
`--release` it runs Supalink where each OS's package installs it and asks for the profile at
install (packaging/build.sh makes `dist/supalink.mcpb` so). Exit 0 when written, 1 when the
profile or the file is refused, 2 on bad input.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from supalink.errors import UsageError


def register(actions: Any) -> None:
    extension = actions.add_parser(
        "extension",
        help="write a Claude Desktop Extension (.mcpb) that starts Supalink's read-only server",
        description="Write a Claude Desktop Extension (.mcpb): open it in Claude Desktop "
        "(Settings > Extensions) to install Supalink's read-only server for a profile, "
        "without editing the config file. Nothing secret goes in it: the server reads the "
        "profile's password from the keyring. Exit 0 when written, 1 when refused, 2 on bad "
        "input.",
    )
    source = extension.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--profile",
        metavar="NAME",
        help="a saved profile with its password in the keyring: the bundle runs this "
        "install of Supalink and offers this profile",
    )
    source.add_argument(
        "--release",
        action="store_true",
        help="the bundle shipped beside the app: it runs Supalink where each OS's package "
        "installs it, and Claude asks for the profile's name at install",
    )
    extension.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="where to write it (default: Supalink-NAME.mcpb, or supalink.mcpb with "
        "--release, in this folder)",
    )
    extension.set_defaults(run=run_extension)


def run_extension(args: argparse.Namespace) -> int:
    from supalink.agent import ServeOptions, tool_specs
    from supalink.mcp import (
        extension_bundle,
        extension_file_name,
        extension_manifest,
        write_extension,
    )

    if args.output is not None and str(args.output) in ("", "-"):
        raise UsageError("--output needs a file name (a bundle is binary: not to stdout)")
    if args.profile is not None:
        _check_profile(args.profile)
    output = args.output or Path(extension_file_name(args.profile))
    tools = tool_specs(ServeOptions())  # as a read-only server lists them
    manifest = extension_manifest(tools, profile=args.profile, release=args.release)
    written = write_extension(output, extension_bundle(manifest))
    print(f"wrote {written}")
    command = manifest["server"]["mcp_config"]["command"]
    print(f"  it starts {command} mcp-serve --profile <the profile named at install>")
    print(
        "  install: open it in Claude Desktop (Settings > Extensions > Install Extension), "
        "then enable it. If the install does nothing (Claude Desktop builds of mid-2026 "
        "fail on some .mcpb files), write the JSON entry instead: supalink config write "
        "--profile NAME"
    )
    return 0


def _check_profile(name: str) -> None:
    """The profile exists and its password is in the keyring, where the server will read it."""
    from supalink.commands.saved import user_repository
    from supalink.mcp import ExtensionNeedsKeyring

    password = user_repository().password(name, missing_is_error=True)
    if password is None or not password.in_keyring:
        raise ExtensionNeedsKeyring(name)

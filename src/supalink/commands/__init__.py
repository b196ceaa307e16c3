"""One module per subcommand. Each has `register(subparsers)`, which adds its parser and
sets `run=<function(args) -> exit code>`. Heavy imports stay inside the run functions so
`supalink --version` stays fast."""

from __future__ import annotations

# Order is the order shown in `supalink --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "url",
    "parse",
    "profile",
    "supabase",
    "test",
    "config",
    "mcp_run",
    "mcp_serve",
    "audit",
    "monitor",
    "role",
)

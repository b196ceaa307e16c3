#!/usr/bin/env bash
# Build the Claude Desktop Extension shipped beside the app: dist/supalink.mcpb, written by
# the frozen app itself (`supalink config extension --release`). Its server is `binary`: it
# starts the installed app (mcp-serve) where each OS's package puts it, so the app must be
# installed there (packaging/MACOS.md, WINDOWS.md, LINUX.md); Claude Desktop asks for the
# profile's name at install. packaging/build.sh runs it after the smoke test:
#     packaging/build-extension.sh [SUPALINK [OUTPUT]]
# (defaults: dist/supalink/supalink and dist/supalink.mcpb). No Node is needed to build it;
# tests/mcp/test_extension.py checks the result with the mcpb CLI from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
supalink=${1:-dist/supalink/supalink}
output=${2:-dist/supalink.mcpb}
"$supalink" config extension --release --output "$output"

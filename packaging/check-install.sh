#!/usr/bin/env bash
# The installs the README promises, done from scratch: `pip install .` into a new venv and
# `pipx install .`, each followed by `supalink --self-check` offscreen and `supalink
# mcp-serve --help` from PATH. Pulls the dependencies from PyPI (about 100 MB for Qt) unless
# pip's cache has them. Run from the repository root; the test suite checks the wheel itself
# more cheaply (tests/packaging).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export QT_QPA_PLATFORM=offscreen
python=${PYTHON:-python3}

check_on_path() {
    local expected=$1 found
    found=$(PATH="$(dirname "$expected"):/usr/bin:/bin" command -v supalink)
    if [ "$found" != "$expected" ]; then
        echo "check-install: supalink on PATH is ${found:-nothing}, expected $expected" >&2
        exit 1
    fi
    PATH="$(dirname "$expected"):/usr/bin:/bin" supalink --self-check | sed 's/^/    /'
    # What a `supalink` entry in an MCP client's config runs: its command must load.
    local usage
    usage=$(PATH="$(dirname "$expected"):/usr/bin:/bin" supalink mcp-serve --help)
    if ! grep -qF -- --uri-env <<<"$usage"; then
        echo "check-install: supalink mcp-serve --help is not its usage: $usage" >&2
        exit 1
    fi
}

started=$EPOCHREALTIME
"$python" -m venv "$scratch/venv"
"$scratch/venv/bin/pip" install -q .
awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "pip install .: %.0f s\n", e - s }'
check_on_path "$scratch/venv/bin/supalink"

"$python" -m venv "$scratch/pipx-tool"
"$scratch/pipx-tool/bin/pip" install -q pipx
started=$EPOCHREALTIME
PIPX_HOME=$scratch/pipx PIPX_BIN_DIR=$scratch/bin PIPX_MAN_DIR=$scratch/man \
    "$scratch/pipx-tool/bin/pipx" install --python "$python" . >/dev/null
awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "pipx install .: %.0f s\n", e - s }'
check_on_path "$scratch/bin/supalink"
echo "check-install: pip and pipx installs both put a working supalink on PATH"

#!/usr/bin/env bash
# Build the one-folder app into dist/supalink/ (executable dist/supalink/supalink) with
# PyInstaller, then smoke-test the frozen app. Run from the repository root:
#     packaging/build.sh
# Exits non-zero, with the frozen app's output, when the bundle does not start.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -e '.[packaging]'
fi
# PyInstaller is a build tool, not a runtime dependency: the `packaging` extra brings it.
if ! "$venv/bin/python" - <<'EOF'
import sys
from importlib.metadata import PackageNotFoundError, version

try:
    major, minor = (int(part) for part in version("pyinstaller").split(".")[:2])
except PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if (major, minor) >= (6, 10) else 1)
EOF
then
    "$venv/bin/pip" install -e '.[packaging]'
fi

# PyInstaller bundles only the libraries it finds: without these the bundle leans on the
# user's own copies for X11 (Wayland needs none of them).
if [ "$(uname -s)" = Linux ] && command -v ldconfig >/dev/null; then
    known=$(ldconfig -p)
    for lib in libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1; do
        grep -qF "$lib" <<<"$known" ||
            echo "build: note: $lib is not installed, so the bundle will not carry it" \
                "(apt-get install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1)" >&2
    done
fi

rm -rf build/supalink dist/supalink
started=$EPOCHREALTIME
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build packaging/supalink.spec
awk -v s="$started" -v e="$EPOCHREALTIME" 'BEGIN { printf "build: PyInstaller took %.1f s\n", e - s }'

# The smoke test: the frozen app must open its main window offscreen, find a keyring
# backend through the entry points it carries, and report its size and start time.
"$venv/bin/python" packaging/smoke_test.py dist/supalink/supalink

# The Claude Desktop Extension beside the app, made by the frozen app just tested.
packaging/build-extension.sh dist/supalink/supalink dist/supalink.mcpb

#!/usr/bin/env bash
# Render the committed icons from the SVG master: hicolor PNGs for Linux, .ico for Windows,
# .icns for macOS. Run from the repository root after changing resources/icons/supalink.svg.
# Needs Debian's librsvg2-bin (rsvg-convert) and icoutils (icotool), and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in rsvg-convert icotool python3; do
    command -v "$tool" >/dev/null || {
        echo "render-icons: $tool is missing (apt-get install librsvg2-bin icoutils)" >&2
        exit 1
    }
done

icons=resources/icons
master=$icons/supalink.svg
for size in 16 24 32 48 64 128 256 512; do
    dir=$icons/hicolor/${size}x${size}/apps
    mkdir -p "$dir"
    rsvg-convert --width "$size" --height "$size" --format png --output "$dir/supalink.png" "$master"
done

png() { echo "$icons/hicolor/$1x$1/apps/supalink.png"; }
# Windows shows 16..48 in lists and 256 in large views; 256 is stored as PNG inside the .ico.
icotool --create --output "$icons/supalink.ico" \
    "$(png 16)" "$(png 24)" "$(png 32)" "$(png 48)" "$(png 64)" --raw="$(png 256)"
# macOS wants 1024 for the 512@2x slot; it is not worth committing as a PNG of its own.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rsvg-convert --width 1024 --height 1024 --format png --output "$scratch/1024.png" "$master"
python3 packaging/make_icns.py "$icons/supalink.icns" 16="$(png 16)" 32="$(png 32)" \
    64="$(png 64)" 128="$(png 128)" 256="$(png 256)" 512="$(png 512)" 1024="$scratch/1024.png"
echo "render-icons: wrote $icons/hicolor/*/apps/supalink.png, supalink.ico and supalink.icns"

#!/usr/bin/env bash
# Add Supalink to the desktop's application menu, for the current user:
#     packaging/linux/install-desktop-entry.sh [PATH/TO/supalink]
#     packaging/linux/install-desktop-entry.sh --remove
# PATH defaults to the `supalink` on PATH (pip or pipx); give dist/supalink/supalink for the
# PyInstaller build. Writes under ${XDG_DATA_HOME:-~/.local/share}: applications/, icons/hicolor/
# and metainfo/. pip and pipx cannot do this themselves: they install into a venv that the
# desktop does not look at.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
icons=$here/../../resources/icons
app_id=io.github.supalink.Supalink
data=${XDG_DATA_HOME:-$HOME/.local/share}
desktop_file=$data/applications/$app_id.desktop

# Menus pick changes up on their own; these only make them immediate where they exist.
refresh_caches() {
    if command -v update-desktop-database >/dev/null && [ -d "$data/applications" ]; then
        update-desktop-database -q "$data/applications" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null && [ -d "$data/icons/hicolor" ]; then
        gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
    fi
}

if [ "${1:-}" = "--remove" ]; then
    rm -f "$desktop_file" "$data/metainfo/$app_id.metainfo.xml" \
        "$data"/icons/hicolor/*/apps/supalink.png "$data/icons/hicolor/scalable/apps/supalink.svg"
    refresh_caches
    echo "removed Supalink's menu entry from $data"
    exit 0
fi

executable=${1:-$(command -v supalink || true)}
if [ -z "$executable" ]; then
    echo "install-desktop-entry: no supalink on PATH; give the path to the executable" >&2
    exit 2
fi
executable=$(realpath "$executable")
if [ ! -x "$executable" ]; then
    echo "install-desktop-entry: $executable is not an executable file" >&2
    exit 2
fi
# The Exec key quotes its argument; these characters would need a second escaping layer.
case $executable in
    *[\"\`\$\\%]* | *$'\n'*)
        echo "install-desktop-entry: cannot put $executable in a desktop file; move it" >&2
        exit 2
        ;;
esac

mkdir -p "$data/applications" "$data/metainfo" "$data/icons/hicolor/scalable/apps"
sed -e "s|^Exec=.*|Exec=\"$executable\"|" -e "s|^TryExec=.*|TryExec=$executable|" \
    "$here/$app_id.desktop" >"$desktop_file.tmp"
mv "$desktop_file.tmp" "$desktop_file"
cp "$here/$app_id.metainfo.xml" "$data/metainfo/"
for png in "$icons"/hicolor/*/apps/supalink.png; do
    size=$(basename "$(dirname "$(dirname "$png")")")
    mkdir -p "$data/icons/hicolor/$size/apps"
    cp "$png" "$data/icons/hicolor/$size/apps/supalink.png"
done
cp "$icons/supalink.svg" "$data/icons/hicolor/scalable/apps/supalink.svg"

refresh_caches
echo "installed Supalink's menu entry: $desktop_file (runs $executable)"

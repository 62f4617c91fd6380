#!/usr/bin/env bash
# Install the PyInstaller build of calsync-desktop for the current user (no root):
#
#   the program   $PREFIX/                                      (a copy of dist/calsync-desktop/)
#   commands      ~/.local/bin/calsync-desktop, ~/.local/bin/calsync   (symlinks)
#   menu entry    $XDG_DATA_HOME/applications/calsync-desktop.desktop  (Exec= the installed binary)
#   icon          $XDG_DATA_HOME/icons/hicolor/scalable/apps/calsync-desktop.svg
#
# Usage:
#   packaging/linux/install.sh [--from DIR] [--prefix DIR] [--in-place]
#   packaging/linux/install.sh --uninstall [--prefix DIR]
#
#   --from DIR    the built folder (default: dist/calsync-desktop beside this script's project)
#   --prefix DIR  where to copy it (default: ~/.local/lib/calsync-desktop)
#   --in-place    do not copy: the menu entry and commands point into --from itself
#   --uninstall   remove what this script installed; the Sales Calendar, settings and
#                 keyring entries are left alone (they live in ~/.local/share/calsync-desktop,
#                 ~/.config/... and the keyring, not here)
#
# XDG_DATA_HOME defaults to ~/.local/share (XDG Base Directory Specification).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
project="$(cd "$here/../.." && pwd)"
from="$project/dist/calsync-desktop"
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
prefix="$HOME/.local/lib/calsync-desktop"
bin_dir="$HOME/.local/bin"
in_place=0
uninstall=0

while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$2"; shift 2 ;;
    --prefix) prefix="$2"; shift 2 ;;
    --in-place) in_place=1; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

desktop_file="$data_home/applications/calsync-desktop.desktop"
icon_file="$data_home/icons/hicolor/scalable/apps/calsync-desktop.svg"

refresh_caches() {
  # Optional: desktops also pick the files up without these.
  command -v update-desktop-database >/dev/null 2>&1 \
    && update-desktop-database -q "$data_home/applications" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 \
    && gtk-update-icon-cache -q -t "$data_home/icons/hicolor" 2>/dev/null || true
}

if [ "$uninstall" -eq 1 ]; then
  for link in "$bin_dir/calsync-desktop" "$bin_dir/calsync"; do
    # only our own symlinks, never someone else's calsync
    if [ -L "$link" ]; then rm -f "$link"; fi
  done
  rm -f "$desktop_file" "$icon_file"
  if [ -x "$prefix/calsync-desktop" ] && [ -d "$prefix/_internal" ]; then
    rm -rf "$prefix"
  fi
  refresh_caches
  echo "Removed calsync-desktop (your Sales Calendar and settings were kept)."
  exit 0
fi

if [ ! -x "$from/calsync-desktop" ] || [ ! -d "$from/_internal" ]; then
  echo "install.sh: no build in $from; run packaging/build.sh first (or pass --from DIR)" >&2
  exit 1
fi
from="$(cd "$from" && pwd)"

if [ "$in_place" -eq 1 ]; then
  target="$from"
else
  target="$prefix"
  if [ "$(cd "$(dirname "$target")" 2>/dev/null && pwd)/$(basename "$target")" != "$from" ]; then
    mkdir -p "$(dirname "$target")"
    staging="$target.new.$$"
    cp -a "$from" "$staging"
    # replace the old copy only once the new one is complete
    rm -rf "$target"
    mv "$staging" "$target"
  fi
fi

mkdir -p "$bin_dir" "$(dirname "$desktop_file")" "$(dirname "$icon_file")"
ln -sfn "$target/calsync-desktop" "$bin_dir/calsync-desktop"
ln -sfn "$target/calsync" "$bin_dir/calsync"

resources="$target/_internal/calsync_desktop/resources"
cp "$resources/icons/calsync-desktop.svg" "$icon_file"

# Exec= and TryExec= take the installed binary's absolute path. Exec= gets it quoted the
# way the Desktop Entry Specification asks (double quotes; \ " ` $ escaped; % doubled).
exec_path="$target/calsync-desktop"
escaped="$(printf '%s' "$exec_path" | sed -e 's/[\\"`$]/\\&/g')"
quoted="\"${escaped//%/%%}\""
# In the .desktop file's value syntax a backslash is itself escaped once more.
exec_value="${quoted//\\/\\\\}"
tryexec_value="${exec_path//\\/\\\\}"

tmp="$desktop_file.tmp.$$"
tryexec_done=0
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    Exec=calsync-desktop|Exec=calsync-desktop\ *)
      # keep any arguments (e.g. a Desktop Action's --show), swap in the absolute path
      printf 'Exec=%s%s\n' "$exec_value" "${line#Exec=calsync-desktop}"
      if [ "$tryexec_done" -eq 0 ]; then
        # TryExec: the menu hides the entry when the binary is gone
        printf 'TryExec=%s\n' "$tryexec_value"
        tryexec_done=1
      fi
      ;;
    TryExec=*) ;;
    *) printf '%s\n' "$line" ;;
  esac
done < "$resources/calsync-desktop.desktop" > "$tmp"
mv "$tmp" "$desktop_file"
chmod 644 "$desktop_file" "$icon_file"

if command -v desktop-file-validate >/dev/null 2>&1; then
  # advisory only: older desktop-file-utils (< 0.27) do not know Version=1.5 yet
  desktop-file-validate "$desktop_file" >&2 || echo "(desktop-file-validate's remarks above are advisory)" >&2
fi
refresh_caches

echo "Installed calsync-desktop:"
echo "  program    $target"
echo "  commands   $bin_dir/calsync-desktop, $bin_dir/calsync"
echo "  menu entry $desktop_file"
echo "  icon       $icon_file"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "Note: $bin_dir is not on your PATH; add it to use the commands." ;;
esac

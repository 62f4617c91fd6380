#!/usr/bin/env bash
# Build calsync-desktop with PyInstaller into dist/calsync-desktop/ (one folder).
#
#   packaging/build.sh            build (Linux, macOS, or Windows under Git Bash / MSYS2)
#   packaging/build.sh --check    build, then run the frozen app's smoke checks
#   packaging/build.sh --check --no-build    only the smoke checks, on the existing build
#
# PyInstaller is not a project dependency: `uv run --with` adds it to a throw-away
# overlay on top of the project's locked environment, so pyproject.toml and uv.lock
# stay as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER="${PYINSTALLER:-pyinstaller>=6.10,<7}"

check=0
build=1
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if ! command -v uv >/dev/null 2>&1; then
  echo "build.sh: uv is missing; install it (https://docs.astral.sh/uv/) or run scripts/setup" >&2
  exit 1
fi

if [ "$build" -eq 1 ]; then
  uv sync --frozen --quiet
  uv run --frozen --with "$PYINSTALLER" pyinstaller \
    --noconfirm --clean \
    --distpath dist --workpath build \
    packaging/calsync-desktop.spec
fi

case "$(uname -s)" in
  MINGW*|MSYS*|CYGWIN*) exe=".exe" ;;
  *) exe="" ;;
esac
app="dist/calsync-desktop/calsync-desktop$exe"
[ -x "$app" ] || { echo "build.sh: $app is missing" >&2; exit 1; }
echo "The build: $app (and dist/calsync-desktop/calsync$exe, the console CLI)"

if [ "$check" -eq 1 ]; then
  # Quick smoke checks of the frozen app (packaging/README.md lists the full verification).
  home="$(mktemp -d)"
  trap 'rm -rf "$home"' EXIT
  cli="dist/calsync-desktop/calsync$exe"
  echo "== first run: the Alembic migrations create the Sales Calendar"
  "$cli" --home "$home" status
  echo "== appointments add / list, export"
  "$cli" --home "$home" appointments add --contents "Smoke test" \
    --start "2030-01-02 09:00" --end "2030-01-02 10:00" --zone Europe/Berlin
  "$cli" --home "$home" appointments list --from 2030-01-01 --to 2030-01-03 --zone Europe/Berlin
  "$cli" --home "$home" export --ics - | grep -q "SUMMARY:Smoke test"
  echo "== exchangelib runs: an unreachable server is reported as such"
  out="$(printf 'pw\n' | "$cli" --home "$home" accounts add exchange --password-stdin \
    --server-url http://127.0.0.1:9/EWS/Exchange.asmx --username u --email u@example.com 2>&1 || true)"
  echo "$out"
  case "$out" in *"could not be reached"*) ;; *) echo "FAILED: exchange check" >&2; exit 1 ;; esac
  if command -v timeout >/dev/null 2>&1; then
    echo "== the GUI starts (Qt offscreen, 5 s)"
    rc=0
    QT_QPA_PLATFORM=offscreen timeout 5 "$app" --home "$home" 2> "$home/gui.err" || rc=$?
    # 124: still running when the timeout stopped it. The offscreen platform itself has no
    # system tray and cannot raise windows; Qt says so on stderr, anything else is an error.
    unexpected="$(grep -v -e 'systemTrayWindowChanged' -e 'does not support raise()' "$home/gui.err" || true)"
    if [ "$rc" -ne 124 ] || [ -n "$unexpected" ]; then
      echo "FAILED: GUI exited with $rc; stderr:" >&2
      cat "$home/gui.err" >&2
      exit 1
    fi
  fi
  echo "Smoke checks passed"
fi

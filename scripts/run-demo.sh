#!/usr/bin/env bash
# The main job: the headless walk through the checkout spine, then the Qt app
# demo (headless with screenshots when there is no display).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
if [ -z "${POS_DEMO_IN_SESSION:-}" ] && [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  # No desktop session: bring up a private bus with an unlocked gnome-keyring,
  # so the terminal's keys go to a real keyring as they would on a till.
  exec env POS_DEMO_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi
if [ -n "${POS_DEMO_IN_SESSION:-}" ]; then
  # The demo's own keyring files, so an existing login keyring with another
  # password never blocks it.
  rm -rf out/keyring-home; mkdir -p out/keyring-home
  eval "$(printf 'pos-demo-keyring' | XDG_DATA_HOME="$PWD/out/keyring-home" gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
fi
bash scripts/walkthrough.sh
if pos demo --help >/dev/null 2>&1; then
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    export QT_QPA_PLATFORM=offscreen
    # The offscreen platform says this once per window; it means nothing here.
    pos demo --headless --screenshots out/screenshots "$@" 2> >(grep -v 'propagateSizeHints' >&2)
    echo "screenshots: $(pwd)/out/screenshots"
  else
    pos demo "$@"
  fi
fi

#!/usr/bin/env bash
# Runs the whole test suite the way CI does: lint, layering, types, then
# pytest with the real services the tests talk to (a Secret Service keyring on
# a private D-Bus session, pcscd with the virtual card reader, PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
export QT_QPA_PLATFORM=offscreen

if [ -z "${POS_TEST_IN_SESSION:-}" ]; then
  # A private session bus with an unlocked gnome-keyring: the real keyring
  # service the store's keys live in.
  exec env POS_TEST_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi
# Fresh keyring files for every run: a login keyring left with another
# password would stay locked.
keyring_home=$(mktemp -d)
eval "$(printf 'pos-test-keyring' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true

bash scripts/pcscd-vpcd.sh start
eval "$(bash scripts/pg-test.sh start)"

echo "== ruff"
ruff check pos ui drivers sync tests
echo "== import layering"
lint-imports
echo "== mypy (strict for pos/, drivers/, sync/)"
mypy pos drivers sync ui
echo "== pytest"
pytest -q -p no:cacheprovider "$@"

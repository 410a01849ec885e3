#!/usr/bin/env bash
# Runs a benchmark file (default: all of tests/benchmarks) with what the
# benchmarks need, as scripts/test.sh does for the tests: a private D-Bus
# session with an unlocked gnome-keyring (the terminal's keys), pcscd with
# the virtual card reader, and a throwaway PostgreSQL. Figures go to
# out/bench/*.json.
#   bash scripts/bench.sh tests/benchmarks/test_sync_bench.py [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH" QT_QPA_PLATFORM=offscreen

if [ -z "${POS_TEST_IN_SESSION:-}" ]; then
  exec env POS_TEST_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi
keyring_home=$(mktemp -d)
eval "$(printf 'pos-test-keyring' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true

bash scripts/pcscd-vpcd.sh start
eval "$(bash scripts/pg-test.sh start)"
[ -n "${POS_TEST_PG_URL:-}" ] || { echo "bench: PostgreSQL did not start" >&2; exit 1; }

files=()
while [ $# -gt 0 ] && [[ "$1" != -* ]]; do files+=("$1"); shift; done
[ ${#files[@]} -gt 0 ] || files=(tests/benchmarks)
exec pytest -q -s -p no:cacheprovider -o addopts="--import-mode=importlib" "${files[@]}" "$@"

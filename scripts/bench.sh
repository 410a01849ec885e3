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

# shellcheck source=scripts/services.sh
source scripts/services.sh

files=()
while [ $# -gt 0 ] && [[ "$1" != -* ]]; do files+=("$1"); shift; done
[ ${#files[@]} -gt 0 ] || files=(tests/benchmarks)
exec pytest -q -s -p no:cacheprovider -o addopts="--import-mode=importlib" "${files[@]}" "$@"

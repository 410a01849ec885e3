#!/usr/bin/env bash
# The benchmarks (not part of the test run): figures go to out/bench/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH" QT_QPA_PLATFORM=offscreen
exec pytest -q -s -p no:cacheprovider -o addopts="--import-mode=importlib" tests/benchmarks "$@"

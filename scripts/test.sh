#!/usr/bin/env bash
# Runs the whole test suite the way CI does: lint, layering, types, then
# pytest with the real services the tests talk to (a Secret Service keyring on
# a private D-Bus session, pcscd with the virtual card reader, PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
export QT_QPA_PLATFORM=offscreen

# shellcheck source=scripts/services.sh
source scripts/services.sh

echo "== ruff"
ruff check pos ui drivers sync wallets tests
echo "== import layering"
lint-imports
echo "== mypy (strict for pos/, drivers/, sync/)"
mypy pos drivers sync ui wallets
echo "== pytest"
pytest -q -p no:cacheprovider "$@"

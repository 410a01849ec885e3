#!/usr/bin/env bash
# Fresh Debian/Ubuntu, as root: installs everything and runs the demo.
# With no display it runs headless and writes screenshots and receipts to ./out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export PATH="$PWD/.venv/bin:$PATH"
exec bash scripts/run-demo.sh "$@"

#!/usr/bin/env bash
# The spine, headless: provision a terminal in a fresh data dir, import the
# demo catalog, ring up cash sales (one discounted, one split), refund one,
# print each receipt, verify the journal, tamper with a copy and watch verify
# name the entry, and print the day's report.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
OUT=${POS_DEMO_OUT:-$PWD/out}
export POS_DATA_DIR=${POS_DATA_DIR:-$OUT/walkthrough-till}
rm -rf "$POS_DATA_DIR"
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "provision a terminal"
if ! pos init --store-id S001 --terminal-id T01; then
  echo "(no usable OS keyring here: using the demo keystore, which says so on every command)"
  pos init --store-id S001 --terminal-id T01 --demo-keystore
fi
POS_NEW_PIN=2580 pos user add boss --name "王丽 Wang Li" --role manager
POS_APPROVER_PIN=2580 POS_NEW_PIN=7391 pos user add c1 --name "张伟 Zhang Wei" --approver boss
export POS_CASHIER_PIN=7391 POS_APPROVER_PIN=2580

step "import the demo catalog"
pos catalog import assets/demo_catalog.csv
pos catalog search 可乐

step "sale 1: cash with change"
pos sale --cashier c1 --item 6901234000016:2 --item DRK-002 --item SNK-001 --pay cash:50
step "sale 2: 10% off the order"
pos sale --cashier c1 --item DLY-005 --item SNK-010:2 --discount 10% --pay cash
step "sale 3: a manager-approved 30% discount, split across two cash tenders"
pos sale --cashier c1 --item DLY-007:2 --discount 30% --approver boss --pay cash:20 --pay cash:50
step "sale 4: a weighed item from the scale label (apples, ¥15.36) and a gift card"
pos sale --cashier c1 --item 2000101015369 --item GFT-100 --pay cash:120
last=$(pos --json sale --cashier c1 --item DRK-004:3 --pay cash 2>/dev/null | python -c 'import json,sys; print(json.load(sys.stdin)["receipt_no"])')
step "refund one unit of sale $last (manager approves)"
pos refund "$last" --cashier c1 --approver boss --item DRK-004:1 --reason "damaged"
pos order show "$last"

step "verify the journal"
pos journal verify

step "a tampered copy of the database is told apart"
tampered=$OUT/walkthrough-tampered
rm -rf "$tampered"; cp -a "$POS_DATA_DIR" "$tampered"
python - "$tampered" <<'PY'
import sys
from pathlib import Path
from pos.store import keys
from pos.store.db import connect
from pos.store.terminal import load_info, make_keystore
# As someone holding the key would: SQL on the file, not through the program
# (a copy run by the program would share, and move, the original's keyring anchor).
d = Path(sys.argv[1]); info = load_info(d)
key = keys.require(make_keystore(info.keystore, d, info.terminal_id), keys.DB_KEY, info.terminal_id)
conn = connect(d / "terminal.db", key, "rw", 5000)
seq = conn.execute("SELECT seq FROM journal WHERE type = 'sale.paid' ORDER BY seq LIMIT 1").fetchone()[0]
conn.execute("UPDATE journal SET payload = replace(payload, '\"total_minor\":', '\"total_minor\":1') WHERE seq = ?", (seq,))
conn.close()
print(f"edited journal entry {seq} in the copy")
PY
if POS_DATA_DIR=$tampered pos journal verify; then
  echo "tampering was NOT detected"; exit 1
else
  echo "(verify exited non-zero, as it must)"
fi

step "mid-day X report"
pos report x

step "close the day: cash counted against the drawer, Z report, exports"
# The drawer is counted ¥0.50 short of what the sales say it should hold.
counted=$(pos --json report x | python -c 'import json,sys; m=json.load(sys.stdin)["cash"]["expected_minor"] - 50; print(f"{m // 100}.{m % 100:02d}")')
pos report z --counted "$counted" --reason "coin dropped behind the counter" --approver boss
day=$(pos --json order show "$last" | python -c 'import json,sys; r=json.load(sys.stdin)["receipt_no"].split("-")[1]; print(f"{r[:4]}-{r[4:6]}-{r[6:]}")')
for fmt in csv xlsx pdf; do
  pos report daily --date "$day" --format "$fmt" --out "$OUT/daily-$day.$fmt"
done
ls -l "$OUT"/daily-"$day".*

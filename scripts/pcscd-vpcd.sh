#!/usr/bin/env bash
# Starts pcscd with vsmartcard's virtual reader (vpcd, listening on
# 127.0.0.1:35963 and :35964 for the emulated cards of drivers/virtualcard).
# Idempotent: does nothing when the virtual reader already listens.
#   bash scripts/pcscd-vpcd.sh start|stop|status
set -euo pipefail
cmd=${1:-start}
pidfile=${PCSCD_VPCD_PIDFILE:-/tmp/pos-pcscd-vpcd.pid}
logfile=${PCSCD_VPCD_LOG:-/tmp/pos-pcscd-vpcd.log}

case "$cmd" in
  start)
    if [ ! -f /etc/reader.conf.d/vpcd ]; then
      echo "vsmartcard-vpcd is not installed (apt-get install pcscd vsmartcard-vpcd)" >&2
      exit 1
    fi
    # A connection attempt on 35963 would itself be taken for a card, so ask
    # the kernel's socket table instead.
    if command -v ss >/dev/null 2>&1; then
      if ss -ltn 2>/dev/null | grep -q ':35963 '; then echo "pcscd with vpcd: running"; exit 0; fi
    elif pgrep -x pcscd >/dev/null 2>&1; then
      echo "pcscd: running"; exit 0
    fi
    if pgrep -x pcscd >/dev/null 2>&1; then
      echo "pcscd runs without the vpcd reader; restart it to load /etc/reader.conf.d/vpcd" >&2
      exit 1
    fi
    nohup pcscd --foreground >"$logfile" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 1 50); do
      if ss -ltn 2>/dev/null | grep -q ':35963 '; then echo "pcscd with vpcd: started"; exit 0; fi
      sleep 0.1
    done
    echo "pcscd did not open the vpcd port; see $logfile" >&2
    exit 1
    ;;
  stop)
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
      rm -f "$pidfile"
      echo "pcscd stopped"
    else
      echo "pcscd was not started by this script"
    fi
    ;;
  status)
    if ss -ltn 2>/dev/null | grep -q ':35963 '; then echo "running"; else echo "stopped"; exit 3; fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql package),
# owned by the postgres user because PostgreSQL refuses to run as root.
#   eval "$(bash scripts/pg-test.sh start)"   # exports POS_TEST_PG_URL
#   bash scripts/pg-test.sh stop
# Idempotent: a running cluster is reused. Listens on 127.0.0.1 only, on a
# free port, trusting local connections (test data only).
set -euo pipefail
DIR=${POS_PG_TEST_DIR:-/tmp/pos-pg-test}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$BIN" ] || { echo "echo 'pg-test: PostgreSQL is not installed (apt-get install postgresql)' >&2"; exit 0; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$DIR/port")/postgres"; }

case "${1:-start}" in
  start)
    if [ -f "$DIR/port" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      echo "export POS_TEST_PG_URL=$(url)"
      exit 0
    fi
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg bash -c "echo $port > '$DIR/port'"
    # Durability stays on (fsync): the tests count on committed meaning committed.
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$DIR' -c max_connections=300 -c shared_buffers=128MB" >/dev/null
    echo "export POS_TEST_PG_URL=$(url)"
    ;;
  stop)
    if [ -d "$DIR/data" ]; then
      as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true
    fi
    ;;
  url)
    url
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac

# Sourced (not run) by scripts/test.sh and scripts/bench.sh, from the repo's
# top folder, with the caller's arguments still in "$@": the real services the
# tests and benchmarks talk to.
# 1. The caller runs again inside a private session bus with an unlocked
#    gnome-keyring: the real keyring service the store's keys live in. Fresh
#    keyring files every run: a login keyring left with another password would
#    stay locked.
# 2. pcscd with the virtual card reader, and a throwaway PostgreSQL
#    (exports POS_TEST_PG_URL).
if [ -z "${POS_TEST_IN_SESSION:-}" ]; then
  exec env POS_TEST_IN_SESSION=1 dbus-run-session -- bash "$0" "$@"
fi
keyring_home=$(mktemp -d)
eval "$(printf 'pos-test-keyring' | XDG_DATA_HOME="$keyring_home" gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true

bash scripts/pcscd-vpcd.sh start
eval "$(bash scripts/pg-test.sh start)"
[ -n "${POS_TEST_PG_URL:-}" ] || { echo "PostgreSQL did not start (scripts/pg-test.sh)" >&2; exit 1; }

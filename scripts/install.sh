#!/usr/bin/env bash
# Installs what the terminal, its demo and its tests need on Debian/Ubuntu
# (run as root): system packages and a virtual environment in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev gcc
  pcscd vsmartcard-vpcd libpcsclite-dev swig pkg-config
  xvfb xauth dbus dbus-x11 gnome-keyring
  postgresql postgresql-15-auto-failover pg-auto-failover-cli mitmproxy iproute2 openssl
  fonts-noto-cjk poppler-utils
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0
  libxcb-randr0 libxcb-render-util0 libxcb-image0
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[ui,card,server,dev]'
# Compile the bytecode and the message catalogue's cache now, as Debian's
# packages do at install: a command run with PYTHONDONTWRITEBYTECODE (or by a
# user who cannot write here) would otherwise compile ~300 modules and parse
# the catalogue's TOML at every start (~0.1 s of a 0.3 s sale).
.venv/bin/python -m compileall -q -j 0 pos ui drivers sync .venv/lib >/dev/null || true
.venv/bin/python -c "from pos.messages import build_cache; build_cache()"
echo "installed: $(.venv/bin/python --version), venv at $(pwd)/.venv"

#!/bin/sh
# Makes sure the Debian packages vigil needs are installed.
# Usage: scripts/deps.sh build|test
#   build: what compiling and running vigil needs
#   test:  that, plus the unit-test library and the clients the tests use
#          (among them chromium, node and npm for the dashboard's browser test)
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command to run and fails.
set -eu
mode=${1:-build}
pkgs="pkg-config gcc make liblua5.4-dev libuv1-dev libsqlite3-dev libcjson-dev libxxhash-dev libpcre2-dev libcurl4-openssl-dev libxml2-dev libsystemd-dev libnats-dev libcsv-dev libssl-dev libzip-dev node-llhttp tzdata"
[ "$mode" = test ] && pkgs="$pkgs libcmocka-dev socat sqlite3 curl prometheus procps libxml2-utils librsvg2-bin file python3 time groff-base man-db systemd nats-server"
# the dashboard's browser test: chromium driven by puppeteer-core (npm ci in
# tests/e2e); node and npm from Debian unless some other package gives them
[ "$mode" = test ] && pkgs="$pkgs chromium"
if [ "$mode" = test ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
  pkgs="$pkgs nodejs npm"
fi

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "vigil needs these Debian packages:$missing" >&2
  echo "install them with:  sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends $missing >&2 || {
  apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2
}

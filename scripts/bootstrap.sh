#!/usr/bin/env bash
# Installs the Debian 12 packages paysync needs (when missing) and builds it into build/.
# Usage: scripts/bootstrap.sh [extra cmake args...]   (BUILD_DIR=dir to build elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config clang libyaml-dev libjansson-dev libcurl4-openssl-dev
      libssl-dev libsqlite3-dev libmicrohttpd-dev libcmocka-dev python3 curl openssl sqlite3
      wrk miller time valgrind libclang-rt-14-dev binutils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"

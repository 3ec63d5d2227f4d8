#!/usr/bin/env bash
# Installs the Debian 12 packages building and running paysync need (when missing) and builds
# it into build/. The test tools come with the test command (scripts/install-test-deps.sh,
# run by scripts/test.sh); the unit tests are built when their library (libcmocka-dev) is
# installed, and left out otherwise (pass -DPS_BUILD_TESTS=ON|OFF to decide yourself).
# Usage: scripts/bootstrap.sh [extra cmake args...]   (BUILD_DIR=dir to build elsewhere)
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: compiler, cmake, pkg-config and the -dev packages of the libraries paysync links
# (the same list as Build-Depends in debian/control). Run: ca-certificates for HTTPS sources
# (gsheet); the libraries themselves come with their -dev packages.
# build-essential brings g++ for the one C++ file (core/src/model/phonelib.cc, the shim around
# libphonenumber-dev, which brings the protobuf and abseil headers it includes).
pkgs=(build-essential cmake pkg-config libyaml-dev libjansson-dev libcurl4-openssl-dev
      libssl-dev libsqlite3-dev libpq-dev libmicrohttpd-dev libphonenumber-dev libpcre2-dev
      libxlsxwriter-dev
      ca-certificates)
# shellcheck source=lib/apt.sh
. scripts/lib/apt.sh
ps_apt_install bootstrap "${pkgs[@]}"

tests=OFF
pkg-config --exists cmocka && tests=ON
build=${BUILD_DIR:-build}
# Warnings stay warnings here (a newer compiler must not break a user's build); CI passes
# -DPS_WERROR=ON.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPS_BUILD_TESTS=$tests -DPS_WERROR=OFF \
    "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"

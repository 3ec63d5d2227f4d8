#!/bin/sh
# Configures, builds and tests @NAME@ against the paysync SDK in PAYSYNC_PREFIX (default: the
# paysync that generated this folder). Extra arguments go to cmake's configure step.
set -eu
cd "$(dirname "$0")"
prefix=${PAYSYNC_PREFIX:-@PREFIX@}
cmake -S . -B build -DCMAKE_PREFIX_PATH="$prefix" "$@"
cmake --build build
ctest --test-dir build --output-on-failure

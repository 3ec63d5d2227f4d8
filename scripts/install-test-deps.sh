#!/usr/bin/env bash
# Installs the Debian 12 packages the tests need, when missing (scripts/test.sh runs it before
# its stages; scripts/bootstrap.sh installs what building and running need). Who needs what:
#   libcmocka-dev                  the unit tests (tests/unit, built when it is installed)
#   python3                        integration tests, gsheet emulator, bench/run
#   curl openssl sqlite3 binutils  test_serve.py (curl), gsheet/secrets tests (openssl keys),
#                                  test_install.sh (nm), sqlite3 CLI for tests and bench/run
#   time                           test_hostile.py and bench/run (/usr/bin/time)
#   clang libclang-rt-14-dev       the clang -Werror build and the libFuzzer harnesses
#   valgrind                       scripts/test-valgrind.sh, test_hostile.py
#   wrk miller                     bench/serve_load.sh, bench/run baselines
#   dpkg-dev debhelper fakeroot    scripts/test-debs.sh (dpkg-buildpackage)
#   python3-phonenumbers           tests/integration/test_phone_oracle.py (the oracle for
#                                  libphonenumber's verdicts; same release as libphonenumber-dev)
set -euo pipefail

pkgs=(libcmocka-dev python3 curl openssl sqlite3 binutils time clang libclang-rt-14-dev
      valgrind wrk miller dpkg-dev debhelper fakeroot python3-phonenumbers)
# shellcheck source=lib/apt.sh
. "$(cd "$(dirname "$0")" && pwd)/lib/apt.sh"
ps_apt_install install-test-deps "${pkgs[@]}"

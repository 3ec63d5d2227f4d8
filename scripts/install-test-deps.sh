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
#   python3-boto3                  tests/integration/test_s3_sink.py (reads objects back)
#   postgresql                     the PostgreSQL store's tests: a throwaway cluster per test
#                                  (tests/integration/pgcluster.py: initdb, pg_ctl, psql)
#   chromium                       tests/integration/test_report_html.py (renders the HTML
#                                  report headless: console errors, bar count, screenshot)
# and, from npm when npm is present, s3rver 3.7.1 (the S3 server test_s3_sink.py starts) into
# ~/.cache/paysync-npm (the test skips with a message without it).
set -euo pipefail

pkgs=(libcmocka-dev python3 curl openssl sqlite3 binutils time clang libclang-rt-14-dev
      valgrind wrk miller dpkg-dev debhelper fakeroot python3-phonenumbers python3-boto3
      postgresql chromium)
# shellcheck source=lib/apt.sh
. "$(cd "$(dirname "$0")" && pwd)/lib/apt.sh"
ps_apt_install install-test-deps "${pkgs[@]}"

npm_prefix="${HOME}/.cache/paysync-npm"
if command -v npm >/dev/null && [ ! -x "$npm_prefix/node_modules/.bin/s3rver" ]; then
    npm install --no-audit --no-fund --prefix "$npm_prefix" s3rver@3.7.1 ||
        echo "install-test-deps: npm could not install s3rver; test_s3_sink.py will skip" >&2
fi

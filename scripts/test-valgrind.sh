#!/usr/bin/env bash
# Runs the unit tests and the integration tests under valgrind (memcheck,
# --leak-check=full --error-exitcode=1) on a normal build in build-valgrind/.
#
# Unit tests: each test executable runs under valgrind with the environment and working
# directory ctest would give it; a valgrind error makes it exit 1.
# Integration tests: run with PAYSYNC pointing at a wrapper script that execs the real binary
# under valgrind, one log per process; afterwards every log is checked for errors and definite
# or possible leaks (the test's own exit-code checks cannot see valgrind's, since paysync
# itself exits 1 on a failed run). Stress sizes are reduced through the tests' env knobs.
#
#   PS_VALGRIND_BUILD=dir   build directory (default build-valgrind)
#   PS_JOBS=n               build parallelism and unit tests run at a time (default 2)
#   PS_VALGRIND_SKIP="name ..."  ctest names not run (default: none; the daemon test runs with
#                           the daemon under valgrind, its runs exec the plain binary)
#   arguments: regular expressions; only tests whose ctest name matches one run
# scripts/test.sh runs the unit tests only ('^unit\.', on its build/), and everything with
# --full.
set -euo pipefail
cd "$(dirname "$0")/.."
src="$PWD"
build="${PS_VALGRIND_BUILD:-build-valgrind}"
command -v valgrind >/dev/null || { echo "test-valgrind: valgrind is not installed" >&2; exit 2; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPS_WERROR=ON >/dev/null
cmake --build "$build" -j"${PS_JOBS:-2}"
build="$(cd "$build" && pwd)"

logs="$build/valgrind-logs"
rm -rf "$logs"
mkdir -p "$logs"
wrapper="$build/paysync-valgrind"
supp="$src/tests/valgrind.supp" # glibc internals only; see the file
export PS_VALGRIND_SUPP="$supp"
cat >"$wrapper" <<WRAP
#!/bin/sh
exec valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,possible \\
    --suppressions="$supp" \\
    --error-exitcode=1 --child-silent-after-fork=yes --log-file="$logs/paysync.%p.log" \\
    "$build/paysync" "\$@"
WRAP
chmod +x "$wrapper"

# Small sizes: every test must finish within minutes under valgrind.
export PS_SIGKILL_ROWS="${PS_SIGKILL_ROWS:-3000}"
export PS_HOSTILE_SMALL=1
export PS_UNDER_VALGRIND=1
export PS_PHONE_NOJIT=1 # memcheck cannot follow PCRE2's JIT code (false 'uninitialised')
# The RSA key of the JWT unit test, made outside valgrind (under it, keygen takes minutes).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$logs/test-rsa-key.pem" \
    2>/dev/null && export PS_TEST_RSA_KEY_FILE="$logs/test-rsa-key.pem"
export PS_VALGRIND_SKIP="${PS_VALGRIND_SKIP-}"

ctest --test-dir "$build" --show-only=json-v1 >"$logs/tests.json"
python3 - "$logs/tests.json" "$wrapper" "$logs" "$@" <<'PY'
import concurrent.futures, json, os, re, subprocess, sys, time

tests_json, wrapper, logs = sys.argv[1:4]
patterns = [re.compile(p) for p in sys.argv[4:]]
skip = set(os.environ.get("PS_VALGRIND_SKIP", "").split())
jobs = max(int(os.environ.get("PS_JOBS", "2")), 1)
VG = ["valgrind", "--quiet", "--leak-check=full", "--errors-for-leak-kinds=definite,possible",
      "--suppressions=" + os.environ["PS_VALGRIND_SUPP"],
      "--error-exitcode=1"]
failed, passed, skipped = [], 0, 0
unit, integration = [], []  # (name, cmd, env, cwd)
for t in json.load(open(tests_json))["tests"]:
    name = t["name"]
    if patterns and not any(p.search(name) for p in patterns):
        continue
    if name in skip:
        print("== %s\n   skipped (PS_VALGRIND_SKIP)" % name)
        skipped += 1
        continue
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = dict(os.environ)
    for kv in props.get("ENVIRONMENT", []):
        k, _, v = kv.partition("=")
        env[k] = v
    cmd = t["command"]
    if name.startswith("unit."):
        unit.append((name, VG + ["--log-file=%s/%s.log" % (logs, name)] + cmd, env,
                     props.get("WORKING_DIRECTORY")))
    elif name.startswith("integration."):
        env["PAYSYNC"] = wrapper
        integration.append((name, cmd, env, props.get("WORKING_DIRECTORY")))


def run(test):
    name, cmd, env, cwd = test
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=3600)
    return name, p, time.monotonic() - t0


def report(name, p, secs):
    global passed, skipped
    print("== %s (%.1f s)" % (name, secs), flush=True)
    if p.returncode == 77:
        skipped += 1
        print("   skipped")
    elif p.returncode != 0:
        failed.append(name)
        sys.stdout.write(p.stdout.decode("utf-8", "replace")[-6000:])
        print("   FAILED (exit %d)" % p.returncode)
    else:
        passed += 1


# Unit tests PS_JOBS at a time (each is one process under valgrind); integration tests one
# after the other (they start servers and daemons and time their waits).
with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
    for name, p, secs in pool.map(run, unit):
        report(name, p, secs)
for test in integration:
    report(*run(test))

bad = []
for f in sorted(os.listdir(logs)):
    if not f.endswith(".log"):
        continue
    text = open(os.path.join(logs, f), errors="replace").read()
    # --quiet logs hold nothing but errors and leak records
    if re.search(r"^==\d+== (Invalid|Conditional|Syscall param|Mismatched|Source and destination"
                 r"|Argument|.*definitely lost|.*possibly lost|.*uninitialised)", text, re.M):
        bad.append(f)
        print("--- valgrind report %s:\n%s" % (f, text[:8000]))
print("valgrind: %d passed, %d skipped, %d failed, %d reports with errors"
      % (passed, skipped, len(failed), len(bad)))
for n in failed:
    print("  failed: " + n)
sys.exit(1 if failed or bad else 0)
PY

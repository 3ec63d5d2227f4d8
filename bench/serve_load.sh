#!/usr/bin/env bash
# Load test of `paysync serve` (docs/performance.md "serve"): fills a store with N payments in
# one UTC day (csvfile provider -> sqlite sink), starts serve on a random loopback port, runs
# wrk at C connections for D seconds against that day's window and reports requests/s,
# latency, response size and the server's peak RSS (VmHWM).
#
# usage: bench/serve_load.sh [BUILD_DIR]      (default: build)
# env:   ROWS=10000 CONNECTIONS=64 DURATION=10 WRK_THREADS=2 THREADS=(serve.threads, default 4)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
build=$(cd "$build" && pwd)
paysync=${PAYSYNC:-$build/paysync}
plugins=${PS_PLUGIN_DIR:-$build/plugins}
rows=${ROWS:-10000}
conns=${CONNECTIONS:-64}
duration=${DURATION:-10}
wrk_threads=${WRK_THREADS:-2}
threads=${THREADS:-4}

for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "serve_load: $tool is not installed" >&2; exit 77; }
done
[ -x "$paysync" ] || { echo "serve_load: no paysync binary at $paysync" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/paysync-serve-load.XXXXXX")
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

key=bench-key-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
key_sha=$(printf %s "$key" | "$paysync" hash-key)

# N payments spread evenly over 2024-01-01 (UTC), realistic optional fields filled.
python3 - "$rows" "$work/payments.csv" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
step = 86400000 // max(n, 1)
with open(path, "w") as f:
    f.write("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
            "CUSTOMER_NAME,CUSTOMER_PHONE,CUSTOMER_CATEGORY,FINANCING_ID,AGENT_ID,LATITUDE,LONGITUDE\n")
    for i in range(n):
        ms = i * step
        ts = "2024-01-01T%02d:%02d:%02d.%03dZ" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)
        f.write("PAY-%06d,%s,%d.%02d,NGN,FULL_PAYMENT,CUST-%05d,MTR-%05d,Customer %d,"
                "+23480%08d,Residential,LOAN-%04d,AG-%03d,6.%04d,3.%04d\n"
                % (i, ts, 100 + i % 5000, i % 100, i % 3000, i % 3000, i % 3000,
                   i % 100000000, i % 500, i % 40, i % 10000, (i * 7) % 10000))
PY

cat > "$work/paysync.yaml" <<YAML
plugin_path: ["$plugins"]
sinks:
  store: {plugin: sqlite, path: store.db}
datasets:
  - name: bench
    target: {level: project, id: site-bench}
    source: {plugin: csvfile, path: payments.csv}
    sinks: [store]
serve:
  store: store
  threads: $threads
  max_connections: $((conns * 2))
  keys:
    - {name: bench, key_sha256: $key_sha, datasets: ["*"]}
YAML

"$paysync" -q run "$work/paysync.yaml" >/dev/null

"$paysync" serve "$work/paysync.yaml" --listen 127.0.0.1:0 2>"$work/serve.log" &
server_pid=$!
port=
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
[ -n "$port" ] || { echo "serve_load: server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

url="http://127.0.0.1:$port/api/odyssey/payments?FROM=2024-01-01T00:00:00Z&TO=2024-01-01T23:59:59Z"
curl -sf -H "Authorization: Bearer $key" "$url" -o "$work/day.json"
got=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["payments"]))' "$work/day.json")
[ "$got" = "$rows" ] || { echo "serve_load: expected $rows payments, got $got" >&2; exit 1; }
bytes=$(stat -c %s "$work/day.json")
rss_idle=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
ticks0=$(cpu_ticks)

wrk -t"$wrk_threads" -c"$conns" -d"${duration}s" --timeout 30s --latency \
    -H "Authorization: Bearer $key" "$url" >"$work/wrk.txt"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
ticks1=$(cpu_ticks)

kill -TERM "$server_pid"
wait "$server_pid"
rc=$?
server_pid=
[ "$rc" = 0 ] || { echo "serve_load: server exited with $rc" >&2; exit 1; }

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
total=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
hz=$(getconf CLK_TCK)
cpu_ms=$(awk -v t=$((ticks1 - ticks0)) -v hz="$hz" -v n="$total" 'BEGIN { if (n > 0) printf "%.1f", t * 1000 / hz / n; else print "?" }')
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
echo "serve load: $rows payments in one day, response $bytes bytes"
echo "wrk: $wrk_threads threads, $conns connections, ${duration}s; serve.threads = $threads"
sed -n '/Latency Distribution/,/99%/p; /requests in/p; /Requests\/sec/p; /Transfer\/sec/p; /Non-2xx/p; /Socket errors/p' "$work/wrk.txt"
echo "requests/s: $rps"
echo "non-2xx responses: ${non2xx:-0}"
echo "server CPU per request: $cpu_ms ms (user + system)"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) after the run"
echo "server peak RSS (VmHWM): $((hwm / 1024)) MiB ($hwm kB; $((rss_idle / 1024)) MiB before the load)"

#!/usr/bin/env bash
# Interop: sluice-perf against the Linux kernel over af_packet. sluice-perf as the server
# answers a Python client speaking its protocol (tests/interop/perf_peer.py) in rr and crr,
# every response checked byte for byte, and counts exactly the transactions the client
# counted; sluice-perf as the client streams bulk to a Python server, and both ends count
# the same bytes. Usage: perf_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PERF="$BUILD/apps/sluice-perf"
source "$HERE/netns_lib.sh"
fixture_up
TMP=$(mktemp -d)
trap 'fixture_cleanup; rm -rf "$TMP"' EXIT INT TERM

json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
wait_file() { for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "FAIL: no $1"; exit 1; }

# 1. sluice-perf server, Python client: rr then crr, 3 s each.
start_sluice "$PERF" --addr "$SLUICE_IP/24" --role server --port 5201 --json > "$TMP/server.json"
SERVER=$SLUICE_PID
wait_reachable
rr=$(in_linux python3 "$HERE/perf_peer.py" rr "$SLUICE_IP" 5201 3 100) || { echo "$rr"; echo "FAIL: rr"; exit 1; }
echo "$rr"
crr=$(in_linux python3 "$HERE/perf_peer.py" crr "$SLUICE_IP" 5201 3 64) || { echo "$crr"; echo "FAIL: crr"; exit 1; }
echo "$crr"
kill -INT "$SERVER"
wait "$SERVER" || { echo "FAIL: the server did not exit 0 on SIGINT"; exit 1; }
cat "$TMP/server.json"
want=$(( $(echo "$rr" | awk '{print $3}') + $(echo "$crr" | awk '{print $3}') ))
got=$(json "$TMP/server.json" transactions)
[ "$got" -eq "$want" ] || { echo "FAIL: the server counted $got transactions, the client $want"; exit 1; }
[ "$(json "$TMP/server.json" errors)" -eq 0 ] || { echo "FAIL: server errors"; exit 1; }
echo "ok: rr and crr from Linux, byte-exact, $got transactions counted by both ends"

# 2. sluice-perf client, Python server: bulk over 2 connections for 3 s.
start_linux python3 "$HERE/perf_peer.py" bulk-server 5301 "$TMP/bulk"
wait_file "$TMP/bulk.ready"
run_sluice "$PERF" --addr "$SLUICE_IP/24" --role client --peer "$LINUX_IP" --port 5301 \
  --mode bulk --connections 2 --duration 3 --json > "$TMP/client.json"
cat "$TMP/client.json"
for _ in $(seq 1 50); do [ "$(wc -l < "$TMP/bulk" 2>/dev/null || echo 0)" -ge 2 ] && break; sleep 0.1; done
# %.0f: awk prints sums past 2^31 as 2.42618e+09 with print; a double holds them exactly.
linux=$(awk '{s += $1} END {printf "%.0f\n", s}' "$TMP/bulk")
sent=$(json "$TMP/client.json" bytes_sent)
[ "$sent" -gt 0 ] && [ "$linux" -eq "$sent" ] || { echo "FAIL: sluice sent $sent bytes, Linux received $linux"; exit 1; }
[ "$(json "$TMP/client.json" errors)" -eq 0 ] || { echo "FAIL: client errors"; exit 1; }
echo "ok: bulk to Linux, $sent bytes sent and received ($(json "$TMP/client.json" gbit_per_s) Gbit/s)"

#!/usr/bin/env bash
# Interop: sluice-perf against linux-perf-peer (perf/linux_peer.c, the epoll program
# perf/compare runs on the Linux side), over af_packet, both ways, so the two ends of
# perf/compare are known to speak one protocol:
#   1. linux-perf-peer client -> sluice-perf server: rr and crr; the Linux client checks
#      every response byte for byte; both ends count the same transactions (the server at
#      most one more per connection: a request in flight when the client's time ran out).
#   2. sluice-perf client -> linux-perf-peer server, from four source addresses
#      (--src-range): rr and crr, every response checked by sluice-perf; then hold with 200
#      connections, during which Linux's `ss` must show 50 connections from each of the four
#      addresses. Linux accepted exactly the connections sluice-perf established.
# Usage: perf_linux_test.sh BUILD_DIR (KEEP=1: keep the temporary directory, for a failure)
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PERF="$BUILD/apps/sluice-perf"
source "$HERE/netns_lib.sh"
fixture_up
TMP=$(mktemp -d)
trap 'fixture_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$TMP"; echo "tmp: $TMP"' EXIT INT TERM

PEER="$BUILD/perf/linux-perf-peer"
if [ ! -x "$PEER" ]; then  # built without benchmarks: compile it here
  PEER="$TMP/linux-perf-peer"
  cc -O2 -std=gnu11 -o "$PEER" "$ROOT/perf/linux_peer.c"
fi
# field FILE KEY[.KEY]: a value from the last JSON line of FILE.
field() {
  python3 -c "
import json, sys
v = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
for k in sys.argv[2].split('.'): v = v[k]
print(str(v).lower())" "$1" "$2"
}
fail() { echo "FAIL: $*"; exit 1; }

# ---- 1. Linux client, sluice server -------------------------------------------------
start_sluice "$PERF" --addr "$SLUICE_IP/24" --role server --port 5201 --json > "$TMP/server.json" 2> "$TMP/server.err"
SERVER=$SLUICE_PID
wait_reachable
conns=8
linux_total=0
for mode in rr crr; do
  in_linux timeout 30 "$PEER" client --peer "$SLUICE_IP" --port 5201 --mode "$mode" \
    --connections $conns --size 100 --duration 2 > "$TMP/linux-$mode.json" 2> "$TMP/linux-$mode.err" ||
    { cat "$TMP/linux-$mode.err" "$TMP/linux-$mode.json"; fail "linux-perf-peer $mode client against sluice-perf"; }
  t=$(field "$TMP/linux-$mode.json" transactions)
  [ "$t" -gt 0 ] && [ "$(field "$TMP/linux-$mode.json" mismatches)" = 0 ] && [ "$(field "$TMP/linux-$mode.json" errors)" = 0 ] ||
    { cat "$TMP/linux-$mode.json"; fail "$mode from Linux: no transactions, or mismatches or errors"; }
  echo "ok: linux-perf-peer $mode client -> sluice-perf server: $t transactions, $(field "$TMP/linux-$mode.json" transactions_per_s)/s, every response checked"
  linux_total=$((linux_total + t))
done
kill -INT "$SERVER"
wait "$SERVER" || { cat "$TMP/server.err"; fail "sluice-perf server did not exit 0 on SIGINT"; }
PIDS=()
got=$(field "$TMP/server.json" transactions)
[ "$got" -ge "$linux_total" ] && [ "$got" -le $((linux_total + 2 * conns)) ] ||
  { cat "$TMP/server.json"; fail "sluice-perf served $got transactions, the Linux client counted $linux_total"; }
# linux-perf-peer ends a timed run by closing its sockets, a response possibly unread:
# Linux resets those (RFC 2525 §2.17), at most one per connection per run. Anything else
# that ended a connection badly is an error.
resets=$(field "$TMP/server.json" closed.reset)
[ "$(field "$TMP/server.json" mismatches)" = 0 ] && [ "$(field "$TMP/server.json" bad_headers)" = 0 ] &&
  [ "$(field "$TMP/server.json" errors)" -eq "$resets" ] && [ "$resets" -le $((2 * conns)) ] ||
  { cat "$TMP/server.json"; fail "sluice-perf server errors"; }
echo "ok: sluice-perf served $got transactions, Linux counted $linux_total ($resets connections reset by Linux at the end of its runs)"

# ---- 2. sluice client from four addresses, Linux server ----------------------------
start_linux "$PEER" server --port 5302 2> "$TMP/linux-server.err"
LSERVER=${PIDS[-1]}
for _ in $(seq 1 50); do in_linux ss -Hltn "sport = :5302" | grep -q . && break; sleep 0.1; done
SRC=(--addr 198.18.0.10/24 --src-range 198.18.0.10-198.18.0.13)
established=0
for mode in rr crr; do
  run_sluice "$PERF" "${SRC[@]}" --role client --peer "$LINUX_IP" --port 5302 --mode "$mode" \
    --connections $conns --size 100 --duration 2 --json > "$TMP/sluice-$mode.json" 2> "$TMP/sluice-$mode.err" ||
    { cat "$TMP/sluice-$mode.err"; fail "sluice-perf $mode client against linux-perf-peer"; }
  f="$TMP/sluice-$mode.json"
  [ "$(field "$f" transactions)" -gt 0 ] && [ "$(field "$f" errors)" = 0 ] && [ "$(field "$f" mismatches)" = 0 ] &&
    [ "$(field "$f" source_addresses)" = 4 ] || { cat "$f"; fail "sluice-perf $mode client: no transactions, errors, or not 4 addresses"; }
  echo "ok: sluice-perf $mode client (4 source addresses) -> linux-perf-peer server: $(field "$f" transactions) transactions, $(field "$f" transactions_per_s)/s, every response checked"
  established=$((established + $(field "$f" connections_established)))
done

start_sluice "$PERF" "${SRC[@]}" --role client --peer "$LINUX_IP" --port 5302 --mode hold \
  --connections 200 --duration 4 --json > "$TMP/sluice-hold.json" 2> "$TMP/sluice-hold.err"
HOLD=$SLUICE_PID
n=0
for _ in $(seq 1 60); do
  n=$(in_linux ss -Htn state established "sport = :5302" | wc -l)
  [ "$n" -ge 200 ] && break
  sleep 0.1
done
in_linux ss -Htn state established "sport = :5302" | awk '{split($4, a, ":"); print a[1]}' | sort | uniq -c > "$TMP/by-address"
cat "$TMP/by-address"
[ "$n" -eq 200 ] || fail "Linux saw $n of 200 held connections"
[ "$(wc -l < "$TMP/by-address")" -eq 4 ] || fail "the connections did not come from 4 addresses"
for a in 10 11 12 13; do
  grep -qE "^ *50 198\.18\.0\.$a$" "$TMP/by-address" || fail "198.18.0.$a does not hold 50 of the connections"
done
wait "$HOLD" || { cat "$TMP/sluice-hold.err"; fail "sluice-perf hold client exited non-zero"; }
PIDS=("$LSERVER")
[ "$(field "$TMP/sluice-hold.json" hold.complete)" = true ] && [ "$(field "$TMP/sluice-hold.json" errors)" = 0 ] ||
  { cat "$TMP/sluice-hold.json"; fail "hold: not complete, or errors"; }
established=$((established + $(field "$TMP/sluice-hold.json" connections_established)))
echo "ok: hold, 200 connections, 50 from each of 198.18.0.10-13 as Linux sees them"

kill -INT "$LSERVER"
wait "$LSERVER" || true
PIDS=()
accepted=$(grep -oE "[0-9]+ connections accepted" "$TMP/linux-server.err" | awk '{print $1}')
[ "$accepted" = "$established" ] || { cat "$TMP/linux-server.err"; fail "Linux accepted $accepted connections, sluice-perf established $established"; }
echo "ok: Linux accepted exactly the $accepted connections sluice-perf established"

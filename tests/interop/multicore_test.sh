#!/usr/bin/env bash
# Interop: two lcores on one port (DESIGN.md "Sharding and RSS"). sluice-httpd runs two
# engines (-l 0-1) on af_packet, which has one queue here, so engine 0 polls it and steers
# each TCP frame to the engine its symmetric Toeplitz hash names, over rte_rings. Linux
# makes 200 concurrent and 1000 sequential connections, every response checked byte for
# byte; then connections must have landed on both engines and no misdirected frame may have
# been lost (forwarded == misdirected, ring-full 0). Then sluice-cat makes an active open
# from each engine (the source port chosen so replies hash to it) and transfers both ways.
# Usage: multicore_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
export SLUICE_LCORES=0-1
source "$HERE/netns_lib.sh"
fixture_up
TMP=$(mktemp -d)
trap 'fixture_cleanup; rm -rf "$TMP"' EXIT INT TERM
wait_file() { for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "FAIL: no $1"; exit 1; }

# The counters line of engine N (printed at exit): "engine N lcore L: rx ... | est E ...".
engine_line() { grep -E "^engine $2 lcore" "$1" | tail -1; }
field() { echo "$1" | grep -oE "$2 [0-9]+" | head -1 | awk '{print $NF}'; }

# Every engine line of a run: no ring-full drop, everything misdirected was forwarded.
check_steering() {
  local log=$1 what=$2 n line mis fwd full arpfull
  for n in 0 1; do
    line=$(engine_line "$log" "$n")
    [ -n "$line" ] || { cat "$log"; echo "FAIL: $what: no counters for engine $n"; exit 1; }
    mis=$(field "$line" misdirected); fwd=$(field "$line" forwarded)
    full=$(echo "$line" | grep -oE "steer [^|]*" | grep -oE "ring-full [0-9]+" | awk '{print $2}')
    arpfull=$(echo "$line" | grep -oE "arp shared [^|]*" | grep -oE "ring-full [0-9]+" | awk '{print $2}')
    [ "$full" = 0 ] && [ "$arpfull" = 0 ] || { echo "$line"; echo "FAIL: $what: engine $n ring-full drops"; exit 1; }
    [ "$mis" = "$fwd" ] || { echo "$line"; echo "FAIL: $what: engine $n misdirected $mis, forwarded $fwd"; exit 1; }
  done
}

# 1. Passive opens spread over both engines.
start_sluice "$BUILD/apps/sluice-httpd" --addr "$SLUICE_IP/24" 2> "$TMP/httpd.err"
wait_reachable
grep -q "2 engines on lcores 0 1, 1 queue pair, software steering" "$TMP/httpd.err" || {
  cat "$TMP/httpd.err"; echo "FAIL: sluice-httpd did not start two engines with software steering"; exit 1; }
in_linux timeout 90 python3 "$HERE/http_client.py" "$SLUICE_IP" concurrent,sequential
kill -INT "$SLUICE_PID"
rc=0
wait "$SLUICE_PID" || rc=$?
PIDS=()
[ "$rc" -eq 0 ] || { cat "$TMP/httpd.err"; echo "FAIL: sluice-httpd exited $rc on SIGINT"; exit 1; }
grep -E "^engine [01] lcore|requests" "$TMP/httpd.err"
est0=$(field "$(engine_line "$TMP/httpd.err" 0)" est)
est1=$(field "$(engine_line "$TMP/httpd.err" 1)" est)
echo "engines: established on engine 0: $est0, on engine 1: $est1"
[ "$est0" -ge 100 ] && [ "$est1" -ge 100 ] || { echo "FAIL: connections did not land on both engines"; exit 1; }
[ $((est0 + est1)) -ge 1200 ] || { echo "FAIL: only $((est0 + est1)) of 1200 connections established"; exit 1; }
grep -q "sluice-httpd: 1200 requests" "$TMP/httpd.err" || { echo "FAIL: request count"; exit 1; }
check_steering "$TMP/httpd.err" httpd
echo "ok: 1200 connections over both engines ($est0 + $est1), every misdirected frame forwarded, no ring full"

# 2. Active opens from each engine: 1 MB up, sha256 and 2 MB down, byte-exact.
python3 -c "import sys; sys.stdout.buffer.write(bytes((i*7+(i>>9))&255 for i in range(2*1024*1024)))" > "$TMP/pattern2m"
head -c 1000000 /dev/urandom > "$TMP/in"
{ sha256sum < "$TMP/in" | cut -d' ' -f1; cat "$TMP/pattern2m"; } > "$TMP/want"
for e in 0 1; do
  port=$((5100 + e))
  start_linux python3 "$HERE/tcp_server.py" sink-then-reply "$port" "$TMP/s$e"
  wait_file "$TMP/s$e.ready"
  run_sluice "$BUILD/apps/sluice-cat" --addr "$SLUICE_IP/24" --connect "$LINUX_IP:$port" \
    --engine "$e" --stats < "$TMP/in" > "$TMP/out$e" 2> "$TMP/cat$e.err" || {
    cat "$TMP/cat$e.err"; echo "FAIL: sluice-cat --engine $e failed"; exit 1; }
  cmp "$TMP/out$e" "$TMP/want" || { echo "FAIL: transfer from engine $e differs"; exit 1; }
  line=$(engine_line "$TMP/cat$e.err" "$e")
  [ "$(field "$line" act)" = 1 ] && [ "$(field "$line" est)" = 1 ] || {
    cat "$TMP/cat$e.err"; echo "FAIL: the active open was not made and established on engine $e"; exit 1; }
  check_steering "$TMP/cat$e.err" "cat --engine $e"
  echo "ok: active open from engine $e: 1 MB up, 2 MB down byte-exact ($(echo "$line" | grep -oE 'steer [^|]*'))"
done

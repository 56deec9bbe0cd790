#!/usr/bin/env bash
# Interop: sluice as the client (sluice-cat), Linux as the server. Active open, transfers
# both ways with either side closing first, a refused connect, a connect that times out,
# and a reset in the middle of a transfer. Usage: client_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
CAT="$BUILD/apps/sluice-cat"
source "$HERE/netns_lib.sh"
fixture_up
TMP=$(mktemp -d)
trap 'fixture_cleanup; rm -rf "$TMP"' EXIT INT TERM
ip netns exec "$SLUICE_NS" ip link set lo up

wait_file() { for _ in $(seq 1 100); do [ -e "$1" ] && return 0; sleep 0.1; done; echo "FAIL: no $1"; exit 1; }
pattern() { python3 -c "import sys; sys.stdout.buffer.write(bytes((i*7+(i>>9))&255 for i in range($1)))"; }

head -c 1000000 /dev/urandom > "$TMP/in"
pattern $((2 * 1024 * 1024)) > "$TMP/pattern2m"
pattern $((1024 * 1024)) > "$TMP/pattern1m"

# 1. sluice sends 1 MB and closes first; Linux answers with a digest and 2 MB, then closes.
start_linux python3 "$HERE/tcp_server.py" sink-then-reply 5000 "$TMP/s1"
wait_file "$TMP/s1.ready"
run_sluice "$CAT" --addr "$SLUICE_IP/24" --connect "$LINUX_IP:5000" < "$TMP/in" > "$TMP/out1"
{ sha256sum < "$TMP/in" | cut -d' ' -f1; cat "$TMP/pattern2m"; } > "$TMP/want1"
cmp "$TMP/out1" "$TMP/want1" || { echo "FAIL: transfer 1 differs"; exit 1; }
echo "ok: active open, 1 MB up and 2 MB down byte-exact, sluice closing first"

# 2. Linux sends 1 MB and half-closes first; sluice keeps sending 1 MB, then closes.
start_linux python3 "$HERE/tcp_server.py" send-first 5001 "$TMP/s2"
wait_file "$TMP/s2.ready"
{ sleep 1; cat "$TMP/in"; } | run_sluice "$CAT" --addr "$SLUICE_IP/24" --connect "$LINUX_IP:5001" > "$TMP/out2"
wait_file "$TMP/s2"
cmp "$TMP/out2" "$TMP/pattern1m" || { echo "FAIL: transfer 2 (down) differs"; exit 1; }
[ "$(cat "$TMP/s2")" = "$(sha256sum < "$TMP/in" | cut -d' ' -f1)" ] || { echo "FAIL: transfer 2 (up) differs"; exit 1; }
echo "ok: Linux half-closes first, sluice keeps sending after it: both ways byte-exact"

# 3. A closed port: refused, quickly.
start=$(date +%s)
if run_sluice "$CAT" --addr "$SLUICE_IP/24" --connect "$LINUX_IP:5999" < /dev/null 2> "$TMP/err3"; then
  echo "FAIL: connect to a closed port succeeded"; exit 1
fi
grep -q "connection refused" "$TMP/err3" || { cat "$TMP/err3"; echo "FAIL: no 'connection refused'"; exit 1; }
[ $(( $(date +%s) - start )) -lt 10 ] || { echo "FAIL: refusal took too long"; exit 1; }
echo "ok: connect to a closed port: connection refused"

# 4. An address nobody answers: SYN retries, then timed out (1 + 2 s with 2 retries... + 4 s).
start=$(date +%s)
if run_sluice "$CAT" --addr "$SLUICE_IP/24" --connect 198.18.0.99:80 --syn-retries 2 < /dev/null 2> "$TMP/err4"; then
  echo "FAIL: connect to nobody succeeded"; exit 1
fi
grep -q "timed out" "$TMP/err4" || { cat "$TMP/err4"; echo "FAIL: no 'timed out'"; exit 1; }
took=$(( $(date +%s) - start ))
[ "$took" -ge 6 ] && [ "$took" -lt 20 ] || { echo "FAIL: timeout took ${took}s"; exit 1; }
echo "ok: connect to an address that never answers: timed out after ${took}s"

# 5. Linux resets the connection in the middle of a transfer.
start_linux python3 "$HERE/tcp_server.py" reset 5002 "$TMP/s5"
wait_file "$TMP/s5.ready"
if head -c 50000000 /dev/zero | run_sluice "$CAT" --addr "$SLUICE_IP/24" --connect "$LINUX_IP:5002" > /dev/null 2> "$TMP/err5"; then
  echo "FAIL: a reset connection exited 0"; exit 1
fi
grep -q "connection reset" "$TMP/err5" || { cat "$TMP/err5"; echo "FAIL: no 'connection reset'"; exit 1; }
echo "ok: Linux RST mid-transfer: connection reset"

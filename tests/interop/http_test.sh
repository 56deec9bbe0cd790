#!/usr/bin/env bash
# Interop: sluice-httpd on af_packet, Linux clients (curl, python, wrk) in the other
# namespace. Usage: http_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/netns_lib.sh"
fixture_up
start_sluice "$BUILD/apps/sluice-httpd" --addr "$SLUICE_IP/24" ${SLUICE_STATS:+--stats}
wait_reachable
in_linux timeout 240 python3 "$HERE/http_client.py" "$SLUICE_IP"

# wrk for 5 s, with and without keep-alive: no socket error, no non-2xx answer.
for mode in keepalive close; do
  hdr=()
  [ "$mode" = close ] && hdr=(-H "Connection: close")
  out=$(in_linux timeout 30 wrk -t1 -c32 -d5s "${hdr[@]}" "http://$SLUICE_IP/128" 2>&1) || {
    echo "$out"; echo "FAIL: wrk ($mode) failed"; exit 1; }
  if echo "$out" | grep -qE "Socket errors|Non-2xx"; then
    echo "$out"; echo "FAIL: wrk ($mode) saw errors"; exit 1
  fi
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  echo "ok: wrk 5 s $mode, no errors, $rps requests/s"
done
kill -INT "$SLUICE_PID"
rc=0
wait "$SLUICE_PID" || rc=$?
PIDS=()
[ "$rc" -eq 0 ] || { echo "FAIL: sluice-httpd exited $rc on SIGINT"; exit 1; }
echo "ok: sluice-httpd stopped cleanly on SIGINT"

#!/usr/bin/env bash
# Interop: sluice-inetd on af_packet, the Linux kernel as the client (RFC 862-867 services).
# Usage: inetd_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/netns_lib.sh"
fixture_up
# The window scale sluice offered on a connection to the discard service, as the Linux
# end's TCP_INFO has it (tcpi_snd_wscale, the low nibble of byte 6). It follows the
# receive buffer: the smallest shift that lets 65535 << shift cover it.
peer_wscale() {
  in_linux python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9), timeout=10)
print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[6] & 0x0f)
s.close()' "$SLUICE_IP"
}
stop_inetd() {
  kill -INT "$SLUICE_PID"
  local rc=0
  wait "$SLUICE_PID" || rc=$?
  PIDS=()
  [ "$rc" -eq 0 ] || { echo "FAIL: sluice-inetd exited $rc on SIGINT"; exit 1; }
}

start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" ${SLUICE_STATS:+--stats}
wait_reachable
echo "ok: ping (ARP and ICMP echo answered by sluice)"
in_linux timeout 60 python3 "$(dirname "$0")/inetd_client.py" "$SLUICE_IP"
ws=$(peer_wscale)
[ "$ws" = 3 ] || { echo "FAIL: window scale $ws with the default 256 KB buffer, not 3"; exit 1; }
stop_inetd
echo "ok: sluice-inetd stopped cleanly on SIGINT"

# --buffer: out of range is refused with a message; in range it sizes the window.
err=$(run_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" --buffer 16383 2>&1) &&
  { echo "FAIL: --buffer 16383 accepted"; exit 1; }
grep -q -- "--buffer wants 16384..67108864 bytes" <<<"$err" ||
  { echo "FAIL: no message for --buffer 16383: $err"; exit 1; }
start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" --buffer 4194304
wait_reachable
ws=$(peer_wscale)
[ "$ws" = 7 ] || { echo "FAIL: window scale $ws with a 4 MB buffer, not 7"; exit 1; }
in_linux timeout 60 python3 "$(dirname "$0")/inetd_client.py" "$SLUICE_IP" >/dev/null
stop_inetd
echo "ok: --buffer 4194304 offers window scale 7 (3 by default) and serves every service"

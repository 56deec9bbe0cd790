#!/usr/bin/env bash
# Interop: sluice-inetd on af_packet, the Linux kernel as the client (RFC 862-867 services).
# Usage: inetd_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/netns_lib.sh"
fixture_up
# The window scale sluice offered on a connection to the discard service, as the Linux
# end's TCP_INFO has it (tcpi_snd_wscale, the low nibble of byte 6). It follows the
# largest receive buffer a connection may have: the smallest shift that lets
# 65535 << shift cover it (4 MB, where auto-tuning may take it, unless --buffer fixes it).
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

COUNTERS=$(mktemp)
trap 'rm -f "$COUNTERS"; fixture_cleanup' EXIT INT TERM  # the fixture's own, and ours
# Its counters go to stderr at exit: kept, to see what auto-tuning did.
start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" ${SLUICE_STATS:+--stats} \
  2> "$COUNTERS"
wait_reachable
echo "ok: ping (ARP and ICMP echo answered by sluice)"
in_linux timeout 60 python3 "$(dirname "$0")/inetd_client.py" "$SLUICE_IP"
ws=$(peer_wscale)
[ "$ws" = 7 ] || { echo "FAIL: window scale $ws by default (room for 4 MB), not 7"; exit 1; }
# 64 MB to the discard service as fast as Linux sends them: the receive buffer, 256 KB to
# begin with, must grow (the exit line counts "buffers grown rcv N").
in_linux timeout 60 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9), timeout=30)
block = bytes(1 << 20)
for _ in range(64):
    s.sendall(block)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()' "$SLUICE_IP"
stop_inetd
echo "ok: sluice-inetd stopped cleanly on SIGINT"
grown=$(sed -n 's/.*buffers grown rcv \([0-9]*\) snd.*/\1/p' "$COUNTERS" | tail -1)
[ "${grown:-0}" -gt 0 ] ||
  { cat "$COUNTERS"; echo "FAIL: 64 MB from Linux did not grow the receive buffer"; exit 1; }
echo "ok: 64 MB from Linux grew the receive buffer $grown times (auto-tuning)"

# --buffer: out of range is refused with a message; in range it sizes the window.
err=$(run_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" --buffer 16383 2>&1) &&
  { echo "FAIL: --buffer 16383 accepted"; exit 1; }
grep -q -- "--buffer wants 16384..67108864 bytes" <<<"$err" ||
  { echo "FAIL: no message for --buffer 16383: $err"; exit 1; }
start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" --buffer 262144
wait_reachable
ws=$(peer_wscale)
[ "$ws" = 3 ] || { echo "FAIL: window scale $ws with a fixed 256 KB buffer, not 3"; exit 1; }
in_linux timeout 60 python3 "$(dirname "$0")/inetd_client.py" "$SLUICE_IP" >/dev/null
stop_inetd
echo "ok: --buffer 262144 fixes the buffer, offers window scale 3 (7 by default) and serves every service"

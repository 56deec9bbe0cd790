#!/usr/bin/env bash
# Interop: sluice-inetd on af_packet, the Linux kernel as the client (RFC 862-867 services).
# Usage: inetd_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
source "$(dirname "$0")/netns_lib.sh"
fixture_up
start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" ${SLUICE_STATS:+--stats}
wait_reachable
echo "ok: ping (ARP and ICMP echo answered by sluice)"
in_linux timeout 60 python3 "$(dirname "$0")/inetd_client.py" "$SLUICE_IP"
kill -INT "$SLUICE_PID"
wait "$SLUICE_PID"
rc=$?
PIDS=()
[ "$rc" -eq 0 ] || { echo "FAIL: sluice-inetd exited $rc on SIGINT"; exit 1; }
echo "ok: sluice-inetd stopped cleanly on SIGINT"

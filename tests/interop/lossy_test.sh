#!/usr/bin/env bash
# Interop through a lossy link: sluice-inetd with the engine's impairment (loss,
# duplication, delay with jitter and reordering on both directions at its port — this
# machine's kernel has no sch_netem for tc netem), Linux as the client. Every byte must
# arrive and nothing may hang. Usage: lossy_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/netns_lib.sh"
fixture_up
for spec in "loss=0.01,seed=11" "loss=0.05,seed=12" \
            "delay=25ms,jitter=10ms,reorder=0.25,seed=13" "dup=0.05,seed=14"; do
  SLUICE_IMPAIR="$spec" start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24"
  wait_reachable
  start=$(date +%s)
  in_linux timeout 150 python3 "$HERE/lossy_client.py" "$SLUICE_IP" > /dev/null || {
    echo "FAIL: transfers through '$spec'"; exit 1; }
  echo "ok: $spec: 2 MB echo + 20 connections byte-exact in $(( $(date +%s) - start ))s"
  kill -INT "$SLUICE_PID"
  wait "$SLUICE_PID" || { echo "FAIL: sluice-inetd exit status under '$spec'"; exit 1; }
  PIDS=()
done

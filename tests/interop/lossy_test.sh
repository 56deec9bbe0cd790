#!/usr/bin/env bash
# Interop through a lossy link. This kernel has no sch_netem, so tc netem cannot impair
# the Linux side; instead impair_bridge.py forwards every frame between sluice's
# namespace and Linux's from a third namespace (netns_lib.sh: fixture_up_bridged), with
# netem-like loss, delay with jitter, reordering and duplication — sluice cannot tell it
# from a bad wire. sluice-inetd serves, Linux is the client (lossy_client.py: a 2 MB echo
# both ways and 20 short connections). Every byte must arrive and nothing may hang. A
# last case uses the engine's own impairment (SLUICE_IMPAIR) at sluice's port instead.
# Usage: lossy_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/netns_lib.sh"
fixture_up_bridged
SLUICE_LOG="$BRIDGE_DIR/sluice.log"  # sluice-inetd's stderr; its last line: counters at exit

# transfer LABEL: runs the client against sluice, fails on a wrong byte or a hang.
transfer() {
  local t0 out
  t0=$(date +%s.%N)
  out=$(in_linux timeout 90 python3 "$HERE/lossy_client.py" "$SLUICE_IP") || {
    echo "FAIL: transfers through $1 (client: ${out:-nothing})"
    # sluice-inetd prints its counters (drops by reason among them) when it stops.
    kill -INT "$SLUICE_PID" 2>/dev/null || true
    wait "$SLUICE_PID" || true
    cat "$SLUICE_LOG" >&2
    [ -z "$BRIDGE_PID" ] || { stop_bridge || true; cat "$BRIDGE_DIR/counters" >&2; }
    exit 1; }
  echo "ok: $1: $out; $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s in all"
}

# expect DIR NAME: the stopped bridge's counter NAME in direction DIR is above zero
# (the impairment did happen).
expect() {
  local n
  n=$(bridge_counter "$1" "$2")
  [ "${n:-0}" -gt 0 ] || { echo "FAIL: bridge $1 $2=${n:-none}: nothing impaired"; exit 1; }
}

stop_sluice() {
  kill -INT "$SLUICE_PID"
  wait "$SLUICE_PID" || {
    echo "FAIL: sluice-inetd exit status after $1"; cat "$SLUICE_LOG" >&2; exit 1; }
  echo "   sluice: $(tail -n 1 "$SLUICE_LOG")"
  local p kept=()
  for p in "${PIDS[@]}"; do [ "$p" = "$SLUICE_PID" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

# label | impair_bridge.py options | counters that must have moved (DIR:NAME ...). A
# fresh sluice-inetd per case, so its counters at exit (stderr) are the case's own.
while IFS='|' read -r -u 3 label opts checks; do
  # shellcheck disable=SC2086  # opts are words on purpose
  start_bridge $opts
  start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" 2>"$SLUICE_LOG"
  wait_reachable
  transfer "$label"
  stop_sluice "$label"
  stop_bridge
  echo "   bridge: $(tr '\n' ';' <"$BRIDGE_DIR/counters")"
  for c in $checks; do expect "${c%%:*}" "${c#*:}"; done
done 3<<'CASES'
1 % loss each way|--both loss=0.01 --seed 11|a2b:dropped b2a:dropped
5 % loss each way|--both loss=0.05 --seed 12|a2b:dropped b2a:dropped
25 ms delay, 5 ms jitter, 25 % held back 30 ms, each way|--both delay=25ms,jitter=5ms,reorder=0.25 --seed 13|a2b:reordered b2a:reordered
5 % duplicated each way|--both dup=0.05 --seed 14|a2b:duplicated b2a:duplicated
CASES

# The engine's own impairment, at sluice's port, through a clean bridge.
spec="loss=0.02,dup=0.02,delay=5ms,jitter=5ms,reorder=0.25,seed=15"
start_bridge
SLUICE_IMPAIR="$spec" start_sluice "$BUILD/apps/sluice-inetd" --addr "$SLUICE_IP/24" \
  2>"$SLUICE_LOG"
wait_reachable
transfer "SLUICE_IMPAIR=$spec"
stop_sluice "SLUICE_IMPAIR=$spec"
stop_bridge

# perf/lossy_lib.sh: what perf/lossy-compare and perf/lossy-trace share, sourced after
# tests/interop/netns_lib.sh's fixture_up_bridged. Needs ROOT and HERE (tests/interop).

# The ping that proves the server up leaves the client holding its MAC, which sluice's ARP
# announcement gave it, while sluice has yet to learn the client's and must ask across the
# lossy link before its first SYN-ACK (a lost request or reply costs a second). The kernel
# server learns the client's from the client's own request. Forget it after the ping, so
# that in both runs the client asks first and the server answers the SYN at once.
ready() {
  wait_reachable
  in_linux ip neigh flush all
}

# start_linux_echo CC: the kernel's stack in sluice's place, perf/linux_echo.py at sluice's
# address with congestion control CC; SLUICE_PID is its PID (what wait_reachable watches).
# Returns once it listens: the kernel answers ping before the Python process has bound.
start_linux_echo() {
  ip -n "$SLUICE_NS" addr add "$SLUICE_IP/24" dev "$VETH_S"
  ip netns exec "$SLUICE_NS" python3 "$ROOT/perf/linux_echo.py" "$SLUICE_IP" "$1" &
  SLUICE_PID=$!
  PIDS+=("$SLUICE_PID")
  local i
  for i in $(seq 1 50); do
    ip netns exec "$SLUICE_NS" ss -Hltn 'sport = :7' | grep -q . && return 0
    sleep 0.1
  done
  echo "the Linux echo server never listened" >&2
  return 1
}

# client: interop_lossy's transfers from the Linux end; prints their times (or FAILED).
client() { in_linux timeout 150 python3 "$HERE/lossy_client.py" "$SLUICE_IP" 2>&1 || echo FAILED; }

# Network-namespace fixture for interop tests (sourced). Makes two namespaces joined by a
# veth pair: SLUICE_NS holds the sluice end (no IP address: the kernel must not answer for
# it), LINUX_NS the Linux end with 198.18.0.2/24. Offloads are off on both ends so sluice
# sees real frames with finished checksums. Everything is removed on exit, also when a
# test fails or is killed; only processes this script started are ended.
#
# fixture_up_bridged instead makes three: the sluice end is joined by one veth pair to a
# middle namespace (MID_NS), and the middle by another to the Linux end; in the middle,
# impair_bridge.py (started by start_bridge) forwards frames between the two pairs with
# netem-like loss, delay, reordering and duplication, so the path to Linux is lossy
# without sluice's help (this kernel has no sch_netem for tc netem).
set -euo pipefail

SUFFIX="${SUFFIX:-$$}"
SLUICE_NS="sl-s-$SUFFIX"
LINUX_NS="sl-l-$SUFFIX"
VETH_S="slv${SUFFIX}s"
VETH_L="slv${SUFFIX}l"
SLUICE_IP=198.18.0.1
# EAL lcores of sluice programs: one engine per lcore (multicore_test.sh sets 0-1).
SLUICE_LCORES="${SLUICE_LCORES:-0}"
LINUX_IP=198.18.0.2
PIDS=()
# Only with fixture_up_bridged: the middle namespace and its two veth ends.
MID_NS="sl-m-$SUFFIX"
VETH_MS="slv${SUFFIX}m"  # the middle's end of the pair from sluice
VETH_ML="slv${SUFFIX}n"  # the middle's end of the pair to Linux
NETNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BRIDGE_PID=
BRIDGE_DIR=

fixture_cleanup() {
  local p i
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  # Names first: a test runner that times out gives little time before SIGKILL. A
  # namespace whose name is gone lives on only until its last process ends.
  ip netns del "$SLUICE_NS" 2>/dev/null || true
  ip netns del "$LINUX_NS" 2>/dev/null || true
  if [ -n "$BRIDGE_DIR" ]; then
    ip netns del "$MID_NS" 2>/dev/null || true
    rm -rf "$BRIDGE_DIR"
  fi
  # A process that has not ended 5 s after SIGTERM gets SIGKILL: cleanup must finish.
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] || continue
    for i in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
    wait "$p" 2>/dev/null || true
  done
  rm -rf "/var/run/dpdk/sl$SUFFIX"  # EAL's runtime directory for our --file-prefix
}

fixture_up() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: interop tests need root (network namespaces)"
    exit 77
  fi
  trap fixture_cleanup EXIT INT TERM
  ip netns add "$SLUICE_NS"
  ip netns add "$LINUX_NS"
  ip link add "$VETH_S" type veth peer name "$VETH_L"
  ip link set "$VETH_S" netns "$SLUICE_NS"
  ip link set "$VETH_L" netns "$LINUX_NS"
  ip netns exec "$SLUICE_NS" sysctl -qw "net.ipv6.conf.$VETH_S.disable_ipv6=1" || true
  ip netns exec "$LINUX_NS" sysctl -qw "net.ipv6.conf.$VETH_L.disable_ipv6=1" || true
  ip -n "$SLUICE_NS" link set "$VETH_S" up
  ip -n "$LINUX_NS" addr add "$LINUX_IP/24" dev "$VETH_L"
  ip -n "$LINUX_NS" link set "$VETH_L" up
  ip -n "$LINUX_NS" link set lo up
  ip netns exec "$SLUICE_NS" ethtool -K "$VETH_S" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$LINUX_NS" ethtool -K "$VETH_L" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
}

# veth_end NS IF: brings a veth end up in NS with no IPv6 (no stray solicitations) and
# with offloads off, so every frame on the path is a real one with a finished checksum.
veth_end() {
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" || true
  ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip -n "$1" link set "$2" up
}

# fixture_up_bridged: sluice end <-veth-> middle (impair_bridge.py) <-veth-> Linux end.
# Nothing forwards until start_bridge.
fixture_up_bridged() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: interop tests need root (network namespaces)"
    exit 77
  fi
  BRIDGE_DIR=$(mktemp -d /tmp/sluice-bridge.XXXXXX)
  trap fixture_cleanup EXIT INT TERM
  ip netns add "$SLUICE_NS"
  ip netns add "$MID_NS"
  ip netns add "$LINUX_NS"
  ip link add "$VETH_S" type veth peer name "$VETH_MS"
  ip link add "$VETH_L" type veth peer name "$VETH_ML"
  ip link set "$VETH_S" netns "$SLUICE_NS"
  ip link set "$VETH_MS" netns "$MID_NS"
  ip link set "$VETH_ML" netns "$MID_NS"
  ip link set "$VETH_L" netns "$LINUX_NS"
  ip -n "$LINUX_NS" addr add "$LINUX_IP/24" dev "$VETH_L"
  ip -n "$LINUX_NS" link set lo up
  veth_end "$SLUICE_NS" "$VETH_S"
  veth_end "$LINUX_NS" "$VETH_L"
  # The middle's kernel has no address and must stay out of the way: the bridge's raw
  # sockets see every frame (promiscuous, so also frames for other MACs), the stack none.
  veth_end "$MID_NS" "$VETH_MS"
  veth_end "$MID_NS" "$VETH_ML"
  ip -n "$MID_NS" link set "$VETH_MS" promisc on
  ip -n "$MID_NS" link set "$VETH_ML" promisc on
}

# start_bridge [impair_bridge.py options]: starts the forwarder in the middle namespace,
# side A towards sluice and side B towards Linux (so --b2a impairs what Linux sends, as
# tc netem on the Linux end would, and --both each way); returns once it forwards.
start_bridge() {
  rm -f "$BRIDGE_DIR/ready"
  ip netns exec "$MID_NS" python3 "$NETNS_LIB_DIR/impair_bridge.py" "$VETH_MS" "$VETH_ML" \
    --ready "$BRIDGE_DIR/ready" "$@" >"$BRIDGE_DIR/counters" &
  BRIDGE_PID=$!
  PIDS+=($!)
  local i
  for i in $(seq 1 100); do
    [ -s "$BRIDGE_DIR/ready" ] && return 0
    kill -0 "$BRIDGE_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "FAIL: impair_bridge.py did not start"
  return 1
}

# stop_bridge: ends the forwarder (SIGTERM) and leaves its counters, one line per
# direction, in $BRIDGE_DIR/counters; fails if it did not exit 0.
stop_bridge() {
  kill -TERM "$BRIDGE_PID"
  wait "$BRIDGE_PID" || { echo "FAIL: impair_bridge.py exit status"; return 1; }
  local p kept=()
  for p in "${PIDS[@]}"; do [ "$p" = "$BRIDGE_PID" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
  BRIDGE_PID=
}

# bridge_counter DIR NAME: a counter of the stopped bridge; DIR is a2b (sluice to Linux)
# or b2a (Linux to sluice).
bridge_counter() {
  local line
  if [ "$1" = a2b ]; then line=1; else line=2; fi
  sed -n "${line}p" "$BRIDGE_DIR/counters" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# How sluice reaches the wire: SLUICE_PMD=af_packet (default: the PMD opens the veth end
# directly) or SLUICE_PMD=tap (net_tap makes a tap device, which bridge_tap joins to the
# veth end in a Linux bridge, as a VM's tap would be).
SLUICE_PMD="${SLUICE_PMD:-af_packet}"
TAP="slt${SUFFIX}"
sluice_vdev() {
  if [ "$SLUICE_PMD" = tap ]; then
    echo "net_tap0,iface=$TAP"
  else
    echo "net_af_packet0,iface=$VETH_S"
  fi
}

# With net_tap, once the program has made its tap: bridge it to the veth end.
bridge_tap() {
  [ "$SLUICE_PMD" = tap ] || return 0
  local i
  # Wait until the PMD has started the port: it brings the tap up then (and sets its MAC).
  for i in $(seq 1 100); do
    ip -n "$SLUICE_NS" link show "$TAP" 2>/dev/null | grep -q '[<,]UP[,>]' && break
    sleep 0.1
  done
  ip -n "$SLUICE_NS" link show br0 >/dev/null 2>&1 || {
    ip -n "$SLUICE_NS" link add br0 type bridge
    ip netns exec "$SLUICE_NS" sysctl -qw net.ipv6.conf.br0.disable_ipv6=1 || true
    ip -n "$SLUICE_NS" link set "$VETH_S" master br0
    ip -n "$SLUICE_NS" link set br0 up
  }
  ip netns exec "$SLUICE_NS" sysctl -qw "net.ipv6.conf.$TAP.disable_ipv6=1" || true
  ip netns exec "$SLUICE_NS" ethtool -K "$TAP" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  # net_tap gives the DPDK port the kernel tap device's MAC; a bridge keeps its ports' own
  # MACs for itself, so frames for sluice would never leave through the tap. Give the
  # kernel side another (locally administered) address.
  ip -n "$SLUICE_NS" link set "$TAP" address 02:00:5e:00:53:01
  ip -n "$SLUICE_NS" link set "$TAP" master br0
  ip -n "$SLUICE_NS" link set "$TAP" up
}

# start_sluice BINARY ARGS...: runs a sluice program on the sluice end.
start_sluice() {
  local bin=$1
  shift
  ip netns exec "$SLUICE_NS" "$bin" --no-huge -m 512 --no-pci --no-shconf \
    --file-prefix="sl$SUFFIX" -l "$SLUICE_LCORES" --no-telemetry --log-level=lib.eal:error \
    --vdev="$(sluice_vdev)" -- "$@" &
  PIDS+=($!)
  SLUICE_PID=$!
  bridge_tap
}

# in_linux CMD...: runs a command on the Linux end.
in_linux() { ip netns exec "$LINUX_NS" "$@"; }

# wait_reachable: until the sluice end answers ping (10 s at most).
wait_reachable() {
  local i
  for i in $(seq 1 40); do
    if in_linux ping -c 1 -W 1 "$SLUICE_IP" >/dev/null 2>&1; then return 0; fi
    kill -0 "$SLUICE_PID" 2>/dev/null || { echo "FAIL: sluice exited early"; return 1; }
    sleep 0.25
  done
  echo "FAIL: $SLUICE_IP never answered ping"
  return 1
}

# run_sluice BINARY ARGS...: runs a sluice program on the sluice end in the foreground
# (standard input and output are the caller's); returns its exit status.
run_sluice() {
  local bin=$1
  shift
  ip netns exec "$SLUICE_NS" "$bin" --no-huge -m 512 --no-pci --no-shconf \
    --file-prefix="sl$SUFFIX" -l "$SLUICE_LCORES" --no-telemetry --log-level=lib.eal:error \
    --vdev="$(sluice_vdev)" -- "$@"
}

# start_linux CMD...: a background command on the Linux end, ended by the fixture.
start_linux() {
  ip netns exec "$LINUX_NS" "$@" &
  PIDS+=($!)
}

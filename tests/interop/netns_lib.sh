# Network-namespace fixture for interop tests (sourced). Makes two namespaces joined by a
# veth pair: SLUICE_NS holds the sluice end (no IP address: the kernel must not answer for
# it), LINUX_NS the Linux end with 198.18.0.2/24. Offloads are off on both ends so sluice
# sees real frames with finished checksums. Everything is removed on exit, also when a
# test fails or is killed; only processes this script started are ended.
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

fixture_cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
  done
  ip netns del "$SLUICE_NS" 2>/dev/null || true
  ip netns del "$LINUX_NS" 2>/dev/null || true
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

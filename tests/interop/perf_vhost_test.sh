#!/usr/bin/env bash
# sluice-to-sluice: two sluice-perf processes joined by net_vhost (server, lcore 0) and
# net_virtio_user (client, lcore 1), no NIC, no namespaces, no hugepages. rr and crr for
# 3 s each: both ends count transactions, none retransmitted, every response byte-exact.
# With SLUICE_LINK=memif the two processes are joined by net_memif instead (meson test
# interop_perf_memif): the same program over another link, only the EAL arguments change.
# Usage: perf_vhost_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
PERF="$BUILD/apps/sluice-perf"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (vhost-user shares the client's memory)"; exit 77; fi
SOCK="/tmp/sluice-vhost-$$.sock"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -f "$SOCK"
  rm -rf "$TMP" "/var/run/dpdk/slvs$$" "/var/run/dpdk/slvc$$"  # EAL runtime directories
}
trap cleanup EXIT INT TERM
EAL=(--no-huge -m 1024 --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error)
# SLUICE_LINK=memif: the same over net_memif (server and client roles) instead.
case "${SLUICE_LINK:-vhost}" in
  vhost)
    SERVER_VDEV="net_vhost0,iface=$SOCK,queues=1,tso=1"
    CLIENT_VDEV="net_virtio_user0,path=$SOCK,queues=1"
    LABEL=vhost-user ;;
  memif)
    SERVER_VDEV="net_memif0,role=server,socket=$SOCK,socket-abstract=no"
    CLIENT_VDEV="net_memif0,role=client,socket=$SOCK,socket-abstract=no"
    LABEL=memif ;;
  *) echo "unknown SLUICE_LINK '$SLUICE_LINK' (vhost, memif)"; exit 2 ;;
esac
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

pair() {  # pair MODE CLIENT_ARGS...
  local mode=$1
  shift
  rm -f "$SOCK"
  "$PERF" "${EAL[@]}" --file-prefix="slvs$$" -l 0 --vdev="$SERVER_VDEV" -- \
    --addr 198.18.1.1/24 --role server --json > "$TMP/server-$mode.json" 2> "$TMP/server-$mode.err" &
  local server=$!
  PIDS+=("$server")
  for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  [ -S "$SOCK" ] || { cat "$TMP/server-$mode.err"; echo "FAIL: no $LABEL socket"; exit 1; }
  # The client keeps its port open after its run (--keep-port) and the server stops first:
  # neither end polls when the other closes the link. DPDK 22.11's memif unmaps the rings
  # of a departed peer while the data path may still be reading them (the server crashed
  # in CI as the client closed); vhost-user takes the same steps for one code path.
  "$PERF" "${EAL[@]}" --file-prefix="slvc$$" -l 1 --vdev="$CLIENT_VDEV" -- \
    --addr 198.18.1.2/24 --role client --peer 198.18.1.1 --mode "$mode" --duration 3 --json \
    --keep-port "$@" > "$TMP/client-$mode.json" 2> "$TMP/client-$mode.err" &
  local client=$!
  PIDS+=("$client")
  local waited=0
  until grep -q 'port kept open' "$TMP/client-$mode.err"; do
    if ! kill -0 "$client" 2>/dev/null || [ "$waited" -ge 600 ]; then
      cat "$TMP/client-$mode.err"; echo "FAIL: $mode client did not finish its run"; exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  kill -INT "$server"
  wait "$server" || { cat "$TMP/server-$mode.err"; echo "FAIL: $mode server exit status"; exit 1; }
  kill -INT "$client"
  wait "$client" || { cat "$TMP/client-$mode.err"; echo "FAIL: $mode client exit status"; exit 1; }
  grep -v '^\[' "$TMP/client-$mode.err" || true
  local side
  for side in client server; do
    local f="$TMP/$side-$mode.json"
    if [ "$mode" = hold ]; then  # hold opens connections and keeps them idle: no transactions
      [ "$side" = server ] || [ "$(json "$f" connections_established)" -gt 0 ] || {
        cat "$f"; echo "FAIL: hold client: no connections"; exit 1; }
    else
      [ "$(json "$f" transactions)" -gt 0 ] || { cat "$f"; echo "FAIL: $mode $side: no transactions"; exit 1; }
    fi
    [ "$(json "$f" drops)" -eq 0 ] || { cat "$f"; echo "FAIL: $mode $side: drops"; exit 1; }
    [ "$(json "$f" retransmissions)" -eq 0 ] || { cat "$f"; echo "FAIL: $mode $side: retransmissions"; exit 1; }
    [ "$(json "$f" errors)" -eq 0 ] || { cat "$f"; echo "FAIL: $mode $side: errors"; exit 1; }
  done
  echo "ok: $mode over $LABEL: $(json "$TMP/client-$mode.json" transactions_per_s) transactions/s," \
    "$(json "$TMP/client-$mode.json" connections_per_s) connections/s, clean: $(json "$TMP/client-$mode.json" clean)"
}

# --buffer sets both buffers of each connection; what is in flight must fit half of it.
out=$("$PERF" "${EAL[@]}" --file-prefix="slvc$$" -l 1 --vdev=net_null0 -- --addr 198.18.1.2/24 \
  --role client --peer 198.18.1.1 --buffer 65536 --pipeline 64 --size 1024 2>&1) && rc=0 || rc=$?
[ "$rc" -eq 2 ] && grep -q "at most 32768 bytes" <<<"$out" ||
  { echo "$out"; echo "FAIL: --buffer 65536 should refuse 64 x 1024 bytes in flight (status $rc)"; exit 1; }
rm -rf "/var/run/dpdk/slvc$$"

# The client's connections with a quarter of the default buffers: a smaller window, the
# same clean run.
pair rr --connections 16 --size 64 --pipeline 2 --buffer 65536
# Full speed: several wraps of the ephemeral port range, so the server's TIME-WAIT
# records are recycled by new SYNs (RFC 6191) many times over.
pair crr --connections 16 --size 64
# Idle connections closed after a quiet spell: their FINs must go out once (a stale
# stack clock once armed the retransmission timer in the past and resent every FIN).
pair hold --connections 4 --duration 1.5

#!/usr/bin/env bash
# Offloads end to end, sluice to sluice over vhost-user (net_vhost with tso=1, server on
# lcore 0) and virtio-user (client, lcore 1): two sluice-cat processes send each other
# 3 MB at once (client→server and server→client), byte-exact by cmp, under four set-ups:
#   tso     default offloads: the client's TCP hands virtio-user TSO packets (its counter
#           "tso" > 0) and the server takes them as chained aggregates ("chained-rx" > 0);
#   jumbo   --mtu 9000 on both ends, no TSO: segments of ~8.9 KB ("segs out" small);
#   soft    SLUICE_OFFLOADS=0: software checksums, MSS-sized packets, nothing chained;
#   lossy   default offloads with 1 % loss at the server (SLUICE_IMPAIR): a lost aggregate
#           takes many segments with it, and everything still arrives;
#   packed  default offloads over packed virtqueues (packed_vq=1, what scripts/run and
#           perf/compare use): the same TSO and chained receives as over the split ring.
# Usage: offload_vhost_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
CAT="$BUILD/apps/sluice-cat"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (vhost-user shares the client's memory)"; exit 77; fi
SOCK="/tmp/sluice-offload-$$.sock"
TMP=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  rm -f "$SOCK"
  rm -rf "$TMP" "/var/run/dpdk/slos$$" "/var/run/dpdk/sloc$$"  # EAL runtime directories
}
trap cleanup EXIT INT TERM
EAL=(--no-huge -m 1024 --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error)
head -c 3000000 /dev/urandom > "$TMP/up"
head -c 3000000 /dev/urandom > "$TMP/down"

fail() { echo "FAIL: $*"; for f in "$TMP"/*.err; do echo "--- $f"; grep -v VHOST_CONFIG "$f" | tail -5; done; exit 1; }
# counter FILE NAME: the value after NAME on the last counters line ("rx ... | tso N ...").
counter() { grep '^rx ' "$1" | tail -1 | sed -E "s/.*[ |]$2 ([0-9]+).*/\1/"; }

run() {  # run NAME EXTRA_ENV... -- EXTRA_ARGS...
  local name=$1
  shift
  local envs=() args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  rm -f "$SOCK"
  env "${envs[@]}" "$CAT" "${EAL[@]}" --file-prefix="slos$$" -l 0 \
    --vdev="net_vhost0,iface=$SOCK,queues=1,tso=1" -- --addr 198.18.1.1/24 --listen 7000 \
    --stats "${args[@]}" < "$TMP/down" > "$TMP/$name.up" 2> "$TMP/$name.server.err" &
  server=$!
  for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  [ -S "$SOCK" ] || fail "$name: no vhost-user socket"
  sleep 0.3  # the server listens once its port is up
  env "${envs[@]}" timeout 60 "$CAT" "${EAL[@]}" --file-prefix="sloc$$" -l 1 \
    --vdev="net_virtio_user0,path=$SOCK,${VIRTIO_OPTS:-queues=1}" -- --addr 198.18.1.2/24 \
    --connect 198.18.1.1:7000 --stats "${args[@]}" < "$TMP/up" > "$TMP/$name.down" \
    2> "$TMP/$name.client.err" || fail "$name: client exit status $?"
  for _ in $(seq 1 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  kill -INT "$server" 2>/dev/null || true
  wait "$server" || fail "$name: server exit status"
  server=""
  cmp -s "$TMP/up" "$TMP/$name.up" || fail "$name: client→server bytes differ"
  cmp -s "$TMP/down" "$TMP/$name.down" || fail "$name: server→client bytes differ"
  C_TSO=$(counter "$TMP/$name.client.err" tso)
  S_CHAINED=$(counter "$TMP/$name.server.err" chained-rx)
  C_SEGS=$(grep '^rx ' "$TMP/$name.client.err" | tail -1 | sed -E 's/.*segs in [0-9]+ out ([0-9]+).*/\1/')
  echo "ok: $name: 3 MB each way byte-exact (client tso packets $C_TSO, client segments out $C_SEGS, server chained receives $S_CHAINED)"
}

run tso --
[ "$C_TSO" -gt 0 ] || fail "tso: the client sent no TSO packet"
[ "$S_CHAINED" -gt 0 ] || fail "tso: the server took no chained aggregate"

run jumbo SLUICE_TSO=0 -- --mtu 9000
[ "$C_TSO" -eq 0 ] || fail "jumbo: TSO used though SLUICE_TSO=0"
# 3 MB in segments of at most 8948 bytes is >= 336; MSS-sized ones would be >= 2072.
[ "$C_SEGS" -lt 1000 ] || fail "jumbo: $C_SEGS segments out: not jumbo-sized"

run soft SLUICE_OFFLOADS=0 --
[ "$C_TSO" -eq 0 ] && [ "$S_CHAINED" -eq 0 ] || fail "soft: offloads used though SLUICE_OFFLOADS=0"
[ "$C_SEGS" -ge 2072 ] || fail "soft: $C_SEGS segments out for 3 MB: not MSS-sized"

run lossy SLUICE_IMPAIR=loss=0.01,seed=3 --
[ "$C_TSO" -gt 0 ] || fail "lossy: the client sent no TSO packet"

VIRTIO_OPTS=queues=1,packed_vq=1 run packed --
[ "$C_TSO" -gt 0 ] || fail "packed: the client sent no TSO packet"
[ "$S_CHAINED" -gt 0 ] || fail "packed: the server took no chained aggregate"
echo "PASS"

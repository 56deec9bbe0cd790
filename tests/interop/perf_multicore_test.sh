#!/usr/bin/env bash
# sluice-to-sluice with two engines per side: two sluice-perf processes, each -l 0-1, joined
# by a net_vhost/net_virtio_user pair with two queue pairs (no RSS on that link: software
# steering). Four polling threads on two cores: slow, but every rule of sharding is tested.
# For rr, crr and hold (hold from two source addresses):
#   - connections land on both engines of the client, and each engine's share of the
#     transactions adds up to the total the client and the server each counted;
#   - on every engine of both sides everything misdirected was forwarded, no ring was full;
#   - no drop, no retransmission, no error; hold had all its connections open at once.
# Usage: perf_multicore_test.sh BUILD_DIR
set -euo pipefail
BUILD=$(cd "$1" && pwd)
PERF="$BUILD/apps/sluice-perf"
if [ "$(id -u)" -ne 0 ]; then echo "SKIP: needs root (vhost-user shares the client's memory)"; exit 77; fi
SOCK="/tmp/sluice-vhost-mc-$$.sock"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -f "$SOCK"
  rm -rf "$TMP" "/var/run/dpdk/slms$$" "/var/run/dpdk/slmc$$"  # EAL runtime directories
}
trap cleanup EXIT INT TERM
EAL=(--no-huge -m 512 --no-pci --no-shconf --no-telemetry --log-level=lib.eal:error -l 0-1)

# verify MODE EXPR MESSAGE [EXPR MESSAGE]...: Python expressions over the client's JSON
# (c, its engines ce) and the server's (s, se) must all hold. One Python for all: cheap.
verify() {
  python3 - "$TMP/client-$1.json" "$TMP/server-$1.json" "${@:2}" <<'PY' || exit 1
import json, sys
load = lambda f: json.loads(open(f).read().strip().splitlines()[-1])
c, s = load(sys.argv[1]), load(sys.argv[2])
ce, se = c["per_engine"], s["per_engine"]
args = sys.argv[3:]
for expr, msg in zip(args[::2], args[1::2]):
    if not eval(expr):
        print("client:", json.dumps(c), "\nserver:", json.dumps(s))
        sys.exit("FAIL: %s -- %s" % (msg, expr))
# The per-second lines: each second's total is the sum of its engine lines.
import re
seconds = {}
for line in open(sys.argv[1].replace(".json", ".err")):
    m = re.match(r"\[\s*([\d.]+)s\] (engine \d+|total)\s+([\d.]+) Gbit/s\s+(\d+) pkt/s\s+(\d+) trans/s\s+(\d+) conn/s\s+(\d+) open", line)
    if m:
        seconds.setdefault(m.group(1), {})[m.group(2)] = [float(v) for v in m.groups()[2:]]
whole = [v for v in seconds.values() if len(v) == 3]
if not whole:
    sys.exit("FAIL: no per-second lines with two engines and a total")
for v in whole:
    for k in range(1, 5):  # pkt/s, trans/s, conn/s, open (rounded to units: within 1)
        if abs(v["total"][k] - v["engine 0"][k] - v["engine 1"][k]) > 1:
            sys.exit("FAIL: a per-second total is not the sum of its engine lines: %s" % v)
print("engines: " + "; ".join("engine %d: %d connections, %d transactions, misdirected %d/%d" % (
    i, x["connections_established"], x["transactions"], x["steer_misdirected"], y["steer_misdirected"])
    for i, (x, y) in enumerate(zip(ce, se))))
PY
}

pair() {  # pair MODE CLIENT_ARGS...
  local mode=$1
  shift
  rm -f "$SOCK"
  "$PERF" "${EAL[@]}" --file-prefix="slms$$" --vdev="net_vhost0,iface=$SOCK,queues=2" -- \
    --addr 198.18.1.1/24 --role server --json > "$TMP/server-$mode.json" 2> "$TMP/server-$mode.err" &
  local server=$!
  PIDS+=("$server")
  for _ in $(seq 1 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  [ -S "$SOCK" ] || { cat "$TMP/server-$mode.err"; echo "FAIL: no vhost-user socket"; exit 1; }
  "$PERF" "${EAL[@]}" --file-prefix="slmc$$" --vdev="net_virtio_user0,path=$SOCK,queues=2" -- \
    --addr 198.18.1.2/24 --role client --peer 198.18.1.1 --mode "$mode" --json "$@" \
    > "$TMP/client-$mode.json" 2> "$TMP/client-$mode.err" || { cat "$TMP/client-$mode.err"; echo "FAIL: $mode client"; exit 1; }
  kill -INT "$server"
  wait "$server" || { cat "$TMP/server-$mode.err"; echo "FAIL: $mode server exit status"; exit 1; }
  grep -q "2 engines on lcores 0 1, 2 queue pairs" "$TMP/client-$mode.err" || {
    cat "$TMP/client-$mode.err"; echo "FAIL: the client did not run two engines on two queue pairs"; exit 1; }
  grep -E "^\[.*engine [01] " "$TMP/client-$mode.err" | tail -2
  verify "$mode" \
    'c["engines"] == 2 and len(ce) == 2 and len(se) == 2' "two engines on each side" \
    'all(x["connections_established"] > 0 for x in ce)' "connections on both client engines" \
    'sum(x["transactions"] for x in ce) == c["transactions"]' "per-engine transactions add up" \
    'all(x["steer_misdirected"] == 0 and x["steer_forwarded"] == 0 and x["steer_ring_full"] == 0 and x["arp_share_ring_full"] == 0 for x in ce + se)' \
      "frames reached an engine that does not own their flow (active opens pick ports whose replies hash to them)" \
    'c["drops"] == 0 and c["retransmissions"] == 0 and c["errors"] == 0' "client drops, retransmissions or errors" \
    's["drops"] == 0 and s["retransmissions"] == 0 and s["errors"] == 0' "server drops, retransmissions or errors" \
    "${CHECKS[@]}"
  echo "ok: $mode, two engines per side"
}

CHECKS=('c["transactions"] > 0 and c["transactions"] == s["transactions"]' "client and server count the same transactions")
pair rr --connections 16 --size 64 --pipeline 2 --duration 2
pair crr --connections 16 --size 64 --duration 2
CHECKS=('c["hold"]["complete"] and c["hold"]["established_at_once"] == 2000 and c["source_addresses"] == 2' "all 2000 connections open at once, from 2 addresses"
        'sum(x["established_at_once"] for x in ce) == 2000 and min(x["established_at_once"] for x in ce) > 500' "connections spread over both engines")
pair hold --connections 2000 --src-count 2 --duration 1.5

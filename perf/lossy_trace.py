"""Stalls of a lossy transfer, with the frames the impairing bridge dropped around them.

Usage: lossy_trace.py LINUX.pcapng BRIDGE.pcapng [--gap MS] [--context N]

LINUX.pcapng is captured at the Linux end of the path, BRIDGE.pcapng at the bridge's end
of the pair that leads to sluice (198.18.0.1). A frame Linux sent that never shows up at
the bridge's sluice side was dropped by the bridge, and so was a frame sluice sent that
never reached Linux. Frames are matched by their TCP header fields (ports, sequence and
acknowledgment numbers, length, flags, TSval, SACK blocks), which tell any two frames of
a connection apart. For the first connection (interop_lossy's 2 MB echo) every pause of
at least --gap ms before a frame from sluice is printed with the --context frames before
it: time (Linux's clock), direction, whether the bridge dropped it, sequence (last six
digits), acknowledgment, length, and the first SACK block. Run by perf/lossy-trace.
"""
import argparse
import subprocess
import sys
from collections import Counter

SLUICE = "198.18.0.1"
FIELDS = ["frame.time_epoch", "ip.src", "tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.ack",
          "tcp.len", "tcp.flags", "tcp.options.timestamp.tsval", "tcp.options.sack_le",
          "tcp.options.sack_re"]


def load(path):
    cmd = ["tshark", "-r", path, "-o", "tcp.relative_sequence_numbers:FALSE", "-Y", "tcp",
           "-T", "fields"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    frames = []
    for line in out.splitlines():
        r = line.split("\t")
        frames.append((float(r[0]), tuple(r[1:])))
    return frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("linux")
    ap.add_argument("bridge")
    ap.add_argument("--gap", type=float, default=150, help="ms without a frame from sluice")
    ap.add_argument("--context", type=int, default=10)
    a = ap.parse_args()
    linux, bridge = load(a.linux), load(a.bridge)
    at_bridge = Counter(k for _, k in bridge)
    at_linux = Counter(k for _, k in linux)
    events = []  # (time on Linux's clock, "L>S" or "S>L", dropped, key)
    for t, k in linux:
        if k[0] == SLUICE:
            events.append((t, "S>L", False, k))
        elif at_bridge[k] > 0:
            at_bridge[k] -= 1
            events.append((t, "L>S", False, k))
        else:
            events.append((t, "L>S", True, k))
    lost_from_sluice = 0
    for t, k in bridge:  # what sluice sent that never reached Linux (bridge's clock)
        if k[0] != SLUICE:
            continue
        if at_linux[k] > 0:
            at_linux[k] -= 1
        else:
            events.append((t, "S>L", True, k))
            lost_from_sluice += 1
    events.sort(key=lambda e: e[0])
    for way in ("L>S", "S>L"):
        n = sum(1 for e in events if e[1] == way)
        d = sum(1 for e in events if e[1] == way and e[2])
        print(f"{way}: {n} frames, {d} dropped by the bridge ({100.0 * d / max(n, 1):.1f} %)")
    if not events:
        return
    first = events[0][3]
    port = first[1] if first[0] != SLUICE else first[2]
    conn = [e for e in events if port in (e[3][1], e[3][2])]
    prev = None
    stalls = 0
    for i, (t, way, dropped, k) in enumerate(conn):
        if prev is not None and way == "S>L" and (t - prev) * 1000 >= a.gap:
            stalls += 1
            print(f"--- {1000 * (t - prev):.0f} ms before sluice sent again")
            for tt, w, dr, kk in conn[max(0, i - a.context):i + 1]:
                sack = f" sack {kk[8][-6:]}-{kk[9][-6:]}" if kk[8] else ""
                print(f"  {tt % 100:8.4f} {w} {'DROP' if dr else 'ok  '} seq {kk[3][-6:]:>6} "
                      f"ack {kk[4][-6:]:>6} len {kk[5]:>4}{sack}")
        prev = t
    print(f"{stalls} stalls of {a.gap:.0f} ms or more in the first connection (port {port})")


if __name__ == "__main__":
    sys.exit(main())

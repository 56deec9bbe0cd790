#!/usr/bin/env python3
"""A netem-like impairing forwarder between two interfaces, for interop tests.

This machine's kernel has no sch_netem, so `tc netem` cannot impair the Linux side of a
test path. This program stands in for it: it sits in a namespace of its own between two
veth ends, reads every frame from each with an AF_PACKET raw socket and forwards it to
the other, dropping, delaying (with jitter), holding back (reordering) and duplicating
frames per direction from a seeded random stream. It is independent of sluice: whatever
it does, sluice only sees what a lossy wire would show it.

Usage:
  impair_bridge.py IF_A IF_B [--a2b SPEC] [--b2a SPEC] [--both SPEC] [--seed N]
                   [--limit FRAMES] [--ready FILE]

SPEC is comma-separated key=value (any subset), as SLUICE_IMPAIR's:
  loss=0.01       drop this fraction of frames
  delay=25ms      hold every frame this long (units: us, ms, s; bare number = ms)
  jitter=10ms     plus or minus a uniform random amount (never below zero)
  reorder=0.25    this fraction of frames is held back by an extra delay, so frames
                  sent after it overtake it
  gap=20ms        that extra delay (default: delay + jitter, or 5 ms without delay)
  dup=0.05        send this fraction of frames twice
  seed=N          seed of this direction's random stream (default: --seed plus 0 or 1)

A direction holds at most --limit frames (default 10000) waiting for their time; a frame
arriving to a full queue is dropped and counted as overflow. On SIGTERM or SIGINT it
prints its counters per direction on standard output and exits 0. With --ready FILE it
writes FILE once both sockets are bound, so a caller can wait for it.
"""
import argparse
import heapq
import os
import random
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # sll_pkttype of frames this host sends (our own forwards too)
SOL_PACKET = 263
PACKET_STATISTICS = 6  # struct tpacket_stats: frames seen, frames dropped (full buffer)
MAX_FRAME = 65536  # GRO/TSO are off on the veths, but a 64 KB frame must not be cut
RECV_BURST = 64  # frames read from one socket before looking at the other and the clock
STOP_POLL_MS = 100


def parse_duration(text):
    """'25ms', '500us', '1s' or a bare number of milliseconds, in seconds."""
    for suffix, scale in (("us", 1e-6), ("ms", 1e-3), ("s", 1.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * scale
    return float(text) * 1e-3


def parse_spec(text):
    spec = {"loss": 0.0, "delay": 0.0, "jitter": 0.0, "reorder": 0.0, "gap": None,
            "dup": 0.0, "seed": None}
    for item in filter(None, (text or "").split(",")):
        key, _, value = item.partition("=")
        if key not in spec:
            raise SystemExit(f"impair_bridge: unknown impairment '{key}' in '{text}'")
        if key in ("delay", "jitter", "gap"):
            spec[key] = parse_duration(value)
        elif key == "seed":
            spec[key] = int(value)
        else:
            spec[key] = float(value)
            if not 0.0 <= spec[key] <= 1.0:
                raise SystemExit(f"impair_bridge: {key}={value} is not a fraction")
    if spec["gap"] is None:
        spec["gap"] = spec["delay"] + spec["jitter"] if spec["delay"] > 0 else 5e-3
    return spec


class Direction:
    """One way through the bridge: its impairment, its random stream and its counters."""

    def __init__(self, name, spec, seed, in_sock, out_sock):
        self.name = name
        self.inbound = in_sock
        self.spec = spec
        self.rng = random.Random(spec["seed"] if spec["seed"] is not None else seed)
        self.out = out_sock
        self.queued = 0
        self.counters = dict(received=0, forwarded=0, dropped=0, duplicated=0,
                             reordered=0, overflow=0, send_errors=0, kernel_drops=0)

    def admit(self, frame, now, heap, seq, limit):
        """Decides a received frame's fate; pushes its release(s) on the heap."""
        s, r, c = self.spec, self.rng, self.counters
        c["received"] += 1
        # Draw every random number for every frame, so one impairment's setting does not
        # shift the stream the others see.
        lose, jit, hold, dup = r.random(), r.uniform(-1.0, 1.0), r.random(), r.random()
        if lose < s["loss"]:
            c["dropped"] += 1
            return seq
        copies = 2 if dup < s["dup"] else 1
        if self.queued + copies > limit:
            c["overflow"] += 1
            return seq
        delay = max(0.0, s["delay"] + jit * s["jitter"])
        if hold < s["reorder"]:
            delay += s["gap"]
            c["reordered"] += 1
        if copies == 2:
            c["duplicated"] += 1
        for _ in range(copies):
            heapq.heappush(heap, (now + delay, seq, self, frame))
            seq += 1
            self.queued += 1
        return seq

    def release(self, frame):
        self.queued -= 1
        try:
            self.out.send(frame)
            self.counters["forwarded"] += 1
        except OSError:  # ENOBUFS and the like: the wire lost it
            self.counters["send_errors"] += 1

    def report(self):
        c = self.counters
        # Frames the kernel dropped before we could read them (our receive buffer was
        # full): lost as on a congested wire, but never silently.
        stats = self.inbound.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        c["kernel_drops"] += struct.unpack("II", stats)[1]
        return f"{self.name}: " + " ".join(f"{k}={v}" for k, v in c.items())


def open_port(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    for opt, force in ((socket.SO_RCVBUF, 33), (socket.SO_SNDBUF, 32)):  # *BUFFORCE
        try:
            s.setsockopt(socket.SOL_SOCKET, force, 8 << 20)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
    s.bind((ifname, ETH_P_ALL))
    s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)  # reading them zeroes them
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("if_a")
    ap.add_argument("if_b")
    ap.add_argument("--a2b", default=None, help="impairment of frames from IF_A to IF_B")
    ap.add_argument("--b2a", default=None, help="impairment of frames from IF_B to IF_A")
    ap.add_argument("--both", default="", help="impairment of both directions")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int, default=10000)
    ap.add_argument("--ready", default=None)
    args = ap.parse_args()

    sock_a, sock_b = open_port(args.if_a), open_port(args.if_b)
    a2b = Direction(f"{args.if_a}->{args.if_b}",
                    parse_spec(args.a2b if args.a2b is not None else args.both),
                    args.seed, sock_a, sock_b)
    b2a = Direction(f"{args.if_b}->{args.if_a}",
                    parse_spec(args.b2a if args.b2a is not None else args.both),
                    args.seed + 1, sock_b, sock_a)
    inbound = {sock_a.fileno(): (sock_a, a2b), sock_b.fileno(): (sock_b, b2a)}

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    if args.ready:
        with open(args.ready, "w") as f:
            f.write(f"{os.getpid()}\n")

    poller = select.poll()
    for fd in inbound:
        poller.register(fd, select.POLLIN)
    heap = []  # (release time, tie-breaking sequence, direction, frame)
    seq = 0
    clock = time.monotonic
    while not stop:
        now = clock()
        while heap and heap[0][0] <= now:
            _, _, direction, frame = heapq.heappop(heap)
            direction.release(frame)
        # At most STOP_POLL_MS, as Python retries a poll() that a signal handler
        # interrupted (PEP 475): the loop must come back to see the stop request.
        timeout_ms = STOP_POLL_MS
        if heap:
            # poll() takes whole milliseconds; round up so we never spin before a release.
            timeout_ms = min(timeout_ms, max(0, int((heap[0][0] - now) * 1000.0 + 0.999)))
        try:
            ready = poller.poll(timeout_ms)
        except InterruptedError:
            continue
        for fd, _ in ready:
            sock, direction = inbound[fd]
            for _ in range(RECV_BURST):
                try:
                    frame, addr = sock.recvfrom(MAX_FRAME)
                except (BlockingIOError, InterruptedError):
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                seq = direction.admit(frame, clock(), heap, seq, args.limit)
    print(a2b.report())
    print(b2a.report())
    print(f"still queued at exit: {len(heap)}")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

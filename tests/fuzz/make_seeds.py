#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_frame (tests/fuzz/corpus/frame/) and, with --hex,
prints the same frames as C++ byte arrays for the unit tests.

The frames are assembled field by field in the layouts of the RFCs (and of what Linux
sends: its SYN option layout is MSS, SACK-permitted, TS, NOP, WS). Checksums are computed
here, independently of lib/wire, so the unit tests cross-check our checksum code.
Run once: python3 tests/fuzz/make_seeds.py; commit the files it writes.
"""
import os
import struct
import sys


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


MAC_A = bytes.fromhex("525400abcdef")
MAC_B = bytes.fromhex("525400123456")
SRC, DST = ip("198.18.0.1"), ip("198.18.0.2")


def eth(dst, src, etype, vlan=None):
    if vlan is None:
        return dst + src + struct.pack("!H", etype)
    return dst + src + struct.pack("!HHH", 0x8100, vlan, etype)


def ipv4(proto, payload, ident=0x1C46, flags=0x4000, ttl=64, src=SRC, dst=DST):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0,
                    src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp(sport, dport, seq, ack, flags, win, opts=b"", payload=b"", src=SRC, dst=DST):
    assert len(opts) % 4 == 0
    doff = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, win, 0, 0) + opts
    seg = h + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp_echo(typ, ident, seq, payload):
    m = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + payload
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


SYN_OPTS = bytes.fromhex("020405b4" "0402080a000d5b2f00000000" "01030307")
frames = {
    "tcp_syn": eth(MAC_B, MAC_A, 0x0800) + ipv4(6, tcp(41924, 80, 0x3AD2F5C1, 0, 0x02, 64240,
                                                     SYN_OPTS)),
    "tcp_syn_vlan": eth(MAC_B, MAC_A, 0x0800, vlan=0x0064) + ipv4(
        6, tcp(41924, 80, 0x3AD2F5C1, 0, 0x02, 64240, SYN_OPTS)),
    "tcp_data": eth(MAC_B, MAC_A, 0x0800) + ipv4(
        6, tcp(41924, 80, 0x3AD2F5C2, 0x9C3B0001, 0x18, 502,
               bytes.fromhex("0101080a000d5b3a7e1f3c20"),
               b"GET / HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n")),
    "tcp_sack": eth(MAC_B, MAC_A, 0x0800) + ipv4(
        6, tcp(41924, 80, 0x3AD2F5C2, 0x9C3B0001, 0x10, 502,
               bytes.fromhex("0101080a000d5b3a7e1f3c20" "0101051a"
                             "9c3b05b59c3b0b69" "9c3b10d19c3b1685" "9c3b1c399c3b21ed"))),
    "arp_request": eth(b"\xff" * 6, MAC_A, 0x0806) + struct.pack(
        "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, SRC, b"\0" * 6, DST) + b"\0" * 18,
    "icmp_echo": eth(MAC_B, MAC_A, 0x0800) + ipv4(
        1, icmp_echo(8, 0x1234, 1, bytes.fromhex("c8a1f56500000000") + bytes(range(0x10, 0x38))),
        ident=0x5AB3),
    "udp_dns": eth(MAC_B, MAC_A, 0x0800) + ipv4(
        17, struct.pack("!HHHH", 53000, 53, 8 + 12, 0) + bytes.fromhex("abcd01000001000000000000")),
}


def main():
    if "--hex" in sys.argv:
        for name, f in frames.items():
            print("// %s (%d bytes)" % (name, len(f)))
            for i in range(0, len(f), 16):
                print("    " + ", ".join("0x%02x" % b for b in f[i:i + 16]) + ",")
        return
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "frame")
    os.makedirs(out, exist_ok=True)
    for name, f in frames.items():
        with open(os.path.join(out, name + ".bin"), "wb") as fh:
            fh.write(f)


if __name__ == "__main__":
    main()

"""A Linux peer speaking sluice-perf's protocol (apps/sluice_perf.cpp explains it), for the
interop test. Usage:
  perf_peer.py rr   HOST PORT SECONDS SIZE   one connection, serial requests; checks every
                                             response byte for byte
  perf_peer.py crr  HOST PORT SECONDS SIZE   connect, request, response, close, in a loop
  perf_peer.py bulk-server PORT OUT          counts every byte of each connection (header
                                             included) until EOF; appends the count to OUT
Clients print one line: "<mode> transactions N mismatches M" and exit 1 on a mismatch."""
import os
import socket
import struct
import sys
import threading
import time

MODES = {"bulk": 1, "rr": 2, "crr": 3, "hold": 4}


def header(mode, size, flags=0):
    return b"SLPF" + bytes([1, MODES[mode], flags, 0]) + struct.pack(">I", size) + bytes(4)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += b
    return bytes(buf)


def client(mode, host, port, seconds, size):
    end = time.monotonic() + seconds
    done = 0
    bad = 0
    if mode == "rr":
        s = socket.create_connection((host, port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(header("rr", size))
        while time.monotonic() < end:
            req = os.urandom(size)
            s.sendall(req)
            if recv_exact(s, size) != req:
                bad += 1
            done += 1
        s.shutdown(socket.SHUT_WR)
        if s.recv(1) != b"":  # the server closes after our FIN, sending nothing more
            bad += 1
        s.close()
    else:
        while time.monotonic() < end:
            s = socket.create_connection((host, port), timeout=10)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            req = os.urandom(size)
            s.sendall(header("crr", size) + req)
            if recv_exact(s, size) != req:
                bad += 1
            if s.recv(1) != b"":  # then the server closes
                bad += 1
            s.close()
            done += 1
    print("%s transactions %d mismatches %d" % (mode, done, bad), flush=True)
    return 1 if bad or done == 0 else 0


def bulk_server(port, out):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(64)
    lock = threading.Lock()
    open(out + ".ready", "w").close()

    def serve(c):
        n = 0
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            n += len(b)
        c.close()
        with lock, open(out, "a") as f:
            f.write("%d\n" % n)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    if sys.argv[1] in ("rr", "crr"):
        sys.exit(client(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])))
    elif sys.argv[1] == "bulk-server":
        bulk_server(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)

"""Linux-side TCP servers for the sluice client tests. Usage: tcp_server.py MODE PORT OUT
  sink-then-reply: read until EOF, then send sha256(input) hex + newline + 2 MB of pattern,
                   close (sluice closes first).
  send-first:      send 1 MB of pattern, shut the write side down, then read until EOF and
                   write sha256 of what came to OUT (Linux closes first; half-close).
  reset:           read 64 KB, then abort with RST (SO_LINGER 0).
OUT receives a line when the server is done."""
import hashlib
import socket
import struct
import sys

mode, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def pattern(n):
    return bytes((i * 7 + (i >> 9)) & 0xFF for i in range(n))


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", port))
srv.listen(1)
open(out + ".ready", "w").close()
c, _ = srv.accept()
c.settimeout(60)
if mode == "sink-then-reply":
    h = hashlib.sha256()
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
    c.sendall(h.hexdigest().encode() + b"\n" + pattern(2 * 1024 * 1024))
    c.close()
    open(out, "w").write("done\n")
elif mode == "send-first":
    c.sendall(pattern(1024 * 1024))
    c.shutdown(socket.SHUT_WR)
    h = hashlib.sha256()
    while True:
        b = c.recv(65536)
        if not b:
            break
        h.update(b)
    c.close()
    open(out, "w").write(h.hexdigest() + "\n")
elif mode == "reset":
    got = 0
    while got < 65536:
        b = c.recv(65536)
        if not b:
            break
        got += len(b)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
    open(out, "w").write("reset\n")

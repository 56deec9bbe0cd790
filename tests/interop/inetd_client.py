"""Linux-side client for the inetd interop test: each service, byte-exact."""
import hashlib
import os
import re
import socket
import sys

HOST = sys.argv[1]


def connect(port):
    s = socket.create_connection((HOST, port), timeout=10)
    s.settimeout(20)
    return s


def read_all(s):
    chunks = []
    while True:
        b = s.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def echo(size, quiet=False):
    data = os.urandom(size)
    s = connect(7)
    # Send everything, half-close, then read it all back: the server must finish echoing
    # after our FIN and then close (RFC 862 on TCP, RFC 9293 half-close).
    import threading
    got = []
    t = threading.Thread(target=lambda: got.append(read_all(s)))
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(30)
    s.close()
    assert got and hashlib.sha256(got[0]).digest() == hashlib.sha256(data).digest(), \
        f"echo {size}: got {len(got[0]) if got else None} bytes back"
    if not quiet:
        print(f"ok: echo {size} bytes, byte-exact, server closed after our half-close")


def discard(size):
    s = connect(9)
    s.sendall(os.urandom(size))
    s.shutdown(socket.SHUT_WR)
    rest = read_all(s)  # the server closes only after our FIN
    s.close()
    assert rest == b"", rest
    print(f"ok: discard {size} bytes")


def daytime():
    s = connect(13)
    line = read_all(s)
    s.close()
    assert re.match(rb"^\w+day, \w+ \d\d, \d{4} \d\d:\d\d:\d\d-UTC\r\n$", line), line
    print(f"ok: daytime {line.strip().decode()}")


def chargen(size):
    s = connect(19)
    buf = b""
    while len(buf) < size:
        b = s.recv(65536)
        assert b, "chargen closed early"
        buf += b
    s.close()
    lines = buf.split(b"\r\n")[:-1]
    for i, l in enumerate(lines):
        want = bytes(32 + (i + j) % 95 for j in range(72))
        assert l == want, (i, l)
    print(f"ok: chargen {len(lines)} lines in RFC 864 order")


echo(1)
echo(100_000)
echo(3_000_000)
discard(1_000_000)
daytime()
chargen(500_000)
for i in range(200):
    echo(100, quiet=True)
print("ok: 200 sequential short echo connections")

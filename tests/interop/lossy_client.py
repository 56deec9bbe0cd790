"""Byte-exact transfers both ways through an impaired link. Usage: lossy_client.py HOST"""
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time

HOST = sys.argv[1]


def linux_view(what):
    """On a failure: what this end's kernel knows of its connections (RTO, backoff,
    windows, retransmissions), on stderr, while they still exist."""
    out = subprocess.run(["ss", "-tnie"], capture_output=True, text=True).stdout
    print(f"{what}; ss -tnie on the Linux end:\n{out}", file=sys.stderr, flush=True)


def echo(size):
    data = os.urandom(size)
    s = socket.create_connection((HOST, 7), timeout=30)
    s.settimeout(60)
    got = []

    def reader():
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except OSError as e:  # a 60 s silence (socket.timeout) or a reset
                linux_view(f"echo {size}: {e!r} after {sum(map(len, chunks))} bytes back")
                return
            if not b:
                break
            chunks.append(b)
        got.append(b"".join(chunks))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(90)
    if t.is_alive():
        linux_view(f"echo {size}: reader still waiting after 90 s")
    s.close()
    assert got and hashlib.sha256(got[0]).digest() == hashlib.sha256(data).digest(), \
        f"echo {size}: {len(got[0]) if got else 'no'} bytes back"


t0 = time.monotonic()
echo(2_000_000)
t1 = time.monotonic()
for _ in range(20):
    echo(1000)
t2 = time.monotonic()
print(f"2 MB echo byte-exact in {t1 - t0:.1f} s, 20 short connections in {t2 - t1:.1f} s")

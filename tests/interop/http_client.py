"""Linux-side checks for sluice-httpd: curl downloads by sha256, many sequential and
concurrent connections. Usage: http_client.py HOST"""
import hashlib
import socket
import subprocess
import sys
import threading

HOST = sys.argv[1]
BLOCK_LEN = 65521


def body_block():
    # Must match sluice_httpd.cpp body_block(): xorshift32 from 2463534242, low bytes.
    x = 2463534242
    out = bytearray(BLOCK_LEN)
    for i in range(BLOCK_LEN):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


BLOCK = body_block()


def expected_sha(n):
    h = hashlib.sha256()
    full, rest = divmod(n, BLOCK_LEN)
    for _ in range(full):
        h.update(BLOCK)
    h.update(BLOCK[:rest])
    return h.hexdigest()


def curl_sha(n):
    p = subprocess.run(["curl", "-sS", "--max-time", "120", f"http://{HOST}/{n}"],
                       capture_output=True, check=True)
    got = hashlib.sha256(p.stdout).hexdigest()
    assert len(p.stdout) == n, f"curl /{n}: {len(p.stdout)} bytes"
    assert got == expected_sha(n), f"curl /{n}: sha256 mismatch"
    print(f"ok: curl {n} bytes, sha256 matches")


def one_request(n=100, close=True):
    s = socket.create_connection((HOST, 80), timeout=10)
    s.settimeout(10)
    hdr = "Connection: close\r\n" if close else ""
    s.sendall(f"GET /{n} HTTP/1.1\r\nHost: x\r\n{hdr}\r\n".encode())
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert body == BLOCK[:n], "body mismatch"


for n in (1024, 1024 * 1024, 100 * 1024 * 1024):
    curl_sha(n)

for i in range(1000):
    one_request()
print("ok: 1000 sequential short connections")

errors = []
barrier = threading.Barrier(200)


def concurrent():
    try:
        s = socket.create_connection((HOST, 80), timeout=20)
        s.settimeout(20)
        barrier.wait(timeout=30)  # all 200 are open at once
        s.sendall(b"GET /5000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
        assert data.partition(b"\r\n\r\n")[2] == BLOCK[:5000]
    except Exception as e:  # noqa: BLE001 - report every failure
        errors.append(repr(e))


threads = [threading.Thread(target=concurrent) for _ in range(200)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors[:5]
print("ok: 200 concurrent connections")

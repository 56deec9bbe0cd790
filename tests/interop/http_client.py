"""Linux-side checks for sluice-httpd: curl downloads by sha256, many sequential and
concurrent connections. Usage: http_client.py HOST [PART,...]
PARTs: curl, sequential, concurrent (default: all three, in that order)."""
import hashlib
import socket
import subprocess
import sys
import threading

HOST = sys.argv[1]
PARTS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["curl", "sequential", "concurrent"]
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


def sequential(count=1000):
    for _ in range(count):
        one_request()
    print(f"ok: {count} sequential short connections")


def concurrent_connections(count=200):
    errors = []
    barrier = threading.Barrier(count)

    def concurrent():
        try:
            s = socket.create_connection((HOST, 80), timeout=20)
            s.settimeout(20)
            barrier.wait(timeout=30)  # all of them are open at once
            s.sendall(b"GET /5000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
            head, _, body = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            assert body == BLOCK[:5000], "body mismatch"
        except Exception as e:  # noqa: BLE001 - report every failure
            errors.append(repr(e))

    threads = [threading.Thread(target=concurrent) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    print(f"ok: {count} concurrent connections")


if __name__ == "__main__":
    if "curl" in PARTS:
        for n in (1024, 1024 * 1024, 100 * 1024 * 1024):
            curl_sha(n)
    if "sequential" in PARTS:
        sequential()
    if "concurrent" in PARTS:
        concurrent_connections()

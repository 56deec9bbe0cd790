"""An echo server on the kernel's TCP stack: Linux in sluice-inetd's place.

Usage: linux_echo.py ADDRESS CONGESTION_CONTROL   (port 7, as sluice-inetd's echo)

Used by perf/lossy-compare and perf/lossy-trace --linux. Accepted connections inherit the
listener's congestion control; root may pick any algorithm the kernel has built, not only
those in net.ipv4.tcp_allowed_congestion_control.
"""
import socket
import sys
import threading


def serve(c):
    with c:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[2].encode())
    s.bind((sys.argv[1], 7))
    s.listen(128)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()

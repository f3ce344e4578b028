#!/usr/bin/env python3
"""flood_client.py -- the hostile and the probing clients of test_floods.sh.

Usage:
  flood_client.py flood SOCKET BYTES PAUSED GO TAIL
      Sends BYTES bytes of 'x' with no newline: the first half, then creates
      the file PAUSED and waits (10 minutes at most) for the file GO, then
      the second half, then TAIL (a string in which \\n stands for a newline;
      '' for none). Then it closes its sending side and prints every reply
      until the daemon closes the connection. The time the BYTES took, in
      seconds, goes to standard error as "sent BYTES bytes in S s".
  flood_client.py probe SOCKET COUNT TAG
      Sends COUNT distinct lines naming TAG, one at a time, each once the
      reply to the one before has come, and prints the replies. The slowest
      reply goes to standard error as "slowest reply: MS ms".
  flood_client.py unread SOCKET INPUT PROGRESS GO
      Sends INPUT whole and reads nothing until the file GO appears (10
      minutes at most); PROGRESS holds the number of bytes sent so far, rewritten as
      they go out. Then it reads and prints every reply until the daemon
      closes the connection (it closes its sending side once INPUT is sent).
  flood_client.py hold SOCKET COUNT READY GO
      Opens COUNT connections that send nothing, writes "COUNT connected"
      to READY, and waits (10 minutes at most) for the file GO. It then prints how
      many of them the daemon had closed ("closed N"), sends one line (naming
      READY, so that it is new) on the first connection still open, prints
      its reply ("reply: ..."), and closes them all.
  flood_client.py drop SOCKET INPUT
      Sends INPUT whole, reads nothing, and resets the connection as soon as
      the last byte is out, with lines still unanswered.

Every wait is bounded, generously: the daemon under the sanitizers on a slow
or busy machine is many times slower than here, and the test bounds each
client with timeout(1) anyway. A client that cannot connect within
CONNECT_SECONDS gives up with status 2; one waits REPLY_SECONDS at most for
a reply, and GO_SECONDS for the file that lets it go on.
"""

import os
import socket
import sys
import threading
import time

CONNECT_SECONDS = 60
REPLY_SECONDS = 300
GO_SECONDS = 600


def connect(path):
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                print("flood_client: cannot connect to %s" % path, file=sys.stderr)
                sys.exit(2)
            time.sleep(0.02)


def wait_file(path, seconds):
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def touch(path, text=""):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def read_to_end(sock, seconds):
    """Copies what the daemon sends to standard output until it closes."""
    sock.settimeout(seconds)
    out = sys.stdout.buffer
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out.write(chunk)
    except OSError as e:
        print("flood_client: reading replies: %s" % e, file=sys.stderr)
    out.flush()


def flood(path, nbytes, paused, go, tail):
    sock = connect(path)
    chunk = b"x" * (1 << 20)
    started = time.monotonic()

    def send(n):
        while n > 0:
            k = min(n, len(chunk))
            sock.sendall(chunk[:k])
            n -= k

    send(nbytes // 2)
    touch(paused)
    w = time.monotonic()
    if not wait_file(go, GO_SECONDS):
        print("flood_client: %s never appeared" % go, file=sys.stderr)
    waited = time.monotonic() - w
    send(nbytes - nbytes // 2)
    took = time.monotonic() - started - waited
    print("sent %d bytes in %.2f s" % (nbytes, took), file=sys.stderr)
    sock.sendall(tail.replace("\\n", "\n").encode())
    sock.shutdown(socket.SHUT_WR)
    read_to_end(sock, REPLY_SECONDS)


def probe(path, count, tag):
    sock = connect(path)
    sock.settimeout(REPLY_SECONDS)
    slowest = 0.0
    buf = b""
    for i in range(1, count + 1):
        line = "2023-06-%02d: probe %s, line %d\n" % (i % 28 + 1, tag, i)
        started = time.monotonic()
        sock.sendall(line.encode())
        try:
            while b"\n" not in buf:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError as e:
            print("flood_client: waiting for a reply: %s" % e, file=sys.stderr)
            break
        if b"\n" not in buf:
            break
        reply, buf = buf.split(b"\n", 1)
        slowest = max(slowest, time.monotonic() - started)
        sys.stdout.buffer.write(reply + b"\n")
    sys.stdout.flush()
    print("slowest reply: %d ms" % (slowest * 1000), file=sys.stderr)
    sock.close()


def sender(sock, data, progress):
    """Sends data in pieces, recording in the file progress how much went."""
    sent = 0
    try:
        while sent < len(data):
            sent += sock.send(data[sent:sent + 65536])
            touch(progress, "%d\n" % sent)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the daemon closed the connection


def unread(path, infile, progress, go):
    with open(infile, "rb") as f:
        data = f.read()
    sock = connect(path)
    touch(progress, "0\n")
    t = threading.Thread(target=sender, args=(sock, data, progress), daemon=True)
    t.start()
    if not wait_file(go, GO_SECONDS):
        print("flood_client: %s never appeared" % go, file=sys.stderr)
    read_to_end(sock, REPLY_SECONDS)
    t.join(REPLY_SECONDS)


def drop(path, infile):
    with open(infile, "rb") as f:
        data = f.read()
    sock = connect(path)
    sock.sendall(data)
    # A reset, not a polite close: the replies on their way to it are lost.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    sock.close()


def hold(path, count, ready, go):
    socks = [connect(path) for _ in range(count)]
    touch(ready, "%d connected\n" % len(socks))
    if not wait_file(go, GO_SECONDS):
        print("flood_client: %s never appeared" % go, file=sys.stderr)
    closed = []
    for s in socks:
        s.setblocking(False)
        try:
            closed.append(s.recv(1) == b"")
        except BlockingIOError:
            closed.append(False)
        except OSError:
            closed.append(True)
    print("closed %d" % sum(closed))
    sys.stdout.flush()
    live = [s for s, c in zip(socks, closed) if not c]
    if live:
        s = live[0]
        s.setblocking(True)
        s.settimeout(REPLY_SECONDS)
        line = "2023-06-30: a line from a held connection (%s)\n" % os.path.basename(ready)
        s.sendall(line.encode())
        buf = b""
        try:
            while b"\n" not in buf:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            pass
        print("reply: %s" % buf.decode(errors="replace").strip())
    for s in socks:
        s.close()


def main():
    mode, path = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if mode == "flood":
        flood(path, int(args[0]), args[1], args[2], args[3])
    elif mode == "probe":
        probe(path, int(args[0]), args[1])
    elif mode == "unread":
        unread(path, args[0], args[1], args[2])
    elif mode == "drop":
        drop(path, args[0])
    elif mode == "hold":
        hold(path, int(args[0]), args[1], args[2])
    else:
        print("flood_client: unknown mode %s" % mode, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""torture_client.py -- one client of the crash-torture test (test_torture.sh).

Usage: python3 torture_client.py SOCKET INPUT REPLIES SEED CONNECTED

Connects to the Unix socket SOCKET (retrying for at most 60 s), creates the
file CONNECTED once connected, streams the
lines of INPUT in small bursts with short pauses between them (sizes and
pauses drawn from a generator seeded with SEED), and appends each reply line
to REPLIES as soon as it has been read whole, flushed at once: line k of
REPLIES answers line k of INPUT. A reply cut off by the end of the
connection is not written. The client ends when the daemon closes the
connection (it does so once every line is answered, or when it dies), or
after 240 s at most (a bound for a daemon that hangs; the test kills
the daemon long before).
"""

import random
import socket
import sys
import threading
import time


def main():
    path, infile, outfile, seed, connected = sys.argv[1:6]
    seed = int(seed)
    rng = random.Random(seed)
    with open(infile, "rb") as f:
        lines = f.read().splitlines(keepends=True)

    sock = None
    deadline = time.monotonic() + 60
    while sock is None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            sock = s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                print("torture_client: cannot connect to %s" % path, file=sys.stderr)
                return 2
            time.sleep(0.02)
    sock.settimeout(240)
    open(connected, "w").close()

    def writer():
        i = 0
        try:
            while i < len(lines):
                n = rng.randint(1, 3)
                sock.sendall(b"".join(lines[i:i + n]))
                i += n
                time.sleep(rng.uniform(0.0, 0.1))
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the daemon died: the reader sees the end

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    buf = b""
    end = time.monotonic() + 240
    with open(outfile, "ab") as out:
        while time.monotonic() < end:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                out.write(line + b"\n")
                out.flush()
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

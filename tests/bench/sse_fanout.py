#!/usr/bin/env python3
"""sse_fanout.py HOST:PORT SOCKET ALERTS RATE SUBSCRIBERS

The live alert stream's fan-out, for `make bench`: SUBSCRIBERS clients read
GET /v1/alerts/stream from the daemon's HTTP API at HOST:PORT; once all are
on, ALERTS entries, each raising one alert (tests/bench/sse.lua), go to
the daemon's Unix socket SOCKET at RATE a second. Each entry's text carries
its number; the delay of an event is its arrival at a subscriber minus the
time its entry was sent. Prints one line:

  delivered=N expected=M p50_ms=X p99_ms=Y max_ms=Z seconds=S

and exits 1 when an event is missing or came twice."""
import asyncio
import json
import re
import sys
import time

MARK = re.compile(r"fan-out alert (\d+)\b")


async def subscriber(host, port, n, sent, delays, on, seen):
    r, w = await asyncio.open_connection(host, port)
    w.write(("GET /v1/alerts/stream HTTP/1.1\r\nHost: %s:%d\r\n"
             "Accept: text/event-stream\r\n\r\n" % (host, port)).encode())
    await w.drain()
    while True:  # the head, then the retry line: it is on the hub's list
        line = await r.readline()
        if not line:
            raise SystemExit("the stream ended before it began")
        if line.startswith(b"retry:"):
            break
    on()
    mine = set()
    while len(mine) < n:
        line = await r.readline()
        if not line:
            break
        if not line.startswith(b"data: "):
            continue
        now = time.monotonic()
        m = MARK.search(json.loads(line[6:])["message"])
        if not m:
            continue
        k = int(m.group(1))
        if k in mine:
            seen["twice"] += 1
        else:
            seen["got"] += 1
        mine.add(k)
        delays.append(now - sent[k])
    w.close()


async def main():
    hostport, sock, n, rate, subs = sys.argv[1:6]
    host, port = hostport.rsplit(":", 1)
    n, rate, subs = int(n), float(rate), int(subs)
    sent, delays, seen = {}, [], {"got": 0, "twice": 0}
    all_on = asyncio.Event()
    count = [0]

    def on():
        count[0] += 1
        if count[0] == subs:
            all_on.set()

    tasks = [asyncio.create_task(subscriber(host, int(port), n, sent, delays, on, seen))
             for _ in range(subs)]
    await asyncio.wait_for(all_on.wait(), 60)
    r, w = await asyncio.open_unix_connection(sock)

    async def replies():
        for _ in range(n):
            if not await r.readline():
                break

    reader = asyncio.create_task(replies())
    t0 = time.monotonic()
    for k in range(n):
        due = t0 + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[k] = time.monotonic()
        w.write(("2024-05-%02d: fan-out alert %d from the bench\n" % (1 + k % 28, k)).encode())
        await w.drain()
    await asyncio.wait_for(reader, 120)
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    except asyncio.TimeoutError:
        pass
    secs = time.monotonic() - t0
    delays.sort()

    def pct(p):
        return 1000 * delays[min(len(delays) - 1, int(p * len(delays)))] if delays else -1

    print("delivered=%d expected=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f seconds=%.1f"
          % (seen["got"], n * subs, pct(0.5), pct(0.99), pct(1.0) if delays else -1, secs))
    return 0 if seen["got"] == n * subs and not seen["twice"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

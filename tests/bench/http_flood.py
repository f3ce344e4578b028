#!/usr/bin/env python3
"""http_flood.py — the HTTP half of the daemon benchmark (bench.sh (d)).

Usage: http_flood.py HOST:PORT FILE CONNS BODY_LINES

Cuts FILE (JSON Lines) into bodies of BODY_LINES lines, deals them
round-robin to CONNS clients (one thread and one keep-alive connection
each), which POST them to /v1/entries as application/x-ndjson one after
another, each body once the reply to the one before came. Prints, as
flood.c does, one line: lines, ok, duplicate, error, seconds (first send to
last reply), acked_per_s, and the latency of a body (reply time - send
time) at p50, p99 and max. Exits 1 when a body was not answered 200 or a
line not stored.
"""
import http.client
import json
import sys
import threading
import time


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: http_flood.py HOST:PORT FILE CONNS BODY_LINES")
    addr, path, conns, per = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    host, port = addr.rsplit(":", 1)
    bodies, part, nlines = [], [], 0
    with open(path, "rb") as f:
        for line in f:
            part.append(line)
            nlines += 1
            if len(part) == per:
                bodies.append(b"".join(part))
                part = []
    if part:
        bodies.append(b"".join(part))
    counts = {"ok": 0, "duplicate": 0, "error": 0}
    latencies = []
    failures = []
    lock = threading.Lock()

    def client(k):
        c = http.client.HTTPConnection(host, int(port), timeout=600)
        mine = {"ok": 0, "duplicate": 0, "error": 0}
        took = []
        for body in bodies[k::conns]:
            t0 = time.monotonic()
            c.request("POST", "/v1/entries", body, {"Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            data = r.read()
            took.append(time.monotonic() - t0)
            if r.status != 200:
                with lock:
                    failures.append("%d %s" % (r.status, data[:200]))
                mine["error"] += body.count(b"\n")
                continue
            d = json.loads(data)
            mine["ok"] += d["stored"]
            mine["duplicate"] += d["duplicates"]
            mine["error"] += d["rejected"]
        c.close()
        with lock:
            for key in mine:
                counts[key] += mine[key]
            latencies.extend(took)

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    latencies.sort()

    def pct(p):
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0

    print("http_flood: conns=%d body_lines=%d lines=%d ok=%d duplicate=%d error=%d seconds=%.3f "
          "acked_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f"
          % (conns, per, nlines, counts["ok"], counts["duplicate"], counts["error"], secs,
             (counts["ok"] + counts["duplicate"] + counts["error"]) / secs, pct(0.5), pct(0.99),
             1000 * latencies[-1] if latencies else 0))
    for f in failures[:5]:
        print("http_flood: a body was refused: " + f, file=sys.stderr)
    sys.exit(1 if failures or counts["ok"] != nlines else 0)


main()

#!/usr/bin/env python3
"""partitions.py N FIELD < DUMP: checks, for each message natstool's dump
prints (one JSON object a line), that its subject is vigil.entries.P with P
the partition `vigil publish --partition-by FIELD --partitions N` must give:
FNV-1a (32 bits) of the UTF-8 bytes of the field's text, modulo N. The field
is `source` (the record's "source", else "nats") or a member of the JSON
record; a chronology line or a record without it counts as the empty text.
Prints each subject and how many messages it holds, then one line per
message that went elsewhere; exits 1 when any did."""
import json
import sys


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def field_text(line, field):
    try:
        rec = json.loads(line)
    except ValueError:
        rec = None
    if not isinstance(rec, dict):
        return "nats" if field == "source" else ""
    if field == "source":
        return rec.get("source", "nats")
    value = rec.get(field)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def main():
    n, field = int(sys.argv[1]), sys.argv[2]
    counts, wrong = {}, []
    for raw in sys.stdin:
        msg = json.loads(raw)
        counts[msg["subject"]] = counts.get(msg["subject"], 0) + 1
        want = "vigil.entries.%d" % (fnv1a(field_text(msg["data"], field).encode()) % n)
        if msg["subject"] != want:
            wrong.append("seq %s went to %s, not %s" % (msg["seq"], msg["subject"], want))
    for subject in sorted(counts):
        print("%s %d" % (subject, counts[subject]))
    for w in wrong:
        print(w)
    return 1 if wrong else 0


sys.exit(main())

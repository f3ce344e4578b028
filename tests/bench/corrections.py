#!/usr/bin/env python3
"""Corrections and retractions for `make bench`: picks COUNT entries of the
benchmark's input that are launches or exercises (fixed seed), and writes
the records that correct them (half: their date moved by 1 to 20 days
either way) or retract them (the other half), in a random order, and the
input as a clean ingest of the final versions would read it.

usage: corrections.py ENTRIES.jsonl COUNT SEED RECORDS.jsonl FINAL.jsonl

An entry's id is its line number: the benchmark stores every line.
"""
import datetime
import json
import random
import re
import sys

KIND = re.compile(r"\b(launches|exercise)\b", re.IGNORECASE)


def main(path, count, seed, records_path, final_path):
    rnd = random.Random(seed)
    lines = open(path, encoding="utf-8").read().splitlines()
    candidates = [i for i, line in enumerate(lines, 1) if KIND.search(json.loads(line)["text"])]
    picked = rnd.sample(candidates, count)
    records, final = [], {}
    for k, eid in enumerate(picked):
        if k % 2:
            records.append({"retracts": eid, "reason": "withdrawn by its source"})
            final[eid] = None
        else:
            e = json.loads(lines[eid - 1])
            day = datetime.date.fromisoformat(e["date"])
            shift = rnd.choice([-1, 1]) * rnd.randrange(1, 21)
            e["date"] = (day + datetime.timedelta(days=shift)).isoformat()
            records.append({"amends": eid, "date": e["date"], "reason": "date fixed"})
            final[eid] = json.dumps(e)
    rnd.shuffle(records)
    with open(records_path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    with open(final_path, "w", encoding="utf-8") as f:
        for i, line in enumerate(lines, 1):
            if i not in final:
                f.write(line + "\n")
            elif final[i] is not None:
                f.write(final[i] + "\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])

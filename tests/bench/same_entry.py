#!/usr/bin/env python3
"""Checks, for `make bench`, that one entry of each store is what its JSON
line says, verbatim: date (as vigil normalises it), text, source and every
other member as the entry's fields, in compact JSON, in the line's order.

usage: same_entry.py ENTRIES.jsonl FROM DB...

The entry checked is the first line at or after line FROM whose text holds
both a newline and a double quote (the cells a CSV reader gets wrong first),
or line FROM itself when none does. An entry's id is its line number: every
run of the benchmark stores every line, in order, into a fresh store.
Prints the line checked; exits 1 naming the store and what differs.
"""
import datetime
import json
import sqlite3
import sys


def pick(path, first):
    """The line number and record to check."""
    chosen = None
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if no < first:
                continue
            rec = json.loads(line)
            if chosen is None:
                chosen = (no, rec)
            if "\n" in rec["text"] and '"' in rec["text"]:
                return no, rec
            if no > first + 100000:
                break
    return chosen


def normalised(date):
    """A day as vigil stores it: YYYY-MM-DD ("1 January 2019" too)."""
    try:
        return datetime.date.fromisoformat(date).isoformat()
    except ValueError:
        return datetime.datetime.strptime(date, "%d %B %Y").date().isoformat()


def main(path, first, dbs):
    no, rec = pick(path, first)
    others = {k: v for k, v in rec.items() if k not in ("date", "text", "source")}
    want = (normalised(rec["date"]), rec["text"], rec["source"],
            json.dumps(others, ensure_ascii=False, separators=(",", ":")))
    failed = 0
    for db in dbs:
        got = sqlite3.connect(db).execute(
            "select date, text, source, fields from entries where id = ?", (no,)).fetchone()
        if got != want:
            failed = 1
            print(f"{db}: entry {no} differs from line {no} of {path}", file=sys.stderr)
            for name, w, g in zip(("date", "text", "source", "fields"), want,
                                  got or (None,) * 4):
                if w != g:
                    print(f"  {name}: want {w!r}\n  {' ' * len(name)}  got  {g!r}",
                          file=sys.stderr)
    print(no)
    return failed


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__.split("\n\n")[1])
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))

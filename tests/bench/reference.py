#!/usr/bin/env python3
"""The expected alert count of the benchmark's sequence rule, computed
without vigil.

usage: reference.py ENTRIES.jsonl

An entry is a launch when its text has the word "launches", an exercise when
it has the word "exercise" (whole words, any case). The rule
"launch-then-exercise" raises one alert per exercise B for which some launch
A (A is not B) of the same region is dated from 14 days before B to B's own
date, both ends included. Arrival order does not matter. Prints the count
of such exercises on one line; a summary goes to standard error.
"""
import bisect
import datetime
import json
import re
import sys

LAUNCH = re.compile(r"\blaunches\b", re.IGNORECASE)
EXERCISE = re.compile(r"\bexercise\b", re.IGNORECASE)
WITHIN = 14


def main(path):
    launches = {}   # region -> [day, ...]
    exercises = []  # (region, day, line number)
    n = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            e = json.loads(line)
            day = datetime.date.fromisoformat(e["date"]).toordinal()
            region = e["region"]
            is_launch = LAUNCH.search(e["text"]) is not None
            if is_launch:
                launches.setdefault(region, []).append((day, n))
            if EXERCISE.search(e["text"]):
                exercises.append((region, day, n))
    for days in launches.values():
        days.sort()
    count = 0
    for region, day, n_b in exercises:
        days = launches.get(region, [])
        i = bisect.bisect_left(days, (day - WITHIN, 0))
        # any launch in [day - 14, day] other than B itself
        while i < len(days) and days[i][0] <= day:
            if days[i][1] != n_b:
                count += 1
                break
            i += 1
    nl = sum(len(v) for v in launches.values())
    print(f"reference: {n} entries, {nl} launches, {len(exercises)} exercises, "
          f"{count} exercises with a launch of their region in the 14 days before",
          file=sys.stderr)
    print(count)


if __name__ == "__main__":
    main(sys.argv[1])

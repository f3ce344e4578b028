#!/usr/bin/env python3
"""Corrections and retractions, as a property: for random chronologies and
random corrections and retractions applied in random order and batches, the
alerts in force (and the tags) equal those of one clean `vigil ingest` of the
entries' final versions, retracted ones left out.

Usage: corrections_property.py VIGIL WORKDIR SEEDS [FIRST_SEED]
Prints one TAP line per seed ("ok N - seed S" or "not ok ..." with the
difference) and exits 1 when any seed differs.
"""
import json
import os
import random
import sqlite3
import subprocess
import sys

RULES = r'''
rule "kinds" {
  description = "what kind of event a line tells",
  tags = function(e)
    local t = {}
    if e:match("\\blaunch\\b") then t[#t + 1] = "launch" end
    if e:match("\\bdrill\\b") then t[#t + 1] = "drill" end
    if e:match("\\bbig\\b") then t[#t + 1] = "size:big" end
    return t
  end,
}

rule "big-one" {
  description = "a big event, alone",
  after = { "kinds" },
  when = function(e) return e:has_tag("size:big") end,
  alert = function(e) return "big: " .. e.text end,
}

sequence "pair" {
  steps = { tagged "launch", tagged "drill" },
  within = days(10), by = "region",
}

threshold "burst" {
  match = tagged "launch", count = 3, within = days(20), by = "region",
}

absence "unanswered" {
  steps = { tagged "launch", tagged "drill" },
  within = days(7), by = "region",
}

first "first-weapon" {
  match = tagged "launch", by = "weapon",
}
'''

REGIONS = ["korea", "japan", "taiwan"]
WEAPONS = ["hwasong", "pukguksong", "kn23", "chollima"]
WORDS = ("north south east west sea coast border island port city hill river night morning "
         "unit navy army air force crew team base site range field zone channel strait").split()


class Model:
    """What each entry says now, as the test applies its changes."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.n = 0
        self.entries = {}  # id -> dict(date, text, region, weapon) or None (retracted)

    def date(self):
        day = self.rnd.randrange(0, 120)
        y, m, d = 2024, 1 + day // 30, 1 + day % 30
        if m == 2 and d > 28:
            d = 28
        if self.rnd.random() < 0.12:
            return "%04d-%02d" % (y, m)
        return "%04d-%02d-%02d" % (y, m, d)

    def text(self):
        self.n += 1
        kind = self.rnd.choice(["launch", "launch", "drill", "drill", "meeting"])
        words = " ".join(self.rnd.sample(WORDS, 3))
        big = " big" if self.rnd.random() < 0.15 else ""
        return "%s %s%s near the %s v%d" % (self.rnd.choice(["reported", "seen"]), kind, big, words,
                                            self.n)

    def new(self):
        return {"date": self.date(), "text": self.text(),
                "region": self.rnd.choice(REGIONS), "weapon": self.rnd.choice(WEAPONS)}


def run(vigil, args, data=None):
    p = subprocess.run([vigil] + args, input=data, capture_output=True, text=True)
    if p.returncode not in (0, 1):
        raise SystemExit("vigil %s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr))
    return p


def alerts_of(db):
    c = sqlite3.connect(db)
    rows = c.execute(
        "SELECT a.rule, a.key, a.date, a.severity, a.message, coalesce(a.count, -1),"
        " (SELECT group_concat(x, ' | ') FROM (SELECT e.date || ' ' || e.text AS x"
        "  FROM alert_entries ae JOIN entries e ON e.id = ae.entry_id"
        "  WHERE ae.alert_id = a.id ORDER BY x))"
        " FROM alerts a WHERE a.state = 'active'").fetchall()
    c.close()
    return sorted(tuple(str(v) for v in r) for r in rows)


def tags_of(db):
    c = sqlite3.connect(db)
    rows = c.execute(
        "SELECT e.date || ' ' || e.text, group_concat(t.tag) FROM entries e"
        " JOIN tags t ON t.entry_id = e.id WHERE e.retracted_at IS NULL"
        " GROUP BY e.id").fetchall()
    c.close()
    return sorted(rows)


def one_seed(vigil, work, seed):
    rnd = random.Random(seed)
    m = Model(rnd)
    d = os.path.join(work, "s%d" % seed)
    os.makedirs(d, exist_ok=True)
    rules = os.path.join(d, "rules.lua")
    with open(rules, "w") as f:
        f.write(RULES)
    db = os.path.join(d, "live.db")
    clean = os.path.join(d, "clean.db")
    n = rnd.randrange(25, 45)
    first = [m.new() for _ in range(n)]
    lines = "".join(json.dumps(e) + "\n" for e in first)
    run(vigil, ["ingest", "--db", db, "--rules", rules, "--quiet", "-"], lines)
    for i, e in enumerate(first):
        m.entries[i + 1] = e
    # Random corrections and retractions, in random batches.
    ops = []
    for _ in range(rnd.randrange(10, 30)):
        eid = rnd.randrange(1, n + 1)
        roll = rnd.random()
        if roll < 0.3:
            ops.append({"retracts": eid, "reason": "withdrawn by its source"})
        elif roll < 0.55:
            ops.append({"amends": eid, "date": m.date(), "reason": "date fixed"})
        elif roll < 0.8:
            ops.append({"amends": eid, "text": m.text()})
        else:
            ops.append({"amends": eid, "region": rnd.choice(REGIONS)})
    i = 0
    while i < len(ops):
        k = rnd.randrange(1, 6)
        batch = ops[i:i + k]
        i += k
        run(vigil, ["ingest", "--db", db, "--rules", rules, "--quiet", "-"],
            "".join(json.dumps(o) + "\n" for o in batch))
        for o in batch:  # the model: later changes to a retracted entry are refused
            eid = o.get("retracts") or o.get("amends")
            if m.entries[eid] is None:
                continue
            if "retracts" in o:
                m.entries[eid] = None
            else:
                for key in ("date", "text", "region"):
                    if key in o:
                        m.entries[eid][key] = o[key]
    final = [e for _, e in sorted(m.entries.items()) if e is not None]
    run(vigil, ["ingest", "--db", clean, "--rules", rules, "--quiet", "-"],
        "".join(json.dumps(e) + "\n" for e in final))
    got, want = alerts_of(db), alerts_of(clean)
    if got != want:
        extra = [a for a in got if a not in want]
        missing = [a for a in want if a not in got]
        return "alerts differ: in force after the changes only %s; in the clean run only %s" % (
            extra[:3], missing[:3])
    if tags_of(db) != tags_of(clean):
        return "tags differ"
    return None


def main():
    vigil, work, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    first = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    bad = 0
    for k, seed in enumerate(range(first, first + seeds)):
        why = one_seed(vigil, work, seed)
        if why:
            bad += 1
            print("not ok %d - seed %d: %s" % (k + 1, seed, why))
        else:
            print("ok %d - seed %d: the alerts in force equal a clean run of the final versions"
                  % (k + 1, seed))
        sys.stdout.flush()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks the hand-labelled corpus files for form.

Usage: check.py [--write-alerts] [FILE.jsonl ...]   (default: korea.jsonl
and heldout.jsonl beside this script)

Every line must be a JSON object with a unique id (unique across all the
files given), a valid date from 2015 to 2025, a source, a text, and
expect_tags / reject_tags that together name each tag of the vocabulary
exactly once. A text that appears twice is an error too.

The alert labels follow from the tag labels: a line is named by a
launch-then-exercise alert when it is a launch with a show of force 0 to 14
days after it in the same file, or a show of force with a launch 0 to 14
days before it (what rules/correlations.lua raises when the tags are
right). expect_alerts / reject_alerts must say so; --write-alerts writes
them into the files.

Each problem is printed as FILE:LINE: reason; the exit status is 1 when
there was any. With no problem it prints how many lines hold each tag and
how many the alert names, and exits 0.
"""
import datetime
import json
import os
import sys

TAGS = ("launch", "launch-report", "show-of-force", "north-korea-drill",
        "reaction", "plan")
FIELDS = ("id", "date", "source", "text", "expect_tags", "reject_tags")
ALERT_FIELDS = ("expect_alerts", "reject_alerts")
ALERT = "launch-then-exercise"
WITHIN = 14


def alert_names(entries):
    """The ids of the entries a launch-then-exercise alert names, when the
    tags are as labelled."""
    day = {e["id"]: datetime.date.fromisoformat(e["date"]) for e in entries}
    launches = [day[e["id"]] for e in entries if "launch" in e["expect_tags"]]
    shows = [day[e["id"]] for e in entries if "show-of-force" in e["expect_tags"]]
    named = set()
    for e in entries:
        d = day[e["id"]]
        if "launch" in e["expect_tags"] and \
           any(0 <= (s - d).days <= WITHIN for s in shows):
            named.add(e["id"])
        if "show-of-force" in e["expect_tags"] and \
           any(0 <= (d - l).days <= WITHIN for l in launches):
            named.add(e["id"])
    return named


def check_line(where, raw, seen_ids, seen_texts, errors):
    """Checks one line; returns its expected tags, or None when it is bad."""
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as err:
        errors.append("%s: not JSON: %s" % (where, err))
        return None
    if not isinstance(entry, dict):
        errors.append("%s: not a JSON object" % where)
        return None
    bad = len(errors)
    missing = [f for f in FIELDS if f not in entry]
    extra = sorted(set(entry) - set(FIELDS) - set(ALERT_FIELDS))
    if missing:
        errors.append("%s: missing %s" % (where, ", ".join(missing)))
        return None
    if extra:
        errors.append("%s: unknown field %s" % (where, ", ".join(extra)))
    for f in ("id", "date", "source", "text"):
        if not isinstance(entry[f], str) or not entry[f].strip():
            errors.append("%s: %s must be a non-empty string" % (where, f))
    if len(errors) > bad:
        return None
    if entry["id"] in seen_ids:
        errors.append("%s: id %s already used at %s"
                      % (where, entry["id"], seen_ids[entry["id"]]))
    seen_ids.setdefault(entry["id"], where)
    if entry["text"] in seen_texts:
        errors.append("%s: same text as %s" % (where, seen_texts[entry["text"]]))
    seen_texts.setdefault(entry["text"], where)
    try:
        day = datetime.date.fromisoformat(entry["date"])
        if len(entry["date"]) != 10 or not 2015 <= day.year <= 2025:
            errors.append("%s: date %s is not YYYY-MM-DD from 2015 to 2025"
                          % (where, entry["date"]))
    except ValueError:
        errors.append("%s: date %r is not a valid YYYY-MM-DD date"
                      % (where, entry["date"]))
    named = []
    for f in ("expect_tags", "reject_tags"):
        if not isinstance(entry[f], list) or \
           not all(isinstance(t, str) for t in entry[f]):
            errors.append("%s: %s must be a list of strings" % (where, f))
            return None
        named += entry[f]
    for tag in sorted(set(named) - set(TAGS)):
        errors.append("%s: unknown tag %s" % (where, tag))
    for tag in TAGS:
        n = named.count(tag)
        if n != 1:
            errors.append("%s: tag %s named %d times in expect_tags and "
                          "reject_tags (must be once)" % (where, tag, n))
    return entry if len(errors) == bad else None


def check_alerts(path, entries, wheres, write, errors):
    """Checks (or writes) the alert labels of a file's good entries; returns
    how many lines the alert names."""
    named = alert_names(entries)
    for e, where in zip(entries, wheres):
        want = ([ALERT], []) if e["id"] in named else ([], [ALERT])
        got = (e.get("expect_alerts"), e.get("reject_alerts"))
        if write:
            e["expect_alerts"], e["reject_alerts"] = want
        elif got != want:
            errors.append("%s: expect_alerts %s and reject_alerts %s should be %s and %s, as the "
                          "tags say (check.py --write-alerts)" % (where, got[0], got[1],
                                                                 want[0], want[1]))
    if write:
        with open(path, "w", encoding="utf-8") as f:
            for e in entries:
                f.write(json.dumps(e, ensure_ascii=False) + "\n")
    return len(named)


def main(paths, write=False):
    errors = []
    seen_ids = {}
    seen_texts = {}
    for path in paths:
        counts = dict.fromkeys(TAGS, 0)
        lines = 0
        none = 0
        entries, wheres, bad = [], [], False
        try:
            f = open(path, encoding="utf-8")
        except OSError as err:
            errors.append("%s: %s" % (path, err.strerror))
            continue
        with f:
            for n, raw in enumerate(f, 1):
                where = "%s:%d" % (os.path.basename(path), n)
                if not raw.strip():
                    errors.append("%s: empty line" % where)
                    continue
                lines += 1
                entry = check_line(where, raw, seen_ids, seen_texts, errors)
                if entry is None:
                    bad = True
                    continue
                entries.append(entry)
                wheres.append(where)
                for tag in entry["expect_tags"]:
                    counts[tag] += 1
                if entry["expect_tags"] == []:
                    none += 1
        if write and bad:
            errors.append("%s: not written: fix the lines above first" % path)
            write_this = False
        else:
            write_this = write
        alerted = check_alerts(path, entries, wheres, write_this, errors)
        print("%s: %d lines; %s; no tag: %d; named by %s: %d" % (
            os.path.basename(path), lines,
            ", ".join("%s %d" % (t, counts[t]) for t in TAGS), none, ALERT, alerted))
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    args = sys.argv[1:]
    write = "--write-alerts" in args
    args = [a for a in args if a != "--write-alerts"]
    sys.exit(main(args or [os.path.join(here, "korea.jsonl"),
                           os.path.join(here, "heldout.jsonl")], write))

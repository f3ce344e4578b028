#!/usr/bin/env python3
"""Checks the hand-labelled corpus files for form.

Usage: check.py [FILE.jsonl ...]   (default: korea.jsonl and heldout.jsonl
beside this script)

Every line must be a JSON object with a unique id (unique across all the
files given), a valid date from 2015 to 2025, a source, a text, and
expect_tags / reject_tags that together name each tag of the vocabulary
exactly once. A text that appears twice is an error too. Each problem is
printed as FILE:LINE: reason; the exit status is 1 when there was any.
With no problem it prints how many lines hold each tag and exits 0.
"""
import datetime
import json
import os
import sys

TAGS = ("launch", "launch-report", "show-of-force", "north-korea-drill",
        "reaction", "plan")
FIELDS = ("id", "date", "source", "text", "expect_tags", "reject_tags")


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
    extra = sorted(set(entry) - set(FIELDS))
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
    return entry["expect_tags"] if len(errors) == bad else None


def main(paths):
    errors = []
    seen_ids = {}
    seen_texts = {}
    for path in paths:
        counts = dict.fromkeys(TAGS, 0)
        lines = 0
        none = 0
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
                expect = check_line(where, raw, seen_ids, seen_texts, errors)
                for tag in expect or ():
                    counts[tag] += 1
                if expect == []:
                    none += 1
        print("%s: %d lines; %s; no tag: %d" % (
            os.path.basename(path), lines,
            ", ".join("%s %d" % (t, counts[t]) for t in TAGS), none))
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(main(sys.argv[1:] or [os.path.join(here, "korea.jsonl"),
                                   os.path.join(here, "heldout.jsonl")]))

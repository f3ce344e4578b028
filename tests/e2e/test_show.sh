#!/bin/sh
# End-to-end: from an alert to its entries. The chronology of
# tests/fixtures/correlation.txt is ingested with the shipped rules; an
# alert's entry ids, taken from `vigil alerts --json` and from the text of
# `vigil alerts`, are what `vigil show` takes, and it shows each entry with
# the span of its date, its tags and the rule that set each, its correlation
# marks and the alerts that name it, in text and in JSON (checked against
# the database with sqlite3). A feed item that changes after it was stored
# (tests/e2e/feedserver.py serving a second version of the feed) shows its
# update, and `vigil query` shows its latest text marked as updated, finds
# it by its first and its latest words, and puts each entry's id first. An
# id that names no entry is said on stderr, exit status 1, and the others
# are still shown.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! python3 is needed to read JSON and serve feeds (make test-deps installs it)"
  exit 1
fi

# cli NAME ARG...: runs `vigil ARG...` on $DB with its output in $T/NAME.out
# and errors in $T/NAME.err; sets rc.
cli() {
  _name=$1
  shift
  timeout 300 "$VIGIL" "$@" --db "$DB" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
}

# py NAME SCRIPT ARG...: runs the python3 SCRIPT over $T/NAME.out (sys.argv[1])
# and the ARGs; prints what it prints.
py() {
  _file=$T/$1.out
  _script=$2
  shift 2
  python3 -c "$_script" "$_file" "$@"
}

cli ingest ingest --rules "$RULES" "$FIXTURES/correlation.txt"
is "the chronology is stored with the shipped rules" "$rc" 0

# ---- from an alert to its entries ----

cli alerts-json alerts --json --rule launch-then-exercise
is "vigil alerts --json: exit status 0" "$rc" 0
ids=$(py alerts-json 'import json, sys
a = json.loads(open(sys.argv[1]).readline())
print(a["id"], ",".join(str(e) for e in a["entries"]))')
alert=${ids% *}
entries=${ids#* }
like "an alert of launch-then-exercise names two entries" "$entries" '^[0-9]+,[0-9]+$'
first=${entries%,*}
second=${entries#*,}

cli alerts-text alerts --rule launch-then-exercise
printed=$(head -n 1 "$T/alerts-text.out" | sed -n 's/.*\[entries \([0-9,]*\)\]$/\1/p')
is "vigil alerts prints the same ids in its text" "$printed" "$entries"

cli show-pair show "$printed"
is "vigil show takes the ids as vigil alerts prints them: exit status 0" "$rc" 0
is "... and shows both entries, in that order" "$(grep '^entry ' "$T/show-pair.out" | tr '\n' ' ')" \
  "entry $first entry $second "

cli show-text show "$first"
is "vigil show ID: exit status 0" "$rc" 0
day=$(sq "select date from entries where id = $first")
like "... the entry's date" "$(cat "$T/show-text.out")" "  date +$day"
like "... its span of days" "$(cat "$T/show-text.out")" "  days +$day to $day"
like "... its text" "$(cat "$T/show-text.out")" \
  "  text +$(sq "select text from entries where id = $first" | cut -c1-30)"
like "... a launch tag and the rule that set it" "$(cat "$T/show-text.out")" \
  '  launch +set by rule tag-launch'
like "... its mark at the first step of the sequence" "$(cat "$T/show-text.out")" \
  '  launch-then-exercise +step 1 +no key'
like "... and the alert that named it" "$(cat "$T/show-text.out")" \
  "  alert $alert +warn +launch-then-exercise +no key +version 1 "
is "... every section, in order" \
  "$(grep -E '^[a-z]' "$T/show-text.out" | sed 's/ [0-9]*$//; s/^event .*/event/' | tr '\n' '|')" \
  "entry|fields|tags|correlation marks|alerts|event|updates|"
like "... its event, of which it is a report" "$(cat "$T/show-text.out")" \
  "  entry $first +$(sq "select date from entries where id = $first")"

# The JSON, against what the database holds.
sq "select tag || '=' || rule from tags where entry_id = $first order by tag" >"$T/want-tags"
sq "select alert_id from alert_entries where entry_id = $first order by alert_id" >"$T/want-alerts"
sq "select rule || '/' || (step + 1) || '/' || key from marks where entry_id = $first order by rule, step, key" \
  >"$T/want-marks"
cli show-json show --json "$first"
is "vigil show --json ID: exit status 0" "$rc" 0
problems=$(py show-json 'import json, sys
lines = open(sys.argv[1]).read().splitlines()
bad = []
if len(lines) != 1:
    bad.append("%d lines, not 1" % len(lines))
o = json.loads(lines[0])
want_tags = open(sys.argv[3]).read().split()
want_alerts = [int(x) for x in open(sys.argv[4]).read().split()]
want_marks = open(sys.argv[5]).read().split()
got_tags = ["%s=%s" % kv for kv in sorted(o["tag_rules"].items())]
if o["id"] != int(sys.argv[2]): bad.append("id %r" % o["id"])
if o["first_day"] != sys.argv[6] or o["last_day"] != sys.argv[6]:
    bad.append("span %s to %s" % (o["first_day"], o["last_day"]))
if got_tags != want_tags or sorted(o["tags"]) != sorted(t.split("=")[0] for t in want_tags):
    bad.append("tags %r, tag_rules %r; want %r" % (o["tags"], got_tags, want_tags))
if [a["id"] for a in o["alerts"]] != want_alerts:
    bad.append("alerts %r, want %r" % ([a["id"] for a in o["alerts"]], want_alerts))
for a in o["alerts"]:
    if int(sys.argv[2]) not in a["entries"] or a["amended"] is not (a["version"] > 1):
        bad.append("alert %r" % a)
    for k in ("rule", "key", "severity", "message", "date"):
        if not isinstance(a.get(k), str): bad.append("alert %d without %s" % (a["id"], k))
if ["%s/%d/%s" % (m["rule"], m["step"], m["key"]) for m in o["marks"]] != want_marks:
    bad.append("marks %r, want %r" % (o["marks"], want_marks))
if o["updated"] is not False or o["updates"] != []:
    bad.append("updated %r, updates %r" % (o["updated"], o["updates"]))
if "launch" not in o["tag_rules"] or not o["alerts"]:
    bad.append("no launch tag or no alert to check")
print("; ".join(bad))' "$first" "$T/want-tags" "$T/want-alerts" "$T/want-marks" "$day")
is "... one object: id, span, tags with their rules, marks and alerts as the database has them" \
  "$problems" ""

# A date that spans days: mid-March 2023.
range=$(sq "select id from entries where text like 'South Korea and the US begin Freedom Shield%'")
cli show-range show --json "$range"
is "an entry dated mid-March: its span of days in JSON" \
  "$(py show-range 'import json, sys
o = json.loads(open(sys.argv[1]).read())
print(o["date"], o["precision"], o["first_day"], o["last_day"])')" \
  "2023-03-11/2023-03-20 range 2023-03-11 2023-03-20"

# ---- ids that name nothing ----

cli show-missing show "$first" 999999 "$second"
is "an unknown id among others: exit status 1" "$rc" 1
is "... said on stderr, naming it" "$(cat "$T/show-missing.err")" "vigil show: no entry 999999"
is "... the others still shown" "$(grep '^entry ' "$T/show-missing.out" | tr '\n' ' ')" \
  "entry $first entry $second "
cli show-word show --json "12x,$first"
is "an id that is no number: exit status 1" "$rc" 1
is "... said on stderr, naming it" "$(cat "$T/show-word.err")" \
  "vigil show: '12x' is no entry id (a positive whole number)"
is "... the other shown as JSON" "$(py show-word 'import json, sys
print([json.loads(l)["id"] for l in open(sys.argv[1])])')" "[$first]"
cli show-none show
is "no id at all: a usage error (exit status 2)" "$rc" 2

# ---- stored text cannot misalign the rows ----

printf '%s\n' '{"date": "2023-05-02", "text": "A field with an escape.", "k\u001b[2J": "x", "bbbbbbb": "z"}' \
  >"$T/escape.jsonl"
cli escape-in ingest --no-rules "$T/escape.jsonl"
esc=$(sq "$DB" "select id from entries where text = 'A field with an escape.'")
cli escape show "$esc"
like "a field name's control character is shown escaped" "$(cat "$T/escape.out")" 'k\\x1b\[2J'
is "... and the values of the fields still start in one column" "$(py escape 'import sys
rows = [l.rstrip("\n") for l in open(sys.argv[1])]
i = rows.index("fields")
print(rows[i + 1].rindex(" x"), rows[i + 2].rindex(" z"))')" "11 11"

# ---- query: ids first ----

cli query-text query --limit 5
cli query-json query --json --limit 5
is "vigil query: each line starts with the id that --json gives" \
  "$(cut -d' ' -f1 "$T/query-text.out" | tr '\n' ' ')" \
  "$(py query-json 'import json, sys
print(" ".join(str(json.loads(l)["id"]) for l in open(sys.argv[1])) + " ")')"

# ---- a feed item that changes ----

WWW=$T/www
mkdir -p "$WWW"
cp "$FIXTURES/feeds/rss.xml" "$WWW/news.xml"
python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
SPID=$!
bg_started "$SPID"
if ! wait_for 60 test -s "$T/port"; then
  echo "Bail out! the feed server did not start: $(cat "$T/server.err")"
  exit 1
fi
URL=http://127.0.0.1:$(cat "$T/port")/plain/news.xml
cli poll1 poll --rules "$RULES" --source rss "$URL"
is "the feed's first version is stored" "$(cat "$T/poll1.out")" \
  "$URL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
cp "$FIXTURES/feeds/rss-v2.xml" "$WWW/news.xml"
cli poll2 poll --rules "$RULES" --source rss "$URL"
is "its second version changes one item" "$(cat "$T/poll2.out")" \
  "$URL: 1 stored, 0 duplicates, 0 rejected, 1 updated, 3 unchanged"

EM=$(printf '\342\200\224')
OLD="North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo $EM The missile flew for about 70 minutes and came down in the sea between Korea & Japan."
NEW="North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo $EM The missile flew for about 69 minutes and came down west of Oshima, Japan's coast guard said."
icbm=$(sq "select id from entries where json_extract(fields, '$.guid') = 'pw-2023-03-16-icbm'")
seen=$(sq "select replaced_at from entry_versions where entry_id = $icbm")

cli show-upd show --history "$icbm"
is "vigil show of the changed item: exit status 0" "$rc" 0
like "... its text as the feed says it now" "$(cat "$T/show-upd.out")" "^  text +$NEW\$"
like "... that it was corrected" "$(cat "$T/show-upd.out")" \
  "^  version +2 \\(corrected; its earlier versions below\\)\$"
is "... its first version: when and by which feed it was replaced, and its text" \
  "$(sed -n '/^versions$/,/^fields$/p' "$T/show-upd.out" | sed '$d')" \
  "versions
  1  2023-03-15T22:10:00Z, replaced $seen by $URL: changed in its feed
    $OLD"
is "... no feed update listed beside it" "$(sed -n '/^updates$/,$p' "$T/show-upd.out")" \
  "updates
  (none)"
like "... its fields" "$(cat "$T/show-upd.out")" '^  guid +pw-2023-03-16-icbm$'
cli show-upd-json show --json "$icbm"
is "... in JSON: the text now, version 2, the first version's text and origin" \
  "$(py show-upd-json 'import json, sys
o = json.loads(open(sys.argv[1]).read())
v = o["versions"]
print(o["text"] == sys.argv[3], o["version"], len(v), v[0]["text"] == sys.argv[2],
      v[0]["origin"], v[0]["replaced_at"] == sys.argv[4], o["updated"])' \
    "$OLD" "$NEW" "$seen")" \
  "True 2 1 True $URL True False"

cli query-upd query --source rss --text Hwasong-17
is "vigil query: the text it says now" "$(cat "$T/query-upd.out")" \
  "$icbm  2023-03-15T22:10:00Z  rss  $NEW  [$(sq "select group_concat(tag, ',') from (select tag from tags where entry_id = $icbm order by tag)")]"
cli query-plain query --json --source rss --text "Washington Declaration"
is "... an entry never updated says updated: false, with neither of the others" \
  "$(py query-plain 'import json, sys
o = json.loads(open(sys.argv[1]).read())
print(o["updated"], "updated_at" in o, "original_text" in o)')" "False False False"
cli query-new query --source rss --text "69 minutes Oshima"
is "vigil query --text finds it by the words it says now" \
  "$(cut -d' ' -f1 "$T/query-new.out")" "$icbm"
cli query-old query --source rss --text "70 minutes"
is "... and by the words it first said" "$(cut -d' ' -f1 "$T/query-old.out")" "$icbm"
cli query-mixed query --source rss --text "70 minutes Oshima"
is "... but not by words of two versions at once" "$(cat "$T/query-mixed.out")" ""

done_testing

#!/bin/sh
# End-to-end: `vigil replay --dry-run --rules NEWDIR` says what a change of
# rules would do to the alerts in force and the tags, without touching the
# database or calling a sink, and gates on it: 0 when nothing would change,
# 1 when something would, 3 when it cannot tell.
#
# The database is the shipped rules over two chronologies that overlap in
# time (tests/fixtures/correlation.txt, then tests/fixtures/chronology.txt),
# so that every kind of correlation rule of rules/correlations.lua has
# alerts: the sequence launch-then-exercise, the threshold
# repeated-launches, the absence launch-without-response and the first
# new-weapon; the second file amends alerts of the first.
. "$(dirname "$0")/lib.sh"
need python3

DB=$T/vigil.db
mkdir "$T/tmp" # the scratch copies go here, and must not stay
export TMPDIR=$T/tmp
# Sinks a dry run must never call: the alerts file and a command.
cat >"$T/vigil.conf" <<EOF
alerts_file = "$T/alerts.jsonl"
sinks = { spy = { command = { "sh", "-c", "cat >>'$T/spy.out'" } } }
EOF
V() { "$VIGIL" --config "$T/vigil.conf" --db "$DB" "$@"; }

V ingest --rules "$RULES" "$FIXTURES/correlation.txt" "$FIXTURES/chronology.txt" \
  >"$T/ingest.out" 2>"$T/ingest.err"
is "the chronologies are ingested" "$?" 0
for rule in launch-then-exercise repeated-launches launch-without-response new-weapon; do
  n=$(sq "SELECT count(*) FROM alerts WHERE rule = '$rule' AND state = 'active'")
  isnt "the database holds alerts of $rule" "$n" 0
done
# What must not change: the database, as a dump and as a file, and the sinks' output.
state() {
  sq ".dump" | cksum
  cksum <"$DB"
  cksum <"$T/alerts.jsonl"
  cat "$T/spy.out" 2>/dev/null | cksum
}
state >"$T/state.before"

# dry NAME ARG...: runs the dry run with ARGs, its output in $T/NAME.out and
# $T/NAME.err, its exit status in rc.
dry() {
  _name=$1
  shift
  V replay --dry-run "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
}

# ---- the same rules: nothing changes ----

dry same --rules "$RULES"
is "the same rules: exit status 0" "$rc" 0
like "the same rules: 'no changes'" "$(cat "$T/same.out")" '^no changes: 47 entries replayed'
is "the same rules: nothing on stderr" "$(cat "$T/same.err")" ""
dry same-json --rules "$RULES" --json
is "the same rules, --json: exit status 0" "$rc" 0
is "the same rules, --json: changes false, every count 0" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
print(s["changes"], s["alerts_added"], s["alerts_removed"], s["alerts_changed"],
      s["tags_added"], s["tags_removed"], len(d["added"]), len(d["tags"]), s["entries"])
' "$T/same-json.out")" "False 0 0 0 0 0 0 0 47"

# ---- a narrower window: alerts removed and changed ----

cp -R "$RULES" "$T/narrow"
sed -i 's/within = days(14)/within = days(5)/' "$T/narrow/correlations.lua"
is "the narrower rules differ in one line" \
  "$(diff "$RULES/correlations.lua" "$T/narrow/correlations.lua" | grep -c '^>')" 1
dry narrow --rules "$T/narrow"
is "within 14 -> 5 days: exit status 1" "$rc" 1
# Of launch-then-exercise (correlation.expected, plus the chronology's):
# the exercises 14 (Mar 6), 11 (mid-March), 8 (Apr 3) days after their
# launch, Freedom Shield of Mar 13-23 after the Mar 9 and 12 launches, and
# the Kentucky's visit 6 days after the Jul 12 launch are no longer answers;
# the Mar 19 exercise answers only the launches of Mar 16 and 19.
is "within 5: five alerts removed, all launch-then-exercise" \
  "$(grep -c '^removed alert launch-then-exercise, ' "$T/narrow.out")" 5
is "within 5: no other alert removed or added" \
  "$(grep -c '^removed alert\|^added alert' "$T/narrow.out")" 5
like "within 5: the Mar 6 alert removed, with its date and message" \
  "$(cat "$T/narrow.out")" \
  '^removed alert launch-then-exercise, 2023-03-06, warn: North Korea fires two short-range'
like "... naming its launch (id, date, text)" "$(grep -A2 '^removed alert launch-then-exercise, 2023-03-06' "$T/narrow.out")" \
  '^    #[0-9]+ 2023-02-20  North Korea fires two short-range ballistic missiles from a multiple'
like "... and its exercise" "$(grep -A2 '^removed alert launch-then-exercise, 2023-03-06' "$T/narrow.out")" \
  '^    #[0-9]+ 2023-03-06  A US B-52H bomber trains'
like "within 5: the Mar 19 alert changed" "$(cat "$T/narrow.out")" '^changed alert launch-then-exercise:'
was=$(sed -n '/^changed alert/,/^  now/p' "$T/narrow.out" | grep -c '^      #')
now=$(sed -n '/^  now/,/^[a-z]/p' "$T/narrow.out" | grep -c '^      #')
is "... it named six entries and names four" "$was $now" "6 4"
like "within 5: the summary" "$(tail -n 1 "$T/narrow.out")" \
  '^would change: 0 alerts added, 5 removed, 1 changed; tags added to 0 and removed from 0 entries'

dry narrow-json --rules "$T/narrow" --json
is "within 5, --json: exit status 1" "$rc" 1
is "within 5, --json: the counts, the rules and the entries" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
rules = sorted({a["rule"] for a in d["removed"]})
mar6 = [a for a in d["removed"] if a["date"] == "2023-03-06"][0]
ch = d["changed"][0]
print(s["changes"], s["alerts_added"], s["alerts_removed"], s["alerts_changed"], len(d["removed"]),
      ",".join(rules), [e["date"] for e in mar6["entries"]],
      len(ch["before"]["entries"]), len(ch["after"]["entries"]), ch["before"]["identity"] == ch["after"]["identity"])
' "$T/narrow-json.out")" "True 0 5 1 5 launch-then-exercise ['2023-02-20', '2023-03-06'] 6 4 True"

# ---- --since: the earlier state stays, only later alerts compared ----

dry since-same --rules "$RULES" --since 2023-06-01
is "the same rules --since 2023-06-01: exit status 0" "$rc" 0
like "... no changes" "$(cat "$T/since-same.out")" '^no changes: [0-9]+ entries replayed with [0-9]+ rules from 2023-06-01'
dry since-same-mid --rules "$RULES" --since 2023-03-15
is "the same rules --since 2023-03-15 (inside windows and amended alerts): exit status 0" "$rc" 0
dry since --rules "$T/narrow" --since 2023-04-01 --json
is "within 5 --since 2023-04-01: exit status 1" "$rc" 1
is "... only the alerts from Apr 1 on: Apr 3 and Jul 18 removed, nothing changed" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sorted(a["date"] for a in d["removed"]), len(d["added"]), len(d["changed"]), d["summary"]["since"])
' "$T/since.out")" "['2023-04-03', '2023-07-18'] 0 0 2023-04-01"
dry since-late --rules "$T/narrow" --since 2023-08-01
is "within 5 --since 2023-08-01 (no alert of the change after it): exit status 0" "$rc" 0

# ---- a new tagging rule: tag counts and examples ----

cp -R "$RULES" "$T/tagging"
cat >"$T/tagging/zz-bombers.lua" <<'EOF'
-- Bomber flights, for a digest of shows of force.
rule "tag-bomber" {
  when = function(e) return e:match("\\bB-1B\\b|\\bB-52H?\\b") ~= nil end,
  tags = { "bomber" },
}
EOF
bombers=$(sq "SELECT count(*) FROM entries WHERE text LIKE '%B-1B%' OR text LIKE '%B-52%'")
dry tagging --rules "$T/tagging"
is "a new tagging rule: exit status 1" "$rc" 1
is "... its tag counted" "$(grep '^tag ' "$T/tagging.out")" \
  "tag bomber: added to $bombers entries, removed from 0"
is "... with three examples" "$(grep -c '^  + #' "$T/tagging.out")" 3
like "... each with its id, date and text" "$(grep '^  + #' "$T/tagging.out" | head -n 1)" \
  '^  \+ #[0-9]+ 2023-02-19  US B-1B bombers fly'
like "... and no alert changed" "$(tail -n 1 "$T/tagging.out")" \
  "^would change: 0 alerts added, 0 removed, 0 changed; tags added to $bombers and removed from 0 entries"
dry tagging-json --rules "$T/tagging" --json
is "a new tagging rule, --json: its tag, counts and examples" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
t = d["tags"][0]
print(len(d["tags"]), t["tag"], t["added"], t["removed"], len(t["examples"]["added"]),
      d["summary"]["tags_added"], d["summary"]["tags_changed"])
' "$T/tagging-json.out")" "1 bomber $bombers 0 3 $bombers 1"

# ---- a removed rule: its alerts removed ----

cp -R "$RULES" "$T/removed"
sed -i '/^threshold "repeated-launches"/,/^}/d' "$T/removed/correlations.lua"
sed -i '/^test "three launches in a month"/,/^}/d' "$T/removed/correlations.lua"
repeated=$(sq "SELECT count(*) FROM alerts WHERE rule = 'repeated-launches' AND state = 'active'")
dry removed --rules "$T/removed" --json
is "a removed rule: exit status 1" "$rc" 1
is "... its alerts, and only them, removed" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(sorted({a["rule"] for a in d["removed"]}), len(d["removed"]), len(d["added"]),
      len(d["changed"]), len(d["tags"]))
' "$T/removed.out")" "['repeated-launches'] $repeated 0 0 0"

# ---- a retracted entry is not replayed ----

# `vigil retract` takes the Feb 19 flight back: its pairing with the Feb 18
# launch goes, and the launch is unanswered within 7 days. The dry run of
# the same rules then changes nothing: the retracted entry stays out of the
# replay (replayed, it would bring its pairing back).
mkdir -p "$T/r"
cp "$DB" "$T/r/retracted.db"
bombers_id=$(sq "$T/r/retracted.db" "SELECT id FROM entries WHERE text LIKE 'US B-1B bombers fly with South Korean%'")
"$VIGIL" --db "$T/r/retracted.db" retract "$bombers_id" --rules "$RULES" --reason "withdrawn" \
  >/dev/null 2>&1
is "a retraction takes the pairing back and leaves the launch unanswered" \
  "$(sq "$T/r/retracted.db" "SELECT group_concat(rule || ' ' || date || ' ' || state, ', ') FROM (SELECT * FROM alerts
     WHERE (rule = 'launch-then-exercise' AND date = '2023-02-19') OR (rule = 'launch-without-response'
     AND date = '2023-02-18') ORDER BY rule)")" \
  "launch-then-exercise 2023-02-19 retracted, launch-without-response 2023-02-18 active"
"$VIGIL" --config "$T/vigil.conf" --db "$T/r/retracted.db" replay --dry-run --rules "$RULES" \
  --json >"$T/retracted.out" 2>"$T/retracted.err"
is "... then a dry run of the same rules changes nothing: the retracted entry is not replayed" \
  "$?" 0

# ---- what cannot be told ----

mkdir "$T/broken"
cp "$RULES"/*.lua "$T/broken/"
printf 'rule "half" {\n  when = function(e) return\n' >"$T/broken/zz-half.lua"
dry broken --rules "$T/broken"
is "broken rules: exit status 3, neither 0 nor 1" "$rc" 3
like "... the error names the file and line" "$(cat "$T/broken.err")" 'zz-half\.lua:[0-9]+:'
is "... nothing on stdout" "$(cat "$T/broken.out")" ""
dry missing --rules "$T/no-such-rules"
is "a rules path that is not there: exit status 3" "$rc" 3
like "... said" "$(cat "$T/missing.err")" 'no-such-rules'
"$VIGIL" --db "$T/no-such.db" replay --dry-run --rules "$RULES" >"$T/nodb.out" 2>"$T/nodb.err"
is "a database that is not there: exit status 3" "$?" 3
like "... said" "$(cat "$T/nodb.err")" 'no-such\.db'
check "... and not made" test ! -e "$T/no-such.db"
dry until --rules "$RULES" --until 2023-06-01
is "--dry-run with --until: a usage error (2)" "$rc" 2
like "... said" "$(cat "$T/until.err")" 'not with --until'

# ---- SIGINT: stopped, and the scratch copy removed ----

# Six thousand entries, two days apart: long enough a dry run to stop.
python3 - "$FIXTURES/correlation.txt" >"$T/big.txt" <<'EOF'
import datetime, sys
texts = [l.split(": ", 1)[1] for l in open(sys.argv[1]).read().splitlines()]
day = datetime.date(1990, 1, 1)
for i in range(6000):
    print("%s: %s (item %d)" % (day + datetime.timedelta(days=2 * i), texts[i % len(texts)], i))
EOF
printf 'alerts_file = "%s"\n' "$T/big-alerts.jsonl" >"$T/big.conf"
"$VIGIL" --config "$T/big.conf" --db "$T/big.db" ingest --rules "$RULES" "$T/big.txt" \
  >/dev/null 2>"$T/big-ingest.err"
is "a big chronology is ingested" "$?" 0
mkdir "$T/tmp-int"
TMPDIR=$T/tmp-int "$VIGIL" --config "$T/big.conf" --db "$T/big.db" replay --dry-run --rules "$T/narrow" \
  >"$T/int.out" 2>"$T/int.err" &
ipid=$!
bg_started "$ipid"
check "a dry run of it makes its scratch copy" \
  wait_for 60 sh -c 'test -n "$(ls -A "$1")"' sh "$T/tmp-int"
kill -INT "$ipid"
wait "$ipid"
is "SIGINT: exit status 130" "$?" 130
like "... said" "$(cat "$T/int.err")" 'interrupted by SIGINT'
is "... nothing compared on stdout" "$(cat "$T/int.out")" ""
is "... and the scratch copy removed" "$(ls -A "$T/tmp-int")" ""

# ---- nothing changed, nothing left ----

state >"$T/state.after"
is "the database, the alerts file and the sink are as they were" \
  "$(cat "$T/state.after")" "$(cat "$T/state.before")"
check "no sink was called" test ! -e "$T/spy.out"
is "no scratch copy left in TMPDIR" "$(ls -A "$T/tmp")" ""
check_sanitizers "no sanitizer report" "$T"/*.err

done_testing

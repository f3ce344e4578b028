#!/bin/sh
# End-to-end: what a digest says did not happen, and what changed. Over a
# chronology with a launch nothing answered within 7 days (its absence
# fires, its window closing on 2023-11-28) and two answered by the drill of
# 2023-12-20, `vigil digest` lists the unanswered one under "What did not
# happen" in the digests whose period holds its last day, and none for the
# answered ones. Then a late launch amends two alerts, a run of the weekly
# digest is recorded, and the absence's alert is retracted (written with
# sqlite3, as a correction would leave it): "What changed" lists the
# changes since the previous run of the same digest (or the period's start
# for the first), a digest written again says what it said then, and a
# retracted alert is no longer something that did not happen. Markdown
# lines exactly, the HTML's, and the JSON with python3.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

cat >"$T/chronology.txt" <<'EOF'
Nov. 21, 2023: North Korea launched its Malligyong-1 reconnaissance satellite on a Chollima-1 rocket.
Dec. 17, 2023: Late in the evening North Korea fired a short-range ballistic missile into the sea off its east coast.
Dec. 18, 2023: North Korea launched a solid-fuel Hwasong-18 ICBM that flew for more than an hour.
Dec. 20, 2023: US B-1B bombers flew with South Korean and Japanese fighter jets in a combined air drill.
EOF
SAT="North Korea launched its Malligyong-1 reconnaissance satellite on a Chollima-1 rocket."
OUT=$T/out
ERRS=""

# digest NAME AT: writes digest NAME for the period before AT into $OUT;
# its status in $rc, its error output kept for the sanitizer check.
digest() {
  "$VIGIL" digest "$1" --at "$2" --db "$DB" --out "$OUT" >"$T/$1-$2.out" 2>"$T/$1-$2.err"
  rc=$?
  ERRS="$ERRS $T/$1-$2.err"
}

# section FILE HEADING: the lines of a Markdown file from the "## HEADING"
# line up to the next heading (not included), blank lines dropped.
section() {
  awk -v h="## $2" 'index($0, h) == 1 { on = 1; print; next }
                    /^## / { on = 0 } on && NF' "$1"
}

# ---- what did not happen ----

"$VIGIL" ingest --rules "$RULES" --db "$DB" "$T/chronology.txt" >"$T/ingest.out" 2>"$T/ingest.err"
is "vigil ingest of the chronology: exit status 0" "$?" 0
is "... the satellite launch's absence fired, with 2023-11-28 as its last day" \
  "$(sq "select state, date(deadline * 86400, 'unixepoch') from absences where entry_id = 1")" \
  "fired|2023-11-28"
is "... the two December launches were answered" \
  "$(sq "select group_concat(state) from absences where entry_id in (2, 3)")" "satisfied,satisfied"
absent_id=$(sq "select id from alerts where rule = 'launch-without-response'")

digest daily 2023-11-29
is "vigil digest daily --at 2023-11-29: exit status 0" "$rc" 0
MD=$OUT/daily-2023-11-28.md
is "the day the window closed: what did not happen, in a digest with no entry" \
  "$(section "$MD" "What did not happen")" "## What did not happen (1)
- **info** window closed 2023-11-28, launch-without-response: no allied show of force within 7 days of: $SAT *(entry 1, 2023-11-21)*"
is "... and no 'What changed' section when nothing changed" \
  "$(count_matching '^## What changed' "$MD")" 0
check "... the HTML says it too" grep -qF \
  "<li><strong class=\"sev-info\">info</strong> window closed 2023-11-28, launch-without-response: no allied show of force within 7 days of: $SAT <span class=\"src\">(entry 1, 2023-11-21)</span></li>" \
  "$OUT/daily-2023-11-28.html"
check "... and the JSON, with the alert, its deadline and the first-step entry" \
  python3 - "$OUT/daily-2023-11-28.json" "$absent_id" "$SAT" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
a, = doc["absences"]
assert a["alert"] == int(sys.argv[2]), a
assert a["rule"] == "launch-without-response" and a["severity"] == "info", a
assert a["deadline"] == "2023-11-28" and a["deadline_day"] == 19689, a
assert a["entry"] == {"id": 1, "date": "2023-11-21", "text": sys.argv[3]}, a
assert doc["changes"] == [] and doc["changes_after_run"] is False, doc
assert doc["changes_since"] == "2023-11-28T00:00:00Z", doc
EOF

digest daily 2023-11-28
is "the day before the window closed: no 'What did not happen' section" \
  "$(count_matching '^## What did not happen' "$OUT/daily-2023-11-27.md")" 0

digest weekly 2023-12-04
is "the weekly digest of the week the window closed lists it too" \
  "$(section "$OUT/weekly-2023-11-27_2023-12-03.md" "What did not happen")" "## What did not happen (1)
- **info** window closed 2023-11-28, launch-without-response: no allied show of force within 7 days of: $SAT *(entry 1, 2023-11-21)*"

digest weekly 2023-12-25
W4=$OUT/weekly-2023-12-18_2023-12-24.md
is "the week the answered launch's window closed: nothing, said briefly" \
  "$(section "$W4" "What did not happen")" "## What did not happen (0)
No window closed unanswered."
is "... and nothing changed since the period's start" "$(section "$W4" "What changed")" \
  "## What changed (0)
*Since the start of the period, 2023-12-18T00:00:00Z (no earlier digest was written).*
No alert was amended or retracted."
check "... the HTML says so too" grep -qF "<p>No window closed unanswered.</p>" \
  "$OUT/weekly-2023-12-18_2023-12-24.html"

# ---- what changed ----

# A late launch, five days before the drill: the launch-then-exercise alert
# names it too, and the repeated-launches alert counts four.
printf 'Dec. 15, 2023: North Korea fired a cruise missile off its west coast.\n' >"$T/late.txt"
"$VIGIL" ingest --rules "$RULES" --db "$DB" "$T/late.txt" >"$T/late.out" 2>"$T/late.err"
is "vigil ingest of a late launch: exit status 0" "$?" 0
seq_id=$(sq "select id from alerts where rule = 'launch-then-exercise'")
rep_id=$(sq "select id from alerts where rule = 'repeated-launches' and version = 2")
is "... it amends the sequence alert and the count" \
  "$(sq "select group_concat(alert_id || ':' || version, ' ') from alert_log where kind = 'amend'")" \
  "$seq_id:2 $rep_id:2"

# amended ALERT VERSION: the line "What changed" gives that amendment.
amended() {
  _row=$(sq "select l.at, a.rule, a.message, l.entry_id, e.date, e.text from alert_log l
             join alerts a on a.id = l.alert_id left join entries e on e.id = l.entry_id
             where l.alert_id = $1 and l.version = $2" | tr '|' '\037')
  printf '%s\n' "$_row" | {
    IFS=$(printf '\037') read -r at rule message entry date text
    by=""
    [ -n "$entry" ] && by=" — by entry $entry of $date: $text"
    printf -- '- alert %s (%s) amended to version %s at %s: %s%s\n' \
      "$1" "$rule" "$2" "$at" "$message" "$by"
  }
}

# later_than TIME: the clock (to the second, as the log has it) is past
# TIME (ISO 8601 UTC).
# shellcheck disable=SC2317 # called through wait_for
later_than() {
  [ "$(date -u +%s)" -gt "$(date -u -d "$1" +%s)" ]
}

# A run of the weekly digest, recorded after the amendments (a change in
# the second a digest ran is told by the next one too: the seconds apart).
amended_at=$(sq "select max(at) from alert_log")
check "the clock passes the second of the amendments" wait_for 60 later_than "$amended_at"
ran=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sq "insert into digest_runs (name, period_first, period_last, ran_at, files)
    values ('weekly', '2023-12-11', '2023-12-17', '$ran', '')"
check "the clock passes the second of the recorded run" wait_for 60 later_than "$ran"

# The satellite launch is corrected away: its absence's alert is retracted,
# as the correction would leave it.
REASON="the launch of 2023-11-21 was reported in error"
sq "update alerts set state = 'retracted', retract_reason = '$REASON', cause = 1,
    version = version + 1 where id = $absent_id"
is "the retraction is logged with its cause" \
  "$(sq "select kind || ' ' || version || ' ' || entry_id from alert_log where alert_id = $absent_id
         order by seq desc limit 1")" "retract 2 1"
rat=$(sq "select at from alert_log where alert_id = $absent_id and kind = 'retract'")
retracted="- alert $absent_id (launch-without-response) retracted at $rat ($REASON): no allied show of force within 7 days of: $SAT — by entry 1 of 2023-11-21: $SAT"

digest weekly 2023-12-25
is "the next weekly digest: what changed since the previous run, the retraction alone" \
  "$(section "$W4" "What changed")" "## What changed (1)
*Since the previous digest, written $ran.*
$retracted"
check "... in the JSON too" python3 - "$OUT/weekly-2023-12-18_2023-12-24.json" "$absent_id" \
  "$REASON" "$ran" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["changes_since"] == sys.argv[4] and doc["changes_after_run"] is True, doc
c, = doc["changes"]
assert c["alert"] == int(sys.argv[2]) and c["kind"] == "retract" and c["version"] == 2, c
assert c["rule"] == "launch-without-response" and c["reason"] == sys.argv[3], c
assert c["entry"]["id"] == 1 and c["entry"]["date"] == "2023-11-21", c
assert doc["absences"] == [], doc
EOF
check "... and the HTML" grep -qF "<li>$(printf '%s' "${retracted#- }" | sed 's/ — .*//')" \
  "$OUT/weekly-2023-12-18_2023-12-24.html"

digest weekly 2023-12-18
is "the recorded week written again: the amendments up to its run, not the retraction after" \
  "$(section "$OUT/weekly-2023-12-11_2023-12-17.md" "What changed")" "## What changed (2)
*Since the start of the period, 2023-12-11T00:00:00Z (no earlier digest was written).*
$(amended "$seq_id" 2)
$(amended "$rep_id" 2)"

digest daily 2023-11-29
is "a retracted alert is no longer something that did not happen" \
  "$(count_matching '^## What did not happen' "$MD")" 0
is "... and the day's digest, never run before, lists every change since its start" \
  "$(section "$MD" "What changed")" "## What changed (3)
*Since the start of the period, 2023-11-28T00:00:00Z (no earlier digest was written).*
$(amended "$seq_id" 2)
$(amended "$rep_id" 2)
$retracted"

# shellcheck disable=SC2086 # one argument per file
check_sanitizers "no sanitizer report" "$T/ingest.err" "$T/late.err" $ERRS
done_testing

#!/bin/sh
# End-to-end: corrections and retractions. A source corrects an entry (a
# date fixed, a text changed) or withdraws it; everything that rested on it
# is worked out again, and the alerts in force end as a clean ingest of the
# final versions would leave them: taken back (retracted, kept with the
# reason), amended, or newly raised. By hand (`vigil amend`, `vigil
# retract`), by JSON records ("amends", "retracts") through the daemon's
# socket and HTTP API, with the sinks told of each change; then a randomised
# property test (corrections_property.py) over random chronologies.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need python3

RULES=$(cd "$E2E/../.." && pwd)/rules
JSONL=$T/alerts.jsonl
cat >"$T/vigil.conf" <<EOF
alerts_file = "$JSONL"
EOF
V() { "$VIGIL" "$@" --db "$DB" --rules "$RULES" --config "$T/vigil.conf" 2>>"$T/stderr"; }

# in_force DB: the alerts in force as rule|date|count|the texts of their entries.
in_force() {
  sq "$1" "select a.rule || '|' || a.date || '|' || coalesce(a.count, '') || '|' ||
             (select group_concat(text, ' + ') from (select e.text from alert_entries ae
              join entries e on e.id = ae.entry_id where ae.alert_id = a.id order by e.text))
           from alerts a where a.state = 'active'" | sort
}
# state RULE ENTRY: the state of the alert of RULE that names entry ENTRY.
state() {
  sq "select group_concat(a.state) from alerts a join alert_entries x on x.alert_id = a.id
      where a.rule = '$1' and x.entry_id = $2"
}

cat >"$T/a.txt" <<'EOF'
2024-01-02: North Korea fires a short-range ballistic missile into the East Sea.
2024-01-09: South Korea and the United States hold a combined air drill near the border.
2024-01-14: North Korea launches an intermediate-range missile over the sea.
2024-01-24: North Korea fires cruise missiles off its west coast.
2024-03-04: North Korea launches two ballistic missiles toward Japan.
2024-03-08: The US, Japan and South Korea hold a trilateral naval exercise.
2024-03-20: Seoul and Tokyo hold talks on fishing rights.
2024-05-01: North Korea fires a ballistic missile from near Pyongyang.
2024-05-10: South Korea and the US stage a live-fire exercise near the border.
2024-05-30: Officials of the two Koreas meet at Panmunjom.
EOF
V ingest -q "$T/a.txt"
is "ten entries" "$(sq 'select count(*) from entries')" 10
is "the launch of Jan 2 and the drill a week later pair" "$(state launch-then-exercise 1)" active
is "three launches within 30 days: repeated-launches counts 3" \
  "$(sq "select count from alerts where rule = 'repeated-launches'")" 3

# ---- a retracted launch takes back its pairing and its count ----
out=$(V retract 1 --reason "the launch was an artillery drill")
is "retract: exit status 0" "$?" 0
like "... says what it changed" "$out" "^entry 1 retracted; 3 alerts changed"
like "... naming the pairing taken back" "$out" "alert [0-9]+ retracted \\(version 2\\) launch-then-exercise"
is "the pairing is retracted, not deleted" "$(state launch-then-exercise 1)" retracted
is "... with the reason" \
  "$(sq "select retract_reason from alerts where rule = 'launch-then-exercise' and day = 19731")" \
  "entry 1 retracted: the launch was an artillery drill"
is "repeated-launches is taken back: two launches are left in its window" \
  "$(sq "select state from alerts where rule = 'repeated-launches'")" retracted
is "the entry stays, retracted, with its reason" \
  "$(sq 'select retract_reason from entries where id = 1 and retracted_at is not null')" \
  "the launch was an artillery drill"
is "... without tags or marks" \
  "$(sq 'select (select count(*) from tags where entry_id = 1) + (select count(*) from marks where entry_id = 1)')" 0
is "the alert log says retract, caused by entry 1" \
  "$(sq "select group_concat(distinct kind || ':' || entry_id) from alert_log where seq > (select min(seq) from alert_log where kind = 'retract') - 1")" \
  "retract:1"
like "vigil alerts leaves retracted alerts out" "$("$VIGIL" alerts --db "$DB")" "^2024-01-14"
like "--state retracted lists them, with the reason" \
  "$("$VIGIL" alerts --db "$DB" --state retracted --rule repeated-launches)" \
  "\\[retracted: entry 1 retracted: the launch was an artillery drill\\]"
check "the alerts file got the retraction as a new version of the same alert" \
  grep -q '"rule":"repeated-launches".*"version":2,"amended":true.*"state":"retracted","reason":"entry 1 retracted' "$JSONL"

# ---- a retracted exercise turns a pairing into an absence ----
V retract 6 --reason "the exercise was called off" >/dev/null
is "the pairing of Mar 4 is retracted" "$(state launch-then-exercise 5)" retracted
is "... and the launch of Mar 4 now went unanswered" "$(state launch-without-response 5)" active
like "... raised as a new alert, caused by entry 6" \
  "$(sq "select l.kind || ' ' || l.entry_id from alert_log l join alerts a on a.id = l.alert_id where a.rule = 'launch-without-response' and a.day = 19786")" \
  "^alert 6$"

# ---- a corrected date moves an exercise out of the window, and back ----
out=$(V amend 9 --date 2024-05-20 --reason "misdated by the agency")
like "amend: says what it changed" "$out" "^entry 9 corrected"
is "nineteen days after the launch: the pairing is retracted" "$(state launch-then-exercise 8)" retracted
like "... the reason names the correction" \
  "$(sq "select retract_reason from alerts where rule = 'launch-then-exercise' and state = 'retracted' and day = 19853")" \
  "^entry 9 corrected: misdated by the agency$"
V amend 9 --date 2024-05-12 >/dev/null
is "eleven days: the pairing is in force again, the same alert" "$(state launch-then-exercise 8)" active
is "... at version 3" \
  "$(sq "select version from alerts where rule = 'launch-then-exercise' and day = 19855")" 3
is "the entry is version 3, its first two versions kept" \
  "$(sq "select e.version || ':' || group_concat(v.date, ',') from entries e join entry_versions v on v.entry_id = e.id where e.id = 9")" \
  "3:2024-05-10,2024-05-20"
hist=$("$VIGIL" show --db "$DB" --history 9)
like "show --history lists the earlier versions, with who and why" "$hist" \
  "  1  2024-05-10, replaced [0-9T:-]+Z by cli: misdated by the agency"
like "... and says the current one" "$hist" "version +3 \\(corrected; its earlier versions below\\)"
is "show --json has the versions" \
  "$("$VIGIL" show --db "$DB" --json 9 | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["version"], [v["date"] for v in o["versions"]])')" \
  "3 ['2024-05-10', '2024-05-20']"

# ---- the same outcome as a clean ingest of the final versions ----
sed -e '1d' -e '6d' -e 's/^2024-05-10:/2024-05-12:/' "$T/a.txt" >"$T/final.txt"
"$VIGIL" ingest -q --db "$T/clean.db" --rules "$RULES" "$T/final.txt" 2>>"$T/stderr"
is "the alerts in force equal those of a clean ingest of the final versions" \
  "$(in_force "$DB")" "$(in_force "$T/clean.db")"

# ---- refused, with the reason ----
out=$("$VIGIL" retract --db "$DB" --rules "$RULES" 999 --reason gone 2>&1)
is "retract of an unknown entry: exit status 1, as show says of one" "$?" 1
is "... saying so" "$out" "vigil retract: entry 999: there is no such entry"
out=$("$VIGIL" amend --db "$DB" --rules "$RULES" 1 --text "x" 2>&1)
is "amend of a retracted entry: exit status 1 (refused)" "$?" 1
is "... saying so" "$out" "vigil amend: entry 1: it is retracted: it cannot be corrected"
out=$("$VIGIL" amend --db "$DB" --rules "$RULES" 3 --date 2024-01-24 \
  --text "North Korea fires cruise missiles off its west coast." 2>&1)
is "a correction that would make it another entry: exit status 1 (refused)" "$?" 1
is "... naming that entry" "$out" "vigil amend: entry 3: corrected so, it would say what entry 4 says"
"$VIGIL" amend --db "$DB" 3 >/dev/null 2>&1
is "amend with nothing to change: usage, exit status 2" "$?" 2
"$VIGIL" retract --db "$DB" 3 >/dev/null 2>&1
is "retract without a reason: exit status 2" "$?" 2
printf '%s\n' '{"amends": "three", "text": "x"}' '{"retracts": 3, "text": "x"}' \
  '{"amends": 4, "retracts": 3}' >"$T/bad.jsonl"
"$VIGIL" ingest --db "$DB" --rules "$RULES" "$T/bad.jsonl" >"$T/bad.out" 2>"$T/bad.err"
is "bad correction records: exit status 1 (rejected lines)" "$?" 1
is "... each named with its line and why" "$(cat "$T/bad.err")" \
  "$(printf '%s\n' \
    "$T/bad.jsonl:1: \"amends\" must be the id of an entry (a whole number, 1 or more)" \
    "$T/bad.jsonl:2: a retraction names the entry and a reason, nothing else" \
    "$T/bad.jsonl:3: a record either \"amends\" or \"retracts\" an entry, not both")"

# ---- through the daemon: the socket, the HTTP API, the sinks ----
start_daemon --rules "$RULES" --config "$T/vigil.conf" || done_testing
r=$(printf '%s\n' '{"retracts": 3, "reason": "withdrawn by the agency"}' \
  '{"amends": 4, "date": "2024-01-25"}' '{"retracts": 3}' | send_unix)
is "socket: each record's reply says what it did" "$r" "$(printf 'retracted 3\ncorrected 4\nduplicate 3')"
check "the daemon's sinks get the retraction" \
  wait_running 60 grep -q '"state":"retracted","reason":"entry 3 retracted: withdrawn by the agency"' "$JSONL"
timeout 300 curl -sN "$HTTP/v1/alerts/stream?since=0" >"$T/sse.out" 2>/dev/null &
sse=$!
# retract_event: the stream holds a retract event of an alert taken back by entry 3.
retract_event() {
  grep -A1 '^event: retract$' "$T/sse.out" | grep -q '"state":"retracted","reason":"entry 3 retracted'
}
check "the live stream tells a retraction as a retract event" wait_for 60 retract_event
kill "$sse" 2>/dev/null
body=$(timeout 120 curl -s -H 'Content-Type: application/x-ndjson' --data-binary '{"amends": 8, "text": "North Korea fires two ballistic missiles from near Pyongyang."}' \
  "$HTTP/v1/entries")
is "HTTP: POST /v1/entries takes a correction record" \
  "$(printf '%s' "$body" | python3 -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(r["status"], r["id"])')" \
  "corrected 8"
is "... the entry says the new text" "$(sq 'select text from entries where id = 8')" \
  "North Korea fires two ballistic missiles from near Pyongyang."
stop_daemon
is "the daemon stopped cleanly" "$DRC" 0
check_sanitizers "$T/stderr"

# ---- the property: random changes in random order equal a clean run ----
seeds=12
[ -n "${VIGIL_LONG:-}" ] && seeds=150
mkdir -p "$T/prop"
python3 "$E2E/corrections_property.py" "$VIGIL" "$T/prop" "$seeds" >"$T/prop.out" 2>&1
is "random corrections and retractions: the alerts in force equal a clean run, $seeds seeds" \
  "$(grep -c '^ok' "$T/prop.out")" "$seeds"
grep '^not ok' "$T/prop.out" | head -3 | while IFS= read -r l; do diag "$l"; done

done_testing

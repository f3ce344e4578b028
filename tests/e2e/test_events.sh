#!/bin/sh
# End-to-end: one event from many reports. With the rules of
# tests/fixtures/events/rules.lua (event tags `launch` and `reaction`, the
# descriptive tag `actor:north-korea`, a threshold of three launches in 30
# days), three reports of one launch in other words, by three sources over
# two days, are one event: the threshold does not fire on them, fires once
# two more launches come, and its alert names every report. The groups and
# their ids are the same whatever order the entries arrive in (all in one
# run, backwards, or a run per entry), a report like two groups merges them
# when it arrives last (and the threshold's count of events follows), a
# later run, `vigil replay` and a daemon restarted half-way keep the groups
# (the daemon's are those of `vigil ingest`), two launches of one day in
# unrelated words stay two events, and entries with different event tags
# are never one. `vigil show` lists an event's reports, in text and JSON,
# and the weekly digest lists the launch once, with its three sources.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! python3 is needed to read JSON (make test-deps installs it)"
  exit 1
fi

EV=$FIXTURES/events
RULES_EV=$T/rules
mkdir -p "$RULES_EV"
cp "$EV/rules.lua" "$RULES_EV/"

# cli NAME DB ARG...: runs `vigil ARG... --db DB` with its output in
# $T/NAME.out and errors in $T/NAME.err; sets rc.
_cli_errs=""
cli() {
  _name=$1
  _db=$2
  shift 2
  timeout 300 "$VIGIL" "$@" --db "$_db" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}

# ingest NAME DB FILE...: `vigil ingest` of JSON lines with these rules.
ingest() {
  _n=$1
  _d=$2
  shift 2
  cli "$_n" "$_d" ingest --rules "$RULES_EV" --format json "$@"
  is "vigil ingest ($_n): exit status 0" "$rc" 0
}

# groups DB: each grouped entry as "event<TAB>date<TAB>source", sorted: the
# same for two databases holding the same groups under the same ids.
groups() {
  sq "$1" "select x.event, e.date, e.source from entry_events x join entries e
             on e.id = x.entry_id order by 1, 2, 3"
}

# events_of DB DATE...: how many events the entries of those dates report.
events_of() {
  _db=$1
  shift
  _in=$(printf "'%s'," "$@")
  sq "$_db" "select count(distinct x.event) from entry_events x join entries e
               on e.id = x.entry_id where e.date in (${_in%,})"
}

# ---- three reports of one launch count once ----

DB1=$T/one.db
ingest launch "$DB1" "$EV/launch.jsonl"
is "the three reports are grouped" "$(sq "$DB1" 'select count(*) from entry_events')" 3
is "... into one event" "$(events_of "$DB1" 2023-03-12 2023-03-13)" 1
is "... so the threshold does not fire on three reports of one launch" \
  "$(sq "$DB1" 'select count(*) from alerts')" 0
ingest later "$DB1" "$EV/later.jsonl"
is "a second launch: two events, still no alert" "$(sq "$DB1" 'select count(*) from alerts')" 0
ingest third "$DB1" "$EV/third.jsonl"
is "a third launch: one alert" "$(sq "$DB1" "select count(*) from alerts where rule = 'three-launches'")" 1
is "... that counts three events" "$(sq "$DB1" "select count from alerts where rule = 'three-launches'")" 3
is "... and names all five reports" \
  "$(sq "$DB1" "select group_concat(entry_id) from (select ae.entry_id from alert_entries ae
                 join alerts a on a.id = ae.alert_id where a.rule = 'three-launches' order by 1)")" \
  "1,2,3,4,5"

# ---- vigil show lists the reports ----

cli show "$DB1" show 2
is "vigil show 2: exit status 0" "$rc" 0
like "... names the event and its three reports" "$(cat "$T/show.out")" "^event -?[0-9]+: 3 reports$"
check "... entry 1 of wire-a" grep -Eq '^  entry 1  2023-03-12  wire-a$' "$T/show.out"
check "... entry 2 of daily-c" grep -Eq '^  entry 2  2023-03-12  daily-c$' "$T/show.out"
check "... entry 3 of agency-d" grep -Eq '^  entry 3  2023-03-13  agency-d$' "$T/show.out"
cli show-json "$DB1" show --json 3 4
is "vigil show --json 3 4: exit status 0" "$rc" 0
is "... gives the event's reports, and the other launch alone" "$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)["event"]
    print(ev["grouped"], [(r["id"], r["date"], r["source"]) for r in ev["reports"]])
' "$T/show-json.out")" "True [(1, '2023-03-12', 'wire-a'), (2, '2023-03-12', 'daily-c'), (3, '2023-03-13', 'agency-d')]
True [(4, '2023-03-16', 'wire-a')]"
is "... and the event id is the one stored" \
  "$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readline())["event"]["id"])' \
     "$T/show-json.out")" "$(sq "$DB1" 'select event from entry_events where entry_id = 3')"

# ---- the digest lists the event once ----

cli digest "$DB1" digest weekly --at 2023-03-14 --out "$T/digest"
is "vigil digest weekly --at 2023-03-14: exit status 0" "$rc" 0
MD=$T/digest/weekly-2023-03-07_2023-03-13.md
check "... lists one launch" grep -q '^## Launches (1)$' "$MD"
check "... reported by the three sources" grep -q '(reported by wire-a, daily-c, agency-d)' "$MD"
check "... and counts one launch event" grep -q '^| launch | 1 | 0 |' "$MD"

# ---- the same groups whatever the order ----

cat "$EV/launch.jsonl" "$EV/later.jsonl" "$EV/third.jsonl" "$EV/groups.jsonl" \
  "$EV/bridge.jsonl" >"$T/all.jsonl"
ingest forward "$T/fwd.db" "$T/all.jsonl"
awk '{ l[NR] = $0 } END { for (i = NR; i > 0; i--) print l[i] }' "$T/all.jsonl" >"$T/backward.jsonl"
ingest backward "$T/bwd.db" "$T/backward.jsonl"
groups "$T/fwd.db" >"$T/fwd.groups"
groups "$T/bwd.db" >"$T/bwd.groups"
is "forward and backward: every launch report is grouped" "$(line_count "$T/fwd.groups")" 13
check "... into the same groups under the same ids" diff -u "$T/fwd.groups" "$T/bwd.groups"
# A run per entry, in another order: merges across transactions.
for n in 9 3 1 12 6 2 11 8 4 13 10 5 7; do
  sed -n "${n}p" "$T/all.jsonl" >"$T/line.jsonl"
  timeout 300 "$VIGIL" ingest --rules "$RULES_EV" --format json --db "$T/each.db" "$T/line.jsonl" \
    >/dev/null 2>>"$T/each.err" || echo "ingest of line $n failed" >>"$T/each.err"
done
_cli_errs="$_cli_errs $T/each.err"
groups "$T/each.db" >"$T/each.groups"
check "a run per entry in a shuffled order: the same groups" diff -u "$T/fwd.groups" "$T/each.groups"
is "... and the threshold's tally counts each event once in each" \
  "$(sq "$T/each.db" "select sum(events) from mark_spans where rule = 'three-launches'")" \
  "$(sq "$T/fwd.db" "select sum(events) from mark_spans where rule = 'three-launches'")"
is "... which is the number of launch events" \
  "$(sq "$T/fwd.db" "select sum(events) from mark_spans where rule = 'three-launches'")" \
  "$(sq "$T/fwd.db" 'select count(distinct event) from entry_events')"

# ---- a bridging entry that arrives last merges two groups ----

DB2=$T/bridge.db
ingest groups "$DB2" "$EV/groups.jsonl"
is "before the bridge: the Sohae reports are one event, the lift-off another" \
  "$(events_of "$DB2" 2023-04-01 2023-04-02)" 2
is "... and the threshold's tally holds two events there" \
  "$(sq "$DB2" "select sum(events) from mark_spans where rule = 'three-launches'
                  and day_first between 19448 and 19449")" 2
ingest bridge "$DB2" "$EV/bridge.jsonl"
is "a report like both arrives: one event" "$(events_of "$DB2" 2023-04-01 2023-04-02)" 1
is "... counted once by the threshold" \
  "$(sq "$DB2" "select sum(events) from mark_spans where rule = 'three-launches'
                  and day_first between 19448 and 19449")" 1
is "... whose marks all carry the merged event" \
  "$(sq "$DB2" "select count(distinct m.event) from marks m join entries e on e.id = m.entry_id
                  where e.date in ('2023-04-01', '2023-04-02')")" 1
SOHAE=$(sq "$T/fwd.db" "select event from entry_events x join entries e on e.id = x.entry_id
                        where e.source = 'agency-d' and e.date = '2023-04-02'")
is "... the same id as in the other orders" \
  "$(groups "$DB2" | awk -F '|' -v id="$SOHAE" '$1 == id' | wc -l | tr -d ' ')" 4

# ---- different events stay apart ----

is "two launches of one day in unrelated words: two events" "$(events_of "$DB2" 2023-05-01)" 2
is "the same words with other event tags (launch, and launch and reaction): two events" \
  "$(events_of "$DB2" 2023-06-01)" 2
is "... the kinds recorded" \
  "$(sq "$DB2" "select group_concat(kind, ' | ') from (select kind from entry_events x
                  join entries e on e.id = x.entry_id where e.date = '2023-06-01' order by 1)")" \
  "launch | launch,reaction"

# ---- a later run and vigil replay keep the groups ----

groups "$DB1" >"$T/before.groups"
printf '%s\n' '{"date":"2023-03-13","source":"wire-b","text":"Two cruise missiles flew from a submarine, the South said."}' \
  >"$T/fourth.jsonl"
ingest fourth "$DB1" "$T/fourth.jsonl"
is "a fourth report in a later run joins the stored event" \
  "$(events_of "$DB1" 2023-03-12 2023-03-13)" 1
is "... which now has four reports" \
  "$(sq "$DB1" "select count(*) from entry_events where event = (select event from entry_events
                  where entry_id = 1)")" 4
groups "$DB1" >"$T/restart.groups"
cli replay "$DB1" replay --rules "$RULES_EV"
is "vigil replay: exit status 0" "$rc" 0
groups "$DB1" >"$T/replay.groups"
check "vigil replay: the same groups" diff -u "$T/restart.groups" "$T/replay.groups"
is "... and still one alert, naming the four reports and the two launches" \
  "$(sq "$DB1" "select count(*) from alerts a join alert_entries ae on ae.alert_id = a.id
                  where a.rule = 'three-launches'")" 6
cli replay-bwd "$T/bwd.db" replay --rules "$RULES_EV"
groups "$T/bwd.db" >"$T/bwd-replay.groups"
check "vigil replay of the backward store: the groups of a fresh ingest" \
  diff -u "$T/fwd.groups" "$T/bwd-replay.groups"

# ---- the daemon groups as vigil ingest does, and keeps it across a restart ----

DB=$T/daemon.db
# shellcheck disable=SC2034 # read by start_daemon: no spool directory
SPOOL=
head -n 8 "$T/all.jsonl" >"$T/daemon-first.jsonl"
tail -n +9 "$T/all.jsonl" >"$T/daemon-rest.jsonl"
if start_daemon --rules "$RULES_EV" --format json 2>>"$T/shell.err"; then
  send_unix <"$T/daemon-first.jsonl" >"$T/daemon-replies1"
  is "daemon: the first eight lines are each answered 'ok ID'" \
    "$(count_matching '^ok [0-9]+$' "$T/daemon-replies1")" 8
  stop_daemon TERM
fi
if start_daemon --rules "$RULES_EV" --format json 2>>"$T/shell.err"; then
  send_unix <"$T/daemon-rest.jsonl" >"$T/daemon-replies2"
  is "daemon restarted: the other five are each answered 'ok ID'" \
    "$(count_matching '^ok [0-9]+$' "$T/daemon-replies2")" 5
  stop_daemon TERM
fi
groups "$DB" >"$T/daemon.groups"
check "the daemon, across a restart: the groups of vigil ingest" \
  diff -u "$T/fwd.groups" "$T/daemon.groups"

# ---- the sanitizers ----

# shellcheck disable=SC2086 # the list of files, split on purpose
# ---- launches on successive days are as many events ----
# One source tells each launch once: alike lines of a daily chronology on
# four days are four events, and the threshold fires on them; two of one
# day from one feed are two. Reports from
# other sources a day apart join an event, but never one begun more than a
# day before: no chain of days makes one event of a week of launches.
cat >"$T/daily.jsonl" <<'EOF'
{"date":"2022-11-01","source":"daily","text":"North Korea fires a ballistic missile into the sea off its east coast."}
{"date":"2022-11-02","source":"daily","text":"North Korea fires a ballistic missile into the sea off its east coast."}
{"date":"2022-11-03","source":"daily","text":"North Korea fires a ballistic missile into the sea off its east coast."}
{"date":"2022-11-04","source":"daily","text":"North Korea fires a ballistic missile into the sea off its east coast."}
EOF
cli daily "$T/daily.db" ingest --rules "$RULES_EV" "$T/daily.jsonl"
is "a daily chronology: exit status 0" "$rc" 0
is "... four launches on four days from one source are four events" \
  "$(sq "$T/daily.db" 'select count(distinct event) from entry_events')" 4
is "... and the threshold of three launches fires on the third and on the fourth" \
  "$(sq "$T/daily.db" "select count(*) from alerts where rule = 'three-launches'")" 2
cat >"$T/oneday.jsonl" <<'EOF'
{"date":"2022-11-02","source":"feed","text":"North Korea fires a ballistic missile into the sea off its east coast, the morning launch."}
{"date":"2022-11-02","source":"feed","text":"North Korea fires a ballistic missile into the sea off its east coast, the evening launch."}
EOF
cli oneday "$T/oneday.db" ingest --rules "$RULES_EV" "$T/oneday.jsonl"
is "two alike launches of one day from one source are two events" \
  "$(sq "$T/oneday.db" 'select count(distinct event) from entry_events')" 2
cat >"$T/chain.jsonl" <<'EOF'
{"date":"2022-11-01","source":"wire-a","text":"North Korea fires a ballistic missile into the sea off its east coast."}
{"date":"2022-11-02","source":"wire-b","text":"North Korea fires a ballistic missile into the sea off its east coast."}
{"date":"2022-11-03","source":"wire-c","text":"North Korea fires a ballistic missile into the sea off its east coast."}
{"date":"2022-11-04","source":"wire-d","text":"North Korea fires a ballistic missile into the sea off its east coast."}
EOF
cli chain "$T/chain.db" ingest --rules "$RULES_EV" "$T/chain.jsonl"
is "alike reports from four sources on four days: exit status 0" "$rc" 0
is "... make two events of two days each, not one of four" \
  "$(sq "$T/chain.db" 'select count(distinct event) from entry_events')" 2
is "... none spanning more than two days" \
  "$(sq "$T/chain.db" 'select max(span) from (select max(e.day_first) - min(e.day_first) as span
                        from entry_events x join entries e on e.id = x.entry_id group by x.event)')" 1

check_sanitizers "no sanitizer report in any command's errors" $_cli_errs

done_testing

#!/bin/sh
# End-to-end: correlation rules in event time, with the shipped rules. The
# chronology of tests/fixtures/correlation.txt must raise exactly the alerts
# of tests/fixtures/correlation.expected (worked out by hand; its comments
# say why), whatever order its lines arrive in, in one transaction or one
# per line, through a daemon killed with SIGKILL half-way and restarted, and
# after `vigil replay`; and, through three routes at once (the spool, `vigil
# ingest` and the socket), the same alerts, each naming every report of the
# events it names. The threshold rule "repeated-launches" has a quiet
# period and so depends on arrival order by design: it is compared exactly
# only where the lines arrive in date order, and elsewhere only has to fire.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

FIX=$FIXTURES/correlation.txt
TAB=$(printf '\t')
CORRELATIONS="'launch-then-exercise', 'repeated-launches', 'launch-without-response', 'new-weapon'"
ORDERED=repeated-launches # the rule compared only in date order
NLINES=$(line_count "$FIX")

# The expectations, without comments: all of them, and those that hold in
# any arrival order.
grep -v '^#' "$FIXTURES/correlation.expected" | grep -v '^$' | sort >"$T/expected"
grep -v "^$ORDERED$TAB" "$T/expected" >"$T/expected-any"

# cli NAME ARG...: runs `vigil ARG...` with its output in $T/NAME.out and
# $T/NAME.err (read by the sanitizer check at the end); sets rc.
_cli_errs=""
cli() {
  _name=$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' -)
  shift
  "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}

# An awk function: an entry as its date and the first five words of its text.
FIVE_WORDS='function label(date, text,    w, n, i, s) {
  s = date
  n = split(text, w, " ")
  for (i = 1; i <= n && i <= 5; i++) s = s " " w[i]
  return s
}'

# render DB [all]: the alerts of DB by the correlation rules (with "all": by
# every rule), one a line: the rule, a tab, and the entries it names, each
# as its date and the first five words of its text, sorted and joined by
# " | "; the lines sorted. The form of correlation.expected.
render() {
  _where="where a.rule in ($CORRELATIONS)"
  [ "${2:-}" = all ] && _where=""
  sqlite3 -batch -cmd '.timeout 60000' -separator "$TAB" "$1" \
    "select a.id, a.rule, e.date, e.text from alerts a
       left join alert_entries ae on ae.alert_id = a.id
       left join entries e on e.id = ae.entry_id $_where" |
    awk -F "$TAB" "$FIVE_WORDS"'{ print $1 FS $2 FS label($3, $4) }' |
    sort -t "$TAB" -k1,1n -k3,3 |
    awk -F "$TAB" '
      $1 != id { if (id != "") print line; id = $1; line = $2 FS $3; next }
      { line = line " | " $3 }
      END { if (id != "") print line }' |
    sort
}

# same_lines DESCRIPTION GOT EXPECTED: passes when the two files hold the
# same lines; otherwise shows the lines missing from GOT and those extra.
same_lines() {
  if diff "$3" "$2" >"$T/.diff" 2>&1; then
    ok "$1"
  else
    fail "$1" "$(sed -n 's/^< /missing: /p; s/^> /extra:   /p; /^diff/p' "$T/.diff")"
  fi
}

# ingest_into NAME DB FILE: `vigil ingest` of FILE into a fresh DB with the
# shipped rules. Two checks: exit status 0, and every line stored.
ingest_into() {
  rm -f "$2"
  cli "$1" ingest --db "$2" --rules "$RULES" "$3"
  is "$1: vigil ingest exits 0" "$rc" 0
  is "$1: all $NLINES lines stored" "$(sq "$2" 'select count(*) from entries')" "$NLINES"
}

# check_any_order NAME DB: the checks for an ingest in some other order: the
# order-independent alerts equal the expectations, and the threshold rule
# fired at least once.
check_any_order() {
  render "$2" >"$T/$1.alerts"
  grep -v "^$ORDERED$TAB" "$T/$1.alerts" >"$T/$1.any"
  same_lines "$1: the same alerts as in date order (but $ORDERED)" "$T/$1.any" "$T/expected-any"
  n=$(grep -c "^$ORDERED$TAB" "$T/$1.alerts")
  if [ "$n" -ge 1 ]; then
    ok "$1: $ORDERED fired ($n alerts)"
  else
    fail "$1: $ORDERED fired" "no alert of $ORDERED"
  fi
}

# integrity: PRAGMA integrity_check of $DB, "ok" when it is sound.
integrity() {
  sq 'PRAGMA integrity_check(100000)' 2>&1
}

# ---- the expectations and the tags they rest on ----

bad=$(grep -v -E "^(launch-then-exercise|repeated-launches|launch-without-response|new-weapon)${TAB}[^${TAB}]+\$" "$T/expected")
is "correlation.expected: every line is RULE<tab>ENTRIES of a correlation rule" "$bad" ""
is "correlation.expected: 19 alerts" "$(line_count "$T/expected")" 19

# ---- a. date order, one transaction ----

DDB=$T/date.db
ingest_into "date order" "$DDB" "$FIX"
DB=$DDB
is "correlation.txt is in date order (by the last day of each date)" \
  "$(sq 'select count(*) from entries a join entries b on b.id = a.id + 1 where b.day_last < a.day_last')" 0
is "13 entries are North Korean launches" \
  "$(sq "select count(*) from tags l join tags n on n.entry_id = l.entry_id
         where l.tag = 'launch' and n.tag = 'actor:north-korea'")" 13
is "7 entries are allied shows of force" \
  "$(sq "select count(*) from tags where tag = 'show-of-force'")" 7
is "the North Korean drill that names the South is the North's drill, no allied show of force" \
  "$(sq "select group_concat(tag, ' ') from (select t.tag from tags t join entries e on e.id = t.entry_id
         where e.text like 'Kim Jong Un oversees a command post drill%' order by t.tag)")" \
  "actor:north-korea actor:south-korea by:north-korea exercise north-korea-drill"
render "$DDB" >"$T/date.alerts"
for rule in launch-then-exercise repeated-launches launch-without-response new-weapon; do
  grep "^$rule$TAB" "$T/date.alerts" >"$T/got.$rule"
  grep "^$rule$TAB" "$T/expected" >"$T/want.$rule"
  same_lines "date order: the $rule alerts are the expected $(line_count "$T/want.$rule")" \
    "$T/got.$rule" "$T/want.$rule"
done
same_lines "date order: the alerts equal correlation.expected" "$T/date.alerts" "$T/expected"

# ---- b. reverse and shuffled orders, one transaction each ----

awk '{ l[NR] = $0 } END { for (i = NR; i >= 1; i--) print l[i] }' "$FIX" >"$T/reverse.txt"
ingest_into "reverse order" "$T/reverse.db" "$T/reverse.txt"
check_any_order "reverse order" "$T/reverse.db"

for seed in 1 2 3 4; do
  awk -v seed="$seed" 'BEGIN { srand(seed) } { print rand() "\t" $0 }' "$FIX" | sort | cut -f2- \
    >"$T/shuffled-$seed.txt"
  isnt "shuffle $seed: the lines are in another order" \
    "$(cksum <"$T/shuffled-$seed.txt")" "$(cksum <"$FIX")"
  ingest_into "shuffle $seed" "$T/shuffled-$seed.db" "$T/shuffled-$seed.txt"
  check_any_order "shuffle $seed" "$T/shuffled-$seed.db"
done

# ---- c. date order, one `vigil ingest` (and transaction) per line ----

LDB=$T/per-line.db
rm -f "$LDB"
k=0
failed=""
while IFS= read -r line; do
  k=$((k + 1))
  printf '%s\n' "$line" >"$T/one-line.txt"
  cli "line-$k" ingest --db "$LDB" --rules "$RULES" "$T/one-line.txt"
  [ "$rc" -eq 0 ] || failed="$failed $k(status $rc)"
done <"$FIX"
is "one line per run: every vigil ingest exits 0" "$failed" ""
is "one line per run: all $NLINES lines stored" "$(sq "$LDB" 'select count(*) from entries')" "$NLINES"
render "$LDB" >"$T/per-line.alerts"
same_lines "one line per run: the alerts equal correlation.expected" "$T/per-line.alerts" "$T/expected"

# ---- d. a daemon killed half-way, restarted, and sent everything again ----

DB=$T/daemon.db
# shellcheck disable=SC2034 # read by start_daemon: no spool directory
SPOOL=
head -n 10 "$FIX" >"$T/first.txt"
tail -n +11 "$FIX" >"$T/rest.txt"
# (Its stderr is kept apart: the shell that waits for it says "Killed".)
start_daemon --rules "$RULES" 2>>"$T/shell.err"
# The first ten lines one connection each, each answered before the next.
: >"$T/replies1"
while IFS= read -r line; do
  printf '%s\n' "$line" | send_unix >>"$T/replies1"
done <"$T/first.txt"
is "daemon: the first 10 lines, sent one at a time, are each answered 'ok ID'" \
  "$(count_matching '^ok [0-9]+$' "$T/replies1")" 10
# The rest on one connection, a line every 0.1 s; SIGKILL once a few of
# them are answered, in the middle of the stream: the client holds back its
# lines after the eighth until the daemon is killed, however slow the
# machine is to see the replies.
(
  k=0
  while IFS= read -r line; do
    k=$((k + 1))
    [ $k -eq 9 ] && wait_for 600 test -f "$T/killed"
    printf '%s\n' "$line"
    sleep 0.1
  done <"$T/rest.txt" | timeout 900 socat -t 300 - "UNIX-CONNECT:$SOCK" >"$T/replies2" 2>>"$T/socat.err"
  echo finished >"$T/client2.done"
) &
bg_started $!
wait_running 120 sh -c "[ -s '$T/replies2' ] && [ \$(wc -l <'$T/replies2') -ge 3 ]"
stop_daemon KILL
: >"$T/killed"
is "daemon: SIGKILL ends it (status 137)" "$DRC" 137
check "daemon: the streaming client finishes" wait_for 120 test -f "$T/client2.done"
cat "$T/replies1" "$T/replies2" >"$T/replies-before"
acked=$(count_matching '^ok [0-9]+$' "$T/replies-before")
diag "killed after $acked of $NLINES lines were answered"
if [ "$acked" -gt 10 ] && [ "$acked" -lt "$NLINES" ]; then
  ok "daemon: killed part way through the stream ($acked answered)"
else
  fail "daemon: killed part way through the stream" "$acked of $NLINES lines answered"
fi
is "daemon: every reply before the kill is 'ok ID'" "$(line_count "$T/replies-before")" "$acked"
sed -n 's/^ok //p' "$T/replies-before" | sort >"$T/acked-ids"
sq 'select id from entries' | sort >"$T/stored-ids"
is "daemon: every acknowledged line is in the database" \
  "$(comm -23 "$T/acked-ids" "$T/stored-ids" | wc -l | tr -d ' ')" 0
is "daemon: the database after SIGKILL passes integrity_check" "$(integrity)" ok

start_daemon --rules "$RULES"
send_unix <"$FIX" >"$T/replies3"
is "daemon restarted: every line sent again is answered 'ok' or 'duplicate'" \
  "$(count_matching '^(ok|duplicate) [0-9]+$' "$T/replies3")" "$NLINES"
sed 's/^ok /duplicate /' "$T/replies-before" >"$T/expected-dups"
head -n "$acked" "$T/replies3" >"$T/replies3-head"
check "daemon restarted: the lines answered before the kill are duplicates of the same ids" \
  cmp "$T/expected-dups" "$T/replies3-head"
stop_daemon TERM
is "daemon restarted: exit status 0 on SIGTERM" "$DRC" 0
is "daemon: all $NLINES lines stored once" "$(sq 'select count(*) from entries')" "$NLINES"
render "$DB" >"$T/daemon.alerts"
same_lines "daemon: the alerts equal correlation.expected" "$T/daemon.alerts" "$T/expected"
is "daemon: no alert is stored twice (alerts = distinct renderings)" \
  "$(sq "select count(*) from alerts where rule in ($CORRELATIONS)")" \
  "$(sort -u "$T/daemon.alerts" | wc -l | tr -d ' ')"
render "$DB" all >"$T/daemon.all"
render "$DDB" all >"$T/date.all"
same_lines "daemon: every alert, of every rule, as with vigil ingest in date order" \
  "$T/daemon.all" "$T/date.all"
is "daemon: the database passes integrity_check" "$(integrity)" ok

# ---- e. vigil replay over the date-order database ----

DB=$DDB
# snapshot FILE: the alerts, with every column, and the entries they name.
snapshot() {
  {
    sq 'select * from alerts order by id'
    sq 'select * from alert_entries order by alert_id, entry_id'
  } >"$1"
}
snapshot "$T/before-replay"
count_before=$(sq 'select count(*) from alerts')
sq 'select * from absences order by rule, entry_id' >"$T/absences-before"
cli replay1 replay --db "$DDB" --rules "$RULES"
is "vigil replay: exit status 0" "$rc" 0
like "... and it raises no new alert" "$(cat "$T/replay1.out")" ': 0 new alerts, 0 amended$'
snapshot "$T/after-replay1"
same_lines "... and the alerts and their entries are unchanged" "$T/after-replay1" "$T/before-replay"
is "... as is their number" "$(sq 'select count(*) from alerts')" "$count_before"
sq 'select * from absences order by rule, entry_id' >"$T/absences-after"
same_lines "... and the absences are decided as before" "$T/absences-after" "$T/absences-before"
render "$DDB" >"$T/replayed.alerts"
same_lines "... so they still equal correlation.expected" "$T/replayed.alerts" "$T/expected"
cli replay2 replay --db "$DDB" --rules "$RULES"
is "vigil replay a second time: exit status 0" "$rc" 0
like "... and it raises no new alert" "$(cat "$T/replay2.out")" ': 0 new alerts, 0 amended$'
snapshot "$T/after-replay2"
same_lines "... and changes nothing" "$T/after-replay2" "$T/after-replay1"
is "... and the database passes integrity_check" "$(integrity)" ok

# ---- f. vigil alerts --json names both ends of each sequence ----

cli json alerts --db "$DDB" --json --rule launch-then-exercise
is "vigil alerts --json --rule launch-then-exercise: exit status 0" "$rc" 0
grep "^launch-then-exercise$TAB" "$T/expected" >"$T/want.seq"
is "... lists one object per expected alert" "$(line_count "$T/json.out")" "$(line_count "$T/want.seq")"
: >"$T/json.rendered"
: >"$T/json.bad"
while IFS= read -r obj; do
  id=$(printf '%s\n' "$obj" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
  ids=$(printf '%s\n' "$obj" | sed -n 's/.*"entries":\[\([0-9,]*\)\].*/\1/p')
  case $ids in
  '' | *[!0-9,]* | ,* | *,,* | *,)
    echo "alert ${id:-?}: no entry ids in: $obj" >>"$T/json.bad"
    continue
    ;;
  esac
  roles=$(sq "select sum(tag = 'launch') > 0 and sum(tag = 'exercise') > 0
              from tags where entry_id in ($ids)")
  [ "$roles" = 1 ] || echo "alert $id: entries $ids lack a launch or an exercise" >>"$T/json.bad"
  stored=$(sq "select group_concat(entry_id) from (select entry_id from alert_entries
               where alert_id = ${id:-0} order by entry_id)")
  [ "$stored" = "$ids" ] || echo "alert $id: json entries $ids, stored $stored" >>"$T/json.bad"
  sq "select date || '$TAB' || text from entries where id in ($ids)" |
    awk -F "$TAB" "$FIVE_WORDS"'{ print label($1, $2) }' | sort |
    awk -v tab="$TAB" '{ line = NR == 1 ? $0 : line " | " $0 }
      END { print "launch-then-exercise" tab line }' >>"$T/json.rendered"
done <"$T/json.out"
is "... each naming a launch and an exercise, as stored in alert_entries" "$(cat "$T/json.bad")" ""
sort -o "$T/json.rendered" "$T/json.rendered"
same_lines "... and its entry ids are those of the expected launches and exercise" \
  "$T/json.rendered" "$T/want.seq"

# ---- g. one chronology through three routes ----

# The fixture through the spool of a daemon, then through `vigil ingest`,
# then over the daemon's socket as JSON records of the source "wire", with
# ISO dates and each text without its final period. Each route stores
# entries of its own, since their sources differ, but an event reported
# three times is one event: the alerts are those of correlation.expected,
# each naming the three reports of every event it names (no launch counts
# three times towards repeated-launches).
DB=$T/routes.db
SPOOL=$T/routes-spool
start_daemon --rules "$RULES"
cp "$FIX" "$SPOOL/.chronology.txt" && mv "$SPOOL/.chronology.txt" "$SPOOL/chronology.txt"
check "routes: the daemon ingests the spool file" \
  wait_running 30 test -f "$SPOOL/done/chronology.txt"
stop_daemon TERM
cli routes-ingest ingest --db "$DB" --rules "$RULES" "$FIX"
is "routes: vigil ingest of the same file exits 0" "$rc" 0
like "... and stores every line again" "$(cat "$T/routes-ingest.out")" "^$NLINES stored, 0 dup"
sq "select json_object('date', date, 'text', rtrim(text, '.'), 'source', 'wire')
    from entries where source = 'spool' order by id" >"$T/wire.jsonl"
start_daemon --rules "$RULES"
send_unix <"$T/wire.jsonl" >"$T/wire.replies"
is "routes: every JSON record over the socket is answered 'ok'" \
  "$(count_matching '^ok [0-9]+$' "$T/wire.replies")" "$NLINES"
stop_daemon TERM
is "routes: each line is stored three times" "$(sq 'select count(*) from entries')" \
  "$((NLINES * 3))"
# Every entry named three times over: "A | B" becomes "A | A | A | B | B | B".
awk -F "$TAB" '{ n = split($2, e, " [|] "); line = ""
  for (i = 1; i <= n; i++) for (k = 0; k < 3; k++) line = line (line == "" ? "" : " | ") e[i]
  print $1 FS line }' "$T/expected" | sort >"$T/expected-thrice"
render "$DB" >"$T/routes.alerts"
same_lines "routes: the expected alerts, each naming the three reports of its events" \
  "$T/routes.alerts" "$T/expected-thrice"
is "routes: repeated-launches says how many launches it counted" \
  "$(sq "select group_concat(count || ':' || message, '; ') from
         (select count, message from alerts where rule = 'repeated-launches' order by day)")" \
  "3:3 North Korean launches within 30 days, the last on 2023-03-09; 4:4 North Korean launches within 30 days, the last on 2023-04-13"
cli routes-json alerts --db "$DB" --json --rule repeated-launches
like "routes: vigil alerts --json gives the count" "$(head -n 1 "$T/routes-json.out")" '"count":3,'
like "routes: so does the alerts file" \
  "$(grep '"rule":"repeated-launches"' alerts.jsonl | tail -n 2 | head -n 1)" '"count":3,'
is "routes: the database passes integrity_check" "$(integrity)" ok

# shellcheck disable=SC2086 # one argument per file
check_sanitizers "no sanitizer report from ingest, replay and alerts" $_cli_errs

done_testing

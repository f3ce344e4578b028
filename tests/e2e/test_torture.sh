#!/bin/sh
# End-to-end: crash torture. A chronology of a few hundred distinct lines is
# streamed into `vigil run` (with the shipped rules) by three concurrent
# clients, and the daemon is killed with SIGKILL, restarted on the same
# database, and the lines not yet acknowledged are sent again, until every
# line is acknowledged and the daemon was killed at least VIGIL_TORTURE_KILLS
# times (20 by default; 200 is the long mode). Rounds after every line is
# acknowledged send every line again, to be answered as duplicates.
#
# The kills are timed on what the test observes, never on the clock alone, so
# that a slow or busy machine makes the test longer, not weaker: a round kills
# the daemon a pseudo-random moment after the first reply of that round (so
# every round commits something), and the spool rounds a pseudo-random
# fraction of a measured batch time after a commit is seen. The rounds go on
# until the work is done, bounded by a generous wall-clock cap
# (VIGIL_TORTURE_CAP seconds for each part, 600 by default). Then: every line is stored exactly once, every acknowledgement
# names the entry holding its line, the database is sound, and the alerts
# are those of one clean `vigil ingest` of the same lines.
#
# The delays come from awk's srand(SEED) with SEED printed first; set
# VIGIL_TORTURE_SEED to replay a run's delays (the scheduling of the clients
# and the daemon still varies, and so do the measured batch times).
#
# The chronology is built so that its alerts do not depend on the order the
# lines arrive in (the rules evaluate in event time, but the threshold rule
# has a quiet period and the absence rule decides once the dates seen have
# moved past its window): launches come in clusters of three, 60 days apart,
# and the only allied drills near them come 8 days after the last launch,
# inside the sequence window (14 days) and outside the absence window (7).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! python3 is needed for the torture clients (make test-deps installs it)"
  exit 1
fi

SEED=${VIGIL_TORTURE_SEED:-$(od -An -N2 -tu2 /dev/urandom | tr -d ' \n')}
KILLS=${VIGIL_TORTURE_KILLS:-20}
CLIENTS=3
CAP=${VIGIL_TORTURE_CAP:-600} # seconds each part may take at most
MAX_ROUNDS=$((KILLS * 10 + 1000)) # a backstop; the cap ends the rounds first
TAB=$(printf '\t')
# shellcheck disable=SC2034 # read by start_daemon: no spool directory
SPOOL=
diag "seed $SEED (VIGIL_TORTURE_SEED=$SEED reproduces the delays), at least $KILLS kills"

# ---- the chronology ----

awk 'BEGIN {
  split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
  for (d = 0; d < 365; d++) {
    day = d + 1
    m = 1
    while (day > ml[m]) { day -= ml[m]; m++ }
    date[d] = sprintf("2023-%02d-%02d", m, day)
  }
  # Six clusters of launches (L: a missile, W: an ICBM), 60 days apart; an
  # allied drill (X) 8 days after the last launch of each, and another 26.
  for (c = 0; c < 6; c++) {
    s = 10 + 60 * c
    kind[s] = "L"; kind[s + 2] = "L"; kind[s + 4] = "W"; kind[s + 12] = "X"; kind[s + 30] = "X"
  }
  n = 0
  for (d = 0; d < 365; d++) {
    t = kind[d]
    if (t != "") {
      n++
      if (t == "L") txt = "North Korea launches a ballistic missile"
      else if (t == "W") txt = "North Korea test-fires a Hwasong-18 ICBM"
      else txt = "South Korea and the US hold a combined drill"
      printf "%s: %s (report %d)\n", date[d], txt, n
    }
    if (d % 5 != 3) { n++; printf "%s: Officials in Seoul discuss the economy (report %d)\n", date[d], n }
    if (d % 30 == 15) { n++; printf "%s: The US sanctions a North Korean trading company (report %d)\n", date[d], n }
  }
}' >"$T/lines.txt"
NLINES=$(line_count "$T/lines.txt")
is "the chronology: $NLINES distinct lines" "$(sort -u "$T/lines.txt" | wc -l | tr -d ' ')" "$NLINES"
# Line number, tab, text (what the entries table holds).
awk '{ t = $0; sub(/^[^:]*: /, "", t); print NR "\t" t }' "$T/lines.txt" >"$T/texts"

# render DB: every alert of DB, one a line: its rule, a tab, and the texts of
# the entries it names, sorted and joined by " | "; the lines sorted.
render() {
  sqlite3 -batch -cmd '.timeout 5000' -separator "$TAB" "$1" \
    "select a.id, a.rule, e.text from alerts a
       left join alert_entries ae on ae.alert_id = a.id
       left join entries e on e.id = ae.entry_id" |
    sort -t "$TAB" -k1,1n -k3,3 |
    awk -F "$TAB" '
      $1 != id { if (id != "") print line; id = $1; line = $2 FS $3; next }
      { line = line " | " $3 }
      END { if (id != "") print line }' |
    sort
}

# same_lines DESCRIPTION GOT EXPECTED: the two files hold the same lines.
same_lines() {
  if diff "$3" "$2" >"$T/.diff" 2>&1; then
    ok "$1"
  else
    fail "$1" "$(sed -n 's/^< /missing: /p; s/^> /extra:   /p' "$T/.diff")"
  fi
}

# ---- the clean run ----

CDB=$T/clean.db
"$VIGIL" ingest --db "$CDB" --rules "$RULES" "$T/lines.txt" >"$T/clean.out" 2>"$T/clean.err"
is "clean run: vigil ingest exits 0" "$?" 0
is "clean run: all $NLINES lines stored" "$(sq "$CDB" 'select count(*) from entries')" "$NLINES"
render "$CDB" >"$T/clean.alerts"
is "clean run: the alerts by rule are the ones the chronology is built for" \
  "$(cut -f1 "$T/clean.alerts" | uniq -c | awk '{ printf "%s%s=%s", (NR > 1 ? " " : ""), $2, $1 }')" \
  "dprk-launch=18 icbm-launch=6 launch-then-exercise=6 launch-without-response=18 new-weapon=1 repeated-launches=6 sanctions-news=12"

# ---- the torture ----

# One delay a round, in milliseconds after the round's first reply, from the
# seed.
awk -v seed="$SEED" -v n="$MAX_ROUNDS" \
  'BEGIN { srand(seed); for (i = 0; i < n; i++) print int(rand() * 401) }' >"$T/delays"

# any_reply: some client of this round has a reply.
any_reply() {
  for _f in "$T"/replies.*; do
    [ -s "$_f" ] && return 0
  done
  return 1
}

DB=$T/torture.db
: >"$T/acks"     # line number, kind (ok or duplicate), id: one a reply
: >"$T/bad-replies"
kills=0
round=0
started_at=$(date +%s)
while [ "$round" -lt "$MAX_ROUNDS" ] && [ $(($(date +%s) - started_at)) -lt "$CAP" ]; do
  # The lines not yet acknowledged; once there are none, every line again.
  cut -f1 "$T/acks" | sort -u >"$T/acked-lines"
  awk 'NR == FNR { a[$1] = 1; next } !(FNR in a) { print FNR "\t" $0 }' \
    "$T/acked-lines" "$T/lines.txt" >"$T/pending"
  if [ ! -s "$T/pending" ]; then
    [ "$kills" -ge "$KILLS" ] && break
    awk '{ print NR "\t" $0 }' "$T/lines.txt" >"$T/pending"
  fi
  round=$((round + 1))
  c=0
  while [ "$c" -lt "$CLIENTS" ]; do
    awk -F "$TAB" -v c="$c" -v n="$CLIENTS" '(NR - 1) % n == c' "$T/pending" >"$T/share.$c"
    cut -f1 "$T/share.$c" >"$T/share.$c.nums"
    cut -f2- "$T/share.$c" >"$T/share.$c.txt"
    : >"$T/replies.$c"
    rm -f "$T/client.$c.done" "$T/client.$c.connected"
    c=$((c + 1))
  done
  # (Its stderr is kept apart: the shell that waits for it says "Killed".)
  start_daemon --rules "$RULES" 2>>"$T/shell.err" || break
  c=0
  while [ "$c" -lt "$CLIENTS" ]; do
    (
      timeout 300 python3 "$E2E/torture_client.py" "$SOCK" "$T/share.$c.txt" "$T/replies.$c" \
        $((SEED * 1000 + round * CLIENTS + c)) "$T/client.$c.connected" 2>>"$T/client.err"
      echo $? >"$T/client.$c.done"
    ) &
    bg_started $!
    c=$((c + 1))
  done
  c=0
  while [ "$c" -lt "$CLIENTS" ]; do
    wait_running 60 test -f "$T/client.$c.connected" ||
      fail "round $round: client $c connects" "$(tail -n 3 "$T/client.err" 2>/dev/null)"
    c=$((c + 1))
  done
  # The delay runs from the first reply of the round: every round commits.
  wait_running 120 any_reply ||
    fail "round $round: a reply comes" "$(tail -n 5 "$DLOG")"
  delay=$(sed -n "${round}p" "$T/delays")
  sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
  stop_daemon KILL
  [ "$DRC" = 137 ] && kills=$((kills + 1))
  c=0
  got=""
  while [ "$c" -lt "$CLIENTS" ]; do
    if ! wait_for 300 test -f "$T/client.$c.done"; then
      fail "round $round: client $c ends after the kill"
    fi
    # Reply k answers line k of the share: record it, or note it as bad.
    head -n "$(line_count "$T/replies.$c")" "$T/share.$c.nums" |
      paste - "$T/replies.$c" |
      awk -F "$TAB" -v r="$round" -v c="$c" -v bad="$T/bad-replies" '
        $2 ~ /^(ok|duplicate) [0-9]+$/ { split($2, w, " "); print $1 "\t" w[1] "\t" w[2]; next }
        { print "round " r " client " c " line " $1 ": " $2 >>bad }' >>"$T/acks"
    got="$got $(line_count "$T/replies.$c")/$(line_count "$T/share.$c.nums")"
    c=$((c + 1))
  done
  echo "round $round: killed $delay ms after the first reply (status $DRC); replies per client:$got" >>"$T/rounds"
done
elapsed=$(($(date +%s) - started_at))
diag "$round rounds, $kills kills, $elapsed s; the first rounds (replies/lines sent per client):"
diag "$(head -n 3 "$T/rounds")"

cut -f1 "$T/acks" | sort -u >"$T/acked-lines"
if [ "$(line_count "$T/acked-lines")" = "$NLINES" ]; then
  ok "every line is acknowledged ($round rounds)"
else
  fail "every line is acknowledged within $CAP s" \
    "$(line_count "$T/acked-lines") of $NLINES acknowledged; the last rounds:" "$(tail -n 5 "$T/rounds")"
fi
if [ "$kills" -ge "$KILLS" ]; then
  ok "the daemon was killed with SIGKILL $kills times (at least $KILLS)"
else
  fail "the daemon was killed with SIGKILL at least $KILLS times" "$kills kills in $round rounds"
fi
is "every reply is 'ok ID' or 'duplicate ID'" "$(cat "$T/bad-replies")" ""

# ---- the database ----

is "integrity_check says ok" "$(sq 'PRAGMA integrity_check(100000)' 2>&1)" ok
is "the entries are the $NLINES lines" "$(sq 'select count(*) from entries')" "$NLINES"
is "no text is stored twice" \
  "$(sq 'select text from entries group by text having count(*) > 1' | head -n 5)" ""
sq 'select text from entries' | sort >"$T/stored-texts"
cut -f2- "$T/texts" | sort >"$T/want-texts"
same_lines "every line is stored (the stored texts are the lines' texts)" \
  "$T/stored-texts" "$T/want-texts"

# Each acknowledged id holds the text of the line it answered.
sq "select id || '$TAB' || text from entries" >"$T/id-texts"
awk -F "$TAB" '
  FILENAME == ARGV[1] { text[$1] = $2; next }
  FILENAME == ARGV[2] { stored[$1] = $2; next }
  {
    if (!($3 in stored)) { bad++; if (bad <= 5) print "line " $1 ": " $2 " " $3 " is no entry" }
    else if (stored[$3] != text[$1]) {
      bad++
      if (bad <= 5) print "line " $1 ": " $2 " " $3 " holds: " stored[$3]
    }
  }
  END { exit bad > 0 }' "$T/texts" "$T/id-texts" "$T/acks" >"$T/ack-mismatch"
is "every acknowledged id exists and holds its line's text" "$(cat "$T/ack-mismatch")" ""
is "every line is acknowledged with one id only, 'ok' at most once" \
  "$(awk -F "$TAB" '
      !(($1, $3) in seen) { seen[$1, $3] = 1; ids[$1]++ }
      $2 == "ok" { oks[$1]++ }
      END { for (l in ids) if (ids[l] > 1) print "line " l ": " ids[l] " ids"
            for (l in oks) if (oks[l] > 1) print "line " l ": ok " oks[l] " times" }' \
    "$T/acks" | sort -n -k2 | head -n 5)" ""

# ---- the alerts ----

render "$DB" >"$T/torture.alerts"
same_lines "the alerts equal those of the clean run (by rule and entry texts)" \
  "$T/torture.alerts" "$T/clean.alerts"
is "no alert is stored twice" "$(uniq -d "$T/torture.alerts" | head -n 5)" ""
is "no alert is stored twice (the alerts = their distinct renderings)" \
  "$(sq 'select count(*) from alerts')" "$(sort -u "$T/torture.alerts" | wc -l | tr -d ' ')"

# ---- the spool ----

# The same chronology, cut into spool files of 12,000 lines: its lines dealt
# out over the files, with neutral filler lines between them and two lines
# without a date in each file. The daemon is killed while it reads them and
# restarted until every file has moved on: each round waits until a commit
# is seen (the count of stored entries grows), then a pseudo-random fraction
# of the time that took, so most kills land inside a batch of a file that is
# part read. A file cut short goes on after its last committed line, so no
# line is stored twice, no bad line is kept twice, and each .err file lists
# its own two. Each round commits at least one batch, so the number of kills
# follows the number of batches: the daemon commits these files every
# SPOOL_BATCH lines (six batches a file, 36 in all), whatever its default;
# at least SPOOL_KILLS kills are required.
SPOOL_KILLS=5
SPOOL_BATCH=2000
printf 'batch_max = %d\n' "$SPOOL_BATCH" >"$T/spool.conf.lua"
FILES=6
mkdir -p "$T/spool-in"
awk -v dir="$T/spool-in" -v files="$FILES" '
  { chrono[NR] = $0 }
  END {
    split("31 28 31 30 31 30 31 31 30 31 30 31", ml, " ")
    for (f = 0; f < files; f++) {
      out = sprintf("%s/batch-%d.txt", dir, f)
      next_c = f + 1
      for (k = 1; k <= 12000; k++) {
        if (k == 700 || k == 9400) { printf "no date on line %d of file %d\n", k, f >out; continue }
        if (k % 5 == 0 && next_c <= NR) { print chrono[next_c] >out; next_c += files; continue }
        day = k % 365 + 1; m = 1
        while (day > ml[m]) { day -= ml[m]; m++ }
        printf "2023-%02d-%02d: Officials in Seoul discuss the economy (filler %d-%d)\n", m, day, f, k >out
      }
      close(out)
    }
  }' "$T/lines.txt"
cat "$T/spool-in"/batch-*.txt | grep -v '^no date' | sort -u >"$T/spool-want"
SPOOL_LINES=$(line_count "$T/spool-want")
is "the spool files hold every line of the chronology" \
  "$(grep -c -v 'filler' "$T/spool-want")" "$NLINES"

SCDB=$T/spool-clean.db
# shellcheck disable=SC2046 # the file names have no spaces
"$VIGIL" ingest --db "$SCDB" --rules "$RULES" $(ls "$T/spool-in"/batch-*.txt) \
  >"$T/spool-clean.out" 2>"$T/spool-clean.err"
is "spool clean run: vigil ingest exits 1 (lines were rejected)" "$?" 1
render "$SCDB" >"$T/spool-clean.alerts"

DB=$T/spool.db
SPOOL=$T/spool
mkdir -p "$SPOOL"
cp "$T/spool-in"/batch-*.txt "$SPOOL/"
# One fraction a round, in thousandths, from the seed.
awk -v seed="$SEED" -v n="$MAX_ROUNDS" \
  'BEGIN { srand(seed + 1); for (i = 0; i < n; i++) print int(rand() * 1000) }' >"$T/spool-fracs"

# spool_left: how many of the files are still in the spool.
spool_left() {
  find "$SPOOL" -maxdepth 1 -type f -name 'batch-*' | wc -l | tr -d ' '
}
# entries_now: how many entries the store holds, as committed (0 before it
# exists).
entries_now() {
  _n=
  [ -f "$DB" ] && _n=$(sq 'select count(*) from entries' 2>/dev/null)
  echo "${_n:-0}"
}
spool_empty() {
  [ "$(spool_left)" = 0 ]
}
# committed_since N: the store holds more than N entries, or the spool is empty.
committed_since() {
  spool_empty || [ "$(entries_now)" -gt "$1" ]
}
now_ms() {
  date +%s%3N
}

kills=0
round=0
started_at=$(date +%s)
: >"$T/spool-rounds"
while [ "$(spool_left)" -gt 0 ] && [ "$round" -lt "$MAX_ROUNDS" ] &&
  [ $(($(date +%s) - started_at)) -lt "$CAP" ]; do
  round=$((round + 1))
  before=$(entries_now)
  start_daemon --rules "$RULES" --config "$T/spool.conf.lua" 2>>"$T/shell.err" || break
  t0=$(now_ms)
  if ! wait_running 300 committed_since "$before"; then
    fail "spool round $round: a commit is seen" "$(tail -n 5 "$DLOG")"
  fi
  took=$(($(now_ms) - t0))
  frac=$(sed -n "${round}p" "$T/spool-fracs")
  delay=$((took * frac / 1000))
  sleep "$(awk -v ms="$delay" 'BEGIN { printf "%.3f", ms / 1000 }')"
  stop_daemon KILL
  [ "$DRC" = 137 ] && kills=$((kills + 1))
  echo "round $round: a commit after $took ms, killed $delay ms later (status $DRC)," \
    "$(entries_now) entries, $(spool_left) files left" >>"$T/spool-rounds"
done
diag "spool: $round rounds, $kills kills, $(($(date +%s) - started_at)) s; the first rounds:"
diag "$(head -n 3 "$T/spool-rounds")"
# One more start, and a clean stop once the spool is empty: what the last
# kill left half done is finished or tidied by then.
start_daemon --rules "$RULES" --config "$T/spool.conf.lua" 2>>"$T/shell.err"
wait_running "$CAP" spool_empty || fail "spool: the last run empties the spool" "$(tail -n 5 "$DLOG")"
stop_daemon TERM
is "spool: after one more start, a clean stop" "$DRC" 0
is "spool: every file has left the spool" \
  "$(find "$SPOOL" -maxdepth 1 -type f -name 'batch-*' | wc -l | tr -d ' ')" 0
if [ "$kills" -ge "$SPOOL_KILLS" ]; then
  ok "spool: the daemon was killed with SIGKILL $kills times (at least $SPOOL_KILLS)"
else
  fail "spool: the daemon was killed with SIGKILL at least $SPOOL_KILLS times" "$kills kills"
fi
resumed=$(cat "$T"/daemon.*.log | grep -c 'spool: batch-[0-9]*\.txt: going on after line')
if [ "$resumed" -ge 1 ]; then
  ok "spool: a file cut short by a kill went on after its last committed line ($resumed times)"
else
  fail "spool: a file cut short by a kill went on after its last committed line" \
    "no daemon log says 'going on after line'; the kills missed the files"
fi
is "spool: each file moved once, to failed/ (each has two bad lines)" \
  "$(find "$SPOOL/done" "$SPOOL/failed" -type f -name 'batch-*' ! -name '*.err' -printf '%f\n' | sort | tr '\n' ' ')" \
  "$(ls "$T/spool-in" | tr '\n' ' ')"
is "spool: integrity_check says ok" "$(sq 'PRAGMA integrity_check(100000)' 2>&1)" ok
is "spool: no line is stored twice" \
  "$(sq 'select text from entries group by date, text having count(*) > 1' | head -n 5)" ""
is "spool: every good line is stored" "$(sq 'select count(*) from entries')" "$SPOOL_LINES"
is "spool: each bad line is kept once, with its file and line" \
  "$(sq "select count(distinct origin || ':' || line) || ' ' || count(*) from rejects where reason <> ''")" \
  "$((FILES * 2)) $((FILES * 2))"
is "spool: no progress mark is left" "$(sq 'select count(*) from spool_files')" 0
errs=""
f=0
while [ "$f" -lt "$FILES" ]; do
  errs="$errs$(cut -d: -f1,2 "$SPOOL/failed/batch-$f.txt.err" 2>/dev/null | tr '\n' ' ')"
  f=$((f + 1))
done
is "spool: each .err file lists its own two bad lines" "$errs" \
  "$(awk -v n="$FILES" 'BEGIN { for (f = 0; f < n; f++) printf "batch-%d.txt:700 batch-%d.txt:9400 ", f, f }')"
render "$DB" >"$T/spool.alerts"
same_lines "spool: the alerts equal those of one vigil ingest of the files" \
  "$T/spool.alerts" "$T/spool-clean.alerts"

# ---- the sanitizers ----

check_sanitizers "no daemon run left a sanitizer report in its log" "$T"/daemon.*.log
check_sanitizers "no sanitizer report from the clean runs" "$T/clean.err" "$T/spool-clean.err"

done_testing

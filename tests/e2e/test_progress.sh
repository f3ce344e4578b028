#!/bin/sh
# End-to-end: what vigil prints to a person at a terminal, and stopping a
# long command. On a pseudo-terminal (tests/e2e/ptyrun.py, python3's pty)
# `vigil ingest` of a big file draws a progress line rewritten in place
# (lines, lines/s, percent, ETA) and `vigil replay` one of its own; none
# with --quiet, and none when standard error is piped. alerts, query, check,
# test and digest --list are coloured and aligned on a terminal, not with
# NO_COLOR=1, and not piped (the piped text is the plain format).
# SIGINT in the middle of an ingest of a big file, and SIGTERM while an
# ingest waits on a FIFO, stop it cleanly: status 130 or 143, a summary that
# says so and whose stored count is the entries in the database, and a
# database that passes its integrity check. SIGINT during a replay, seen
# through its progress line, stops it the same way.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

ESC=$(printf '\033')
CR=$(printf '\r')

# tty NAME [--signal-on REGEX [--signal SIG]] -- CMD...: runs CMD on a
# pseudo-terminal; what it wrote in $T/NAME.tty, its status in $rc.
tty() {
  _name=$1
  shift
  rc=$(python3 "$E2E/ptyrun.py" "$T/$_name.tty" "$@")
}

# screen FILE: what a terminal shows of FILE, one line a line: carriage
# returns as line breaks, the erase-line sequence dropped.
screen() {
  tr '\r' '\n' <"$1" | sed "s/$ESC\\[K//g"
}

# big FILE N: N chronology lines, each a different entry.
big() {
  awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++)
    printf "%04d-%02d-%02d: generated event number %d of the big file\n",
      2000 + i % 20, i % 12 + 1, i % 28 + 1, i }' >"$1"
}

big "$T/big.txt" 400000

# ---- progress ----
tty ingest-tty -- "$VIGIL" ingest --db "$T/p1.db" --no-rules "$T/big.txt"
is "ingest on a terminal: exit status 0" "$rc" 0
like "... a progress line with lines, lines/s, percent and time left" \
  "$(screen "$T/ingest-tty.tty")" "big.txt: [0-9]+ lines, [0-9]+ lines/s, [0-9]+%, ETA [0-9]+:[0-9]{2}"
check "... rewritten in place (carriage return, erase line)" grep -q "$CR$ESC\[K" "$T/ingest-tty.tty"
like "... and the summary after it" "$(screen "$T/ingest-tty.tty")" "^400000 stored, 0 duplicates, 0 rejected"

"$VIGIL" ingest --db "$T/p2.db" --no-rules "$T/big.txt" >"$T/piped.out" 2>"$T/piped.err"
is "ingest piped: exit status 0" "$?" 0
is "... nothing on standard error" "$(wc -c <"$T/piped.err" | tr -d ' ')" 0
is "... and the plain summary" "$(cat "$T/piped.out")" "400000 stored, 0 duplicates, 0 rejected"

tty ingest-quiet -- "$VIGIL" ingest --quiet --db "$T/p3.db" --no-rules "$T/big.txt"
is "ingest --quiet on a terminal: exit status 0" "$rc" 0
is "... prints nothing at all" "$(wc -c <"$T/ingest-quiet.tty" | tr -d ' ')" 0

# ---- colour and columns ----
DB=$T/c.db
"$VIGIL" ingest --db "$DB" --rules "$RULES" "$FIXTURES/chronology.txt" >/dev/null 2>&1
check "the chronology raised alerts" test "$(sq "select count(*) from alerts")" -gt 0

tty alerts-tty -- "$VIGIL" alerts --db "$DB"
check "alerts on a terminal: the severity coloured" grep -q "$ESC\[33mwarn$ESC\[0m" "$T/alerts-tty.tty"
tty alerts-nocolor -- env NO_COLOR=1 "$VIGIL" alerts --db "$DB"
is "alerts with NO_COLOR=1: no escape sequence" "$(count_matching "$ESC" "$T/alerts-nocolor.tty")" 0
"$VIGIL" alerts --db "$DB" >"$T/alerts.out"
is "alerts piped: no escape sequence" "$(count_matching "$ESC" "$T/alerts.out")" 0
like "... the plain format" "$(head -n 1 "$T/alerts.out")" '^2023-01-01  (warn|info)  [a-z-]+  .*  \[entries [0-9,]+\]$'

# The number of columns in which the rows' messages start (after the rule's
# name and the spaces that follow it).
msg_col() {
  tr -d '\r' <"$1" | awk '{ i = index($0, $3) + length($3); s = substr($0, i); match(s, /^ +/)
    print i + RLENGTH }' | sort -u | wc -l | tr -d ' '
}
is "alerts on a terminal: the messages start in one column" "$(msg_col "$T/alerts-nocolor.tty")" 1
isnt "... which the piped rows do not" "$(msg_col "$T/alerts.out")" 1

tty query-tty -- env NO_COLOR=1 "$VIGIL" query --db "$DB"
"$VIGIL" query --db "$DB" >"$T/query.out"
src_col() {
  tr -d '\r' <"$1" | awk '{ print index($0, "chronology.txt") }' | sort -u | wc -l | tr -d ' '
}
is "query on a terminal: the sources in one column" "$(src_col "$T/query-tty.tty")" 1
isnt "... which the piped rows do not (dates differ in length)" "$(src_col "$T/query.out")" 1
tty query-color -- "$VIGIL" query --db "$DB"
check "query on a terminal: tags coloured" grep -q "$ESC\[36m\[" "$T/query-color.tty"

mkdir -p "$T/failing"
cat >"$T/failing/wrong.lua" <<'EOF'
rule "tag-rain" { when = function(e) return e:find{"rain"} end, tags = {"rain"} }
test "rain is rain" { given = { "2023-04-01: Rain fell all day." }, tags = { {"rain"} } }
test "sun is said to be rain" { given = { "2023-04-02: Sun all day." }, tags = { {"rain"} } }
EOF
tty test-tty -- "$VIGIL" test "$T/failing"
is "test on a terminal: exit status 1" "$rc" 1
check "... ok in green" grep -q "$ESC\[32mok  $ESC\[0m" "$T/test-tty.tty"
check "... FAIL in red" grep -q "$ESC\[31mFAIL$ESC\[0m" "$T/test-tty.tty"
"$VIGIL" test "$T/failing" >"$T/test.out" 2>&1
is "test piped: no escape sequence" "$(count_matching "$ESC" "$T/test.out")" 0
like "... the plain verdicts" "$(cat "$T/test.out")" "^FAIL .*wrong.lua:3 sun is said to be rain"
tty check-tty -- "$VIGIL" check "$RULES"
check "check on a terminal: no error, in green" grep -q "$ESC\[32m0 errors$ESC\[0m" "$T/check-tty.tty"
tty check-nocolor -- env NO_COLOR=1 "$VIGIL" check "$RULES"
is "check with NO_COLOR=1: no escape sequence" "$(count_matching "$ESC" "$T/check-nocolor.tty")" 0

printf 'digests = { weekly = { schedule = "0 7 * * 1", days = 7, template = "weekly" } }\n' >"$T/d.conf"
tty list-tty -- "$VIGIL" digest --list --config "$T/d.conf" --db "$DB"
check "digest --list on a terminal: the header in bold" grep -q "$ESC\[1mdigest" "$T/list-tty.tty"
"$VIGIL" digest --list --config "$T/d.conf" --db "$DB" >"$T/list.out"
is "digest --list piped: the plain header" "$(head -n 1 "$T/list.out")" \
  "digest     schedule         days  last period (ran at)     next run"

# ---- SIGINT in the middle of a big file ----
big "$T/bigger.txt" 1500000
DB=$T/int.db
"$VIGIL" ingest --json --db "$DB" --no-rules "$T/bigger.txt" >"$T/int.out" 2>"$T/int.err" &
ipid=$!
bg_started "$ipid"
# The first batch committed: the ingest is under way.
check "ingest of a big file: a first batch is committed" \
  wait_for 300 sh -c 'test "$(sqlite3 -cmd ".timeout 5000" "$1" "select count(*) from entries" 2>/dev/null)" -gt 0' sh "$DB"
kill -INT "$ipid"
wait "$ipid"
is "SIGINT: exit status 130" "$?" 130
stored=$(python3 -c 'import json, sys; print([o for o in map(json.loads, open(sys.argv[1])) if o["type"] == "summary"][0]["stored"])' "$T/int.out")
is "... the summary's stored count is the entries in the database" "$stored" "$(sq "select count(*) from entries")"
check "... fewer than the file holds: it stopped in the middle" test "$stored" -lt 1500000
like "... and it says it was interrupted" "$(tail -n 1 "$T/int.out")" '"interrupted":true,"signal":"SIGINT"'
is "... the database is consistent" "$(sq "pragma integrity_check")" ok
is "... no error said" "$(cat "$T/int.err")" ""

# ---- SIGTERM while waiting on a FIFO ----
# One transaction for the whole input (batch_max over its size): any entry
# in the database after the stop was committed by the stop itself.
DB=$T/fifo.db
mkfifo "$T/fifo"
printf 'batch_max = 100000\n' >"$T/fifo.conf"
# 12000 lines, a second later 13000 more (a progress line is drawn for them),
# then the writer keeps the FIFO open and says nothing.
(head -n 12000 "$T/big.txt"; sleep 1; sed -n '12001,25000p' "$T/big.txt"; sleep 600) >"$T/fifo" &
wpid=$!
bg_started "$wpid"
tty fifo --signal-on "lines/s" --signal TERM -- \
  sh -c 'exec "$0" ingest --config "$1" --db "$2" --no-rules - <"$3"' "$VIGIL" "$T/fifo.conf" "$DB" "$T/fifo"
is "SIGTERM while it waits for input: exit status 143" "$rc" 143
summary=$(screen "$T/fifo.tty" | grep stored)
like "... the summary says so" "$summary" '^[0-9]+ stored, 0 duplicates, 0 rejected; interrupted by SIGTERM'
is "... its stored count is the entries in the database" "${summary%% *}" "$(sq "select count(*) from entries")"
check "... which the stop committed" test "$(sq "select count(*) from entries")" -gt 0
is "... the database is consistent" "$(sq "pragma integrity_check")" ok
kill "$wpid" 2>/dev/null

# ---- replay: progress, then SIGINT ----
DB=$T/p1.db
tty replay-int --signal-on "entries/s" -- "$VIGIL" replay --db "$DB" --rules "$RULES"
is "replay on a terminal, SIGINT after its progress line: exit status 130" "$rc" 130
like "... the progress line" "$(screen "$T/replay-int.tty")" "^replay: [0-9]+ entries, [0-9]+ entries/s"
like "... and the summary says it was interrupted" "$(screen "$T/replay-int.tty")" \
  "^replayed [0-9]+ entries with [0-9]+ rules: [0-9]+ new alerts, [0-9]+ amended; interrupted by SIGINT"
is "... the database is consistent" "$(sq "pragma integrity_check")" ok

check_sanitizers "no sanitizer report" "$T"/*.err "$T"/*.tty

done_testing

#!/bin/sh
# End-to-end: where vigil puts its files, what a one-off poll leaves, and
# the date forms. Commands run from an empty working directory, which stays
# empty: a database given with --db gets its digests and alerts file beside
# it, and with state_dir set everything without a path of its own goes
# there (the daemon's socket and spool too). A daemon started on a new
# database with a digest schedule writes no digest of the days before the
# database existed; one whose database is three days old catches up those
# three days. A database made by an older vigil counts as made at its first
# entry. `vigil poll` of a URL that is not configured leaves it out of
# `vigil feeds`, with no next poll (tests/e2e/feedserver.py serves it); a
# URL that is no URL is refused and leaves nothing. Ordinal and year-first
# slashed dates are stored through the socket, as JSON and by `vigil
# ingest`, read by --since/--until, and bad ones refused naming the part
# that is wrong.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

EMPTY=$T/empty
mkdir -p "$EMPTY" "$T/elsewhere"
cd "$EMPTY" || exit 1

# empty_dir DIR: what DIR holds (nothing, when it is empty).
empty_dir() {
  find "$1" -mindepth 1 | sort
}

# cli NAME ARG...: vigil with the arguments, output in $T/NAME.out and
# $T/NAME.err, status in $rc.
_cli_errs=""
cli() {
  _name=$1
  shift
  timeout 300 "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}

cat >"$T/week.txt" <<'EOF'
2023-12-14: The council of ministers meets on the budget.
2023-12-18: North Korea fires a ballistic missile into the East Sea.
EOF
WEEK=weekly-2023-12-13_2023-12-19

# ---- a database elsewhere: its files beside it ----

X=$T/elsewhere/x.db
cli ingest-x ingest --rules "$RULES" --db "$X" "$T/week.txt"
is "vigil ingest --db elsewhere: exit status 0" "$rc" 0
check "... the launch's alert goes to the alerts file beside the database" \
  grep -q '"rule":"dprk-launch"' "$T/elsewhere/alerts.jsonl"
cli digest-x digest weekly --db "$X" --at 2023-12-20
is "vigil digest weekly --db elsewhere: exit status 0" "$rc" 0
is "... it writes beside the database" "$(cat "$T/digest-x.out")" "$T/elsewhere/digests/$WEEK.md
$T/elsewhere/digests/$WEEK.html
$T/elsewhere/digests/$WEEK.json"
check "... the Markdown is there" test -s "$T/elsewhere/digests/$WEEK.md"
is "... and nothing appears in the working directory" "$(empty_dir "$EMPTY")" ""

# A relative --db: the files go beside it, below the working directory.
mkdir -p "$T/rel/sub"
(cd "$T/rel" && timeout 300 "$VIGIL" ingest --no-rules --db sub/r.db "$T/week.txt" &&
  timeout 300 "$VIGIL" digest weekly --db sub/r.db --at 2023-12-20) >"$T/rel.out" 2>"$T/rel.err"
is "a relative --db sub/r.db: the digests go to sub/digests" "$(tail -n 3 "$T/rel.out")" \
  "sub/digests/$WEEK.md
sub/digests/$WEEK.html
sub/digests/$WEEK.json"
is "... and nothing else appears beside sub/" "$(cd "$T/rel" && find . -maxdepth 1 -mindepth 1)" "./sub"

# ---- state_dir ----

ST=$T/state
cat >"$T/state.conf" <<EOF
state_dir = "$ST"
timezone = "UTC"
EOF
mkdir -p "$ST"
cli ingest-st ingest --rules "$RULES" --config "$T/state.conf" "$T/week.txt"
is "vigil ingest with state_dir: exit status 0" "$rc" 0
is "... the database is state_dir/vigil.db" \
  "$(sq "$ST/vigil.db" "select count(*) from entries")" 2
check "... and the alerts file state_dir/alerts.jsonl" grep -q '"rule":"dprk-launch"' "$ST/alerts.jsonl"
for c in query show alerts feeds; do
  arg=""
  [ "$c" = show ] && arg=1
  cli "$c-st" "$c" --config "$T/state.conf" $arg
  is "vigil $c with state_dir alone: exit status 0" "$rc" 0
done
like "... vigil show reads the entry from state_dir/vigil.db" "$(cat "$T/show-st.out")" \
  'council of ministers'
cli digest-st digest weekly --config "$T/state.conf" --at 2023-12-20
is "vigil digest with state_dir: into state_dir/digests" "$(head -n 1 "$T/digest-st.out")" \
  "$ST/digests/$WEEK.md"
cli digest-st2 digest weekly --config "$T/state.conf" --db "$X" --at 2023-12-13
is "... a --db of its own reads that database, and still writes into state_dir" \
  "$(head -n 1 "$T/digest-st2.out")" "$ST/digests/weekly-2023-12-06_2023-12-12.md"
cli digest-out digest weekly --config "$T/state.conf" --at 2023-12-20 --out "$T/chosen"
is "... --out still wins" "$(head -n 1 "$T/digest-out.out")" "$T/chosen/$WEEK.md"
is "... nothing appears in the working directory" "$(empty_dir "$EMPTY")" ""

# ---- the daemon on a new database: no digests before it existed ----

# A daily digest at 12 hours from now (UTC), so that no scheduled run falls
# inside the test; catch_up = "all" would write every missed period.
hour=$((($(date -u +%-H) + 12) % 24))
DST=$T/dstate
mkdir -p "$DST"
cat >"$T/daemon.conf" <<EOF
state_dir = "$DST"
timezone = "UTC"
digests = {
  morning = { schedule = "0 $hour * * *", days = 1, template = "daily", catch_up = "all" },
}
EOF
DB=$DST/vigil.db
SOCK=$DST/vigil.sock
RUNS=0

# run_daemon: `vigil run` on $T/daemon.conf alone (no --db, --socket or
# --spool: all derived from state_dir), from the empty directory; waits
# until it is ready with its socket where state_dir puts it.
run_daemon() {
  RUNS=$((RUNS + 1))
  DLOG=$T/run.$RUNS.log
  "$VIGIL" run --config "$T/daemon.conf" --rules "$RULES" >"$DLOG" 2>&1 &
  DPID=$!
  bg_started "$DPID"
  wait_for 120 _ready_here
}
# shellcheck disable=SC2317 # called through wait_for
_ready_here() {
  grep -Eq '[[:space:]]ready$' "$DLOG" && [ -S "$SOCK" ]
}
# end_daemon: SIGTERM, and its exit status in DRC.
end_daemon() {
  kill -TERM "$DPID" 2>/dev/null
  wait "$DPID"
  DRC=$?
  check_sanitizers "vigil run #$RUNS: no sanitizer report in its log" "$DLOG"
}
# shellcheck disable=SC2317 # called through wait_for
caught_up_none() {
  grep -q "digest morning: not caught up: 32 runs due before the database was made" "$DLOG"
}

if run_daemon; then
  ok "the daemon starts with its socket in state_dir"
  check "... and its spool directory there" test -d "$DST/spool"
  check "a new database: the log says no missed run is caught up" wait_for 120 caught_up_none
  is "... no digest was recorded" "$(sq "select count(*) from digest_runs")" 0
  is "... and none written" "$(empty_dir "$DST/digests" 2>/dev/null)" ""

  # ---- dates through the socket ----
  reply=$(send_unix <<'EOF'
December 13th, 2023: The assembly opens its winter session.
Dec. 13th, 2023: The ministry answers the assembly.
13th December 2023: A delegation leaves for Geneva.
1st March 2024: A national holiday.
March 2nd, 2024: Talks resume.
3rd March 2024: Talks end.
21st March 2024: A spring exercise begins.
2023/12/13: The weather service warns of snow.
2023/12: A month of drills.
{"date": "December 22nd, 2023", "text": "A JSON record with an ordinal date."}
{"date": "2023/12/23", "text": "A JSON record with a slashed date."}
December 13st, 2023: A wrong ordinal.
13/12/2023: Day first.
12/13/2023: Month first.
03/04/2023: Either.
2023/11/31: A day November does not have.
Decembr 13, 2023: A misspelt month.
EOF
  )
  printf '%s\n' "$reply" >"$T/socket.replies"
  is "eleven good dates are stored" "$(grep -c '^ok [0-9]*$' "$T/socket.replies")" 11
  is "the stored dates" \
    "$(sq "select group_concat(date, ' ') from (select date from entries order by id)")" \
    "2023-12-13 2023-12-13 2023-12-13 2024-03-01 2024-03-02 2024-03-03 2024-03-21 2023-12-13 2023-12 2023-12-22 2023-12-23"
  like "'13st' is refused, naming it" "$(sed -n 12p "$T/socket.replies")" \
    "^error line 12: '13st' is no ordinal: 13 is written 13th$"
  like "13/12/2023 is refused as ambiguous, with the date to write" "$(sed -n 13p "$T/socket.replies")" \
    "^error line 13: '13/12/2023' is ambiguous: day or month first\\? Write the year first, as 2023-12-13"
  like "12/13/2023 too" "$(sed -n 14p "$T/socket.replies")" \
    "^error line 14: '12/13/2023' is ambiguous: .* as 2023-12-13"
  like "03/04/2023 names both readings" "$(sed -n 15p "$T/socket.replies")" \
    "^error line 15: '03/04/2023' is ambiguous: .* as 2023-04-03 or 2023-03-04"
  like "2023/11/31: the day past the month's end" "$(sed -n 16p "$T/socket.replies")" \
    "^error line 16: impossible date: day 31 is past the end of November 2023"
  like "Decembr: no month name" "$(sed -n 17p "$T/socket.replies")" \
    "^error line 17: 'Decembr' is no month name$"
  end_daemon
  is "the daemon stops with status 0" "$DRC" 0
else
  fail "the daemon starts with its socket in state_dir" "$(cat "$DLOG")"
fi

# The same database, made three days ago: the three runs since are caught up.
sq "update state set value = value - 3 * 86400 where name = 'created_at'"
# shellcheck disable=SC2317 # called through wait_for
three_written() {
  [ "$(sq "select count(*) from digest_runs where name = 'morning'")" -ge 3 ]
}
if run_daemon; then
  check "a database three days old: its three missed runs are caught up" wait_for 120 three_written
  is "... and no more" "$(sq "select count(*) from digest_runs where name = 'morning'")" 3
  made=$(sq "select date(value - 86400, 'unixepoch') from state where name = 'created_at'")
  is "... none for a period before the day before it was made" \
    "$(sq "select count(*) from digest_runs where period_last < '$made'")" 0
  check "... written into state_dir/digests" \
    test -s "$DST/digests/morning-$(sq "select max(period_last) from digest_runs").md"
  end_daemon
  is "... the daemon stops with status 0" "$DRC" 0
else
  fail "the daemon starts again" "$(cat "$DLOG")"
fi
is "the daemon wrote nothing into the working directory" "$(empty_dir "$EMPTY")" ""

# A database made by an older vigil (schema 10, no creation time): made, for
# catching up, when its first entry arrived.
OLD=$T/old.db
cli ingest-old ingest --no-rules --db "$OLD" "$T/week.txt"
sq "$OLD" "delete from state where name = 'created_at';
  update entries set ingested_at = '2023-12-01T09:30:00Z';
  pragma user_version = 10;"
cli ingest-old2 ingest --no-rules --db "$OLD" /dev/null
is "an older database migrated: created at its first entry" \
  "$(sq "$OLD" "select datetime(value, 'unixepoch') from state where name = 'created_at'")" \
  "2023-12-01 09:30:00"

# ---- dates through vigil ingest and --since / --until ----

cat >"$T/dates.txt" <<'EOF'
Dec. 5th-7th, 2023: Three days of talks.
11th of December 2023: A summit.
2023/12/12: A treaty is signed.
December 11st, 2023: A wrong ordinal.
EOF
D=$T/dates.db
cli ingest-dates ingest --no-rules --db "$D" "$T/dates.txt"
is "vigil ingest of ordinal and slashed dates: exit status 1 (one bad line)" "$rc" 1
is "... three stored" "$(sq "$D" "select group_concat(date, ' ') from (select date from entries order by id)")" \
  "2023-12-05/2023-12-07 2023-12-11 2023-12-12"
like "... the bad one named with its line" "$(cat "$T/ingest-dates.err")" \
  "dates\\.txt:4: '11st' is no ordinal: 11 is written 11th"
cli query-dates query --db "$D" --since "December 11th, 2023" --until 2023/12/12
is "vigil query --since 'December 11th, 2023' --until 2023/12/12" \
  "$(cut -d ' ' -f 3 "$T/query-dates.out" | tr '\n' ' ')" "2023-12-11 2023-12-12 "
cli query-bad query --db "$D" --since 13/12/2023
is "vigil query --since 13/12/2023: exit status 2" "$rc" 2
like "... says it is ambiguous and what to write" "$(cat "$T/query-bad.err")" \
  "--since '13/12/2023': '13/12/2023' is ambiguous: .* 2023-12-13"

# ---- a one-off poll ----

if command -v python3 >/dev/null 2>&1; then
  WWW=$T/www
  mkdir -p "$WWW"
  printf '2023-12-14: A line of a polled chronology.\n' >"$WWW/once.txt"
  printf '2023-12-15: A line of a configured feed.\n' >"$WWW/conf.txt"
  : >"$WWW/requests.log"
  python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
  bg_started $!
  if wait_for 60 test -s "$T/port"; then
    BASE=http://127.0.0.1:$(cat "$T/port")
    ONCE=$BASE/feed/once.txt
    CONF=$BASE/feed/conf.txt
    F=$T/feeds.db
    printf 'feeds = { { url = "%s", format = "chrono" } }\n' "$CONF" >"$T/feeds.conf"
    cli poll poll --no-rules --config "$T/feeds.conf" --db "$F" "$ONCE"
    is "vigil poll of a URL not configured: exit status 0" "$rc" 0
    is "... its line is stored" "$(sq "$F" "select count(*) from entries")" 1
    is "... no next poll is stored for it" "$(sq "$F" "select next_poll is null from feeds where url = '$ONCE'")" 1
    cli feeds feeds --config "$T/feeds.conf" --db "$F"
    is "vigil feeds: exit status 0" "$rc" 0
    is "... lists the configured feed alone, never polled yet" "$(cat "$T/feeds.out")" "$CONF
  source ${CONF#http://}; never polled; next poll when the daemon starts"
    cli feeds-all feeds --all --config "$T/feeds.conf" --db "$F"
    like "vigil feeds --all: the one-off poll, not scheduled" \
      "$(grep -A1 -F "$ONCE" "$T/feeds-all.out" | tr '\n' ' ')" \
      "1 polls, 1 items; last success [0-9T:Z-]+; not scheduled: not a configured feed"
    cli poll2 poll --no-rules --db "$F" "$ONCE"
    is "polled again: not modified (the validators were kept)" "$(cat "$T/poll2.out")" "$ONCE: not modified"
  else
    fail "the feed server starts" "$(cat "$T/server.err")"
  fi
else
  skip "a one-off poll: python3 is missing (make test-deps installs it)"
fi

mkdir -p "$T/bad"
cli poll-bad poll --no-rules --db "$T/bad/b.db" not-a-url
is "vigil poll not-a-url: exit status 2" "$rc" 2
is "... says why" "$(cat "$T/poll-bad.err")" \
  "vigil poll: 'not-a-url' is no feed URL: it must start with http:// or https://; nothing polled"
is "... and leaves nothing behind" "$(empty_dir "$T/bad")" ""
if [ -f "$T/feeds.db" ]; then
  cli poll-bad2 poll --no-rules --db "$T/feeds.db" 'ftp://example.org/feed'
  is "vigil poll of an ftp URL: exit status 2, no row for it" \
    "$rc $(sq "$T/feeds.db" "select count(*) from feeds where url like 'ftp:%' or url = 'not-a-url'")" "2 0"
fi
is "the working directory is still empty" "$(empty_dir "$EMPTY")" ""

# shellcheck disable=SC2086 # one argument per file
check_sanitizers "no sanitizer report from the commands" $_cli_errs "$T/rel.err"
done_testing

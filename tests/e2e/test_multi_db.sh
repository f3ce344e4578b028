#!/bin/sh
# End-to-end: `vigil query` and `vigil alerts` over several databases (--db
# again and again, as the daemons of a partitioned deployment keep them):
# the merged records come in the order one database holding everything
# would list them; --limit, --since, --until and the other filters apply to
# the merged output; --json names each record's database; a command that
# takes ids refuses a second --db; a database that cannot be opened is named.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

P=$FIXTURES/partitions
EAST=$T/east.db
WEST=$T/west.db
NORTH=$T/north.db
ALL=$T/all.db
# Rules on single entries only: split over databases, they raise what they
# raise over one (a correlation across entries would not).
RULESET="--rules $RULES/events.lua --rules $RULES/actors.lua --rules $RULES/alerts.lua"

# fill DB FILE...: `vigil ingest` of the files into DB, with the rules.
fill() {
  _db=$1
  shift
  # shellcheck disable=SC2086 # the rules' flags, split on purpose
  "$VIGIL" ingest $RULESET --db "$_db" "$@" >>"$T/ingest.out" 2>>"$T/ingest.err"
}

# merged CMD ARG...: `vigil CMD` over the three databases, errors kept.
merged() {
  _cmd=$1
  shift
  "$VIGIL" "$_cmd" --db "$EAST" --db "$WEST" --db "$NORTH" "$@" 2>>"$T/merged.err"
}

# single CMD ARG...: `vigil CMD` over the database holding everything.
single() {
  _cmd=$1
  shift
  "$VIGIL" "$_cmd" --db "$ALL" "$@" 2>>"$T/merged.err"
}

# entries: each JSON entry of standard input as date|source|text.
entries() {
  sed -n 's/.*"date":"\([^"]*\)".*"text":"\([^"]*\)","source":"\([^"]*\)".*/\1|\3|\2/p'
}

# alerts: each JSON alert of standard input as date|rule|severity|message.
alerts() {
  sed -n 's/.*"rule":"\([^"]*\)".*"severity":"\([^"]*\)","message":"\([^"]*\)","date":"\([^"]*\)".*/\4|\1|\2|\3/p'
}

# dbs: the "db" member of each JSON record of standard input, one a line.
dbs() {
  sed -n 's/.*"db":"\([^"]*\)".*/\1/p'
}

fill "$EAST" "$P/east.txt"
fill "$WEST" "$P/west.txt"
fill "$NORTH" "$P/north.txt"
fill "$ALL" "$P/east.txt" "$P/west.txt" "$P/north.txt"
total=$(($(line_count "$P/east.txt") + $(line_count "$P/west.txt") + $(line_count "$P/north.txt")))
is "the three partitions and the whole are stored" \
  "$(sq "$EAST" 'select count(*) from entries') $(sq "$WEST" 'select count(*) from entries') $(sq "$NORTH" 'select count(*) from entries') $(sq "$ALL" 'select count(*) from entries')" \
  "6 6 6 $total"

# ---- entries ----

want=$(single query --json | entries)
got=$(merged query --json | entries)
is "query over three databases lists what one holding everything lists, in its order" "$got" "$want"
is "... every entry once" "$(printf '%s\n' "$got" | grep -c .)" "$total"
like "... a day two databases share keeps the order of the --db" \
  "$(printf '%s\n' "$got" | grep '^2023-11-21' | tr '\n' ' ')" '^2023-11-21\|east\.txt\|.*2023-11-21\|west\.txt\|'

merged query --json >"$T/merged.json"
is "each JSON entry names its database" "$(dbs <"$T/merged.json" | grep -c .)" "$total"
is "... by the path given to --db" \
  "$(grep -F 'Vostochny' "$T/merged.json" | dbs)" "$NORTH"
is "... and a JSON entry of one database does not" \
  "$("$VIGIL" query --db "$EAST" --json 2>>"$T/merged.err" | dbs | grep -c .)" 0

merged query >"$T/merged.txt"
is "a text line for each entry" "$(line_count "$T/merged.txt")" "$total"
like "... led by its database, then its id and date" \
  "$(grep -F 'Washington Declaration' "$T/merged.txt")" "^$WEST +3 +2023-04-26 +west\.txt +In the Washington"
is "... and one database's lines are as before, without it" \
  "$("$VIGIL" query --db "$EAST" 2>>"$T/merged.err" | grep -c "$EAST")" 0

is "--limit counts the merged entries" \
  "$(merged query --json --limit 7 | entries)" "$(single query --json --limit 7 | entries)"
is "... 7 of them" "$(merged query --json --limit 7 | grep -c .)" 7
is "--since and --until over the merged entries" \
  "$(merged query --json --since 2023-04 --until 2023-12-31 | entries)" \
  "$(single query --json --since 2023-04 --until 2023-12-31 | entries)"
like "... which the range holds, from each database" \
  "$(merged query --json --since 2023-04 --until 2023-12-31 | dbs | sort -u | tr '\n' ' ')" \
  "^$EAST $NORTH $WEST \$"
is "a month-precision entry is found by a day inside it" \
  "$(merged query --json --since 2024-05-20 --until 2024-05-20 | entries)" \
  "2024-05|north.txt|Hundreds of balloons carrying rubbish and manure drifted from the North into South Korea over the last days of the month."
is "--since with --limit" \
  "$(merged query --json --since 2023 --limit 4 | entries)" \
  "$(single query --json --since 2023 --limit 4 | entries)"
is "--tag over the merged entries" \
  "$(merged query --json --tag launch | entries)" "$(single query --json --tag launch | entries)"
isnt "... which some entries carry" "$(merged query --json --tag launch | entries)" ""
is "--source over the merged entries" \
  "$(merged query --json --source west.txt | entries)" "$(single query --json --source west.txt | entries)"
is "--text over the merged entries" \
  "$(merged query --json --text 'Kim Jong Un' | entries)" \
  "$(single query --json --text 'Kim Jong Un' | entries)"
is "... two of them, from one database" \
  "$(merged query --json --text 'Kim Jong Un' | dbs | sort | uniq -c | tr -s ' ')" " 2 $NORTH"

# ---- alerts ----

want=$(single alerts --json | alerts)
got=$(merged alerts --json | alerts)
isnt "the rules raised alerts" "$want" ""
is "alerts over three databases list what one holding everything lists, in its order" "$got" "$want"
merged alerts --json >"$T/alerts.json"
is "each JSON alert names its database" \
  "$(dbs <"$T/alerts.json" | grep -c .)" "$(grep -c . "$T/alerts.json")"
like "... and its entries are that database's ids" \
  "$(grep -F 'Biden' "$T/alerts.json" | head -n 1)" "\"entries\":\\[1\\],\"db\":\"$WEST\""
is "--limit counts the merged alerts" \
  "$(merged alerts --json --limit 4 | alerts)" "$(single alerts --json --limit 4 | alerts)"
is "--since and --until over the merged alerts" \
  "$(merged alerts --json --since 2022-05 --until 2023-11-21 | alerts)" \
  "$(single alerts --json --since 2022-05 --until 2023-11-21 | alerts)"
is "--rule over the merged alerts" \
  "$(merged alerts --json --rule icbm-launch | alerts)" \
  "$(single alerts --json --rule icbm-launch | alerts)"
like "a text alert is led by its database" \
  "$(merged alerts | grep -F sanctions-news)" "^$NORTH +2023-11-30 +info +sanctions-news"

# ---- more entries than a page ----

# Two databases of 300 entries each, their days interleaved.
awk 'BEGIN { for (i = 0; i < 600; i++) {
  d = 1 + i % 28; m = 1 + int(i / 28) % 12; y = 2001 + int(i / 336)
  printf "%04d-%02d-%02d: Border post %d logged a quiet night watch.\n", y, m, d, i } }' >"$T/log.txt"
awk 'NR % 2 == 1' "$T/log.txt" >"$T/odd.txt"
awk 'NR % 2 == 0' "$T/log.txt" >"$T/even.txt"
"$VIGIL" ingest --no-rules --db "$T/odd.db" "$T/odd.txt" >/dev/null 2>>"$T/ingest.err"
"$VIGIL" ingest --no-rules --db "$T/even.db" "$T/even.txt" >/dev/null 2>>"$T/ingest.err"
"$VIGIL" ingest --no-rules --db "$T/both.db" --source x "$T/log.txt" >/dev/null 2>>"$T/ingest.err"
texts() {
  sed -n 's/.*"date":"\([^"]*\)".*"text":"\([^"]*\)".*/\1|\2/p'
}
is "600 entries in two databases: the merge lists them in the order of one" \
  "$("$VIGIL" query --db "$T/odd.db" --db "$T/even.db" --json 2>>"$T/merged.err" | texts)" \
  "$("$VIGIL" query --db "$T/both.db" --json 2>>"$T/merged.err" | texts)"
is "... and --limit 451 stops at the 451st" \
  "$("$VIGIL" query --db "$T/odd.db" --db "$T/even.db" --json --limit 451 2>>"$T/merged.err" | texts)" \
  "$("$VIGIL" query --db "$T/both.db" --json --limit 451 2>>"$T/merged.err" | texts)"

# ---- what refuses several databases ----

"$VIGIL" show --db "$EAST" --db "$WEST" 1 >"$T/show.out" 2>"$T/show.err"
is "show with two --db: exit status 2" "$?" 2
like "... saying that ids are per database" "$(cat "$T/show.err")" \
  "vigil show: --db given more than once .*ids are per database"
is "... and showing nothing" "$(cat "$T/show.out")" ""
"$VIGIL" --db "$EAST" show --db "$WEST" 1 >/dev/null 2>"$T/show2.err"
is "... nor with one --db before the command word" "$?" 2
printf '2024-07-01: A line for nowhere.\n' |
  "$VIGIL" ingest --no-rules --db "$T/a.db" --db "$T/b.db" - >/dev/null 2>"$T/ingest2.err"
is "ingest with two --db: exit status 2" "$?" 2
check "... and neither database is made" test ! -e "$T/a.db" -a ! -e "$T/b.db"
"$VIGIL" silence list --db "$EAST" --db "$WEST" >/dev/null 2>"$T/silence.err"
is "silence list with two --db: exit status 2" "$?" 2

# ---- a database that cannot be opened ----

"$VIGIL" query --db "$EAST" --db "$T/nowhere/gone.db" --db "$WEST" >"$T/gone.out" 2>"$T/gone.err"
is "query with a database that cannot be opened: exit status 3" "$?" 3
like "... naming it" "$(cat "$T/gone.err")" "$T/nowhere/gone.db"
is "... and listing nothing" "$(cat "$T/gone.out")" ""
"$VIGIL" alerts --db "$T/nowhere/gone.db" --db "$EAST" >/dev/null 2>"$T/gone2.err"
is "alerts with a database that cannot be opened: exit status 3" "$?" 3
like "... naming it" "$(cat "$T/gone2.err")" "$T/nowhere/gone.db"

head -c 8192 /dev/urandom >"$T/noise.db"
"$VIGIL" query --db "$EAST" --db "$T/noise.db" >/dev/null 2>"$T/noise.err"
is "a file that is no database: exit status 3" "$?" 3
like "... naming it" "$(cat "$T/noise.err")" "$T/noise.db: .*not a database"

# ---- one database named twice ----

(cd "$T" && "$VIGIL" query --db east.db --db "$EAST" >"$T/twice.out" 2>"$T/twice.err")
is "one database given twice (by two paths): exit status 3" "$?" 3
like "... saying so" "$(cat "$T/twice.err")" "--db east.db and --db $EAST are one database"
is "... and listing nothing twice" "$(cat "$T/twice.out")" ""

check_sanitizers "no sanitizer report" "$T/ingest.err" "$T/merged.err" "$T/show.err" \
  "$T/gone.err" "$T/gone2.err" "$T/silence.err" "$T/ingest2.err" "$T/noise.err" "$T/twice.err"
done_testing

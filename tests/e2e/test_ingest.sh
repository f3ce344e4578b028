#!/bin/sh
# End-to-end: `vigil ingest` of files and standard input, what lands in the
# entries and rejects tables, and `vigil query` over it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

CHRONO=$FIXTURES/chronology.txt
BAD=$FIXTURES/bad.txt
n_chrono=$(line_count "$CHRONO")

# ingest_into DB NAME ARG...: runs `vigil ingest --no-rules --db DB ARG...`
# with its output in $T/NAME.out and $T/NAME.err; sets rc. This file is
# about storing: test_rules.sh ingests with rules.
ingest_into() {
  _db=$1
  _name=$2
  shift 2
  "$VIGIL" ingest --no-rules --db "$_db" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
}

# ingest NAME ARG...: the same into $DB.
ingest() {
  ingest_into "$DB" "$@"
}

# query ARG...: `vigil query --db $DB ARG...`, errors kept for the sanitizer check.
query() {
  "$VIGIL" query --db "$DB" "$@" 2>>"$T/query.err"
}

# dates ARG...: the dates of the entries `vigil query --json ARG...` lists,
# space-separated, in the order listed.
dates() {
  query --json "$@" | sed -n 's/.*"date":"\([^"]*\)".*/\1/p' | tr '\n' ' ' | sed 's/ $//'
}

# ---- a clean chronology ----

ingest chrono1 "$CHRONO"
is "chronology.txt: exit status 0" "$rc" 0
is "chronology.txt: every line stored" "$(cat "$T/chrono1.out")" \
  "$n_chrono stored, 0 duplicates, 0 rejected"
is "chronology.txt: no line reported as bad" "$(count_matching 'chronology.txt:[0-9]+:' "$T/chrono1.err")" 0
is "chronology.txt: one entry per line" "$(sq 'select count(*) from entries')" "$n_chrono"
is "chronology.txt: the file name is the source" \
  "$(sq "select count(*) from entries where source = 'chronology.txt'")" "$n_chrono"

ingest chrono2 "$CHRONO"
is "chronology.txt again: exit status 0" "$rc" 0
is "chronology.txt again: every line a duplicate" "$(cat "$T/chrono2.out")" \
  "0 stored, $n_chrono duplicates, 0 rejected"
is "chronology.txt again: nothing new stored" "$(sq 'select count(*) from entries')" "$n_chrono"

# Every date style of the fixture, normalised, in date order.
is "dates are normalised and listed in date order" "$(dates --source chronology.txt)" \
  "2023-01-01 2023-02-18 2023-03-13/2023-03-23 2023-03-16 2023-03-16 2023-04-13 2023-04-26 \
2023-05-31 2023-07-12 2023-07-18 2023-08-18 2023-08-24 2023-09-06 2023-09-13 2023-10-13 \
2023-11-21 2023-11-22 2023-11-30 2023-12-01/2023-12-10 2023-12 2023-12-11/2023-12-20 2023-12-18"

rec=$(query --json --text "year-end plenum")
like "'December 2023' has precision month" "$rec" '"date":"2023-12","precision":"month"'
rec=$(query --json --text "second session")
like "'mid-December 2023' is the range of days 11-20" "$rec" \
  '"date":"2023-12-11/2023-12-20","precision":"range"'
rec=$(query --json --text "Chollima-1")
like "'May 31, 2023' has precision day" "$rec" '"date":"2023-05-31","precision":"day"'
like "a JSON record holds the entry's text" "$rec" \
  '"text":"The first launch of the Malligyong-1 reconnaissance satellite failed when its Chollima-1 rocket fell into the Yellow Sea\."'
like "a JSON record holds source and ingestion time" "$rec" \
  '"source":"chronology.txt","ingested_at":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z","tags":\[\]'
case $rec in
*'"fields"'*) fail "a chronology entry has no \"fields\"" "$rec" ;;
*) ok "a chronology entry has no \"fields\"" ;;
esac

# ---- query windows, full text, limits ----

is "--since/--until a month: the entries of July" "$(dates --since 2023-07 --until 2023-07)" \
  "2023-07-12 2023-07-18"
is "--since/--until days: December" "$(dates --since 2023-12-01 --until 2023-12-31)" \
  "2023-12-01/2023-12-10 2023-12 2023-12-11/2023-12-20 2023-12-18"
is "--since lists month and range entries whose span overlaps it" "$(dates --since 2023-12-15)" \
  "2023-12 2023-12-11/2023-12-20 2023-12-18"
is "--until lists a range that starts before it" "$(dates --until 'March 15, 2023')" \
  "2023-01-01 2023-02-18 2023-03-13/2023-03-23"
is "--text finds every entry with the word" "$(query --json --text Hwasong-18 | wc -l | tr -d ' ')" \
  "$(grep -c 'Hwasong-18' "$CHRONO")"
is "--text Hwasong-18: the three flights" "$(dates --text Hwasong-18)" "2023-04-13 2023-07-12 2023-12-18"
is "--text with two words needs both" "$(dates --text 'satellite orbit')" \
  "2023-08-24 2023-11-21 2023-12-01/2023-12-10"
is "--text and --since together" "$(dates --text Hwasong-18 --since 2023-06-01)" "2023-07-12 2023-12-18"
is "--limit 3: the three earliest" "$(dates --limit 3)" "2023-01-01 2023-02-18 2023-03-13/2023-03-23"
is "--text that matches nothing lists nothing" "$(query --json --text 'Pyongyang marathon' | wc -l | tr -d ' ')" 0

# ---- a file of good and bad lines ----

if [ "$(tail -c 1 "$BAD" | od -An -c | tr -d ' ')" = '\n' ]; then
  fail "bad.txt ends without a newline (fixture)"
else
  ok "bad.txt ends without a newline (fixture)"
fi
ingest bad "$BAD"
is "bad.txt: exit status 1" "$rc" 1
is "bad.txt: summary" "$(cat "$T/bad.out")" "3 stored, 0 duplicates, 12 rejected"
is "bad.txt: one error line per bad line" "$(count_matching '^.*bad\.txt:[0-9]+: ' "$T/bad.err")" 12
while IFS='|' read -r n why; do
  got=$(grep -F "$BAD:$n: " "$T/bad.err")
  case $got in
  "$BAD:$n: "*"$why"*) ok "bad.txt:$n reported: $why" ;;
  *) fail "bad.txt:$n reported: $why" "got: $got" "stderr: $(cat "$T/bad.err")" ;;
  esac
done <<'EOF'
2|empty line
3|no date
4|impossible date: day 30 is past the end of February 2023 (28 days)
5|'Smarch' is no month name
6|no "text"
7|must be an object
9|expected ':' after the date
10|invalid JSON
11|no text after the date
12|four digits
13|"date" must be a string
14|impossible date: day 31 is past the end of September 2023 (30 days)
EOF
is "rejects: one row per bad line, with its line number" \
  "$(sq "select group_concat(line, ' ') from (select line from rejects where source = 'bad.txt' order by line)")" \
  "2 3 4 5 6 7 9 10 11 12 13 14"
is "rejects: the raw line is kept" "$(sq "select raw from rejects where source = 'bad.txt' and line = 5")" \
  "Smarch 3, 2023: A month the calendar does not have."
is "rejects: the reason is kept" "$(sq "select reason from rejects where source = 'bad.txt' and line = 2")" \
  "empty line"
is "bad.txt: its good lines are stored" "$(dates --source bad.txt)" "2023-03-27 2023-06-15 2023-07-19"
is "bad.txt: the last line, without a newline, is stored whole" \
  "$(sq "select text from entries where source = 'bad.txt' and date = '2023-07-19'")" \
  "A day after the submarine reached Busan, North Korea fired two short-range ballistic missiles from near Pyongyang."
rec=$(query --json --source bad.txt --since 2023-06-15 --until 2023-06-15)
like "a JSON record's other members are its \"fields\"" "$rec" '"fields":\{"kind":"launch","count":2\}'
like "a JSON record's \"text\" is the entry text" "$rec" \
  "\"text\":\"Two short-range ballistic missiles came down inside Japan's exclusive economic zone.\""
is "--source bad.txt: only its entries" "$(query --json --source bad.txt | wc -l | tr -d ' ')" 3
is "--source chronology.txt: only its entries" "$(query --json --source chronology.txt | wc -l | tr -d ' ')" \
  "$n_chrono"

# ---- encodings: UTF-8 passes, bad bytes are rejected ----

enc=$T/enc.txt
{
  printf '2023-07-27: 북한은 전승절 열병식에서 새 무인기를 공개했다.\n'
  printf 'Jan. 5, 2023: caf\351 au lait\n'
  printf 'Jan. 6, 2023: nul\000byte\n'
  printf 'Jan. 8, 2023: a line that ends in a carriage return\r\n'
} >"$enc"
ingest enc "$enc"
is "enc.txt: exit status 1" "$rc" 1
is "enc.txt: summary" "$(cat "$T/enc.out")" "2 stored, 0 duplicates, 2 rejected"
check "enc.txt: a Latin-1 byte is reported as invalid UTF-8 at its offset" \
  grep -Fqx "$enc:2: invalid UTF-8 at byte 18" "$T/enc.err"
check "enc.txt: a NUL byte is reported at its offset" \
  grep -Fqx "$enc:3: NUL byte at byte 18" "$T/enc.err"
rec=$(query --json --source enc.txt --since 2023-07-27 --until 2023-07-27)
like "Hangul text is stored and listed unchanged" "$rec" '"text":"북한은 전승절 열병식에서 새 무인기를 공개했다\."'
is "a trailing carriage return is not part of the text" \
  "$(sq "select text from entries where source = 'enc.txt' and date = '2023-01-08'")" \
  "a line that ends in a carriage return"

# ---- lines over the length cap ----

# With max_line = 64: a 100000-byte line (longer than one 64 KiB read), a
# good line, a 72-byte line, a good line.
printf 'max_line = 64\n' >"$T/cap.lua"
long=$T/long.txt
{
  printf 'Jan. 9, 2023: '
  head -c 99986 /dev/zero | tr '\0' 'x'
  printf '\n'
  printf 'Jan. 10, 2023: short enough\n'
  printf 'Jan. 11, 2023: this line is a little longer than sixty-four bytes\n'
  printf 'Jan. 12, 2023: short again\n'
} >"$long"
ingest long --config "$T/cap.lua" "$long"
is "long.txt: exit status 1" "$rc" 1
is "long.txt: the lines after an overlong line are read as usual" "$(cat "$T/long.out")" \
  "2 stored, 0 duplicates, 2 rejected"
is "long.txt: the short lines are stored" \
  "$(sq "select group_concat(text, '|') from entries where source = 'long.txt'")" "short enough|short again"
is "an overlong line is reported with its length and the cap" \
  "$(grep -F "$long:3: " "$T/long.err")" "$long:3: line of 65 bytes is over the 64-byte cap"
is "an overlong line longer than one read is reported with its full length" \
  "$(grep -F "$long:1: " "$T/long.err")" "$long:1: line of 100000 bytes is over the 64-byte cap"
is "rejects keep the first 64 bytes of an overlong line and its full length" \
  "$(sq "select group_concat(line || ':' || length(raw) || ':' || raw_length, ' ')
         from (select * from rejects where source = 'long.txt' order by line)")" \
  "1:64:100000 3:64:65"

# ---- standard input ----

stdin_lines='Jul 26 2023: Kim Jong Un showed the visiting Russian defence minister an exhibition of new weapons.
Jul 27 2023: Sergei Shoigu stood beside Kim Jong Un at the armistice anniversary parade in Pyongyang.
the parade ended after dark'
printf '%s\n' "$stdin_lines" | "$VIGIL" ingest --no-rules --db "$DB" - >"$T/stdin.out" 2>"$T/stdin.err"
rc=$?
is "stdin: exit status 1 (one bad line)" "$rc" 1
is "stdin: summary" "$(cat "$T/stdin.out")" "2 stored, 0 duplicates, 1 rejected"
check "stdin: the bad line is reported as stdin:3" grep -Fq "stdin:3: no date" "$T/stdin.err"
is "stdin: the source is stdin" "$(dates --source stdin)" "2023-07-26 2023-07-27"
printf '%s\n' "$stdin_lines" | "$VIGIL" ingest --no-rules --db "$DB" --source analyst-notes - \
  >"$T/stdin2.out" 2>"$T/stdin2.err"
is "stdin with --source: the same lines are new entries of that source" "$(cat "$T/stdin2.out")" \
  "2 stored, 0 duplicates, 1 rejected"
is "--source analyst-notes lists them" "$(dates --source analyst-notes)" "2023-07-26 2023-07-27"
printf '%s\n' '{"date": "Sept. 13, 2023", "text": "Kim and Putin toured the launch facilities together.", "source": "wire-desk", "title": "Summit in Amur"}' |
  "$VIGIL" ingest --no-rules --db "$DB" - >"$T/named.out" 2>"$T/named.err"
rec=$(query --json --source wire-desk)
like "a JSON record's \"source\" member is its source" "$rec" \
  '"date":"2023-09-13","precision":"day","text":"Kim and Putin toured the launch facilities together\.","source":"wire-desk"'
like "... and is not one of its fields" "$rec" '"fields":\{"title":"Summit in Amur"\}\}$'

# ---- a missing file among others ----

ingest_into "$T/missing.db" missing "$T/no-such-file.txt" "$CHRONO"
is "a missing file: exit status 3" "$rc" 3
check "a missing file: the error names it" grep -Fq "$T/no-such-file.txt: cannot open" "$T/missing.err"
check "a missing file: the other file is still ingested" \
  grep -Fqx "$CHRONO: $n_chrono stored, 0 duplicates, 0 rejected" "$T/missing.out"
is "a missing file: the other file's entries are stored" \
  "$(sq "$T/missing.db" 'select count(*) from entries')" "$n_chrono"

# ---- a database from a newer vigil ----

future=$T/future.db
printf 'Jan. 1, 2023: a first entry\n' | "$VIGIL" ingest --no-rules --db "$future" - >/dev/null 2>"$T/future0.err"
sq "$future" 'PRAGMA user_version = 999'
ingest_into "$future" future "$CHRONO"
isnt "a newer database: ingest fails" "$rc" 0
check "a newer database: the message says it is newer" grep -q newer "$T/future.err"
is "a newer database: nothing is stored" "$(sq "$future" 'select count(*) from entries')" 1
is "a newer database: its version is untouched" "$(sq "$future" 'PRAGMA user_version')" 999
"$VIGIL" query --db "$future" >"$T/future-query.out" 2>"$T/future-query.err"
rc=$?
isnt "a newer database: query fails" "$rc" 0
check "a newer database: query says it is newer" grep -q newer "$T/future-query.err"

check_sanitizers "no sanitizer report from any ingest or query run" "$T"/*.err

done_testing

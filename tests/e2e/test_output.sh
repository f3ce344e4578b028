#!/bin/sh
# End-to-end: what vigil writes out stays true to what came in, and no
# stored text can forge what a reader sees. JSON fields keep each value as
# written (a 64-bit id, a number past a double's range) through the store,
# `vigil query --json` and SQLite's json_extract; a record giving a member
# twice is refused. Text with line breaks and escape sequences prints as one
# escaped row in `vigil query` and `vigil alerts`, and stays in its own list
# item of the Markdown digest. A date-time that leaves the years 0001-9999
# in UTC, and settings that would wrap or name an unknown time zone, are
# refused with the reason rather than bent into something else.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

ESC=$(printf '\033')

# ---- JSON fields as written ----

cat >"$T/records.jsonl" <<'EOF'
{"date": "2023-11-21", "text": "A record with a long id.", "id": 1729382256910270465, "big": 1e999, "ratio": 2.50}
{"date": "2023-11-22", "text": "A record that gives its id twice.", "id": 1, "id": 2}
EOF
"$VIGIL" ingest --db "$DB" --no-rules "$T/records.jsonl" >"$T/ingest1.out" 2>"$T/ingest1.err"
is "ingest of a good and a duplicated-member record exits 1 (a line rejected)" "$?" 1
like "the record that gives a member twice is refused, naming it" "$(cat "$T/ingest1.err")" \
  'records\.jsonl:2: the member "id" is given twice'
is "... and kept in rejects with that reason" \
  "$(sq "select reason from rejects where line = 2")" 'the member "id" is given twice'
"$VIGIL" query --db "$DB" --json >"$T/query.json" 2>"$T/query.err"
like "vigil query --json shows the id with every digit, and 1e999 and 2.50 as written" \
  "$(cat "$T/query.json")" '"fields":\{"id":1729382256910270465,"big":1e999,"ratio":2\.50\}'
is "json_extract reads the id exactly" \
  "$(sq "select json_extract(fields, '\$.id') from entries")" 1729382256910270465

# ---- control characters in the terminal ----

printf '%s\n' \
  "{\"date\": \"2023-11-23\", \"text\": \"North Korea launches a ballistic missile.\\n2023-11-24  forged  A row that is not there\\u001b[31m\", \"source\": \"desk\\u001b]0;title\\u0007\"}" \
  >"$T/control.jsonl"
"$VIGIL" ingest --db "$DB" --rules "$RULES" "$T/control.jsonl" >"$T/ingest2.out" 2>"$T/ingest2.err"
is "a record whose text holds a line break and escape sequences is stored" "$?" 0
"$VIGIL" query --db "$DB" --since 2023-11-23 >"$T/query.txt" 2>>"$T/query.err"
is "vigil query prints it as one row" "$(line_count "$T/query.txt")" 1
check "... with no escape character in it" sh -c '! grep -q "$1" "$2"' sh "$ESC" "$T/query.txt"
like "... and the line break and escapes written as \\xHH" "$(cat "$T/query.txt")" \
  '^[0-9]+  2023-11-23  desk\\x1b\]0;title\\x07  North Korea launches a ballistic missile\.\\x0a2023-11-24  forged  A row that is not there\\x1b\[31m'
"$VIGIL" alerts --db "$DB" >"$T/alerts.txt" 2>"$T/alerts.err"
check "vigil alerts: the launch alert quoting that text is present" \
  grep -q 'dprk-launch' "$T/alerts.txt"
is "... and every alert is one row" "$(line_count "$T/alerts.txt")" \
  "$(sq 'select count(*) from alerts')"
check "... with no escape character in it" sh -c '! grep -q "$1" "$2"' sh "$ESC" "$T/alerts.txt"

printf '%s\n' '2023-11-25: A text with a	tab in it.' >"$T/tab.txt"
"$VIGIL" ingest --db "$DB" --no-rules "$T/tab.txt" >/dev/null 2>"$T/ingest-tab.err"
like "a tab prints as \\x09 too" "$("$VIGIL" query --db "$DB" --since 2023-11-25 --until 2023-11-25)" \
  'A text with a\\x09tab in it\.'

# ---- the Markdown digest ----

printf '%s\n' \
  '{"date": "2023-12-14", "text": "North Korea launches a missile.\n\n# A heading that is not there\n- an item that is not there", "source": "desk"}' \
  >"$T/digest.jsonl"
"$VIGIL" ingest --db "$DB" --rules "$RULES" "$T/digest.jsonl" >"$T/ingest3.out" 2>"$T/ingest3.err"
is "an entry whose text holds Markdown lines is stored" "$?" 0
"$VIGIL" digest weekly --at 2023-12-20 --db "$DB" --out "$T/digests" >"$T/digest.out" 2>"$T/digest.err"
is "vigil digest weekly exits 0" "$?" 0
MD=$(ls "$T"/digests/*.md 2>/dev/null | head -n 1)
check "the Markdown digest is written" test -f "$MD"
is "no line of it starts the injected heading or item" \
  "$(grep -c -E '^(# A heading|- an item)' "$MD")" 0
like "the entry stays one list item, its markup escaped" "$(cat "$MD")" \
  '- 2023-12-14: North Korea launches a missile\.  \\# A heading that is not there - an item that is not there'

# ---- values that cannot be right ----

printf '%s\n' '{"date": "9999-12-31T23:00:00-05:00", "text": "Past the last year in UTC."}' \
  >"$T/edge.jsonl"
"$VIGIL" ingest --db "$DB" --no-rules "$T/edge.jsonl" >"$T/edge.out" 2>"$T/edge.err"
is "a date-time past 9999 in UTC: ingest exits 1" "$?" 1
like "... naming why" "$(cat "$T/edge.err")" 'edge\.jsonl:1: .*outside the years 0001 to 9999'
is "... and nothing is stored in year 0" "$(sq "select count(*) from entries where date like '0000%'")" 0
printf 'feed_interval = 4294967297\n' >"$T/wrap.conf"
"$VIGIL" query --db "$DB" --config "$T/wrap.conf" >/dev/null 2>"$T/wrap.err"
is "a setting of 2^32 + 1 is refused (exit 2)" "$?" 2
like "... naming it" "$(cat "$T/wrap.err")" "'feed_interval' must be at most 2147483647"
printf 'timezone = "Mars/Olympus_Mons"\n' >"$T/zone.conf"
"$VIGIL" run --db "$T/zone.db" --socket '' --listen '' --spool '' --config "$T/zone.conf" \
  >/dev/null 2>"$T/zone.err"
is "vigil run with an unknown time zone does not start (exit 2)" "$?" 2
like "... and names the zone" "$(cat "$T/zone.err")" "timezone 'Mars/Olympus_Mons' is not a known time zone"

check_sanitizers "no sanitizer report" "$T"/*.err
done_testing

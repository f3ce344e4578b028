#!/bin/sh
# End-to-end: CSV and TSV through a column map (core/tabular.c). An ACLED
# export (a BOM, CRLF, quoted cells with commas, doubled quotes and
# newlines, a row one column short, a date that does not read) goes in with
# `vigil ingest --format acled`: entries, their fields verbatim, rejects
# with their row numbers and both counts. The same export again is all
# duplicates (ids known); a later export whose row has a newer `timestamp`
# corrects its entry, and the alert a rule over the fields raised is
# amended, then retracted. GDELT 2.0 (61 columns, told by its file name)
# and 1.0 (58) rows, with the CAMEO descriptions in the text. A format of
# the configuration's own (tabs, Unix seconds, declared columns) and the
# settings it refuses. Then the daemon: a format directory and a suffix in
# the spool, rows over HTTP with ?format=, and a connection whose first row
# is a header.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

TAB=$FIXTURES/tables
RULES=$TAB/rules.lua
DB=$T/t.db

# got_is GOT EXPECTED DESCRIPTION, got_isnt GOT UNEXPECTED DESCRIPTION, and
# got_has GOT TEXT DESCRIPTION (TEXT a fixed string, not a pattern).
got_is() { is "$3" "$1" "$2"; }
got_isnt() { isnt "$3" "$1" "$2"; }
got_has() {
  if printf '%s\n' "$1" | grep -qF -- "$2"; then
    ok "$3"
  else
    fail "$3" "got:      $1" "expected to hold: $2"
  fi
}

# field DB ID NAME: the field NAME of the entry the row with id ID became.
field() {
  sq "$1" "select json_extract(e.fields, '\$.$3') from entries e join row_keys k
           on k.entry_id = e.id where k.key = '$2'"
}

# ---- an ACLED export from the command line ----
measure acled "$VIGIL" ingest --db "$DB" --rules "$RULES" --format acled "$TAB/acled_korea.csv"
got_is "$rc" 1 "an export with rejected rows: exit status 1"
got_has "$(cat "$T/acled.out")" "4 stored, 0 duplicates, 2 rejected" "four rows stored, two rejected"
got_has "$(cat "$T/acled.err")" "acled_korea.csv:5: row 5 has 29 cells, the header 31" \
  "the short row: its row number (quoted newlines counted inside their row) and both counts"
got_has "$(cat "$T/acled.err")" "acled_korea.csv:7: row 7: column 'event_date': '6th of Janvier 2024' is no date" \
  "the row whose date does not read: its row, its column and the cell"
got_is "$(sq "select line || ' ' || origin from rejects order by line")" \
  "5 $TAB/acled_korea.csv
7 $TAB/acled_korea.csv" "both kept in rejects with their row numbers"
got_is "$(sq "select count(*) from rejects where reason like '%header%' and reason not like '%cells%'")" 0 \
  "the header row (after its BOM) is no reject"
got_is "$(sq "select key from row_keys where format = 'acled' order by key" | tr '\n' ' ')" \
  "KOR2001 PRK1001 PRK1002 PRK1003 " "each stored row's id is recorded"
got_is "$(sq "select date || ' ' || source from entries e join row_keys k on k.entry_id = e.id
          where k.key = 'PRK1002'")" "2023-12-18 Yonhap; Kyodo" \
  "the date from event_date, the source from the source column"
got_is "$(sq "select text from entries e join row_keys k on k.entry_id = e.id where k.key = 'PRK1002'")" \
  "Strategic developments — Weapons test — On 18 December 2023, North Korea fired a solid-fuel Hwasong-18 missile
that flew for about 73 minutes before falling into the sea west of Hokkaido.
Japan, South Korea and the US condemned the launch." \
  "the text: event_type and sub_event_type, then the notes with their quoted newlines"
got_has "$(sq "select text from entries e join row_keys k on k.entry_id = e.id where k.key = 'PRK1001'")" \
  'the "Malligyong-1", into orbit' "a doubled quote is one quote"
got_is "$(field "$DB" PRK1003 latitude)|$(field "$DB" PRK1003 iso)|$(field "$DB" PRK1003 tags)" \
  "37.870|408|crowd size=no report" "fields keep each cell as text, as given (37.870, not 37.87)"
got_is "$(field "$DB" PRK1003 sub_event_type)|$(field "$DB" PRK1003 event_id_cnty)" \
  "Shelling/artillery/missile attack|PRK1003" "the text's columns and the id are fields too"
got_is "$(sq "select count(*) from entries where json_extract(fields, '\$.event_date') is not null
          or json_extract(fields, '\$.source') is not null
          or json_extract(fields, '\$.admin2') is not null")" 0 \
  "the date and the source are the entry's own, and empty cells are no fields"
got_is "$(sq "select message from alerts where rule = 'acled-launch-then-drill'")" \
  "PRK1002, then Strategic developments — Other — On 20 December 2023, South Korean, Japanese and US aircraft, with US B-1B bombers, flew a joint air exercise near Jeju, two days after the North's launch, \"in answer to it\", officials said." \
  "a rule over the fields pairs the launch with the drill two days later"

measure again "$VIGIL" ingest --db "$DB" --rules "$RULES" --format acled "$TAB/acled_korea.csv"
got_has "$(cat "$T/again.out")" "0 stored, 4 duplicates, 2 rejected" \
  "the same export again: every row a duplicate of its id's entry"
got_is "$(sq "select count(*) from entries")" 4 "no entry twice"

# ---- a later export: corrections by last edit ----
measure later "$VIGIL" ingest --db "$DB" --rules "$RULES" --format acled "$TAB/acled_korea_later.csv"
got_has "$(cat "$T/later.out")" "1 stored, 3 duplicates, 0 rejected, 1 corrected or retracted" \
  "a later export: one new row, one corrected, the unchanged and the stale ones duplicates"
got_is "$(sq "select version || ' ' || state from alerts where rule = 'acled-launch-then-drill'")" \
  "2 active" "the drill re-dated within the week and reworded: the alert amended"
got_has "$(sq "select message from alerts where rule = 'acled-launch-then-drill'")" \
  "On 21 December 2023" "its message says the new version"
got_is "$(field "$DB" PRK1001 notes | cut -c1-40)" "On 21 November 2023, North Korea put a r" \
  "a row with an older timestamp does not replace the newer one"
got_is "$(sq "select reason from entry_versions v join row_keys k on k.entry_id = v.entry_id
          where k.key = 'KOR2001'")" "edited in its source (timestamp 1704900000)" \
  "the earlier version kept, with why it changed"

measure latest "$VIGIL" ingest --db "$DB" --rules "$RULES" "$TAB/acled_korea_latest.csv" --format acled
got_has "$(cat "$T/latest.out")" "0 stored, 0 duplicates, 0 rejected, 1 corrected or retracted" \
  "the latest edit moves the drill ten days after the launch"
got_is "$(sq "select version || ' ' || state from alerts where rule = 'acled-launch-then-drill'")" \
  "3 retracted" "the alert retracted"
got_has "$(sq "select retract_reason from alerts where rule = 'acled-launch-then-drill'")" \
  "timestamp 1705000000" "with the edit that took it back"

# ---- GDELT: 2.0 by its file name, 1.0 by its column count ----
G=$T/g.db
cp "$TAB/gdelt2.export.CSV" "$T/20231201031500.export.CSV"
measure g2 "$VIGIL" ingest --db "$G" --no-rules "$T/20231201031500.export.CSV"
got_has "$(cat "$T/g2.out")" "4 stored, 0 duplicates, 0 rejected" \
  "a GDELT 2.0 export, read as gdelt by its name's .export.CSV"
CAMEO_0874=$(sed -n 's/^  \["0874"\] = "\(.*\)",$/\1/p' "$E2E/../../scripts/cameo.lua")
got_isnt "$CAMEO_0874" "" "the shipped CAMEO table names 0874"
got_is "$(sq "$G" "select date || ' ' || source || ' ' || text from entries e join row_keys k
              on k.entry_id = e.id where k.key = '1130000003'")" \
  "2023-11-28 gdelt UNITED STATES — $CAMEO_0874 — SOUTH KOREA — Washington, District of Columbia, United States" \
  "the text: the actors, the code's description and the place; the date from SQLDATE"
got_is "$(field "$G" 1130000003 EventCode)|$(field "$G" 1130000003 EventRootCode)|$(field "$G" 1130000003 GoldsteinScale)|$(field "$G" 1130000003 QuadClass)" \
  "0874|08|4.0|2" "the codes kept verbatim, leading zeros and all"
got_is "$(field "$G" 1130000002 SOURCEURL)|$(field "$G" 1130000002 Actor2CountryCode)" \
  "https://news.example.org/2023/11/23/guard-posts|KOR" "the source URL and the countries"
measure g1 "$VIGIL" ingest --db "$G" --no-rules --format gdelt "$TAB/gdelt1.tsv"
got_is "$rc" 1 "GDELT 1.0 with a bad row: exit status 1"
got_has "$(cat "$T/g1.out")" "2 stored, 0 duplicates, 1 rejected" "two 1.0 rows stored"
got_has "$(cat "$T/g1.err")" "gdelt1.tsv:3: row 3 has 59 cells, the format's rows 61 or 58" \
  "a row of neither layout: both counts named"
got_is "$(sq "$G" "select date from entries e join row_keys k on k.entry_id = e.id
              where k.key = '290000002'")|$(field "$G" 290000002 ActionGeo_FeatureID)" \
  "2013-03-07|-716583" "a 1.0 row read by the 58 columns (no ADM2Code)"
measure g2again "$VIGIL" ingest --db "$G" --no-rules --format gdelt "$TAB/gdelt2.export.CSV"
got_has "$(cat "$T/g2again.out")" "0 stored, 4 duplicates" "GDELT rows again: duplicates by GLOBALEVENTID"

# ---- a format of the configuration ----
cat >"$T/formats.lua" <<'EOF'
formats = {
  wire = { date = "day", date_layout = "YYYY-MM-DD", text = { "headline", "summary" },
           id = "ref", source = "outlet", suffix = ".wire.csv" },
  ticks = { delimiter = "tab", columns = { "when", "what", "code" }, date = "when",
            date_layout = "unix", text = "what" },
}
EOF
printf 'ref,day,headline,summary,outlet,code\nW1,2024-01-05,North Korea fires artillery near Yeonpyeong,About 200 rounds,Yonhap,0045\nW2,05/01/2024,A date in another layout,,KBS,1\n' >"$T/desk.wire.csv"
W=$T/w.db
measure wire "$VIGIL" ingest --config "$T/formats.lua" --db "$W" --no-rules "$T/desk.wire.csv"
got_has "$(cat "$T/wire.out")" "1 stored, 0 duplicates, 1 rejected" "a configured format, chosen by its suffix"
got_has "$(cat "$T/wire.err")" "desk.wire.csv:3: row 3: column 'day': '05/01/2024' is no date (YYYY-MM-DD)" \
  "its date layout is held to"
got_is "$(sq "$W" "select text || '|' || source || '|' || fields from entries")" \
  'North Korea fires artillery near Yeonpyeong — About 200 rounds|Yonhap|{"ref":"W1","headline":"North Korea fires artillery near Yeonpyeong","summary":"About 200 rounds","code":"0045"}' \
  "its text, source and fields"
printf '1704412800\tNorth Korea launches a cruise missile\t0195\n' >"$T/ticks.tsv"
measure ticks "$VIGIL" ingest --config "$T/formats.lua" --db "$W" --no-rules --format ticks "$T/ticks.tsv"
got_is "$(sq "$W" "select date || '|' || fields from entries where text like '%cruise%'")" \
  '2024-01-05|{"what":"North Korea launches a cruise missile","code":"0195"}' \
  "declared columns without a header; Unix seconds as a UTC day"

# bad_config NAME LUA EXPECTED: `vigil config --check` refuses the file, saying EXPECTED.
bad_config() {
  printf '%s\n' "$2" >"$T/bad.lua"
  measure "bad_$1" "$VIGIL" config --show --config "$T/bad.lua"
  if [ "$rc" -ne 0 ] && grep -qF "$3" "$T/bad_$1.err"; then
    ok "refused: $1"
  else
    fail "refused: $1" "exit $rc; said: $(cat "$T/bad_$1.err")"
  fi
}
bad_config "a shipped name" 'formats = { acled = { date = "d", text = "t" } }' \
  "format 'acled': a shipped format has that name"
bad_config "no text" 'formats = { w = { date = "d" } }' "format 'w': no text columns"
bad_config "an unknown field" 'formats = { w = { dat = "d", text = "t" } }' \
  "format 'w': unknown field 'dat'"
bad_config "a bad layout" 'formats = { w = { date = "d", text = "t", date_layout = "DD/MM" } }' \
  "its date_layout is any, YYYY-MM-DD, YYYYMMDD or unix"
bad_config "a column not declared" \
  'formats = { w = { columns = { "a", "b" }, date = "a", text = "c" } }' \
  "format 'w': column 'c' is not among its columns"
bad_config "an unknown format" 'format = "nosuch"' "not 'nosuch'"
measure unknown "$VIGIL" ingest --db "$W" --format nosuch "$T/ticks.tsv"
got_is "$rc" 2 "ingest --format of no format: a usage error (2)"

# ---- the daemon: spool, HTTP, a connection ----
DB=$T/d.db
mkdir -p "$SPOOL/acled"
start_daemon --rules "$RULES" --format acled
cp "$TAB/acled_korea.csv" "$SPOOL/acled/.part" && mv "$SPOOL/acled/.part" "$SPOOL/acled/export.csv"
cp "$TAB/gdelt2.export.CSV" "$SPOOL/.part" && mv "$SPOOL/.part" "$SPOOL/20231201031500.export.CSV"
if wait_running 120 test -e "$SPOOL/failed/acled/export.csv"; then
  ok "the spool's acled/ file is read and, with its two rejects, moved to failed/acled/"
else
  fail "the spool's acled/ file is read" "$(ls -R "$SPOOL")" "$(tail -n 5 "$DLOG")"
fi
got_has "$(cat "$SPOOL/failed/acled/export.csv.err" 2>/dev/null)" "row 5 has 29 cells, the header 31" \
  "its .err names the short row"
wait_running 120 test -e "$SPOOL/done/20231201031500.export.CSV"
got_is "$(sq "select count(*) from row_keys where format = 'gdelt'")|$(sq "select count(*) from row_keys where format = 'acled'")" \
  "4|4" "the .export.CSV file read as GDELT, the acled/ file as ACLED"

# HTTP: the later export as a body
curl -s -o "$T/post.json" -w '%{http_code}' -H 'Content-Type: text/csv; charset=utf-8' \
  --data-binary "@$TAB/acled_korea_later.csv" "$HTTP/v1/entries?format=acled" >"$T/post.code"
got_is "$(cat "$T/post.code")" 200 "POST /v1/entries?format=acled: 200"
got_is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(r["status"] for r in d["results"]), d["stored"], d["duplicates"], d.get("corrected"))' "$T/post.json")" \
  "header duplicate duplicate corrected duplicate stored 1 3 1" \
  "each row's status: the header, duplicates, the correction, the new row"
got_is "$(sq "select version || ' ' || state from alerts where rule = 'acled-launch-then-drill'")" \
  "2 active" "the correction over HTTP amended the alert"
printf 'event_id_cnty,event_date,notes\nX1,2024-02-01\n' >"$T/short.csv"
curl -s -o "$T/post2.json" -H 'Content-Type: text/csv' --data-binary "@$T/short.csv" \
  "$HTTP/v1/entries?format=acled"
got_has "$(cat "$T/post2.json")" "row 2 has 2 cells, the header 3" "a short row over HTTP: its row and counts"
curl -s -o "$T/post3.json" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary "@$T/short.csv" \
  "$HTTP/v1/entries?format=nosuch" >"$T/post3.code"
got_is "$(cat "$T/post3.code")" 400 "?format= of no format: 400"
curl -s -o "$T/post4.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary "@$T/short.csv" "$HTTP/v1/entries?format=acled" >"$T/post4.code"
got_is "$(cat "$T/post4.code")" 415 "?format= with a JSON content type: 415"

# a connection: its header, then rows (the daemon's format is acled)
replies=$(printf 'event_id_cnty,event_date,event_type,notes,country,sub_event_type,timestamp\nS1,2024-03-18,Strategic developments,"North Korea fires several short-range missiles, its first such salvo in two months",North Korea,Weapons test,1710800000\nS2,2024-03-19\n' | send_unix)
got_is "$replies" "header
ok $(sq "select entry_id from row_keys where key = 'S1'")
error line 3: row 3 has 2 cells, the header 7" "a connection's header, its row stored, a short row refused"
got_is "$(field "$DB" S1 sub_event_type)" "Weapons test" "the connection's own column map"

stop_daemon
got_is "$DRC" 0 "the daemon stops cleanly"

# ---- JetStream: one GDELT row a message ----
if command -v nats-server >/dev/null 2>&1 && [ -x "$NATSTOOL" ]; then
  DB=$T/n.db
  start_nats || exit 1
  check "the stream of entries is made" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'
  start_daemon --rules "$RULES" --format gdelt --nats "$NATS_URL"
  { cat "$TAB/gdelt2.export.CSV"; printf 'only\tthree\tcells\n'; } >"$T/rows.tsv"
  check "the rows are published" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/rows.tsv'"
  if wait_running 120 sh -c "[ \"\$(sqlite3 '$DB' 'select count(*) from rejects')\" = 1 ]"; then
    ok "the short row's message is rejected"
  else
    fail "the short row's message is rejected" "$(tail -n 5 "$DLOG")"
  fi
  got_is "$(sq "select count(*) from row_keys where format = 'gdelt'")" 4 "four rows stored from four messages"
  got_has "$(sq "select reason from rejects")" "has 3 cells, the format's rows 61 or 58" \
    "with both counts"
  got_is "$(field "$DB" 1130000003 EventCode)" "0874" "a message's codes kept verbatim"
  stop_daemon
  # an export with a header, published: each row goes with the header, so the daemon
  # maps its cells as the file does
  DB=$T/n2.db
  stop_nats
  rm -rf "$T/nats" # a server of its own, its stream empty
  start_nats || exit 1
  check "the stream of entries is made again" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'
  # fewer columns, in another order
  python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
w = csv.writer(sys.stdout, lineterminator="\n")
for r in rows:
    if len(r) == 31: w.writerow([r[30], r[0], r[1], r[5], r[6], r[17], r[27]])
' "$TAB/acled_korea.csv" >"$T/narrow.csv"
  printf 'format = "acled"\n' >"$T/acled.conf"
  start_daemon --config "$T/acled.conf" --rules "$RULES" --nats "$NATS_URL"
  measure pub "$VIGIL" publish --config "$T/acled.conf" --nats "$NATS_URL" "$T/narrow.csv"
  got_is "$rc" 1 "vigil publish of the narrowed export: its bad-date row refused (exit 1)"
  got_is "$(cat "$T/pub.err")" "$T/narrow.csv:6: row 6: column 'event_date': '6th of Janvier 2024' is no date (a date a chronology line may start with)" \
    "publish names the row it refused"
  if wait_running 120 sh -c "[ \"\$(sqlite3 '$DB' 'select count(*) from row_keys')\" = 4 ]"; then
    ok "four rows stored from the published export"
  else
    fail "four rows stored from the published export" "$(cat "$T/pub.err")" "$(tail -n 5 "$DLOG")"
  fi
  got_is "$(field "$DB" PRK1002 sub_event_type)|$(sq "select source from entries e join row_keys k on k.entry_id = e.id where k.key = 'PRK1002'")" \
    "Weapons test|acled" "each message read by the header sent with it (7 columns, not ACLED's 31)"
  got_is "$(sq "select count(*) from rejects")" 0 "no message refused"
  printf 'event_id_cnty,event_date,notes\n' >"$T/header.csv"
  check "a header alone is published" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/header.csv'"
  if wait_running 120 sh -c "[ \"\$(sqlite3 '$DB' 'select count(*) from rejects')\" = 1 ]"; then
    got_is "$(sq "select reason from rejects")" "a header row alone, and no row to read by it" \
      "a message of a header alone is refused, not taken silently"
  else
    fail "a message of a header alone is refused" "$(tail -n 5 "$DLOG")"
  fi
  stop_daemon
  stop_nats
else
  skip "JetStream" "nats-server or natstool is missing"
fi
done_testing

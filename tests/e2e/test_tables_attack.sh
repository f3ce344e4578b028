#!/bin/sh
# End-to-end: table rows (core/tabular.c) against hostile and odd input. A
# quote inside an unquoted cell refuses its own row and no other: the rows
# after it still come through, counted as their own rows. A file whose rows
# end in a bare CR is refused with its reason, not taken for a header alone.
# A quote that never closes costs one overlong row, not the rest of a large
# file. Last-edit marks past 64 bits still order. A header of 100,000
# columns reads in linear time; unnamed header columns may repeat. The
# longest suffix chooses a file's format. Then the daemon: a format
# directory of the spool that is a link; a refused reload changes no
# format, and a format a reload no longer declares is gone. Last, `vigil
# publish` of files whose headers order the columns otherwise: the daemon
# reads each row by its file's header.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$T/t.db

got_is() { is "$3" "$1" "$2"; }
got_has() {
  if printf '%s\n' "$1" | grep -qF -- "$2"; then
    ok "$3"
  else
    fail "$3" "got:      $1" "expected to hold: $2"
  fi
}

cat >"$T/f.lua" <<'LUA'
formats = {
  w = { date = "day", date_layout = "YYYY-MM-DD", text = { "what" }, id = "ref", edited = "ed" },
}
LUA

# ingest NAME FILE: `vigil ingest --format w` of FILE into a fresh $DB.
ingest() {
  rm -f "$DB" "$DB-wal" "$DB-shm"
  measure "$1" "$VIGIL" ingest --db "$DB" --config "$T/f.lua" --no-rules --format w "$2"
}

# ---- a quote inside an unquoted cell ----
printf 'day,what,ref,ed\n2024-01-01,one,a1,1\n2024-01-02,a 5" gun,a2,1\n2024-01-03,three,a3,1\n2024-01-04,four,a4,1\n2024-01-05,"five, quoted",a5,1\n2024-01-06,six,a6,1\n' \
  >"$T/stray.csv"
ingest stray "$T/stray.csv"
got_is "$rc" 1 "a row with a stray quote: exit status 1"
got_has "$(cat "$T/stray.out")" "5 stored, 0 duplicates, 1 rejected" \
  "only the row with the stray quote is refused; the rows after it are stored"
got_has "$(cat "$T/stray.err")" "stray.csv:3: row 3: bad quoting" "the refused row, by its number and reason"
got_is "$(sq "select group_concat(key, ' ') from (select key from row_keys order by key)")" \
  "a1 a3 a4 a5 a6" "each row after the stray quote is its own entry"
got_is "$(sq "select line from rejects")" 3 "the reject is row 3 alone"

# ---- line ends of a bare CR ----
printf 'day,what,ref,ed\r2024-01-01,one,b1,1\r2024-01-02,two,b2,1\r' >"$T/cr.csv"
ingest cr "$T/cr.csv"
got_is "$rc" 1 "a file of CR-only line ends: exit status 1, not a quiet success"
got_has "$(cat "$T/cr.err")" "cr.csv:1: row 1: a carriage return outside quotes" \
  "it is refused, saying why"
# ---- a quote opened and never closed, in a file far over the row cap ----
awk 'BEGIN {
  print "day,what,ref,ed"
  print "2024-01-01,\"a quote that never closes,u0,1"
  for (i = 1; i <= 60000; i++) printf "2024-01-02,row number %d,u%d,1\n", i, i
}' >"$T/unclosed.csv"
ingest unclosed "$T/unclosed.csv"
got_is "$rc" 1 "an unclosed quote: exit status 1"
got_has "$(cat "$T/unclosed.err")" "unclosed.csv:2: line of" "the row it opens is refused as over the cap"
got_is "$(sq "select count(*) from rejects")" 1 "one reject: that row alone"
stored=$(sq "select count(*) from entries")
if [ "$stored" -gt 30000 ]; then
  ok "the rows past the cap still come through ($stored stored)"
else
  fail "the rows past the cap still come through" "got: $stored stored"
fi
got_is "$(sq "select count(*) from row_keys where key = 'u60000'")" 1 "the last row is stored"

# ---- last-edit marks past what a 64-bit number holds ----
printf 'day,what,ref,ed\n%s\n%s\n%s\n%s\n%s\n' \
  '2024-01-01,first,big1,99999999999999999999' \
  '2024-01-01,edited later,big1,100000000000000000000' \
  '2024-01-01,minus,neg1,-5' \
  '2024-01-01,minus edited later,neg1,-4' \
  '2024-01-01,minus edited earlier,neg1,-6' >"$T/marks.csv"
ingest marks "$T/marks.csv"
got_has "$(cat "$T/marks.out")" "2 stored, 1 duplicates, 0 rejected, 2 corrected or retracted" \
  "a mark one digit longer is later, however long; -4 is later than -5, -6 is not"
got_is "$(sq "select group_concat(text, '|') from (select text from entries order by id)")" \
  "edited later|minus edited later" "each entry holds its latest edit"

# ---- a header of 100,000 columns (under the 1 MiB row cap) ----
awk 'BEGIN {
  printf "day,what,ref,ed"
  for (i = 0; i < 100000; i++) printf ",c%d", i
  printf "\n2024-01-01,wide,wide1,1"
  for (i = 0; i < 100000; i++) printf ",v"
  printf "\n"
}' >"$T/wide.csv"
ingest wide "$T/wide.csv"
got_has "$(cat "$T/wide.out")" "1 stored, 0 duplicates, 0 rejected" "a row of 100,000 columns is stored"
if [ "$secs" -le 20 ]; then
  ok "its header is read in time linear in its length ($secs s)"
else
  fail "its header is read in time linear in its length" "took $secs s (exit $rc)"
fi
got_is "$(sq "select json_extract(fields, '\$.c99999') from entries")" v "its last column is a field"

# ---- a header with several empty cells (a spreadsheet's trailing columns) ----
printf 'day,what,ref,ed,,\r\n2024-01-01,one,e1,1,,\r\n2024-01-02,two,e2,1,,\r\n' >"$T/blank.csv"
ingest blank "$T/blank.csv"
got_has "$(cat "$T/blank.out")" "2 stored, 0 duplicates, 0 rejected" \
  "unnamed columns may repeat: the file is read"
printf 'day,what,ref,what\n2024-01-01,one,e1,two\n' >"$T/twice.csv"
ingest twice "$T/twice.csv"
got_has "$(cat "$T/twice.err")" "twice.csv:1: row 1: the header names column 'what' twice" \
  "a named column twice is still refused"

# ---- a configured suffix that is the tail of a shipped one ----
printf 'formats = { mine = { date = "day", text = "what", suffix = ".csv" } }\n' >"$T/suffix.lua"
cp "$FIXTURES/tables/acled_korea.csv" "$T/korea.acled.csv"
printf 'day,what\n2024-01-01,a row of my own\n' >"$T/mine.csv"
rm -f "$DB"
measure suffix "$VIGIL" ingest --db "$DB" --config "$T/suffix.lua" --no-rules "$T/korea.acled.csv" "$T/mine.csv"
got_is "$(sq "select count(*) from row_keys where format = 'acled'")" 4 \
  "a .acled.csv file is read as acled though a format of the configuration ends in .csv"
got_is "$(sq "select count(*) from entries where text = 'a row of my own'")" 1 \
  "a .csv file is read in the configuration's format"

# ---- the daemon: a format directory of the spool that is a link to one ----
DB=$T/d.db
mkdir -p "$SPOOL" "$T/elsewhere"
ln -s "$T/elsewhere" "$SPOOL/w"
printf 'day,what,ref,ed\n2024-03-01,through a linked directory,l1,1\n' >"$T/elsewhere/a.csv"
mkdir -p "$T/rules"
: >"$T/rules/none.lua"
start_daemon --config "$T/f.lua" --rules "$T/rules"
if wait_running 60 test -e "$SPOOL/done/w/a.csv"; then
  ok "a file in spool/w, a link to a directory, is read as format w and moved to done/w/"
else
  fail "a file in spool/w, a link to a directory, is read" "$(ls -R "$SPOOL")" "$(tail -n 5 "$DLOG")"
fi
got_is "$(sq "select count(*) from row_keys where key = 'l1'")" 1 "its row is stored"

# ---- reloads: a refused one changes no format; a format dropped is gone ----
# post NAME BODY: POST BODY as CSV to ?format=NAME; the reply in $T/post.json,
# the status in $code.
post() {
  code=$(printf '%s' "$2" | curl -s -o "$T/post.json" -w '%{http_code}' -H 'Content-Type: text/csv' \
    --data-binary @- "$HTTP/v1/entries?format=$1")
}
cat >"$T/f.lua" <<'LUA'
formats = {
  w = { date = "day", text = { "other" } },
  extra = { date = "day", text = { "what" } },
}
max_line = "not a number"
LUA
kill -HUP "$DPID"
wait_running 60 grep -q 'keeping the settings in force' "$DLOG"
post w 'day,what,other,ref,ed
2024-04-01,the column what,the column other,r1,1
'
got_is "$(sq "select text from entries e join row_keys k on k.entry_id = e.id where k.key = 'r1'")" \
  "the column what" "a reload refused leaves format w as it was"
post extra 'day,what
2024-04-02,through extra
'
got_is "$code" 400 "nor does a format it declared come in force"
printf 'formats = { v = { date = "day", text = { "what" } } }\n' >"$T/f.lua"
kill -HUP "$DPID"
wait_running 60 grep -q 'reloaded configuration' "$DLOG"
post w 'day,what
2024-04-03,after w was dropped
'
got_is "$code" 400 "a format the reloaded configuration no longer declares is gone"
post v 'day,what
2024-04-04,through v
'
got_is "$code" 200 "the one it declares is in force"
stop_daemon

# ---- publish: a file whose header orders the columns otherwise ----
if command -v nats-server >/dev/null 2>&1 && [ -x "$NATSTOOL" ]; then
  cat >"$T/p.lua" <<'LUA'
formats = {
  p = { date = "day", date_layout = "YYYY-MM-DD", text = { "what", "note" }, id = "ref",
        columns = { "day", "what", "note", "ref" } },
}
format = "p"
LUA
  DB=$T/n.db
  start_nats || exit 1
  check "the stream of entries is made" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'
  start_daemon --config "$T/p.lua" --rules "$T/rules" --nats "$NATS_URL"
  printf 'ref,note,what,day\nq1,the note,the headline,2024-01-01\n' >"$T/reordered.csv"
  printf 'day,note,what,ref\n2024-01-02,second note,second headline,q2\n' >"$T/swapped.csv"
  measure pub "$VIGIL" publish --config "$T/p.lua" --nats "$NATS_URL" "$T/reordered.csv" "$T/swapped.csv"
  got_is "$rc" 0 "publish of files whose headers order the columns otherwise: exit status 0"
  if wait_running 60 sh -c "[ \"\$(sqlite3 '$DB' 'select count(*) from row_keys')\" = 2 ]"; then
    ok "both rows are stored by the daemon"
  else
    fail "both rows are stored by the daemon" "$(sq "select reason from rejects")"
  fi
  got_is "$(sq "select group_concat(text, '|') from (select text from entries order by date)")" \
    "the headline — the note|second headline — second note" \
    "each read by its file's header, not by the declared order"
  stop_daemon
  stop_nats
else
  skip "publish" "nats-server or natstool is missing"
fi

done_testing

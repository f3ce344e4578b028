#!/bin/sh
# End-to-end: table formats where inputs meet the daemon's other parts. A
# feed whose format is a table format (here acled, served by
# tests/e2e/feedserver.py on 127.0.0.1) is read as rows: ids recorded, the
# source from its column. A reload that is refused leaves the formats in
# force as they were: a row sent after it is read by the old column order.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! python3 is needed for the feed server (make test-deps installs it)"
  exit 1
fi

WWW=$T/www
mkdir -p "$WWW"
cat >"$WWW/korea.acled.csv" <<'CSV'
event_id_cnty,event_date,event_type,sub_event_type,notes,source,timestamp
REV1,2024-01-05,Strategic developments,Weapons test,North Korea fired about 200 artillery shells near Yeonpyeong island.,Yonhap,1704500000
REV2,2024-01-14,Strategic developments,Weapons test,North Korea tested a solid-fuel intermediate-range missile.,KCNA,1705300000
CSV

# ---- a row edited at its source after its entry was retracted here ----
RDB=$T/retract.db
ACLED_HEAD=event_id_cnty,event_date,event_type,sub_event_type,notes,source,timestamp
printf '%s\n%s\n' "$ACLED_HEAD" \
  'RET1,2024-01-05,Strategic developments,Weapons test,North Korea fired artillery shells near Yeonpyeong.,Yonhap,1704500000' \
  >"$T/first.acled.csv"
printf '%s\n%s\n' "$ACLED_HEAD" \
  'RET1,2024-01-05,Strategic developments,Weapons test,North Korea fired about 200 artillery shells near Yeonpyeong.,Yonhap,1704600000' \
  >"$T/later.acled.csv"
"$VIGIL" ingest --db "$RDB" --no-rules "$T/first.acled.csv" >"$T/r1.out" 2>&1
RID=$(sq "$RDB" "select entry_id from row_keys where key = 'RET1'")
: >"$T/none.lua"
"$VIGIL" retract "$RID" --reason "misdated" --db "$RDB" --rules "$T/none.lua" >"$T/r2.out" 2>&1
is "the row's entry is retracted" "$?" 0
"$VIGIL" ingest --db "$RDB" --no-rules "$T/later.acled.csv" >"$T/r3.out" 2>&1
rc=$?
like "an edit of a retracted entry's row is refused, and said" "$(cat "$T/r3.out")" \
  "later.acled.csv:2: .*it is retracted"
is "its ingest: exit status 1" "$rc" 1
"$VIGIL" ingest --db "$RDB" --no-rules "$T/later.acled.csv" >"$T/r4.out" 2>&1
rc=$?
is "the same export again: the refused edit is not refused again (exit status 0)" "$rc" 0
like "the same export again: the row is a duplicate" "$(cat "$T/r4.out")" "0 stored, 1 duplicates, 0 rejected"
is "the entry stays retracted, as it was" \
  "$(sq "$RDB" "select count(*) from entries where id = $RID and text like '%about 200%'")" 0

python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
SPID=$!
bg_started "$SPID"
if ! wait_for 60 test -s "$T/port"; then
  echo "Bail out! the feed server did not start: $(cat "$T/server.err")"
  exit 1
fi
BASE=http://127.0.0.1:$(cat "$T/port")

cat >"$T/vigil.conf" <<EOC
feed_interval = 1
feeds = {
  { url = "$BASE/plain/korea.acled.csv", source = "acled-feed", format = "acled", interval = 1 },
}
formats = { mine = { columns = { "day", "what" }, date = "day", text = "what" } }
EOC

# post BODY: POSTs BODY as text/csv with ?format=mine; the reply in $T/post.json.
post() {
  printf '%s\n' "$1" | curl -s -o "$T/post.json" -H 'Content-Type: text/csv' \
    --data-binary @- "$HTTP/v1/entries?format=mine"
}

# acled_rows: how many acled ids are recorded.
acled_rows() { sq "select count(*) from row_keys where format = 'acled'"; }
two_acled_rows() { [ "$(acled_rows)" = 2 ]; }

if start_daemon --config "$T/vigil.conf"; then
  wait_for 60 two_acled_rows
  is "a feed of format acled: each row's id is recorded" "$(acled_rows)" 2
  is "a feed's row: the source from the source column" \
    "$(sq "select source from entries e join row_keys k on k.entry_id = e.id where k.key = 'REV2'")" \
    "KCNA"
  is "a feed's rows and header: no reject" "$(sq "select count(*) from rejects")" 0

  post "2024-01-05,the first row of mine"
  like "a row of a configured format is stored" "$(cat "$T/post.json")" '"status":"stored"' 
  cat >"$T/vigil.conf" <<EOC
formats = { mine = { columns = { "what", "day" }, date = "day", text = "what" } }
batch_max = "lots"
EOC
  kill -HUP "$DPID"
  wait_for 60 grep -q "reload: keeping the settings in force" "$DLOG"
  check "a reload with a bad setting is refused" grep -q "reload: keeping the settings in force" "$DLOG"
  post "2024-01-06,a row after the refused reload"
  like "after a refused reload, a format is read as it was (the new column order is not in force)" \
    "$(cat "$T/post.json")" '"status":"stored"' 
  stop_daemon
fi

done_testing

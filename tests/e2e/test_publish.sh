#!/bin/sh
# End-to-end: `vigil publish` — the lines of files to the JetStream stream of
# entries, on a real nats-server: without partitions every line goes to
# vigil.entries.0; with --partition-by FIELD --partitions N each goes to the
# partition FNV-1a(field's text) mod N; a run repeated stores nothing twice
# (Nats-Msg-Id and the stream's duplicate window) unless --no-msg-id; a bad
# line is named FILE:LINE and the rest still goes; no server is a clear
# error.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need python3

[ -x "$NATSTOOL" ] || {
  echo "Bail out! $NATSTOOL is not built (make build/asan/natstool)"
  exit 1
}

# messages: how many messages the stream of entries holds.
messages() {
  "$NATSTOOL" "$NATS_URL" stream VIGIL_ENTRIES | sed -n 's/.*"messages":\([0-9]*\).*/\1/p'
}

# dump: every message of the stream, one JSON object a line.
dump() {
  "$NATSTOOL" "$NATS_URL" dump VIGIL_ENTRIES
}

# partitions_of N FIELD FIRST_SEQ: checks the messages from seq FIRST_SEQ on
# against the partition of FIELD (partitions.py), printing what it says.
partitions_of() {
  dump | python3 -c 'import json, sys
for l in sys.stdin:
    if json.loads(l)["seq"] >= int(sys.argv[1]): sys.stdout.write(l)' "$3" |
    python3 "$E2E/partitions.py" "$1" "$2"
}

start_nats || exit 1

# ---- no server ----

"$VIGIL" publish --nats nats://127.0.0.1:1 "$FIXTURES/chronology.txt" >"$T/none.out" 2>"$T/none.err"
is "no server: exit status 3" "$?" 3
like "... saying it cannot connect, and to what" "$(cat "$T/none.err")" \
  '^vigil publish: nats: connecting to nats://127.0.0.1:1: '
is "... and publishing nothing" "$(cat "$T/none.out")" ""
"$VIGIL" publish "$FIXTURES/chronology.txt" >/dev/null 2>"$T/nourl.err"
is "no URL at all: a usage error (exit status 2)" "$?" 2
like "... naming --nats and nats_url" "$(cat "$T/nourl.err")" 'give --nats URL, or set nats_url'
"$VIGIL" publish --nats "$NATS_URL" --partitions 2 "$FIXTURES/chronology.txt" >/dev/null 2>"$T/nofield.err"
is "partitions without a field: a usage error" "$?" 2
"$VIGIL" publish --nats "$NATS_URL" --partition-by text --partitions 2 "$FIXTURES/chronology.txt" \
  >/dev/null 2>"$T/text.err"
is "--partition-by text: a usage error (text is no field)" "$?" 2

# ---- a chronology, without partitions ----

CHRONO=$FIXTURES/chronology.txt
n=$(line_count "$CHRONO")
out=$("$VIGIL" publish --nats "$NATS_URL" "$CHRONO" 2>"$T/chrono.err")
is "the chronology is published (exit status 0)" "$?" 0
is "... the summary says how many" "$out" "$n published, 0 duplicates, 0 rejected"
is "... nothing on stderr" "$(cat "$T/chrono.err")" ""
is "the stream was made, and holds every line" "$(messages)" "$n"
is "... all on vigil.entries.0" "$(dump | grep -c '"subject":"vigil.entries.0"')" "$n"
is "... each line as it was written" \
  "$(dump | python3 -c 'import json, sys
for l in sys.stdin: print(json.loads(l)["data"])')" "$(cat "$CHRONO")"
like "... with a Nats-Msg-Id made of its bytes and line number" "$(dump | sed -n 3p)" \
  '"msg_id":"vigil-[0-9a-f]{16}-3"'

# ---- a JSON file by partition ----

REGIONS=$FIXTURES/regions.jsonl
m=$(line_count "$REGIONS")
first=$((n + 1))
out=$("$VIGIL" publish --nats "$NATS_URL" --partition-by region --partitions 3 "$REGIONS")
is "the JSON file is published by region into 3 partitions" "$out" \
  "$m published, 0 duplicates, 0 rejected"
is "the stream holds both files" "$(messages)" "$((n + m))"
partitions_of 3 region "$first" >"$T/by-region.txt"
is "every message went to the partition of its region (FNV-1a mod 3)" "$?" 0
diag "$(cat "$T/by-region.txt")"
is "... counted per subject, they are all there" \
  "$(awk '{ s += $2 } END { print s }' "$T/by-region.txt")" "$m"
is "... over all three partitions" "$(grep -c '^vigil.entries' "$T/by-region.txt")" 3
noregion=$(grep -vc '"region"' "$REGIONS")
isnt "the fixture has records without a region" "$noregion" 0
empty=$(python3 -c 'h = 2166136261; print(h % 3)')
is "... which went to the partition of the empty text" \
  "$(dump | grep -v 'region' | grep -c "\"subject\":\"vigil.entries.$empty\".*\"data\":\"{")" \
  "$noregion"

# ---- a run repeated ----

before=$(messages)
out=$("$VIGIL" publish --nats "$NATS_URL" --partition-by region --partitions 3 "$REGIONS")
is "the same file again: the exit status is 0" "$?" 0
is "... every line is a duplicate the stream dropped" "$out" "0 published, $m duplicates, 0 rejected"
is "... and the stream holds what it held" "$(messages)" "$before"
out=$("$VIGIL" publish --nats "$NATS_URL" --json "$CHRONO")
is "the chronology again, as JSON: a summary object" "$out" \
  "{\"type\":\"summary\",\"files\":1,\"published\":0,\"duplicates\":$n,\"rejected\":0,\"failed\":0,\"interrupted\":false}"
is "... nothing stored" "$(messages)" "$before"
out=$("$VIGIL" publish --nats "$NATS_URL" --no-msg-id -q "$CHRONO")
is "with --no-msg-id the same lines are published again (--quiet: no summary)" "$out" ""
is "... and the stream holds them twice" "$(messages)" "$((before + n))"
like "... without a Nats-Msg-Id" "$(dump | tail -n 1)" '"msg_id":null'

# ---- bad lines ----

printf '%s\n' \
  '{"date": "2024-03-01", "text": "A patrol boat docks at Klaipeda.", "region": "baltic"}' \
  'no date on this line at all' \
  '{"date": "2024-03-02", "text": "A ferry route reopens after a storm.", "region": "baltic"}' \
  '{"date": "yesterday", "text": "a record whose date nobody can read"}' \
  'March 3, 2024: A fishing fleet returns to port early.' >"$T/mixed.txt"
before=$(messages)
out=$("$VIGIL" publish --nats "$NATS_URL" --partition-by region --partitions 3 "$T/mixed.txt" \
  2>"$T/mixed.err")
is "a file with bad lines: exit status 1" "$?" 1
is "... the good lines are published" "$out" "3 published, 0 duplicates, 2 rejected"
is "... and stored" "$(messages)" "$((before + 3))"
like "... the bad ones named FILE:LINE: why" "$(sed -n 1p "$T/mixed.err")" \
  "^$T/mixed.txt:2: no date"
like "... each" "$(sed -n 2p "$T/mixed.err")" "^$T/mixed.txt:4: "
is "... and only they" "$(wc -l <"$T/mixed.err" | tr -d ' ')" 2
out=$("$VIGIL" publish --nats "$NATS_URL" --json - <"$T/mixed.txt")
is "from standard input, as JSON: each reject, then the summary" \
  "$(printf '%s\n' "$out" | sed 's/"reason":"[^"]*"/"reason":R/')" \
  '{"type":"reject","file":"stdin","line":2,"reason":R}
{"type":"reject","file":"stdin","line":4,"reason":R}
{"type":"summary","files":1,"published":0,"duplicates":3,"rejected":2,"failed":0,"interrupted":false}'

# ---- by source ----

before=$(messages)
printf '%s\n' \
  '{"date": "2024-04-01", "text": "A survey ship maps the seabed near Gotland.", "source": "wire"}' \
  '{"date": "2024-04-02", "text": "A survey ship returns to Karlskrona.", "source": "monitor"}' \
  'April 3, 2024: A survey ship is seen again off Gotland.' >"$T/sources.txt"
"$VIGIL" publish --nats "$NATS_URL" -q --partition-by source --partitions 4 "$T/sources.txt"
is "--partition-by source: published" "$?" 0
check "... each by its source (a chronology line's is nats)" \
  sh -c "'$NATSTOOL' '$NATS_URL' dump VIGIL_ENTRIES | python3 -c 'import json, sys
for l in sys.stdin:
    if json.loads(l)[\"seq\"] > $before: sys.stdout.write(l)' | python3 '$E2E/partitions.py' 4 source"

# ---- a line the server would not take ----

# Under max_line (1 MiB) but, with its header, over the server's 1 MiB
# message limit: reported like a bad line, and the lines after it go.
before=$(messages)
python3 -c 'import sys
sys.stdout.write("2024-05-01: " + "x" * (1048560 - 12) + "\n")
sys.stdout.write("2024-05-02: a line after the one too large for the server\n")' >"$T/large.txt"
"$VIGIL" publish --nats "$NATS_URL" "$T/large.txt" >"$T/large.out" 2>"$T/large.err"
is "a line too large for the server: exit status 1" "$?" 1
like "... named FILE:LINE, with why" "$(cat "$T/large.err")" \
  "large.txt:1: 1048560 bytes: over the 1048576 bytes the server takes in a message \\(with its header\\)"
is "... the line after it is published" "$(messages)" "$((before + 1))"
like "... and the summary counts it as rejected" "$(cat "$T/large.out")" "1 published, 0 duplicates, 1 rejected"

# ---- standard input closed ----

before=$(messages)
timeout 120 "$VIGIL" publish --nats "$NATS_URL" - <&- >"$T/closed.out" 2>"$T/closed.err"
is "standard input closed: read as empty, exit status 0" "$?" 0
like "... nothing published" "$(cat "$T/closed.out")" "^0 published"
is "... and nothing reaches the stream" "$(messages)" "$before"
check_sanitizers "no sanitizer report from those runs of publish" "$T/large.err" "$T/closed.err"

# ---- the man page and --help ----

"$VIGIL" publish --help >"$T/help.out"
is "--help: exit status 0" "$?" 0
like "... it names the options" "$(cat "$T/help.out")" '--partition-by FIELD'

done_testing

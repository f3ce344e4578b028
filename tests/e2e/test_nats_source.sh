#!/bin/sh
# End-to-end: `vigil run --nats` — the daemon ingests a JetStream stream of
# entries as `vigil ingest` would the same lines; rejected messages are
# acknowledged, kept with their origin and republished to the dead-letter
# subject; a consumer deleted on the server is made again and nothing is
# stored twice; messages delivered again are recognised; a consumer made
# for another partition is not read; a stream made anew is read from its
# first message; settings that cannot work are refused.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need curl

[ -x "$NATSTOOL" ] || {
  echo "Bail out! $NATSTOOL is not built (make build/asan/natstool)"
  exit 1
}

# field NAME JSON: the number NAME holds in one line of natstool's JSON.
field() {
  printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# consumer_field NAME: that number of the daemon's consumer, now.
consumer_field() {
  field "$1" "$("$NATSTOOL" "$NATS_URL" consumer VIGIL_ENTRIES vigil 2>&1)"
}

# settled: the consumer has nothing left to deliver nor waiting for an ack.
settled() {
  [ "$(consumer_field num_pending)" = 0 ] && [ "$(consumer_field num_ack_pending)" = 0 ]
}

# rows_are N [DB]: nats_msgs holds N rows.
rows_are() {
  [ "$(sq "${2:-$DB}" 'select count(*) from nats_msgs')" = "$1" ]
}

# ---- settings that cannot work are refused, naming the setting ----

# refused NAME CONFIG MESSAGE: `vigil config --check` refuses CONFIG, saying MESSAGE.
refused() {
  printf '%s\n' "$2" >"$T/refused.conf"
  _out=$("$VIGIL" config --check "$T/refused.conf" 2>&1)
  _rc=$?
  like "$1: refused ($_rc), saying why" "$_rc: $_out" "^[1-9][0-9]*: .*$3"
}
refused "a dead-letter subject inside the stream's subjects" \
  'nats_dead_letter = "vigil.entries.rejects"' \
  "nats_dead_letter 'vigil.entries.rejects' is a subject of the stream of entries \\(nats_subjects 'vigil.entries.>'\\)"
refused "a dead-letter subject with a wildcard" 'nats = { dead_letter = "rejects.*" }' \
  "nats_dead_letter 'rejects.\\*' is no subject one can publish to"
refused "a stream name with a dot" 'nats_stream = "A.B"' "nats_stream 'A.B' is no JetStream stream name"
refused "an empty stream name" 'nats_stream = ""' "nats_stream '' is no JetStream stream name"
refused "a consumer name with a space" 'nats_durable = "my consumer"' \
  "nats_durable 'my consumer' is no consumer name"
refused "a server address that is none" 'nats_url = "not a server"' \
  "nats_url 'not a server' is no list of NATS servers"
refused "a port out of range" 'nats_url = "nats://127.0.0.1:99999"' "is no list of NATS servers"
refused "no subject for the stream" 'nats_subjects = {}' "nats_subjects"
refused "a subject with an empty token" 'nats_subjects = { "vigil..x" }' \
  "nats_subjects: 'vigil..x' is no subject"
refused "a partition outside the stream's subjects" \
  'nats = { subjects = { "news.>" }, partition = 0, partitions = 2 }' \
  "the consumer would take 'vigil.entries.0' \\(nats_partition\\), which is none of the stream's subjects"
refused "more partitions than vigil publish makes" 'nats_partitions = 4294967298' \
  "nats_partitions must be at most 1000000"
printf 'nats_partition = 1\nnats_partitions = 2\n' >"$T/flat.conf"
check "a partition given as a number, flat, is taken as in the nats table" \
  "$VIGIL" config --check "$T/flat.conf"
printf 'nats = { url = "nats://a.example:4222,tls://b.example", dead_letter = "vigil.rejects" }\n' \
  >"$T/good.conf"
check "servers listed and a dead-letter subject outside the stream are taken" \
  "$VIGIL" config --check "$T/good.conf"

start_nats || exit 1
check "the stream of entries is made" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'
check "a stream catches the dead-letter subject" "$NATSTOOL" "$NATS_URL" stream-add REJECTS vigil.rejects

# ---- a chronology through JetStream, as `vigil ingest` stores it ----

CHRONO=$FIXTURES/chronology.txt
n=$(line_count "$CHRONO")
check "the chronology is published" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$CHRONO'"
cat >"$T/vigil.conf" <<'EOF'
nats = { dead_letter = "vigil.rejects", batch = 8 }
EOF
start_daemon --config "$T/vigil.conf" --rules "$RULES" --nats "$NATS_URL" || exit 1
check "every message of the chronology is taken" wait_running 120 rows_are "$n"
check "... and acknowledged" wait_running 120 settled
"$VIGIL" ingest --db "$T/clean.db" --source nats --rules "$RULES" "$CHRONO" >"$T/clean.out" 2>&1
is "the same file goes through vigil ingest" "$?" 0
is "the entries are those vigil ingest stores (date, source, text)" \
  "$(entries_of "$DB")" "$(entries_of "$T/clean.db")"
is "... with the same tags" "$(tags_of "$DB")" "$(tags_of "$T/clean.db")"
isnt "... the shipped rules raise alerts" "$(alerts_of "$T/clean.db")" ""
is "... and the same alerts (rule, key, entries)" "$(alerts_of "$DB")" "$(alerts_of "$T/clean.db")"
is "each message is noted once, by its seq" \
  "$(sq 'select count(*), min(seq), max(seq) from nats_msgs')" "$n|1|$n"
is "... with the entry it stored" \
  "$(sq 'select count(*) from nats_msgs m join entries e on e.id = m.entry_id')" "$n"
is "the consumer's ack floor is the last message" "$(consumer_field ack_floor)" "$n"

# ---- rejects ----

base=$n
printf '%s\n' \
  'Jan. 5, 2024: a good line before the bad ones' \
  'there is no date on this line' \
  'Jan. 6, 2024: a second good line' \
  '{"date": "sometime", "text": "a JSON record with a date nobody reads"}' \
  'Jan. 7, 2024: a third good line' >"$T/mixed.txt"
check "lines with malformed ones among them are published" \
  sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.1 < '$T/mixed.txt'"
n=$((base + 5))
check "every message is taken, the malformed ones too" wait_running 120 rows_are "$n"
check "... and every one is acknowledged (nothing pending, nothing waiting for an ack)" \
  wait_running 120 settled
is "the good lines are stored" \
  "$(sq "select count(*) from entries where text like '%good line%'")" 3
is "the malformed lines are kept in rejects with their origin nats:STREAM:SEQ" \
  "$(sq "select origin from rejects order by id")" \
  "nats:VIGIL_ENTRIES:$((base + 2))
nats:VIGIL_ENTRIES:$((base + 4))"
is "... as line SEQ, with their text" \
  "$(sq "select line || '|' || raw from rejects order by id")" \
  "$((base + 2))|there is no date on this line
$((base + 4))|{\"date\": \"sometime\", \"text\": \"a JSON record with a date nobody reads\"}"
is "... and noted in nats_msgs without an entry" \
  "$(sq "select group_concat(seq) from nats_msgs where entry_id is null")" "$((base + 2)),$((base + 4))"
check "both are republished to the dead-letter subject" \
  wait_running 60 sh -c "[ \"\$('$NATSTOOL' '$NATS_URL' dump REJECTS | wc -l)\" = 2 ]"
"$NATSTOOL" "$NATS_URL" dump REJECTS >"$T/rejects.json" 2>&1
first=$(sed -n 1p "$T/rejects.json")
like "... with the line as data" "$first" '"data":"there is no date on this line"'
like "... its origin in the header Vigil-Origin" "$first" "\"Vigil-Origin\":\"nats:VIGIL_ENTRIES:$((base + 2))\""
reason=$(sq "select reason from rejects where line = $((base + 2))")
like "... and the reason kept in rejects in the header Vigil-Reject" "$first" \
  "\"Vigil-Reject\":\"$(printf '%s' "$reason" | sed 's/[][\\.*^$()|+?{}]/\\&/g')\""
like "... the second one too" "$(sed -n 2p "$T/rejects.json")" \
  "\"Vigil-Origin\":\"nats:VIGIL_ENTRIES:$((base + 4))\""

# ---- the consumer deleted while the daemon runs ----

check "the consumer is deleted on the server" "$NATSTOOL" "$NATS_URL" consumer-delete VIGIL_ENTRIES vigil
check "the daemon says the consumer is gone" wait_running 60 grep -q 'consumer vigil of stream VIGIL_ENTRIES is gone' "$DLOG"
check "... and makes it again after the last message stored" \
  wait_running 60 grep -q "made consumer vigil of stream VIGIL_ENTRIES, from seq $((n + 1))" "$DLOG"
base=$n
printf '%s\n' 'Feb. 1, 2024: published after the consumer was made again' \
  'Feb. 2, 2024: a second line after it' >"$T/after.txt"
check "more lines are published" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/after.txt'"
n=$((base + 2))
check "they are taken" wait_running 120 rows_are "$n"
check "... and acknowledged" wait_running 120 settled
is "... stored once each" \
  "$(sq "select count(*) from entries where date like '2024-02-%'")" 2
is "nothing taken before is stored twice" \
  "$(sq 'select count(*) from entries')" "$(($(entries_of "$T/clean.db" | wc -l) + 3 + 2))"
metrics=$(timeout 60 curl -s "$HTTP/metrics")
like "the metrics count the messages stored" "$metrics" \
  "^vigil_nats_messages_total\\{result=\"stored\"\\} $((n - 2))\$"
like "... and rejected" "$metrics" '^vigil_nats_messages_total\{result="rejected"\} 2$'
like "... and the entries under their source" "$metrics" \
  "^vigil_entries_ingested_total\\{source=\"nats\"\\} $((n - 2))\$"

# A reload leaves the JetStream settings as they are, and says so.
cp "$T/vigil.conf" "$T/vigil.conf.orig"
echo 'nats_durable = "another"' >>"$T/vigil.conf"
kill -HUP "$DPID"
check "a reload says the JetStream settings change only on restart" \
  wait_running 60 grep -q "reload: 'nats_durable' changes only on restart; still ''" "$DLOG"
cp "$T/vigil.conf.orig" "$T/vigil.conf"
stop_daemon
is "the daemon stops cleanly" "$DRC" 0
rejects=$(sq 'select count(*) from rejects')
entries=$(sq 'select count(*) from entries')

# ---- messages delivered again are recognised ----

# A consumer made again from the first message delivers all of them anew,
# as JetStream does after a crash for what was stored but not acknowledged.
check "the consumer is replaced by one that starts from the first message" \
  sh -c "'$NATSTOOL' '$NATS_URL' consumer-delete VIGIL_ENTRIES vigil &&
         '$NATSTOOL' '$NATS_URL' consumer-add VIGIL_ENTRIES vigil"
start_daemon --config "$T/vigil.conf" --rules "$RULES" --nats "$NATS_URL" || exit 1
check "every message delivered again is acknowledged" wait_running 120 settled
check "... recognised as stored before, the log says" \
  grep -q 'delivered again were recognised as stored before' "$DLOG"
is "... and none is stored twice" "$(sq 'select count(*) from entries')" "$entries"
is "... nor its reject kept twice" "$(sq 'select count(*) from rejects')" "$rejects"
is "... nor noted twice" "$(sq 'select count(*) from nats_msgs')" "$n"
is "... nor republished to the dead-letter subject" \
  "$("$NATSTOOL" "$NATS_URL" dump REJECTS | wc -l)" 2
stop_daemon
is "the daemon stops cleanly" "$DRC" 0

# ---- a partition ----

# A daemon of partition 1 (of 2), on a database of its own, takes only
# vigil.entries.1: the lines with malformed ones among them.
DB=$T/part1.db
cat >"$T/part1.conf" <<'EOF2'
nats = { partition = 1, partitions = 2 }
EOF2
start_daemon --config "$T/part1.conf" --rules "$RULES" --nats "$NATS_URL" || exit 1
check "a daemon of partition 1 makes its own consumer, vigil-p1, on vigil.entries.1" \
  wait_running 60 grep -q 'made consumer vigil-p1 of stream VIGIL_ENTRIES on vigil.entries.1' "$DLOG"
check "... takes the messages published there" wait_running 120 rows_are 5
check "... and acknowledges them" wait_running 120 sh -c \
  "'$NATSTOOL' '$NATS_URL' consumer VIGIL_ENTRIES vigil-p1 | grep -q '\"num_ack_pending\":0'"
is "... storing their good lines and nothing else" \
  "$(sq "select group_concat(text, '|') from (select text from entries order by text)")" \
  "a good line before the bad ones|a second good line|a third good line"
stop_daemon
is "the daemon stops cleanly" "$DRC" 0

# ---- a consumer made for another partition is not taken ----

# Named alike by mistake, the consumer `vigil` (every subject) is not the
# one partition 0 should read: the daemon says so and takes nothing.
DB=$T/part0.db
cat >"$T/part0.conf" <<'EOF2'
nats = { partition = 0, partitions = 2, durable = "vigil" }
EOF2
start_daemon --config "$T/part0.conf" --rules "$RULES" --nats "$NATS_URL" || exit 1
check "a daemon of partition 0 refuses the consumer that takes every subject" \
  wait_running 60 grep -q "consumer vigil of stream VIGIL_ENTRIES takes 'every subject', not 'vigil.entries.0' as configured" "$DLOG"
is "... and stores nothing through it" "$(sq 'select count(*) from nats_msgs')" 0
stop_daemon
is "the daemon stops cleanly" "$DRC" 0

# ---- the stream deleted and made again ----

# A stream made anew numbers from 1 again: its messages are not taken for
# those of the one before, which stay recorded under another name.
DB=$T/vigil.db
before=$(sq "select count(*) from nats_msgs where stream = 'VIGIL_ENTRIES'")
check "the stream of entries is deleted" "$NATSTOOL" "$NATS_URL" stream-delete VIGIL_ENTRIES
check "... and made again" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'
printf '%s\n' 'Mar. 1, 2024: first line of the stream made anew' \
  'Mar. 2, 2024: second line of the stream made anew' \
  'Mar. 3, 2024: third line of the stream made anew' >"$T/anew.txt"
check "three lines are published to it" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/anew.txt'"
start_daemon --config "$T/vigil.conf" --rules "$RULES" --nats "$NATS_URL" || exit 1
check "the daemon says the stream was made anew" \
  wait_running 60 grep -q 'stream VIGIL_ENTRIES was made anew' "$DLOG"
new_rows() { [ "$(sq "select count(*) from nats_msgs where stream = 'VIGIL_ENTRIES'")" = 3 ]; }
check "its three messages are taken, from seq 1" wait_running 120 new_rows
check "... and acknowledged" wait_running 120 settled
is "... each stored as an entry" "$(sq "select count(*) from entries where text like '%made anew'")" 3
is "the messages of the stream before stay recorded, apart" \
  "$(sq "select count(*) from nats_msgs where stream like 'VIGIL_ENTRIES@%'")" "$before"
stop_daemon
is "the daemon stops cleanly" "$DRC" 0
stop_nats

done_testing

#!/bin/sh
# End-to-end: `vigil replay --nats` — the JetStream stream of entries read
# again into a fresh database stores what `vigil ingest` of the same lines
# stores (entries, tags, alerts), with a nats_msgs row per message; from a
# sequence number or a time it takes exactly the messages from there to the
# last; it takes a partition's subject as the daemon does; it refuses a
# database holding entries, leaves no consumer on the server, and says
# clearly when the server cannot be reached.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

[ -x "$NATSTOOL" ] || {
  echo "Bail out! $NATSTOOL is not built (make build/asan/natstool)"
  exit 1
}

CHRONO=$FIXTURES/chronology.txt
n=$(line_count "$CHRONO")
half=$((n / 2))

# field NAME JSON: the number NAME holds in one line of JSON.
field() {
  printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# consumers: how many consumers the stream of entries has now.
consumers() {
  field consumers "$("$NATSTOOL" "$NATS_URL" stream VIGIL_ENTRIES 2>&1)"
}
no_consumer() {
  [ "$(consumers)" = 0 ]
}

# replay NAME ARG...: `vigil replay --rules $RULES ARG...`, its output in
# $T/NAME.out and $T/NAME.err; sets rc.
replay() {
  _name=$1
  shift
  "$VIGIL" replay --rules "$RULES" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  ERRS="$ERRS $T/$_name.err"
}
ERRS=

# clean NAME DB FILE: `vigil ingest` of FILE into DB as the source stores it.
clean() {
  "$VIGIL" ingest --db "$2" --source nats --rules "$RULES" "$3" >"$T/$1.out" 2>"$T/$1.err"
  ERRS="$ERRS $T/$1.err"
}

start_nats || exit 1
check "the stream of entries is made" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'

# The chronology in two halves, a second apart: --from-time takes the second.
head -n "$half" "$CHRONO" >"$T/first.txt"
tail -n "+$((half + 1))" "$CHRONO" >"$T/second.txt"
check "the first half is published" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/first.txt'"
t0=$(date +%s)
check "the clock moves on to the next second" wait_for 10 sh -c "[ \$(date +%s) -gt $t0 ]"
split=$((t0 + 1))
split_utc=$(date -u -d "@$split" +%Y-%m-%dT%H:%M:%SZ)
split_kst=$(date -u -d "@$((split + 9 * 3600))" +%Y-%m-%dT%H:%M:%S+09:00)
check "the second half is published" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/second.txt'"
is "the stream holds the chronology" "$(field last_seq "$("$NATSTOOL" "$NATS_URL" stream VIGIL_ENTRIES)")" "$n"

# ---- the whole stream, as vigil ingest stores the same lines ----

replay full --nats "$NATS_URL" --db "$T/full.db"
is "replay --nats: exit status 0" "$rc" 0
like "... its summary says how many messages, from which seq to which" "$(cat "$T/full.out")" \
  "^replayed $n messages of stream VIGIL_ENTRIES \\(seq 1 to $n\\): $n stored, 0 duplicates, 0 rejected; [0-9]+ rules: [1-9][0-9]* new alerts"
clean clean "$T/clean.db" "$CHRONO"
is "the entries are those vigil ingest stores (date, source, text)" \
  "$(entries_of "$T/full.db")" "$(entries_of "$T/clean.db")"
is "... with the same tags" "$(tags_of "$T/full.db")" "$(tags_of "$T/clean.db")"
isnt "... the shipped rules raise alerts" "$(alerts_of "$T/clean.db")" ""
is "... and the same alerts (rule, key, entries)" \
  "$(alerts_of "$T/full.db")" "$(alerts_of "$T/clean.db")"
is "each message is noted once in nats_msgs" \
  "$(sq "$T/full.db" 'select count(*), min(seq), max(seq) from nats_msgs')" "$n|1|$n"
is "... with the entry it stored" \
  "$(sq "$T/full.db" 'select count(*) from nats_msgs m join entries e on e.id = m.entry_id')" "$n"
check "no consumer is left on the server" wait_for 60 no_consumer

# ---- from a sequence number ----

k=$((n - 4))
replay seq --nats "$NATS_URL" --db "$T/seq.db" --from-seq "$k" --json
is "--from-seq $k: exit status 0" "$rc" 0
is "... it stores exactly the messages $k to $n" \
  "$(sq "$T/seq.db" 'select count(*), min(seq), max(seq) from nats_msgs')" "5|$k|$n"
tail -n 5 "$CHRONO" >"$T/last5.txt"
clean clean5 "$T/clean5.db" "$T/last5.txt"
is "... those lines' entries" "$(entries_of "$T/seq.db")" "$(entries_of "$T/clean5.db")"
like "... its JSON summary" "$(cat "$T/seq.out")" \
  "^\\{\"type\":\"summary\",\"stream\":\"VIGIL_ENTRIES\",\"messages\":5,\"first_seq\":$k,\"last_seq\":$n,\"stored\":5,"
check "... and no consumer is left" wait_for 60 no_consumer

replay beyond --nats "$NATS_URL" --db "$T/beyond.db" --from-seq "$((n + 1))"
is "--from-seq after the last message: exit status 0" "$rc" 0
like "... nothing replayed" "$(cat "$T/beyond.out")" "^replayed 0 messages"
is "... nothing stored" "$(sq "$T/beyond.db" 'select count(*) from entries')" 0

# ---- from a time ----

replay time --nats "$NATS_URL" --db "$T/time.db" --from-time "$split_utc"
is "--from-time $split_utc: exit status 0" "$rc" 0
is "... it stores the messages published from then on" \
  "$(sq "$T/time.db" 'select count(*), min(seq), max(seq) from nats_msgs')" \
  "$((n - half))|$((half + 1))|$n"
clean clean2 "$T/clean2.db" "$T/second.txt"
is "... those lines' entries" "$(entries_of "$T/time.db")" "$(entries_of "$T/clean2.db")"
replay kst --nats "$NATS_URL" --db "$T/kst.db" --from-time "$split_kst"
is "--from-time with an offset ($split_kst) is the same moment" \
  "$(sq "$T/kst.db" 'select min(seq), max(seq) from nats_msgs')" "$((half + 1))|$n"
replay date --nats "$NATS_URL" --db "$T/date.db" --from-time 2020-01-01
is "--from-time a date long past: every message" \
  "$(sq "$T/date.db" 'select count(*) from nats_msgs')" "$n"
replay later --nats "$NATS_URL" --db "$T/later.db" --from-time 2200-01-01
is "--from-time after the last message: exit status 0" "$rc" 0
like "... nothing replayed" "$(cat "$T/later.out")" "^replayed 0 messages"
replay badtime --nats "$NATS_URL" --db "$T/badtime.db" --from-time 'last Tuesday'
is "--from-time that is no time: exit status 2" "$rc" 2
like "... saying what it takes" "$(cat "$T/badtime.err")" "--from-time 'last Tuesday': neither an RFC 3339"
replay fartime --nats "$NATS_URL" --db "$T/fartime.db" --from-time 2999-01-01T00:00:00Z
is "--from-time past what JetStream can say: exit status 2" "$rc" 2
like "... saying which times it takes" "$(cat "$T/fartime.err")" "from 1970 to 2262-04-10"
check "no consumer is left after all of them" wait_for 60 no_consumer

# ---- a database that holds entries ----

replay again --nats "$NATS_URL" --db "$T/full.db"
is "a database holding entries is refused: exit status 2" "$rc" 2
like "... saying why" "$(cat "$T/again.err")" "full\\.db holds entries already"
is "... and nothing is added" "$(sq "$T/full.db" 'select count(*) from nats_msgs')" "$n"
replay mixed --nats "$NATS_URL" --db "$T/mixed.db" --from-seq 2 --from-time 2020-01-01
is "--from-seq with --from-time: exit status 2" "$rc" 2
replay noflag --db "$T/noflag.db" --from-seq 2
is "--from-seq without --nats: exit status 2" "$rc" 2

# ---- a partition, and a message that is no entry ----

printf '%s\n' "2024-11-05: North Korea fired several short-range missiles toward the East Sea on the day of the American election." \
  "this line has no date" >"$T/part1.txt"
check "two lines are published to partition 1" \
  sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.1 < '$T/part1.txt'"
cat >"$T/part.conf" <<'EOF'
nats = { partition = "1", partitions = 2 }
EOF
replay part --config "$T/part.conf" --nats "$NATS_URL" --db "$T/part.db" --json
is "partition 1 with a rejected line: exit status 1" "$rc" 1
is "... only its messages are read (seq after the chronology)" \
  "$(sq "$T/part.db" 'select group_concat(seq) from nats_msgs')" "$((n + 1)),$((n + 2))"
is "... its entry is stored" "$(sq "$T/part.db" 'select count(*) from entries')" 1
is "... the other is kept in rejects with its origin" \
  "$(sq "$T/part.db" 'select origin from rejects')" "nats:VIGIL_ENTRIES:$((n + 2))"
like "... and said as a JSON reject" "$(head -n 1 "$T/part.out")" \
  "^\\{\"type\":\"reject\",\"origin\":\"nats:VIGIL_ENTRIES:$((n + 2))\",\"seq\":$((n + 2)),"
check "no consumer is left" wait_for 60 no_consumer

# ---- a database rebuilt, then the stream made anew ----

# The replayed database knows which stream of that name it read: a daemon
# on it, once the stream is made anew, reads the new one from seq 1.
check "the stream of entries is deleted" "$NATSTOOL" "$NATS_URL" stream-delete VIGIL_ENTRIES
check "... and made again" "$NATSTOOL" "$NATS_URL" stream-add VIGIL_ENTRIES 'vigil.entries.>'
printf '%s\n' '2024-12-01: first line of the stream made anew' \
  '2024-12-02: second line of the stream made anew' >"$T/anew.txt"
check "two lines are published to it" sh -c "'$NATSTOOL' '$NATS_URL' pub vigil.entries.0 < '$T/anew.txt'"
DB=$T/full.db
start_daemon --rules "$RULES" --nats "$NATS_URL" || exit 1
anew_taken() { [ "$(sq "$DB" "select count(*) from entries where text like '%made anew'")" = 2 ]; }
check "a daemon on the replayed database takes them, from seq 1" wait_running 120 anew_taken
like "... saying the stream was made anew" "$(cat "$DLOG")" 'stream VIGIL_ENTRIES was made anew'
stop_daemon
is "the daemon stops cleanly" "$DRC" 0

# ---- a stream larger than the client's buffer ----

# More small messages than libnats holds by default (65,536) before it
# drops them as a slow consumer's: the replay paces itself and takes all.
big=120000
awk -v n=$big 'BEGIN { for (i = 0; i < n; i++)
  printf "{\"date\":\"2024-03-%02d\",\"text\":\"bulk line %d\"}\n", i % 28 + 1, i }' >"$T/big.jsonl"
check "$big messages are published" "$VIGIL" publish --nats "$NATS_URL" --quiet "$T/big.jsonl"
printf 'rule "nothing" { when = function(e) return false end, tags = { "x" } }\n' >"$T/none.lua"
"$VIGIL" replay --rules "$T/none.lua" --nats "$NATS_URL" --db "$T/big.db" --quiet \
  >"$T/big.out" 2>"$T/big.err"
is "a replay of them all: exit status 0" "$?" 0
ERRS="$ERRS $T/big.err"
is "... every message taken (with the two before them)" \
  "$(sq "$T/big.db" "select count(*) from nats_msgs where entry_id is not null")" "$((big + 2))"
is "... each its entry" "$(sq "$T/big.db" "select count(*) from entries where text like 'bulk line %'")" "$big"

# ---- the server gone ----

stop_nats
replay gone --nats "$NATS_URL" --db "$T/gone.db"
is "the server unreachable: exit status 3" "$rc" 3
like "... saying it cannot connect, and where" "$(cat "$T/gone.err")" \
  "vigil replay: nats: connecting to $NATS_URL"

# shellcheck disable=SC2086 # the list of files, split on purpose
check_sanitizers "no sanitizer report" $ERRS
done_testing

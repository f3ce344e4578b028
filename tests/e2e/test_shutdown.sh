#!/bin/sh
# End-to-end: SIGTERM while a client streams lines into `vigil run`. Every
# line the daemon acknowledged must be in the database, every other line
# it received is answered "not stored", the database must be sound, and
# after a restart the whole stream sent again is stored once. Then SIGTERM
# while the work thread is deep in a long batch of slow rules (a rule slow
# on purpose, within its budget), from a client and from a spool file: the
# daemon stops after the entry in hand, within a generous bound rather than
# after the whole batch, having committed and answered what it did; the
# spool file stays and the next start goes on from where it stopped.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# Only the socket matters here; test_daemon.sh covers the spool.
SPOOL=
N=20000
awk -v n=$N 'BEGIN {
  for (i = 1; i <= n; i++)
    printf "2023-%02d-%02d: stream line %d of the shutdown test\n", i % 12 + 1, i % 28 + 1, i
}' >"$T/stream.txt"
distinct=$(sort -u "$T/stream.txt" | wc -l | tr -d ' ')

# check_replies_name_lines DESCRIPTION REPLIES: every "ok ID" or "duplicate
# ID" reply on line k of REPLIES names the entry holding line k of the stream.
check_replies_name_lines() {
  sq "select id || '|' || text from entries" >"$T/stored-texts"
  if awk -F'|' '
    NR == FNR { text[$1] = $2; next }
    {
      want = "stream line " FNR " of the shutdown test"
      if (text[$2] != want) { bad++; if (bad <= 3) print "reply " FNR " (" $0 ") names: " text[$2] }
    }
    END { exit bad > 0 }' "$T/stored-texts" FS=' ' "$2" >"$T/mismatch"; then
    ok "$1"
  else
    fail "$1" "$(cat "$T/mismatch")"
  fi
}

# ---- stop the daemon in the middle of a stream ----

start_daemon
# The client sends the first half of the stream at once and the rest in
# pieces over a second, then keeps the connection open: the stop lands while
# lines are received and not yet answered, and while more are still coming.
half=$((N / 2))
head -n "$half" "$T/stream.txt" >"$T/first-half"
tail -n +"$((half + 1))" "$T/stream.txt" | split -l 500 - "$T/piece."
(
  (
    cat "$T/first-half"
    for piece in "$T"/piece.*; do
      sleep 0.05
      cat "$piece"
    done
    sleep 3
  ) | timeout 900 socat -t 300 - "UNIX-CONNECT:$SOCK" >"$T/replies1" 2>>"$T/socat.err"
  echo finished >"$T/client1.done"
) &
bg_started $!
# Poll tightly: the daemon answers thousands of lines a second.
until=$(deadline 120)
while [ ! -s "$T/replies1" ] && before "$until" && daemon_running; do
  sleep 0.01
done
if [ -s "$T/replies1" ]; then
  ok "the client gets its first replies"
else
  fail "the client gets its first replies" "$(cat "$T/socat.err" 2>/dev/null)"
fi
stop_daemon TERM
is "SIGTERM mid-stream: exit status 0" "$DRC" 0
check "SIGTERM mid-stream: the log says stopped cleanly" grep -q "stopped cleanly" "$DLOG"
check "the client finishes" wait_for 120 test -f "$T/client1.done"

acked=$(line_count "$T/replies1")
waiting=$(sed -n 's/.*stopping after the entry in hand; \([0-9]*\) lines waiting.*/\1/p' "$DLOG")
diag "stopped with ${waiting:-?} lines waiting; the client got $acked replies for $N lines"
isnt "some lines were answered" "$acked" 0
replies=$acked
acked=$(count_matching '^ok [0-9]+$' "$T/replies1")
is "every reply is 'ok ID', or 'not stored' for a line received as it stopped" \
  "$((acked + $(count_matching '^error: not stored: the daemon is stopping$' "$T/replies1")))" "$replies"
check "... the 'ok' ones first" \
  sh -c "head -n $acked '$T/replies1' | grep -Evq '^ok [0-9]+\$' && exit 1 || exit 0"
sed -n 's/^ok //p' "$T/replies1" | sort >"$T/acked-ids"
sq 'select id from entries' | sort >"$T/stored-ids"
comm -23 "$T/acked-ids" "$T/stored-ids" >"$T/lost-ids"
is "every acknowledged id is in the database" "$(line_count "$T/lost-ids")" 0
grep '^ok ' "$T/replies1" >"$T/replies1-ok"
check_replies_name_lines "every acknowledged id holds the line it answered" "$T/replies1-ok"
is "the lines answered 'not stored' are not stored" "$(sq 'select count(*) from entries')" "$acked"
is "the database passes integrity_check" "$(sq 'PRAGMA integrity_check' 2>&1)" ok
# The daemon's text indexer may have been stopped halfway: a search still
# finds every stored entry holding its words, and none other.
is "the full-text search finds every stored entry" \
  "$("$VIGIL" query --db "$DB" --text "shutdown test" | wc -l | tr -d ' ')" "$acked"
is "... and each once, for a word of a single line" \
  "$("$VIGIL" query --db "$DB" --text "line 7 of" | grep -c 'stream line 7 of')" 1
stored=$(sq 'select count(*) from entries')

# ---- restart on the same database and send everything again ----

start_daemon
send_unix <"$T/stream.txt" >"$T/replies2"
is "after the restart every line gets a reply" "$(line_count "$T/replies2")" "$N"
is "... which is 'ok' or 'duplicate'" "$(count_matching '^(ok|duplicate) [0-9]+$' "$T/replies2")" "$N"
is "... 'duplicate' exactly for the lines stored before the stop" \
  "$(count_matching '^duplicate ' "$T/replies2")" "$stored"
sed 's/^ok /duplicate /' "$T/replies1-ok" >"$T/expected-dups"
head -n "$acked" "$T/replies2" >"$T/replies2-head"
check "lines acknowledged before the stop are duplicates of the same ids" \
  cmp "$T/expected-dups" "$T/replies2-head"
check_replies_name_lines "every reply after the restart names its own line" "$T/replies2"
is "the database holds each distinct line once" "$(sq 'select count(*) from entries')" "$distinct"
stop_daemon TERM
is "the restarted daemon exits 0 on SIGTERM" "$DRC" 0
is "the database still passes integrity_check" "$(sq 'PRAGMA integrity_check' 2>&1)" ok

# ---- SIGTERM inside a long batch of slow rules ----

# 50 ms of processor time per entry, well within the budget set below: a
# batch of 4000 lines takes over 200 s, a stop should take a moment.
mkdir "$T/slow-rules"
cat >"$T/slow-rules/slow.lua" <<'EOF'
rule "slow-on-purpose" {
  description = "spends 50 ms on each entry, and says so",
  when = function(e)
    local t = os.clock()
    while os.clock() - t < 0.05 do end
    print("slow rule done with " .. e.text)
    return false
  end,
  tags = {"never-set"},
}
EOF
printf 'rule_budget = 100000000\n' >"$T/slow.conf"
STOP_CAP=60 # seconds a stop may take here; the batch alone takes 200 s or more
M=4000
awk -v m=$M 'BEGIN { for (i = 1; i <= m; i++) printf "2023-07-%02d: slow line %d\n", i % 28 + 1, i }' \
  >"$T/slow.txt"

# ran_on TEXT N: the slow rule is done with N entries whose text starts with TEXT.
ran_on() {
  [ "$(grep -c "print: slow rule done with $1" "$DLOG")" -ge "$2" ]
}

# sigterm_in_work WHAT: sends SIGTERM, and checks that the daemon exits 0
# within STOP_CAP seconds.
sigterm_in_work() {
  _t0=$(date +%s)
  kill -TERM "$DPID"
  if wait_for $STOP_CAP _daemon_exited; then
    ok "$1: the daemon exits within $STOP_CAP s of SIGTERM (in $(($(date +%s) - _t0)) s)"
  else
    fail "$1: the daemon exits within $STOP_CAP s of SIGTERM" "$(tail -n 5 "$DLOG")"
  fi
  stop_daemon TERM
  is "$1: exit status 0" "$DRC" 0
}

DB=$T/slow.db
start_daemon --rules "$T/slow-rules" --config "$T/slow.conf" || done_testing
send_unix <"$T/slow.txt" >"$T/slow.replies" &
bg_started $!
check "the slow rule runs on the client's lines" wait_running 60 ran_on "slow line" 3
sigterm_in_work "a client's long batch"
check "the client gets a reply for each line" \
  wait_for 30 sh -c "[ \"\$(wc -l <'$T/slow.replies')\" -eq $M ]"
slow_acked=$(count_matching '^ok [0-9]+$' "$T/slow.replies")
diag "$slow_acked lines of $M were stored before the stop"
check "... 'ok ID' for the lines stored, first" \
  sh -c "head -n $slow_acked '$T/slow.replies' | grep -Evq '^ok [0-9]+\$' && exit 1 || exit 0"
is "... then 'not stored' for each of the others" \
  "$(tail -n +$((slow_acked + 1)) "$T/slow.replies" | sort | uniq -c | sed 's/^ *//')" \
  "$((M - slow_acked)) error: not stored: the daemon is stopping"
check "... which are far more than those stored" test "$slow_acked" -lt $((M / 2))
is "every line acknowledged is stored, and none other" \
  "$(sq 'select count(*) from entries')" "$slow_acked"
sed -n 's/^ok //p' "$T/slow.replies" | sort >"$T/slow-acked"
sq 'select id from entries' | sort >"$T/slow-stored"
check "... the same ids" cmp "$T/slow-acked" "$T/slow-stored"
like "the log says how many were not stored" \
  "$(grep 'lines received were not stored' "$DLOG")" "^[^ ]+ info +stopping: $((M - slow_acked)) lines received"
is "the database passes integrity_check" "$(sq 'PRAGMA integrity_check' 2>&1)" ok

# The same from a spool file: it stays, and the next start goes on.
DB=$T/slow-spool.db
SPOOL=$T/slow-spool
mkdir -p "$SPOOL"
start_daemon --rules "$T/slow-rules" --config "$T/slow.conf" || done_testing
sed 's/slow line/spooled slow line/' "$T/slow.txt" >"$SPOOL/.long"
mv "$SPOOL/.long" "$SPOOL/long.txt"
check "the slow rule runs on the spool file's lines" wait_running 60 ran_on "spooled slow line" 3
sigterm_in_work "a spool file's long batch"
check "the spool file stays in the spool" test -f "$SPOOL/long.txt"
like "the log says where it stopped" "$(grep 'spool: long.txt: stopping after line' "$DLOG")" \
  'stopping after line [0-9]+; it stays in the spool'
stored=$(sq 'select count(*) from entries')
is "what it stored is what its mark says was read" \
  "$(sq "select line from spool_files where name = 'long.txt'")" "$stored"
mkdir "$T/no-rules"
start_daemon --rules "$T/no-rules" || done_testing
check "restarted, it reads the rest and moves the file to done/" \
  wait_running 120 test -f "$SPOOL/done/long.txt"
is "every line of the file is stored once" \
  "$(sq "select count(*) || ' ' || count(distinct text) from entries")" "$M $M"
stop_daemon TERM
is "... and the database passes integrity_check" "$(sq 'PRAGMA integrity_check' 2>&1)" ok

# Lines still waiting for their batch when the stop comes, a line the parser
# refuses among them: each is answered "not stored", for its client to send
# again, and none is kept, not even in rejects. The batch waits ten minutes
# to fill, and two waiting lines are a backlog the log names.
DB=$T/waiting.db
SPOOL=
printf 'batch_ms = 600000\nbatch_max = 100000\nmax_pending = 2\n' >"$T/waiting.conf"
start_daemon --rules "$T/no-rules" --config "$T/waiting.conf" || done_testing
printf 'a line without any date\n2023-05-01: a good line that waits\n' >"$T/waiting.txt"
send_unix <"$T/waiting.txt" >"$T/waiting.replies" &
client=$!
check "the two lines wait for their batch" \
  wait_running 120 grep -q 'backlog of 2 lines' "$DLOG"
stop_daemon TERM
wait "$client"
is "each waiting line is answered 'not stored', the refused one too" \
  "$(sort "$T/waiting.replies" | uniq -c | sed 's/^ *//')" \
  "2 error: not stored: the daemon is stopping"
is "... and nothing of them is kept" \
  "$(sq 'select (select count(*) from entries) || " " || (select count(*) from rejects)')" "0 0"

done_testing

#!/bin/sh
# End-to-end: SIGTERM while a client streams lines into `vigil run`. Every
# line the daemon acknowledged must be in the database, the database must be
# sound, and after a restart the whole stream sent again is stored once.
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
waiting=$(sed -n 's/.*stopping; \([0-9]*\) lines waiting.*/\1/p' "$DLOG")
diag "stopped with ${waiting:-?} lines waiting; the client got $acked replies for $N lines"
isnt "some lines were answered" "$acked" 0
is "every reply is 'ok ID'" "$(count_matching '^ok [0-9]+$' "$T/replies1")" "$acked"
sed -n 's/^ok //p' "$T/replies1" | sort >"$T/acked-ids"
sq 'select id from entries' | sort >"$T/stored-ids"
comm -23 "$T/acked-ids" "$T/stored-ids" >"$T/lost-ids"
is "every acknowledged id is in the database" "$(line_count "$T/lost-ids")" 0
check_replies_name_lines "every acknowledged id holds the line it answered" "$T/replies1"
is "the database passes integrity_check" "$(sq 'PRAGMA integrity_check' 2>&1)" ok
check "the full-text index matches the entries" \
  sq "INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')"
stored=$(sq 'select count(*) from entries')

# ---- restart on the same database and send everything again ----

start_daemon
send_unix <"$T/stream.txt" >"$T/replies2"
is "after the restart every line gets a reply" "$(line_count "$T/replies2")" "$N"
is "... which is 'ok' or 'duplicate'" "$(count_matching '^(ok|duplicate) [0-9]+$' "$T/replies2")" "$N"
is "... 'duplicate' exactly for the lines stored before the stop" \
  "$(count_matching '^duplicate ' "$T/replies2")" "$stored"
sed 's/^ok /duplicate /' "$T/replies1" >"$T/expected-dups"
head -n "$acked" "$T/replies2" >"$T/replies2-head"
check "lines acknowledged before the stop are duplicates of the same ids" \
  cmp "$T/expected-dups" "$T/replies2-head"
check_replies_name_lines "every reply after the restart names its own line" "$T/replies2"
is "the database holds each distinct line once" "$(sq 'select count(*) from entries')" "$distinct"
stop_daemon TERM
is "the restarted daemon exits 0 on SIGTERM" "$DRC" 0
is "the database still passes integrity_check" "$(sq 'PRAGMA integrity_check' 2>&1)" ok

done_testing

#!/bin/sh
# End-to-end: `vigil run` — the line protocol over the Unix socket and TCP,
# concurrent clients, partial lines, the spool directory, signals, and a
# second daemon on the same socket.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# entry COLUMN ID: that column of entry ID (a note when ID is not a number).
entry() {
  case $2 in
  '' | *[!0-9]*) echo "(no entry id: '$2')" ;;
  *) sq "select $1 from entries where id = $2" ;;
  esac
}

# text_of ID: the text of entry ID.
text_of() {
  entry text "$1"
}

# A file waiting in the spool before the daemon starts is ingested at start-up.
mkdir -p "$SPOOL"
printf '%s\n' \
  'Jan. 1, 2023: spooled before start-up, first line' \
  'Jan. 2, 2023: spooled before start-up, second line' >"$SPOOL/early.txt"

start_daemon
is "the unix socket is mode 0600" "$(stat -c %a "$SOCK" 2>&1)" 600
check "a spool file present at start-up is moved to done/" wait_running 60 test -f "$SPOOL/done/early.txt"
is "... and its lines are stored with source spool" \
  "$(sq "select count(*) from entries where source = 'spool' and text like 'spooled before start-up%'")" 2

# ---- one line at a time ----

line='Nov. 21, 2023: North Korea said its reconnaissance satellite had reached orbit.'
reply=$(printf '%s\n' "$line" | send_unix)
like "a line over the unix socket is answered 'ok ID'" "$reply" '^ok [0-9]+$'
id=${reply#ok }
is "... and entry ID holds its text" "$(text_of "$id")" \
  "North Korea said its reconnaissance satellite had reached orbit."
is "... with source socket" "$(entry source "$id")" socket
reply=$(printf '%s\n' "$line" | send_tcp)
is "the same line over tcp is 'duplicate' with the same id" "$reply" "duplicate $id"
reply=$(printf 'Feb. 29, 2023: there was no leap day in 2023\n' | send_unix)
like "a bad line is answered 'error line 1: reason'" "$reply" '^error line 1: impossible date'
is "... and kept in rejects with source socket" \
  "$(sq "select count(*) from rejects where source = 'socket' and cast(raw as text) like 'Feb. 29, 2023:%'")" 1

# ---- several lines on one connection: one reply each, in order ----

printf '%s\n' \
  'Dec. 2, 2023: several lines, the first' \
  'not a dated line at all' \
  '{"date": "2023-12-02", "text": "several lines, the third", "kind": "json"}' \
  'Dec. 2, 2023: several lines, the first' \
  'Dec. 2, 2023: several lines, the fifth' | send_unix >"$T/several.out"
r1=$(sed -n 1p "$T/several.out")
r3=$(sed -n 3p "$T/several.out")
r5=$(sed -n 5p "$T/several.out")
is "five lines on one connection get five replies" "$(line_count "$T/several.out")" 5
like "reply 1 is ok" "$r1" '^ok [0-9]+$'
like "reply 2 is the error of line 2" "$(sed -n 2p "$T/several.out")" '^error line 2: no date'
like "reply 3 is ok" "$r3" '^ok [0-9]+$'
is "reply 4 is the duplicate of line 1" "$(sed -n 4p "$T/several.out")" "duplicate ${r1#ok }"
like "reply 5 is ok" "$r5" '^ok [0-9]+$'
is "replies name the entries of their own lines" \
  "$(text_of "${r1#ok }")|$(text_of "${r3#ok }")|$(text_of "${r5#ok }")" \
  "several lines, the first|several lines, the third|several lines, the fifth"
is "a JSON record from the socket keeps its fields" \
  "$(entry fields "${r3#ok }")" '{"kind":"json"}'

# ---- two clients at once, 2000 lines each ----

for c in a b; do
  awk -v c="$c" 'BEGIN {
    for (i = 1; i <= 2000; i++)
      printf "2023-%02d-%02d: load from client %s, line %d\n", i % 12 + 1, i % 28 + 1, c, i
  }' >"$T/load-$c.txt"
done
send_unix <"$T/load-a.txt" >"$T/load-a.out" &
pa=$!
bg_started $pa
send_tcp <"$T/load-b.txt" >"$T/load-b.out" &
pb=$!
bg_started $pb
wait $pa
wait $pb
is "client a (unix) gets 2000 'ok' replies" "$(count_matching '^ok [0-9]+$' "$T/load-a.out")" 2000
is "client b (tcp) gets 2000 'ok' replies" "$(count_matching '^ok [0-9]+$' "$T/load-b.out")" 2000
for c in a b; do
  check "client $c's ids rise in the order of its lines" \
    awk '$1 != "ok" || $2 + 0 <= last { bad = 1 } { last = $2 + 0 } END { exit bad || NR != 2000 }' \
    "$T/load-$c.out"
done
is "the 4000 ids are distinct" "$(cat "$T/load-a.out" "$T/load-b.out" | sort -u | wc -l | tr -d ' ')" 4000
for k in 1 1000 2000; do
  id=$(sed -n "${k}p" "$T/load-b.out")
  is "client b, line $k: its reply names its entry" "$(text_of "${id#ok }")" "load from client b, line $k"
done
is "the database holds all 4000 lines" \
  "$(sq "select count(*) from entries where text like 'load from client %'")" 4000
is "vigil query lists every entry" \
  "$("$VIGIL" query --db "$DB" --json 2>>"$T/query.err" | wc -l | tr -d ' ')" \
  "$(sq 'select count(*) from entries')"
is "vigil query --text finds the 4000" \
  "$("$VIGIL" query --db "$DB" --json --text 'load client' 2>>"$T/query.err" | wc -l | tr -d ' ')" 4000

# ---- a client that leaves in the middle of a line ----

reply=$(printf 'Dec. 3, 2023: half a line and then the client is gone' | send_unix)
is "half a line gets no reply" "$reply" ""
is "... and is not stored" "$(sq "select count(*) from entries where text like 'half a line%'")" 0
check "... and the daemon logs that it discarded it" wait_running 60 grep -q discarded "$DLOG"
reply=$(printf 'Dec. 3, 2023: the next client after the half line\n' | send_unix)
like "the next client is answered" "$reply" '^ok [0-9]+$'

# ---- the spool directory ----

printf '%s\n' 'Dec. 4, 2023: written under a dot-name, never renamed' >"$SPOOL/.unfinished"
printf '%s\n' \
  'Dec. 5, 2023: spooled while running, first line' \
  'Dec. 6, 2023: spooled while running, second line' >"$SPOOL/.incoming"
mv "$SPOOL/.incoming" "$SPOOL/running.txt"
check "a file moved into the spool ends up in done/" wait_running 60 test -f "$SPOOL/done/running.txt"
check "... and leaves the spool" test ! -e "$SPOOL/running.txt"
check "... and gets no .err file" test ! -e "$SPOOL/done/running.txt.err"
is "... and its entries are listed with source spool" \
  "$("$VIGIL" query --db "$DB" --source spool --since 2023-12-05 --until 2023-12-06 2>>"$T/query.err" |
    sed 's/^[^ ]*  [^ ]*  //')" \
  "spool  spooled while running, first line
spool  spooled while running, second line"

printf '%s\n' \
  'Dec. 7, 2023: a good line in a bad file' \
  'Dec. 7 2023 no colon here' \
  'Dec. 8, 2023: another good line in a bad file' \
  'Feb. 29, 2023: not a leap year' >"$SPOOL/.incoming"
mv "$SPOOL/.incoming" "$SPOOL/mixed.txt"
check "a spool file with bad lines ends up in failed/ with a .err file" \
  wait_running 60 test -f "$SPOOL/failed/mixed.txt.err"
check "... and the file itself is in failed/" test -f "$SPOOL/failed/mixed.txt"
check "... and not in done/" test ! -e "$SPOOL/done/mixed.txt"
is "the .err file has one line per bad line" "$(line_count "$SPOOL/failed/mixed.txt.err" 2>&1)" 2
like ".err names line 2 and why" "$(sed -n 1p "$SPOOL/failed/mixed.txt.err" 2>&1)" \
  "^mixed\\.txt:2: expected ':'"
like ".err names line 4 and why" "$(sed -n 2p "$SPOOL/failed/mixed.txt.err" 2>&1)" \
  "^mixed\\.txt:4: impossible date"
is "the good lines of a failed file are stored all the same" \
  "$(sq "select count(*) from entries where source = 'spool' and text like '%good line in a bad file'")" 2
check "a dot-file stays in the spool" test -f "$SPOOL/.unfinished"
is "... and is not ingested" "$(sq "select count(*) from entries where text like 'written under a dot-name%'")" 0

# ---- signals and a second daemon ----

kill -HUP "$DPID" 2>/dev/null
wait_running 60 grep -q reload "$DLOG"
check "SIGHUP does not stop the daemon" daemon_running
reply=$(printf 'Dec. 9, 2023: answered after SIGHUP\n' | send_unix)
like "... which still answers" "$reply" '^ok [0-9]+$'

timeout 120 "$VIGIL" run --db "$T/second.db" --socket "$SOCK" --listen '' --spool '' \
  >"$T/second.err" 2>&1
rc=$?
isnt "a second daemon on the same socket does not start" "$rc" 0
isnt "... and does not run until killed" "$rc" 124
check "... and says another vigil is listening" grep -q "another vigil" "$T/second.err"
check_sanitizers "... and has no sanitizer report" "$T/second.err"
check "the first daemon still has its socket" test -S "$SOCK"
reply=$(printf 'Dec. 10, 2023: answered after the second daemon gave up\n' | send_unix)
like "... and still answers" "$reply" '^ok [0-9]+$'

# A second daemon on the same database, with its own socket and no port: the
# database's lock refuses it, naming the first one's process id.
timeout 60 "$VIGIL" run --db "$DB" --socket "$T/other.sock" --listen '' --spool '' \
  >"$T/same-db.err" 2>&1
rc=$?
is "a second daemon on the same database exits with status 3" "$rc" 3
check "... and says another daemon runs on it, with its pid" \
  grep -q "another vigil daemon (pid $DPID) runs on the database $DB" "$T/same-db.err"
check "... and never said ready" sh -c '! grep -q "ready" "$1"' sh "$T/same-db.err"
check "... and made no socket" test ! -e "$T/other.sock"
check_sanitizers "... and has no sanitizer report" "$T/same-db.err"
is "the lock file beside the database holds the daemon's pid" "$(cat "$DB.lock")" "$DPID"
ln -s "$DB" "$T/alias.db"
timeout 60 "$VIGIL" run --db "$T/alias.db" --socket "$T/alias.sock" --listen '' --spool '' \
  >"$T/alias.err" 2>&1
is "a second daemon on a symbolic link to the database is refused too" "$?" 3
check "... naming the first one's pid" grep -q "another vigil daemon (pid $DPID)" "$T/alias.err"
out=$("$VIGIL" query --db "$DB" 'answered after the second daemon gave up' 2>&1)
like "a one-shot query works beside the running daemon" "$out" 'answered after the second daemon'
printf 'Dec. 10, 2023: ingested by the command line beside the daemon\n' >"$T/beside.txt"
"$VIGIL" ingest --db "$DB" --rules "$RULES" "$T/beside.txt" >"$T/beside.out" 2>&1
is "... and so does a one-shot ingest" "$?" 0
reply=$(printf 'Dec. 10, 2023: answered after the one-shot commands\n' | send_unix)
like "... and the daemon still answers" "$reply" '^ok [0-9]+$'

stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0
check "SIGTERM: the log says stopped cleanly" grep -q "stopped cleanly" "$DLOG"
check "SIGTERM: the socket file is removed" test ! -e "$SOCK"
check_sanitizers "no sanitizer report from the query runs" "$T/query.err"

# ---- a daemon whose spool directory is empty at start-up ----

DB=$T/fresh.db
SOCK=$T/fresh.sock
SPOOL=$T/fresh-spool
mkdir -p "$SPOOL"
start_daemon
reply=$(printf 'Dec. 11, 2023: the first line a fresh daemon stores\n' | send_unix)
is "a daemon started on an empty spool answers" "$reply" "ok 1"
stop_daemon INT
is "... and exits 0 on SIGINT" "$DRC" 0
check "SIGINT: the log says stopped cleanly" grep -q "stopped cleanly" "$DLOG"

# ---- a socket shared with a group ----

# Root may give the socket to any group: one it is not in, when there is one;
# anyone may give it to their own.
GROUP=$(id -gn)
if [ "$(id -u)" = 0 ] && getent group nogroup >/dev/null 2>&1; then GROUP=nogroup; fi
printf 'socket_group = "%s"\n' "$GROUP" >"$T/group.conf"
SOCK=$T/group.sock
start_daemon --config "$T/group.conf"
is "with socket_group, the socket is mode 0660 and owned by that group" \
  "$(stat -c '%a %G' "$SOCK" 2>&1)" "660 $GROUP"
reply=$(printf 'Dec. 11, 2023: sent over a shared socket\n' | send_unix)
like "... and answers" "$reply" '^ok [0-9]+$'
stop_daemon TERM
printf 'socket_group = "no-such-group-here"\n' >"$T/nogroup.conf"
timeout 120 "$VIGIL" run --config "$T/nogroup.conf" --db "$T/nogroup.db" --socket "$T/nogroup.sock" \
  --listen '' --spool '' >"$T/nogroup.err" 2>&1
rc=$?
isnt "an unknown socket_group stops the daemon at start" "$rc" 0
isnt "... at once" "$rc" 124
check "... saying which group" grep -q "socket_group 'no-such-group-here': no such group" "$T/nogroup.err"
check_sanitizers "... with no sanitizer report" "$T/nogroup.err"
SOCK=$T/fresh.sock

# ---- a long spool file shares the store with clients ----

# 200,000 lines take the daemon seconds; a client's line sent meanwhile is
# stored and answered between two of the file's batches: the file's entries
# have ids on both sides of the line's. The client connects first, and its
# first reply shows the connection is served, so that its line goes out at
# once when some of the file is stored, however slow the machine.
awk 'BEGIN { for (i = 1; i <= 200000; i++)
  printf "2024-%02d-%02d: A long file of notes, line %d\n", i % 12 + 1, i % 28 + 1, i }' \
  >"$T/.long.txt"
DB=$T/fresh.db
start_daemon
mkfifo "$T/client.fifo"
timeout 600 socat -t 300 - "UNIX-CONNECT:$SOCK" <"$T/client.fifo" >"$T/client.out" 2>>"$T/socat.err" &
bg_started $!
exec 4>"$T/client.fifo"
printf 'Dec. 12, 2023: a line sent before a long file is read\n' >&4
check "a client connects before the long file comes" wait_running 60 test -s "$T/client.out"
mv "$T/.long.txt" "$SPOOL/long.txt"
# long_begun: some of the long file is stored.
# shellcheck disable=SC2317 # called through wait_running
long_begun() {
  [ "$(sq "select count(*) from entries where text like 'A long file of notes%'")" -gt 0 ]
}
# replies_at_least N: the client has N replies.
# shellcheck disable=SC2317 # called through wait_running
replies_at_least() {
  [ "$(line_count "$T/client.out")" -ge "$1" ]
}
wait_running 120 long_begun
sent=$(date +%s%N)
printf 'Dec. 12, 2023: a line sent while a long file is read\n' >&4
wait_running 120 replies_at_least 2
took=$((($(date +%s%N) - sent) / 1000000))
exec 4>&-
reply=$(sed -n 2p "$T/client.out")
like "a line sent while a long spool file is read is answered" "$reply" '^ok [0-9]+$'
id=${reply#ok }
case $id in '' | *[!0-9]*) id=0 ;; esac
wait_running 600 test -f "$SPOOL/done/long.txt"
check "the long file is done in the end" test -f "$SPOOL/done/long.txt"
is "... with all its lines" "$(sq "select count(*) from entries where text like 'A long file of notes%'")" 200000
is "... and the line was stored between two of its batches (answered in $took ms)" \
  "$(sq "select sum(id < $id) > 0 and sum(id > $id) > 0 from entries where text like 'A long file of notes%'")" 1
stop_daemon TERM
is "... and the daemon stops with status 0" "$DRC" 0

done_testing

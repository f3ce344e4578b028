#!/bin/sh
# End-to-end: clients that try to make `vigil run` hold too much. A line of
# 1 GB with no newline, a client that sends and never reads its replies,
# hundreds of connections that send nothing and more than the daemon serves,
# and a client sending as fast as it can. For each: the daemon's memory stays
# under a stated bound, it logs what it refused, and other clients keep
# getting their replies. The clients are tests/e2e/flood_client.py.
# `ulimit -n` is not POSIX, but the shells the tests run under (dash, bash) have it.
# shellcheck disable=SC3045
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SPOOL=
FC=$E2E/flood_client.py
# The bound on the daemon's resident memory in every case (VmRSS and VmHWM
# from /proc). ASan keeps freed memory in a quarantine, 256 MB by default,
# which would be most of the figure: it is cut to 16 MB here, so that what is
# measured is what the daemon holds.
BOUND_MB=300
ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=16
export ASAN_OPTIONS
# The clients hold more than a thousand sockets.
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || ulimit -Sn 4096 2>/dev/null

# ---- helpers ----

# mem FIELD: the daemon's VmRSS or VmHWM, in kB.
mem() {
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$DPID/status" 2>/dev/null
}

# reset_peak: starts VmHWM again from the current VmRSS.
reset_peak() {
  echo 5 >"/proc/$DPID/clear_refs" 2>/dev/null
}

# under_bound DESCRIPTION KB: passes when KB is below the bound.
under_bound() {
  if [ -n "$2" ] && [ "$2" -lt $((BOUND_MB * 1024)) ]; then
    ok "$1 ($(($2 / 1024)) MB, under $BOUND_MB MB)"
  else
    fail "$1" "got ${2:-nothing} kB; the bound is $BOUND_MB MB"
  fi
}

# fds: the number of file descriptors the daemon has open.
fds() {
  find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l | tr -d ' '
}

# fds_are N: the daemon has N descriptors open.
fds_are() {
  [ "$(fds)" = "$1" ]
}

# sockets_are N: the daemon has N sockets open (its listening ones, and one
# per client it has not closed yet).
sockets_are() {
  [ "$(find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l | tr -d ' ')" = "$1" ]
}

# logged COUNT REGEX: the daemon's log has COUNT lines matching REGEX.
logged() {
  [ "$(count_matching "$2" "$DLOG")" = "$1" ]
}

# client NAME SECONDS MODE ARG...: runs flood_client.py MODE in the
# background with its replies in $T/NAME.out and its notes in $T/NAME.err;
# $T/NAME.done appears when it ends.
client() {
  _name=$1
  _secs=$2
  _mode=$3
  shift 3
  rm -f "$T/$_name.done"
  (
    timeout "$_secs" python3 "$FC" "$_mode" "$SOCK" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
    echo $? >"$T/$_name.done"
  ) &
  bg_started $!
}

# probe TAG DESCRIPTION: another client sends five lines, one at a time; each
# must be answered "ok", within PROBE_MS. A reply takes milliseconds here;
# a client held up behind the hostile one would wait until that one is let
# go, which the tests do only after the probe: the bound leaves a slow or
# busy machine plenty of room and still tells the two apart.
PROBE_MS=10000
probe() {
  timeout 300 python3 "$FC" probe "$SOCK" 5 "$1" >"$T/probe.$1.out" 2>"$T/probe.$1.err"
  _ms=$(sed -n 's/^slowest reply: \([0-9]*\) ms$/\1/p' "$T/probe.$1.err")
  if [ "$(count_matching '^ok [0-9]+$' "$T/probe.$1.out")" = 5 ] && [ "${_ms:-99999}" -lt $PROBE_MS ]; then
    ok "$2 (slowest reply ${_ms} ms)"
  else
    fail "$2" "replies: $(tr '\n' ' ' <"$T/probe.$1.out")" "$(cat "$T/probe.$1.err")"
  fi
}

# limited NAME ULIMIT-ARGS: a script $T/NAME that runs vigil under
# `ulimit ULIMIT-ARGS`; it execs vigil, so its pid is the daemon's.
REAL_VIGIL=$VIGIL
limited() {
  printf '#!/bin/sh\nulimit %s || exit 1\nexec "%s" "$@"\n' "$2" "$REAL_VIGIL" >"$T/$1"
  chmod +x "$T/$1"
}

# No digest: their runs (a catch-up at start-up, and on the clock) would open
# descriptors and files of their own while the tests count them.
cat >"$T/quiet.conf" <<'EOF'
digests = {}
EOF

# ==== the first daemon: the defaults, under the usual soft limit of 1024 files ====

limited vigil-1024 '-Sn 1024'
VIGIL=$T/vigil-1024
start_daemon --config "$T/quiet.conf"
VIGIL=$REAL_VIGIL
listening=$(find "/proc/$DPID/fd" -mindepth 1 -maxdepth 1 -lname 'socket:*' 2>/dev/null | wc -l | tr -d ' ')
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$DPID/limits")
check "the daemon raises its open-files limit to make room for 1024 clients (now $soft)" \
  test "$soft" -ge 1088

# ---- 1. a line of 1 GB with no newline ----

GB=1000000000
reset_peak
rss_idle=$(mem VmRSS)
client flood 600 flood "$GB" "$T/flood.paused" "$T/flood.go" '\n2023-06-01: the line after the flood\n'
check "the flooding client gets half its gigabyte out" wait_running 300 test -f "$T/flood.paused"
check "mid-line, the daemon logs the line over the cap, naming the connection and the cap" \
  wait_running 60 logged 1 'warn +unix#[0-9]+: line 1 is over the 1048576-byte cap; skipping it up to its newline$'
rss=$(mem VmRSS)
under_bound "half a gigabyte into the line, the daemon's memory" "$rss"
diag "VmRSS idle $((rss_idle / 1024)) MB, 500 MB into the line $((rss / 1024)) MB"
probe flood "mid-flood, another client gets its replies"
touch "$T/flood.go"
check "the flooding client finishes" wait_for 300 test -f "$T/flood.done"
diag "flood: $(cat "$T/flood.err")"
is "the overlong line is answered with an error naming its length and the cap" \
  "$(sed -n 1p "$T/flood.out")" "error line 1: line of $GB bytes is over the 1048576-byte cap"
like "... and the line after it on the same connection is stored" "$(sed -n 2p "$T/flood.out")" '^ok [0-9]+$'
check "the daemon logs the rejected line with its length" wait_running 60 \
  grep -Eq "unix#[0-9]+: line 1 rejected: line of $GB bytes is over the 1048576-byte cap" "$DLOG"
is "the reject keeps the line's length, not the line" \
  "$(sq "select raw_length, length(raw) <= 65536 from rejects where raw_length = $GB")" "$GB|1"
under_bound "the daemon's peak memory over the gigabyte" "$(mem VmHWM)"
diag "VmHWM over the flood: $(($(mem VmHWM) / 1024)) MB"

# The same gigabyte, and then the client leaves without ending the line.
touch "$T/cut.go"
client cut 600 flood "$GB" "$T/cut.paused" "$T/cut.go" ''
check "a gigabyte with no newline at all, then the client closes" wait_for 300 test -f "$T/cut.done"
is "... gets no reply" "$(cat "$T/cut.out")" ""
check "... and the daemon logs that it discarded the gigabyte" wait_running 60 \
  grep -Eq "unix#[0-9]+: closed mid-line; $GB bytes without a newline discarded" "$DLOG"
under_bound "... with its memory" "$(mem VmHWM)"

# ---- 3. connections that send nothing, and more than the daemon serves ----

# The descriptors with no client: once the daemon has closed those of the
# clients before (it closes them after it logs them gone).
wait_running 60 sockets_are "$listening"
base=$(fds)
reset_peak
rss_before=$(mem VmRSS)
client idle 600 hold 500 "$T/idle.ready" "$T/idle.go"
check "500 idle connections are open" wait_running 120 test -f "$T/idle.ready"
check "... and the daemon holds one descriptor for each ($base before)" \
  wait_running 60 fds_are $((base + 500))
probe idle "with 500 idle connections, another client gets its replies"
rss=$(mem VmRSS)
under_bound "with 500 idle connections, the daemon's memory" "$rss"
diag "VmRSS $rss_before kB before the idle connections, $rss kB with them"
touch "$T/idle.go"
check "the idle connections end" wait_for 120 test -f "$T/idle.done"
is "... none was closed by the daemon" "$(sed -n 1p "$T/idle.out")" "closed 0"
like "... and one of them is served when it speaks" "$(sed -n 2p "$T/idle.out")" '^reply: ok [0-9]+$'
check "the daemon's descriptors return to $base" wait_running 60 fds_are "$base"
is "nothing was refused" "$(count_matching refused "$DLOG")" 0

lim=$(ulimit -n)
if [ "$lim" = unlimited ] || [ "$lim" -ge 1200 ]; then
  client over 600 hold 1100 "$T/over.ready" "$T/over.go"
  check "1100 connections are open" wait_running 120 test -f "$T/over.ready"
  check "the daemon logs each of the 76 past its cap of 1024" wait_running 60 \
    logged 76 'warn +unix#[0-9]+: refused: too many connections \(1024 at most\)$'
  check "... and holds a descriptor for each of the 1024 it serves" \
    wait_running 60 fds_are $((base + 1024))
  rss=$(mem VmRSS)
  under_bound "with 1024 connections, the daemon's memory" "$rss"
  diag "VmRSS with 1024 connections: $rss kB"
  touch "$T/over.go"
  check "the 1100 connections end" wait_for 120 test -f "$T/over.done"
  is "... the daemon closed the 76 it refused, no more" "$(sed -n 1p "$T/over.out")" "closed 76"
  like "... and served one it kept" "$(sed -n 2p "$T/over.out")" '^reply: ok [0-9]+$'
  check "the daemon's descriptors return to $base" wait_running 60 fds_are "$base"
  probe after-cap "after them, a new client gets its replies"
else
  ok "# SKIP more than the daemon serves: this shell may open only $lim files"
fi

# ---- 4. a client sending as fast as it can ----

N=200000
awk -v n=$N 'BEGIN {
  for (i = 1; i <= n; i++)
    printf "2023-%02d-%02d: full-speed line %d\n", i % 12 + 1, i % 28 + 1, i
}' >"$T/fast.txt"
reset_peak
started=$(date +%s)
(
  send_unix <"$T/fast.txt" >"$T/fast.out"
  echo $? >"$T/fast.done"
) &
bg_started $!
check "the fast client gets its first replies" wait_running 120 test -s "$T/fast.out"
timeout 300 python3 "$FC" probe "$SOCK" 5 fast >"$T/probe.fast.out" 2>"$T/probe.fast.err"
is "meanwhile another client gets a reply to each of its lines" \
  "$(count_matching '^ok [0-9]+$' "$T/probe.fast.out")" 5
diag "its slowest reply: $(sed -n 's/^slowest reply: //p' "$T/probe.fast.err")"
check "the fast client finishes" wait_for 600 test -f "$T/fast.done"
diag "$N lines answered in $(($(date +%s) - started)) s"
is "every line is answered 'ok'" "$(count_matching '^ok [0-9]+$' "$T/fast.out")" $N
sq "select id || '|' || text from entries where text like 'full-speed line %'" >"$T/fast.stored"
if awk -F'|' '
  NR == FNR { text[$1] = $2; next }
  { if (text[$2] != "full-speed line " FNR || seen[$2]++) bad++ }
  END { exit bad > 0 || FNR != '$N' }' "$T/fast.stored" FS=' ' "$T/fast.out"; then
  ok "reply k names the entry of line k, each entry once"
else
  fail "reply k names the entry of line k, each entry once"
fi
is "the database holds each line once" "$(line_count "$T/fast.stored")" $N
check "the daemon logs that it paused input while the backlog drained" \
  grep -Eq 'backlog of [0-9]+ lines: pausing input until it drains' "$DLOG"
under_bound "the daemon's peak memory under the fast client" "$(mem VmHWM)"
diag "VmHWM under the fast client: $(($(mem VmHWM) / 1024)) MB"

stop_daemon TERM
is "the first daemon exits 0" "$DRC" 0

# ==== the second daemon: a client that does not read its replies ====

# A small backlog, so that the daemon is not still reading the client's
# lines when its replies fill up and it stops.
cat >"$T/small-backlog.conf" <<'EOF'
max_pending = 4096
digests = {}
EOF
start_daemon --config "$T/small-backlog.conf"

# ---- 2. a client that never reads its replies ----

N=160000
awk -v n=$N 'BEGIN {
  for (i = 1; i <= n; i++)
    printf "2023-%02d-%02d: unread line %d\n", i % 12 + 1, i % 28 + 1, i
}' >"$T/unread.txt"
size=$(wc -c <"$T/unread.txt" | tr -d ' ')
reset_peak
client unread 600 unread "$T/unread.txt" "$T/unread.progress" "$T/unread.go"
check "the daemon logs that it pauses the client that does not read" wait_running 120 \
  grep -Eq 'unix#[0-9]+: not reading its replies; pausing its input' "$DLOG"
probe unread "meanwhile another client gets its replies"
# progress_stops: what the client has sent does not grow over half a second
# (a window in which a daemon still reading would take more); it sets sent
# and later. Once the daemon stops reading, the client may still fill the
# socket's buffers: this waits for that to be over.
# shellcheck disable=SC2317 # called through wait_running
progress_stops() {
  sent=$(cat "$T/unread.progress")
  sleep 0.5
  later=$(cat "$T/unread.progress")
  [ "$sent" = "$later" ]
}
wait_running 120 progress_stops
diag "the client had sent $sent of $size bytes; half a second later $later"
check "... and stops reading it: the client's lines stop going out before the end" \
  test "$sent" = "$later" -a "$later" -lt "$size"
under_bound "the daemon's memory while it holds the unread replies" "$(mem VmRSS)"
touch "$T/unread.go"
check "once the client reads, it finishes" wait_for 600 test -f "$T/unread.done"
is "... with a reply to each of its lines" "$(line_count "$T/unread.out")" $N
is "... each 'ok'" "$(count_matching '^ok [0-9]+$' "$T/unread.out")" $N
is "... and the lines are stored" "$(sq "select count(*) from entries where text like 'unread line %'")" $N
under_bound "the daemon's peak memory with the unread client" "$(mem VmHWM)"
diag "VmHWM with the unread client: $(($(mem VmHWM) / 1024)) MB"

# A client that sends, reads nothing and resets the connection: what the
# daemon took from it is stored whole, from its first line on.
N=60000
awk -v n=$N 'BEGIN {
  for (i = 1; i <= n; i++)
    printf "2023-%02d-%02d: dropped line %d\n", i % 12 + 1, i % 28 + 1, i
}' >"$T/drop.txt"
client drop 600 drop "$T/drop.txt"
check "a client that resets its connection with replies unread ends" wait_for 300 test -f "$T/drop.done"
check "... and the daemon logs that it lost the client" wait_running 60 \
  grep -Eq 'unix#[0-9]+: (connection lost|reply not delivered): ' "$DLOG"
check "... and keeps running" daemon_running
probe drop "... and answers the next client"
stored=$(sq "select count(*) from entries where text like 'dropped line %'")
diag "$stored of the $N lines of the reset client were stored"
isnt "... some of its lines are stored" "$stored" 0
is "... its lines stored are its first ones, each once" \
  "$(sq "select count(distinct text) from entries where text like 'dropped line %'
         and cast(substr(text, 14) as integer) <= $stored")" "$stored"
stop_daemon TERM
is "the second daemon exits 0" "$DRC" 0

# ==== the third daemon: too few files for 1024 clients ====

limited vigil-256 '-n 256'
VIGIL=$T/vigil-256
start_daemon --config "$T/quiet.conf"
VIGIL=$REAL_VIGIL
check "under a hard limit of 256 files, the daemon says how many it will serve" grep -Eq \
  'warn +the open-files limit is 256: serving at most 192 connections at once, not 1024$' "$DLOG"
base=$(fds)
client few 600 hold 250 "$T/few.ready" "$T/few.go"
check "250 connections are open" wait_running 120 test -f "$T/few.ready"
check "the daemon logs each of the 58 past 192" wait_running 60 \
  logged 58 'refused: too many connections \(192 at most\)$'
touch "$T/few.go"
check "the 250 connections end" wait_for 120 test -f "$T/few.done"
is "... the daemon closed the 58 it refused, no more" "$(sed -n 1p "$T/few.out")" "closed 58"
like "... and served one it kept" "$(sed -n 2p "$T/few.out")" '^reply: ok [0-9]+$'
check "the daemon's descriptors return to $base" wait_running 60 fds_are "$base"
probe few "after them, a new client gets its replies"
stop_daemon TERM
is "the third daemon exits 0" "$DRC" 0

check_sanitizers "no sanitizer report in any daemon's log" "$T"/daemon.*.log
done_testing

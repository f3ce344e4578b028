#!/bin/sh
# End-to-end: GET /v1/alerts/stream, the live alerts as Server-Sent Events.
# Each change of an alert (a new one, an amendment) comes under a durable
# id from the alert log; a client that comes back with Last-Event-ID (or
# ?since) gets exactly what it missed, from the database, then the live
# changes, across a restart of the daemon too, and what another process
# stores meanwhile reaches the stream as well. Streams carry a heartbeat
# comment; clients that leave leave nothing behind (the sanitizers check the
# daemon's log when it stops).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! curl and python3 are needed (make test-deps installs them)"
  exit 1
fi

mkdir -p "$T/rules"
cat >"$T/rules/stream.lua" <<'EOF'
rule "stream-launch" {
  description = "every missile launch",
  when = function(e) return e:find({ "missile" }) end,
  severity = "warn",
  alert = function(e) return "launch: " .. e.text end,
}
first "stream-new-weapon" {
  description = "the first mention of a Hwasong",
  match = function(e) return e:find({ "missile" }) end,
  by = function(e) return e:match("(?i)\\b(Hwasong-\\d+)") end,
  severity = "info",
}
EOF
cat >"$T/vigil.conf" <<'EOF'
sse_heartbeat_ms = 300
http_timeout_ms = 3000
EOF

# stream NAME [CURL ARG...]: a client reading the stream into $T/NAME
# (headers in $T/NAME.h) in the background; its pid in $T/NAME.pid.
stream() {
  _n=$1
  shift
  : >"$T/$_n"
  curl -sN -D "$T/$_n.h" -o "$T/$_n" "$@" "$HTTP/v1/alerts/stream" 2>"$T/$_n.err" &
  echo $! >"$T/$_n.pid"
  bg_started "$!"
}
# stream_stop NAME: the client of stream NAME leaves.
stream_stop() {
  kill "$(cat "$T/$1.pid")" 2>/dev/null
  wait "$(cat "$T/$1.pid")" 2>/dev/null
}
# events NAME: the events of stream NAME as "ID EVENT ALERT-ID RULE VERSION"
# lines, checking each data line is JSON with an id, a rule and a url.
events() {
  python3 - "$T/$1" <<'EOF'
import json, sys
ev = {}
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    if not line:
        if "data" in ev:
            a = json.loads(ev["data"])
            url = a.get("url") or ""
            ok = url.endswith("/v1/alerts/%d" % a["id"]) and a.get("rule")
            print(ev.get("id"), ev.get("event"), a["id"], a["rule"] if ok else "BAD",
                  a.get("version"))
        ev = {}
    elif not line.startswith(":"):
        k, _, v = line.partition(": ")
        ev[k] = v
EOF
}
# has_id NAME ID: stream NAME holds the event with id ID.
has_id() {
  grep -qx "id: $2" "$T/$1"
}
# log_after SEQ: the alert log after SEQ as events() prints a stream.
log_after() {
  sq "select l.seq, l.kind, l.alert_id, a.rule, l.version from alert_log l
      join alerts a on a.id = l.alert_id where l.seq > $1 order by l.seq"
}
ids() {
  cut -d' ' -f1 | tr '\n' ' '
}
send() {
  printf '%s\n' "$@" | send_unix
}

start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing

# ---- live ----

stream live
check "a client gets the stream's start: a retry time" wait_for 60 grep -qx 'retry: 2000' "$T/live"
like "... as text/event-stream" "$(cat "$T/live.h")" 'Content-Type: text/event-stream'
check "... and a heartbeat comment (sse_heartbeat_ms = 300)" \
  wait_for 60 grep -qx ': heartbeat' "$T/live"

r=$(send 'Dec. 18, 2023: North Korea test-fires a Hwasong-18 missile.')
like "a launch is stored" "$r" '^ok [0-9]+$'
check "... and its two alerts reach the stream" wait_running 60 has_id live 2
r=$(send 'Apr. 13, 2023: North Korea fires a Hwasong-18 missile for the first time.')
like "an earlier mention is stored" "$r" '^ok [0-9]+$'
check "... and its alert and the amendment reach the stream" wait_running 60 has_id live 4
is "the stream holds each change: ids in order, new alerts, then an amendment" \
  "$(events live)" "1 alert 1 stream-launch 1
2 alert 2 stream-new-weapon 1
3 alert 3 stream-launch 1
4 amend 2 stream-new-weapon 2"
is "... as the alert log says" "$(events live)" "$(log_after 0 | tr '|' ' ')"

# ---- resume ----

stream back -H 'Last-Event-ID: 2'
check "a client back with Last-Event-ID: 2 catches up" wait_running 60 has_id back 4
is "... with exactly the changes after 2" "$(events back | ids)" "3 4 "
stream since0 "-G" --data-urlencode since=0 --data-urlencode rule=stream-new-weapon
check "?since=0&rule=... gets the history of that rule" wait_running 60 has_id since0 4
is "... and only that rule's" "$(events since0 | ids)" "2 4 "

stream_stop live
r=$(send 'Jan. 2, 2024: North Korea launches a cruise missile.' \
  'Jan. 14, 2024: North Korea fires a Hwasong-16 missile.')
like "more launches while the first client is away" "$r" '^ok [0-9]+
ok [0-9]+$'
check "... reach the clients still there" wait_running 60 has_id back 7
stream again -H 'Last-Event-ID: 4'
check "the first client, back with the last id it got" wait_running 60 has_id again 7
is "... gets exactly what it missed" "$(events again | ids)" "5 6 7 "
is "... and the others got the same, once each" "$(events back | ids)" "3 4 5 6 7 "
is "the filtered client got only its rule's new alert" "$(events since0 | ids)" "2 4 7 "

# ---- another process ----

printf 'Feb. 1, 2024: North Korea fires a missile into the Yellow Sea.\n' >"$T/other.txt"
"$VIGIL" ingest --db "$DB" --rules "$T/rules" "$T/other.txt" >"$T/ingest.out" 2>"$T/ingest.err"
is "vigil ingest beside the daemon exits 0" "$?" 0
check "... and what it stored reaches the stream (a heartbeat looks)" \
  wait_running 60 has_id again 8
is "... once" "$(events again | ids)" "5 6 7 8 "

# ---- errors ----

is "a bad Last-Event-ID is refused" \
  "$(curl -s -o /dev/null -w '%{http_code}' -H 'Last-Event-ID: x' "$HTTP/v1/alerts/stream")" 400
like "a bad since names it" "$(curl -s "$HTTP/v1/alerts/stream?since=-1")" '"since must'
like "a bad severity names it" "$(curl -s "$HTTP/v1/alerts/stream?severity=high")" \
  '"severity must be info, warn or crit"'
like "an unknown parameter is named" "$(curl -s "$HTTP/v1/alerts/stream?from=1")" \
  "unknown parameter 'from'"
like "HEAD answers the stream's headers" "$(curl -sI "$HTTP/v1/alerts/stream")" \
  'Content-Type: text/event-stream'

# ---- restart ----

last=$(events again | tail -n 1 | cut -d' ' -f1)
stop_daemon TERM
is "the daemon stops cleanly with clients on the stream" "$DRC" 0
check "... and their streams end" wait_for 60 sh -c "! kill -0 $(cat "$T/again.pid") 2>/dev/null"
printf 'Mar. 4, 2024: North Korea fires a Hwasong-19 missile.\n' >"$T/down.txt"
"$VIGIL" ingest --db "$DB" --rules "$T/rules" "$T/down.txt" >"$T/ingest2.out" 2>"$T/ingest2.err"
is "vigil ingest while the daemon is down exits 0" "$?" 0
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
stream restart -H "Last-Event-ID: $last"
check "a client back after the restart with its last id" wait_running 60 has_id restart 10
is "... gets what it missed, no more" "$(events restart | ids)" "9 10 "
is "... as the alert log says" "$(events restart)" "$(log_after "$last" | tr '|' ' ')"
r=$(send 'Mar. 20, 2024: North Korea fires a missile off its east coast.')
check "... then the live ones" wait_running 60 has_id restart 11
stream fresh
check "a new client without an id" wait_for 60 grep -qx 'retry: 2000' "$T/fresh"
r=$(send 'Apr. 2, 2024: North Korea fires a Hwasong-16 missile again.')
check "... gets the next change" wait_running 60 has_id fresh 12
is "... and nothing from before it came" "$(events fresh | ids)" "12 "

stream past -H 'Last-Event-ID: 999'
check "a client with an id past the last change (a database made anew)" \
  wait_running 60 has_id past 12
is "... gets every change from the first" "$(events past | ids)" "1 2 3 4 5 6 7 8 9 10 11 12 "

# ---- a client that does not read ----

# It asks for the stream with a tiny receive buffer, reads its start, then
# nothing more; long alerts follow, more than the daemon queues for one
# client. The others get every one of them all the same.
python3 - "$HTTP_PORT" "$T/slow.state" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /v1/alerts/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
got = b""
while b"retry:" not in got:  # on the stream: from here on it reads nothing
    more = s.recv(512)
    if not more:
        sys.exit(1)
    got += more
open(sys.argv[2], "w").write("on\n")
time.sleep(300)
EOF
slow=$!
bg_started "$slow"
check "a client that does not read is on the stream" wait_for 60 test -s "$T/slow.state"
python3 - "$T/long.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1000):
        f.write("2024-06-%02d: North Korea fires missile number %d, says a report of %s\n"
                % (1 + i % 28, i, " ".join("word%d" % (i * 1000 + k) for k in range(700))))
EOF
"$VIGIL" ingest --db "$DB" --rules "$T/rules" "$T/long.txt" >"$T/ingest3.out" 2>"$T/ingest3.err"
is "1000 long alerts are stored beside the daemon" "$(cat "$T/ingest3.out")" \
  "1000 stored, 0 duplicates, 0 rejected"
check "the client that does not read is cut off" \
  wait_running 60 grep -q "the alert stream's client leaves [0-9]* bytes unread for 3000 ms; cut off" "$DLOG"
check "... while the others get every change" wait_running 60 has_id fresh 1012
is "... once each, in order" "$(events fresh | ids | wc -w)" 1001
kill "$slow" 2>/dev/null

# Clients that leave while they catch up: nothing of theirs is left behind
# (the sanitizers look when the daemon stops).
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  curl -s -m "0.0$((i % 9 + 1))" "$HTTP/v1/alerts/stream?since=$i" >/dev/null 2>&1
done
is "the daemon still answers after clients left mid-catch-up" \
  "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP/healthz")" 200

# Forty clients catch up at once while ten reads come: every stream gets
# what it asked for and every read its answer (the reads and the streams'
# catch-ups share the read connections; none is turned away).
many=""
for i in $(seq 1 40); do
  curl -sN -m 300 "$HTTP/v1/alerts/stream?since=1000" >"$T/many.$i" 2>/dev/null &
  many="$many $!"
done
for i in $(seq 1 10); do
  curl -s -o /dev/null -m 120 -w '%{http_code}\n' "$HTTP/v1/alerts?limit=100" >"$T/read.$i" &
  many="$many $!"
done
all_caught_up() {
  for i in $(seq 1 40); do grep -q '^id: 1012$' "$T/many.$i" || return 1; done
}
check "forty streams catching up at once each get every change asked for" \
  wait_running 120 all_caught_up
check "... while the ten reads beside them are answered" \
  wait_for 120 sh -c "[ \$(cat '$T'/read.* 2>/dev/null | grep -c '^200\$') -eq 10 ]"
check "... and no stream was ended for want of a read" \
  sh -c "! grep -q 'the alert stream cannot read' '$DLOG'"
for p in $many; do kill "$p" 2>/dev/null; done

# A client catching up on everything that reads nothing is on the stream as
# the daemon stops: the stop does not wait for it.
python3 - "$HTTP_PORT" "$T/stuck.state" <<'EOF' &
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /v1/alerts/stream?since=0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
s.recv(512)
open(sys.argv[2], "w").write("on\n")
time.sleep(600)
EOF
stuck=$!
bg_started "$stuck"
check "a client that reads nothing is on the stream" wait_for 60 test -s "$T/stuck.state"
stream_stop restart
stream_stop fresh
stream_stop past
stop_daemon TERM
is "the daemon stops cleanly" "$DRC" 0
kill "$stuck" 2>/dev/null
check_sanitizers "no sanitizer report from the one-shot commands" "$T/ingest.err" \
  "$T/ingest2.err" "$T/ingest3.err"
done_testing

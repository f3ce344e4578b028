#!/bin/sh
# End-to-end: who can feed the daemon. Checked:
#
#   - by default it takes entries on its Unix socket alone (mode 0600: the
#     user nobody is refused there), with no line-protocol TCP port, and its
#     one TCP listener is the HTTP API on loopback;
#   - an HTTP request on the TCP port (a browser, or a web page posting to
#     127.0.0.1) is answered with an HTTP 400 saying the port speaks the line
#     protocol and naming the HTTP API's address, and nothing of it is
#     stored: no entry, no reject, no alert from the shipped rules;
#   - a TCP listener off loopback without a token does not start;
#   - with a token (off loopback, or on it), a client's first line must be
#     "auth TOKEN": the right one is answered "ok auth" and its lines are
#     taken; no auth line, a wrong token, or a long first line with no
#     newline gets an error and the connection is closed, nothing stored;
#     the user nobody, refused on the socket, is refused on the port too
#     without the token; SIGHUP takes a new token from the token file; the
#     Unix socket needs no token.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need curl
ICBM='2023-11-21: North Korea launches a Hwasong-18 ICBM.'
SPOOL=

# counts: entries, rejects and alerts in the database, as one string.
counts() {
  sq "select (select count(*) from entries) || ' entries, ' || (select count(*) from rejects)
      || ' rejects, ' || (select count(*) from alerts) || ' alerts'"
}

# as_nobody COMMAND...: runs COMMAND as the user nobody (root only).
as_nobody() {
  setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}
can_drop=0
[ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1 && can_drop=1
chmod 755 "$T" # so that nobody may reach the sockets (and be refused by their modes)

# ---- the defaults: the Unix socket alone ----

(
  "$VIGIL" run --db "$T/default.db" --socket "$T/default.sock" --spool '' --rules "$RULES" \
    >"$T/default.log" 2>&1 &
  echo $! >"$T/default.pid"
  wait $!
  echo $? >"$T/default.status"
) &
bg_started $!
check "a daemon on the defaults is ready" wait_for 20 grep -q ' ready$' "$T/default.log"
dpid=$(cat "$T/default.pid")
check "... listening on its Unix socket" grep -q "listening on unix:$T/default.sock" "$T/default.log"
check "... and on no line-protocol TCP port (log)" sh -c "! grep -q 'listening on tcp' '$T/default.log'"
# Its one TCP listener is the HTTP API on 127.0.0.1:7434, unless another
# program holds that port (then it warns and has none).
is "... and on no TCP port off loopback (ss)" \
  "$(ss -Hltnp 2>/dev/null | grep "pid=$dpid," | grep -vc '127\.0\.0\.1:7434 ')" 0
like "... the HTTP API on loopback, or said to be off" "$(cat "$T/default.log")" \
  'listening on http://127\.0\.0\.1:7434/|cannot listen on http:127\.0\.0\.1:7434: .*going on without'
reply=$(printf '%s\n' "$ICBM" | timeout 30 socat -t 20 - "UNIX-CONNECT:$T/default.sock" 2>&1)
like "... where its owner is answered" "$reply" '^ok [0-9]+$'
if [ $can_drop -eq 1 ]; then
  reply=$(printf '%s\n' "$ICBM" | as_nobody timeout 30 socat -t 20 - "UNIX-CONNECT:$T/default.sock" 2>&1)
  like "... and the user nobody is refused" "$reply" 'Permission denied'
else
  skip "... and the user nobody is refused" "needs root and setpriv"
fi
kill -TERM "$dpid"
check "... and it stops on SIGTERM" wait_for 20 test -f "$T/default.status"
is "... with status 0" "$(cat "$T/default.status" 2>/dev/null)" 0

# ---- HTTP on the port ----

start_daemon --rules "$RULES" || done_testing
check "a loopback port without a token is said to be open to any local user" \
  grep -q "listening on tcp:127.0.0.1:$PORT without a token: any local user can feed" "$DLOG"
curl -sS -i --max-time 30 -X POST --data-binary "$ICBM
" "http://127.0.0.1:$PORT/" >"$T/post.out" 2>"$T/post.err"
like "a POST is answered HTTP/1.1 400" "$(head -n 1 "$T/post.out")" '^HTTP/1\.1 400 '
like "... saying the port speaks the line protocol" "$(cat "$T/post.out")" \
  "speaks vigil's line protocol .*Nothing was stored"
like "... and where the HTTP API is" "$(cat "$T/post.out")" \
  "The HTTP API is at http://127\\.0\\.0\\.1:$HTTP_PORT/"
curl -sS -i --max-time 30 "http://127.0.0.1:$PORT/feed?x=1" >"$T/get.out" 2>"$T/get.err"
like "a GET is answered HTTP/1.1 400" "$(head -n 1 "$T/get.out")" '^HTTP/1\.1 400 '
is "nothing of either request is stored, rejected or alerted on" "$(counts)" \
  "0 entries, 0 rejects, 0 alerts"
like "the log says so, with the request line" \
  "$(grep -F 'an HTTP request (POST / HTTP/1.1)' "$DLOG")" \
  "tcp#[0-9]+ \\(127\\.0\\.0\\.1:[0-9]+\\): an HTTP request .*refused, nothing stored"
reply=$(printf '%s\n' "$ICBM" | send_tcp)
like "the line protocol on the same port still works" "$reply" '^ok [0-9]+$'
is "... and that line alone is stored" "$(sq 'select count(*) from entries')" 1
like "... and raised its alerts" "$(sq 'select count(*) from alerts')" '^[1-9][0-9]*$'
stop_daemon TERM

# ---- off loopback: a token, or no start ----

port=$(_random_port)
timeout 60 "$VIGIL" run --db "$T/open.db" --socket "$T/open.sock" --listen "0.0.0.0:$port" \
  --spool '' >"$T/open.log" 2>&1
is "a listener on 0.0.0.0 without a token does not start (status 3)" "$?" 3
like "... saying why" "$(cat "$T/open.log")" \
  "listen address '0\\.0\\.0\\.0:$port' is not loopback: set tcp_token or tcp_token_file"
check "... and it listened on no TCP port" sh -c "! grep -q 'listening on tcp' '$T/open.log'"

TOKEN=exposure-test-token-0123456789
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
printf 'tcp_token_file = "%s"\n' "$T/token" >"$T/vigil.conf"
TCP_HOST=0.0.0.0
DB=$T/token.db
start_daemon --config "$T/vigil.conf" || done_testing
check "with a token it listens off loopback, and says a client sends 'auth TOKEN' first" \
  grep -q "listening on tcp:0.0.0.0:$PORT; a client sends 'auth TOKEN' first" "$DLOG"

printf 'auth %s\n%s\nnot an entry\n' "$TOKEN" "2023-11-22: sent after the token" | send_tcp >"$T/auth.out"
is "the right token is answered 'ok auth', then each line" "$(sed 's/[0-9][0-9]*$/N/' "$T/auth.out")" \
  "ok auth
ok N
error line 3: no date at the start of the line"
printf '%s\n' '2023-11-23: sent with no token' | send_tcp >"$T/noauth.out"
is "no auth line: an error, and closed" "$(cat "$T/noauth.out")" \
  "error line 1: this port needs 'auth TOKEN' as the first line"
printf 'auth %s\n%s\n' "${TOKEN}x" '2023-11-24: sent with a wrong token' | send_tcp >"$T/wrong.out"
is "a wrong token: an error, and closed" "$(cat "$T/wrong.out")" "error line 1: authentication failed"
printf 'auth %s\n%s\n' "exposure-test-token" '2023-11-24: sent with a token cut short' |
  send_tcp >"$T/short.out"
is "a token cut short: the same" "$(cat "$T/short.out")" "error line 1: authentication failed"
# A first line that never ends is not held up to max_line: closed after a
# kilobyte or so, though the client keeps its side open.
(
  head -c 100000 /dev/zero | tr '\0' a
  sleep 20
) | timeout 30 socat -t 20 - "TCP:127.0.0.1:$PORT" >"$T/long.out" 2>>"$T/socat.err" &
long=$!
bg_started $long
check "a long first line without a newline is cut off" wait_for 25 sh -c "! kill -0 $long 2>/dev/null"
is "... with the error" "$(cat "$T/long.out")" \
  "error line 1: this port needs 'auth TOKEN' as the first line"
curl -sS -i --max-time 30 -X POST --data-binary "$ICBM
" "http://127.0.0.1:$PORT/" >"$T/post2.out" 2>>"$T/post.err"
like "with a token, HTTP still gets its 400" "$(head -n 1 "$T/post2.out")" '^HTTP/1\.1 400 '
if [ $can_drop -eq 1 ]; then
  printf '%s\n' '2023-11-25: sent by nobody' |
    as_nobody timeout 30 socat -t 20 - "TCP:127.0.0.1:$PORT" >"$T/nobody.out" 2>&1
  is "the user nobody without the token is refused on the port" "$(cat "$T/nobody.out")" \
    "error line 1: this port needs 'auth TOKEN' as the first line"
else
  skip "the user nobody without the token is refused on the port" "needs root and setpriv"
fi
is "only the line sent after the token is stored" \
  "$(sq "select group_concat(text, '|') from entries")" "sent after the token"
is "... and the refused connections left no reject" "$(sq 'select count(*) from rejects')" 1
printf 'auth %s\nauth %s\n' "$TOKEN" "$TOKEN" | send_tcp >"$T/twice.out"
like "an auth line sent again is refused as a line" "$(tr '\n' ' ' <"$T/twice.out")" \
  '^ok auth error line 2: '
is "... and the token it held is kept nowhere in the rejects" \
  "$(sq "select count(*) from rejects where instr(cast(raw as text), '$TOKEN') > 0")" 0
reply=$(printf '%s\n' '2023-11-26: over the Unix socket' | send_unix)
like "the Unix socket needs no token" "$reply" '^ok [0-9]+$'
is "the token is never written to the log" "$(grep -c "$TOKEN" "$DLOG")" 0

# A new token in the file, and SIGHUP: the old one is refused, the new taken.
printf '%s\n' "${TOKEN}-rotated" >"$T/token"
kill -HUP "$DPID"
check "SIGHUP reloads the configuration" wait_running 20 grep -q 'reloaded configuration' "$DLOG"
printf 'auth %s\n' "$TOKEN" | send_tcp >"$T/old.out"
is "after SIGHUP the old token is refused" "$(cat "$T/old.out")" "error line 1: authentication failed"
printf 'auth %s\n%s\n' "${TOKEN}-rotated" '2023-11-27: sent with the new token' | send_tcp >"$T/new.out"
like "... and the new one taken" "$(tr '\n' ' ' <"$T/new.out")" '^ok auth ok [0-9]+ $'
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

# ---- a token on loopback ----

TCP_HOST=127.0.0.1
printf 'tcp_token = "%s"\n' "$TOKEN" >"$T/loop.conf"
start_daemon --config "$T/loop.conf" || done_testing
printf '%s\n' '2023-11-28: no token on loopback' | send_tcp >"$T/loop.out"
is "a token set for a loopback port is required there too" "$(cat "$T/loop.out")" \
  "error line 1: this port needs 'auth TOKEN' as the first line"
printf 'auth %s\n%s\n' "$TOKEN" '2023-11-28: the token on loopback' | send_tcp >"$T/loop2.out"
like "... and taken" "$(tr '\n' ' ' <"$T/loop2.out")" '^ok auth ok [0-9]+ $'
stop_daemon TERM

done_testing

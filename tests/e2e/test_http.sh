#!/bin/sh
# End-to-end: the HTTP server under the API. Checked with curl and raw
# sockets against the real daemon:
#   - /healthz and /readyz; an unknown path is 404, a wrong method 405 with Allow;
#   - Host must be localhost, the listen address or a name of http_hosts (a
#     page reaching the port by DNS rebinding names its own): else 403;
#   - writes refuse an Origin not in http_origins (403), and the content
#     types a page may send without a preflight, or a body without one (415);
#   - with http_token_file, writes need "Authorization: Bearer TOKEN" (401,
#     with WWW-Authenticate), reads do not, and the log never holds the token;
#   - CORS headers only for origins of http_origins, preflights answered;
#   - keep-alive and pipelined requests; a request that does not arrive in
#     time is answered 408; an idle connection is closed; past
#     http_max_connections a connection is answered 503; a head too long 431;
#     a body over http_max_body 413 (by length or chunked); garbage 400;
#   - off loopback it does not start without a token; a port set explicitly
#     that is taken stops it; the default port taken only warns.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need curl
DB=$T/vigil.db
SOCK=$T/vigil.sock
SPOOL=$T/spool
TCP_HOST=127.0.0.1

# status [CURL ARG...]: the HTTP status curl gets.
status() {
  curl -sS -o "$T/body" -D "$T/head" --max-time 60 -w '%{http_code}' "$@" 2>>"$T/curl.err"
}

# raw PORT SECONDS: sends standard input on a TCP connection to the port and
# prints all the server sends until it closes or SECONDS pass.
raw() {
  python3 "$T/raw.py" "$1" "$2"
}
cat >"$T/raw.py" <<'EOF'
import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", port), timeout=secs)
s.sendall(data)
end = time.time() + secs
out = b""
try:
    while time.time() < end:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
except socket.timeout:
    pass
sys.stdout.write(out.decode("utf-8", "replace"))
EOF

TOKEN=http-test-token-0123456789abcdef
printf '%s\n' "$TOKEN" >"$T/token"
chmod 600 "$T/token"
cat >"$T/vigil.conf" <<EOF
http_hosts = { "vigil.example.org" }
http_origins = { "https://ops.example.org" }
http_max_body = 1000
http_max_connections = 4
http_timeout_ms = 1500
EOF

mkdir -p "$T/rules"
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing

# ---- health, 404, 405 ----

check "without a token, the log says any local user can write through it" \
  grep -q "listening on http://127.0.0.1:$HTTP_PORT/ .*without a token: any local user can write" "$DLOG"
is "/healthz answers 200" "$(status "$HTTP/healthz")" 200
is "... with JSON" "$(cat "$T/body")" '{"status":"ok"}'
is "/readyz answers 200 when ready" "$(status "$HTTP/readyz")" 200
like "... saying so" "$(cat "$T/body")" '"status":"ready"'
is "an unknown path is 404" "$(status "$HTTP/no/such/thing")" 404
like "... with a JSON error naming it" "$(cat "$T/body")" '"error":"no such endpoint: /no/such/thing","status":404'
is "a wrong method is 405" "$(status -X DELETE "$HTTP/healthz")" 405
like "... with Allow" "$(cat "$T/head")" 'Allow: GET'
is "HEAD is a GET without a body" "$(status -I "$HTTP/healthz")" 200

# ---- Host ----

is "Host naming another server is refused (DNS rebinding)" \
  "$(status -H 'Host: attacker.example:80' "$HTTP/healthz")" 403
like "... saying why" "$(cat "$T/body")" 'Host is not a name of this server'
check "... and logged" grep -q "GET /healthz refused (403): Host" "$DLOG"
is "Host localhost is taken" "$(status -H "Host: localhost:$HTTP_PORT" "$HTTP/healthz")" 200
is "a name of http_hosts is taken" "$(status -H 'Host: VIGIL.example.org' "$HTTP/healthz")" 200
is "no Host at all is refused" \
  "$(printf 'GET /healthz HTTP/1.0\r\n\r\n' | raw "$HTTP_PORT" 30 | head -n 1 | tr -d '\r')" \
  "HTTP/1.1 403 Forbidden"

# ---- writes: Origin and content types ----

is "a write from an Origin not listed is refused" \
  "$(status -X POST -H 'Origin: https://evil.example' -H 'Content-Type: application/json' \
    --data '{}' "$HTTP/healthz")" 403
like "... saying why" "$(cat "$T/body")" 'writes from this Origin are not allowed'
for ct in 'text/plain' 'text/plain; charset=utf-8' 'text/plain	;x' 'application/x-www-form-urlencoded' \
  'multipart/form-data; boundary=x'; do
  is "a write sent as $ct is refused" \
    "$(status -X POST -H "Content-Type: $ct" --data 'a=b' "$HTTP/healthz")" 415
done
is "a write with a body and no Content-Type is refused" \
  "$(printf 'POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}' |
    raw "$HTTP_PORT" 30 | head -n 1 | tr -d '\r')" "HTTP/1.1 415 Unsupported Media Type"
is "a write from a listed Origin with JSON passes the checks (then 405 here)" \
  "$(status -X POST -H 'Origin: https://ops.example.org' -H 'Content-Type: application/json' \
    --data '{}' "$HTTP/healthz")" 405
is "nothing was stored by any of them" "$(sq 'select count(*) from entries') $(sq 'select count(*) from rejects')" "0 0"

# ---- CORS ----

is "a preflight from a listed origin is answered" \
  "$(status -X OPTIONS -H 'Origin: https://ops.example.org' \
    -H 'Access-Control-Request-Method: POST' "$HTTP/v1/silences")" 204
like "... allowing it" "$(cat "$T/head")" 'Access-Control-Allow-Origin: https://ops.example.org'
like "... with the headers a client sends" "$(cat "$T/head")" 'Access-Control-Allow-Headers: Authorization, Content-Type'
status -X OPTIONS -H 'Origin: https://evil.example' "$HTTP/v1/silences" >/dev/null
check "a preflight from another origin gets no CORS header" sh -c "! grep -qi 'Access-Control' '$T/head'"
status -H 'Origin: https://ops.example.org' "$HTTP/healthz" >/dev/null
check "a read from a listed origin gets its CORS header" grep -q 'Access-Control-Allow-Origin: https://ops.example.org' "$T/head"
status -H 'Origin: https://evil.example' "$HTTP/healthz" >/dev/null
check "... and from another origin none" sh -c "! grep -qi 'Access-Control' '$T/head'"

# ---- keep-alive and pipelining ----
out=$(printf 'OPTIONS /v1/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://ops.example.org\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
  raw "$HTTP_PORT" 30 | tr -d '\r')
is "a 204 has no body, so the next reply on the connection is whole" \
  "$(printf '%s\n' "$out" | grep -E '^HTTP/1.1|^Content-Length' | tr '\n' ';')" \
  "HTTP/1.1 204 No Content;HTTP/1.1 404 Not Found;Content-Length: 49;"

conns=$(curl -sS --max-time 60 -o /dev/null -o /dev/null -w '%{num_connects}\n' \
  "$HTTP/healthz" "$HTTP/readyz" 2>>"$T/curl.err" | tr '\n' ' ')
is "two requests share one connection (keep-alive)" "$conns" "1 0 "
out=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
  raw "$HTTP_PORT" 30 | grep '^HTTP/1.1' | tr -d '\r' | tr '\n' ';')
is "pipelined requests are answered in order" "$out" "HTTP/1.1 200 OK;HTTP/1.1 404 Not Found;"

# A client pipelines thousands of requests, and reads nothing until it has
# sent 75,000 of them (megabytes of replies it has not taken): each is answered, in order, without the
# server nesting, parsing what it has not answered yet, or holding them all.
python3 - "$HTTP_PORT" >"$T/flood.out" 2>&1 <<'EOF'
import socket, sys, threading
port, n = int(sys.argv[1]), 100000
s = socket.create_connection(("127.0.0.1", port), timeout=120)
req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
last = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
sent_some = threading.Event()
def send():
    for i in range(n // 50 - 1):
        s.sendall(req * 50)
        if i == 1500:
            sent_some.set()
    s.sendall(req * 49 + last)
    sent_some.set()
t = threading.Thread(target=send)
t.start()
sent_some.wait(120)
out = b""
while True:
    chunk = s.recv(1 << 16)
    if not chunk:
        break
    out += chunk
t.join()
print(out.count(b"HTTP/1.1 200 OK"))
EOF
is "100000 pipelined requests are each answered" "$(cat "$T/flood.out")" 100000
# One that pipelines 150,000 and never reads: the server answers until its
# replies wait unread, stops parsing, and cuts the client off in time; it
# neither reads on into a request it has not answered nor crashes.
python3 - "$HTTP_PORT" >"$T/noread.out" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=120)
req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
try:
    for i in range(3000):
        s.sendall(req * 50)
    print("sent all")
except OSError as e:
    print("cut off")
EOF
like "a client that pipelines without reading is served, then cut off" "$(cat "$T/noread.out")" \
  '^(sent all|cut off)$'
is "... and the server still answers" "$(status "$HTTP/healthz")" 200
check "... with no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer' '$DLOG'"

out=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
  raw "$HTTP_PORT" 30 | grep '^HTTP/1.1' | tr -d '\r' | tr '\n' ';')
is "an Upgrade asked for is not made, and the next request on the connection is served" "$out" \
  "HTTP/1.1 200 OK;HTTP/1.1 200 OK;"
out=$(printf 'OPTIONS /v1/silences HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
  raw "$HTTP_PORT" 60 | tr -d '\r')
like "a preflight asking to close is answered and closed" "$out" '^HTTP/1.1 204 No Content'
check "... at once (the read ended with the connection, not at the timeout)" \
  sh -c "printf '%s' \"$out\" | grep -q 'Connection: close'"

# ---- slow and idle clients, limits ----

out=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n' | raw "$HTTP_PORT" 60 | head -n 1 | tr -d '\r')
is "a request that does not arrive whole in time is answered 408" "$out" "HTTP/1.1 408 Request Timeout"
out=$(printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' | raw "$HTTP_PORT" 60 | grep -c '^HTTP/1.1 200')
is "an idle keep-alive connection is closed by the server (the read ends before 60 s)" "$out" 1

# Four connections held open fill the cap of four; the fifth is turned away.
python3 - "$HTTP_PORT" >"$T/cap.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
for s in held:  # keep them busy: a request trickling in, never whole
    s.sendall(b"GET /healthz HTTP/1.1\r\n")
time.sleep(0.2)
s = socket.create_connection(("127.0.0.1", port), timeout=60)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
print(s.recv(4096).decode().splitlines()[0])
EOF
capjob=$!
bg_started $capjob
wait_for 60 sh -c "! kill -0 $capjob 2>/dev/null"
is "a connection past http_max_connections is answered 503" "$(tr -d '\r' <"$T/cap.out")" \
  "HTTP/1.1 503 Service Unavailable"
check "... and logged" grep -q "connections open already (http_max_connections); refused" "$DLOG"

# Blank lines before a request count as its start: sent one at a time, they
# do not hold the connection past http_timeout_ms.
python3 - "$HTTP_PORT" >"$T/crlf.out" 2>&1 <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
end = time.time() + 60
try:
    while time.time() < end:
        s.sendall(b"\r\n")
        s.settimeout(0.5)
        try:
            if not s.recv(4096) or True:
                print("closed")
                break
        except socket.timeout:
            pass
except OSError:
    print("closed")
EOF
is "a client sending blank lines one by one is closed in time" "$(cat "$T/crlf.out")" closed
long=$(head -c 20000 /dev/zero | tr '\0' a)
is "a head over 16 KiB is answered 431" "$(status -H "X-Long: $long" "$HTTP/healthz")" 431
big=$(head -c 5000 /dev/zero | tr '\0' a)
is "a body over http_max_body is answered 413" \
  "$(status -X POST -H 'Content-Type: application/json' --data "\"$big\"" "$HTTP/healthz")" 413
is "... chunked too" \
  "$(status -X POST -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
    --data "\"$big\"" "$HTTP/healthz")" 413
out=$(printf 'HELLO THERE\r\n\r\n' | raw "$HTTP_PORT" 30 | head -n 1 | tr -d '\r')
is "garbage is answered 400" "$out" "HTTP/1.1 400 Bad Request"
is "the server still answers after all that" "$(status "$HTTP/healthz")" 200
stop_daemon TERM
is "... and stops cleanly" "$DRC" 0

# ---- a token ----

printf 'http_token_file = "%s"\nhttp_origins = { "https://ops.example.org" }\n' "$T/token" >"$T/token.conf"
start_daemon --rules "$T/rules" --config "$T/token.conf" || done_testing
is "with a token, a write without it is 401" \
  "$(status -X POST -H 'Content-Type: application/json' --data '{}' "$HTTP/healthz")" 401
like "... asking for it" "$(cat "$T/head")" 'WWW-Authenticate: Bearer'
out=$(printf 'POST /v1/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{' |
  raw "$HTTP_PORT" 60 | head -n 1 | tr -d '\r')
is "... refused at its head: the 10 MB body it announces is never awaited nor read" "$out" \
  "HTTP/1.1 401 Unauthorized"
is "... a wrong token is 401" \
  "$(status -X POST -H "Authorization: Bearer ${TOKEN}x" -H 'Content-Type: application/json' \
    --data '{}' "$HTTP/healthz")" 401
is "... the right one passes (then 405 here)" \
  "$(status -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data '{}' "$HTTP/healthz")" 405
is "... reads need none" "$(status "$HTTP/readyz")" 200
check "the refusals are logged" grep -q "POST /healthz refused (401): a wrong token" "$DLOG"
check "... never with the token" sh -c "! grep -q '$TOKEN' '$DLOG'"
stop_daemon TERM

# ---- where it may listen ----

port=$(_random_port)
timeout 60 "$VIGIL" run --db "$T/open.db" --socket "$T/open.sock" --spool '' --rules "$T/rules" \
  --http-listen "0.0.0.0:$port" >"$T/open.log" 2>&1
is "off loopback without a token it does not start (status 3)" "$?" 3
like "... saying why" "$(cat "$T/open.log")" "http_listen '0\\.0\\.0\\.0:$port' is not loopback: set http_token_file"
TCP_HOST=127.0.0.1
DB=$T/open2.db
start_daemon --rules "$T/rules" --config "$T/token.conf" --http-listen "0.0.0.0:$(_random_port)" ||
  done_testing
check "with a token it listens off loopback" grep -q "listening on http://0.0.0.0:.*writes bear the token" "$DLOG"
stop_daemon TERM

# A port held by another program: set explicitly, the daemon stops; the
# default (7434) only warns when taken, and the daemon runs without it.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
print("held", flush=True); time.sleep(120)' "$port" >"$T/hold.out" 2>&1 &
holder=$!
bg_started $holder
wait_for 30 grep -q held "$T/hold.out"
timeout 60 "$VIGIL" run --db "$T/taken.db" --socket "$T/taken.sock" --spool '' --rules "$T/rules" \
  --http-listen "127.0.0.1:$port" >"$T/taken.log" 2>&1
is "an HTTP port set explicitly and taken stops the daemon (status 3)" "$?" 3
like "... saying why" "$(cat "$T/taken.log")" "cannot listen on http:127\\.0\\.0\\.1:$port: address already in use"
kill "$holder" 2>/dev/null

done_testing

#!/bin/sh
# End-to-end: silences. `vigil silence add|list|expire` and /v1/silences
# write them to the store; an alert raised while one is active for its rule
# (and key, or any key) is stored marked with it and shown as silenced, but
# the sinks do not get it; one of another key is sent as ever; once the
# silence is expired the next alert goes out again. Expired silences stay
# listed with --all. Bad requests are refused, naming what is wrong. A
# silence's times are the wall clock's, so the test gives them as durations
# from now (or times far off), never as today's date.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1; then
  echo "Bail out! curl is needed (make test-deps installs it)"
  exit 1
fi

JSONL=$T/alerts.jsonl
cat >"$T/vigil.conf" <<EOF
alerts_file = "$JSONL"
log_level = "info"
busy_timeout_ms = 500
EOF
mkdir -p "$T/rules"
cat >"$T/rules/border.lua" <<'EOF'
rule "border-incident" {
  description = "an incident at the border, keyed by the place it names",
  when = function(e) return e:find({ "border" }) end,
  severity = "warn",
  alert = function(e)
    return { message = "border incident: " .. e.text, key = e.text:match("at (%a+)") or "elsewhere" }
  end,
}
EOF

# ---- the command, without a daemon ----

out=$("$VIGIL" silence add --db "$DB" --rule border-incident --key Panmunjom --for 2h \
  --author "duty officer" --reason "a scheduled drill at the truce village" 2>&1)
is "silence add prints the new id" "$out" 1
out=$("$VIGIL" silence list --db "$DB" 2>&1)
like "silence list shows it, active, with its key, author and reason" "$out" \
  '^1 +active +border-incident +key Panmunjom +until [0-9T:-]+Z +duty officer +a scheduled drill'
json=$("$VIGIL" silence list --db "$DB" --json 2>&1)
like "silence list --json gives the silence object" "$json" \
  '^\{"id":1,"rule":"border-incident","key":"Panmunjom","until":"[0-9T:-]+Z","author":"duty officer","reason":"a scheduled drill at the truce village","created_at":"[0-9T:-]+Z","expired_at":null,"state":"active"\}$'
is "the silence's until is two hours after it was made" \
  "$(sq "select cast(round((julianday(until) - julianday(created_at)) * 24) as int) from silences where id = 1")" 2

"$VIGIL" silence add --db "$DB" --rule border-incident --until 2001-01-01T00:00:00Z \
  --author x --reason y >"$T/past.out" 2>&1
rc=$?
is "a silence until a time past is refused (usage)" "$rc" 2
like "... saying so" "$(cat "$T/past.out")" 'until.*not in the future'
"$VIGIL" silence add --db "$DB" --rule border-incident --for 1h --author x >"$T/noreason.out" 2>&1
is "a silence without a reason is refused" "$?" 2
like "... naming --reason" "$(cat "$T/noreason.out")" '--reason is required'
"$VIGIL" silence add --db "$DB" --rule border-incident --for 5y --author x --reason y \
  >"$T/badfor.out" 2>&1
is "a duration without a known unit is refused" "$?" 2
is "nothing refused was written" "$(sq "select count(*) from silences")" 1

# A silence to expire at once: the audit trail keeps it.
is "a second silence, for any key of another rule" \
  "$("$VIGIL" silence add --db "$DB" --rule no-such-rule --for 1d --author kim --reason test 2>&1)" 2
is "silence expire ends it" "$("$VIGIL" silence expire 2 --db "$DB" 2>&1)" "silence 2 expired"
"$VIGIL" silence expire 2 --db "$DB" >"$T/again.out" 2>&1
rc=$?
is "expiring it again changes nothing and is no error" "$rc" 0
like "... and says it was no longer active" "$(cat "$T/again.out")" 'no longer active'
"$VIGIL" silence expire 99 --db "$DB" >"$T/none.out" 2>&1
is "expiring a silence that does not exist fails" "$?" 1
like "... naming it" "$(cat "$T/none.out")" 'no silence 99'
is "silence list leaves the expired one out" "$("$VIGIL" silence list --db "$DB" --json | wc -l | tr -d ' ')" 1
like "silence list --all shows it, expired, with when" \
  "$("$VIGIL" silence list --db "$DB" --all --json | sed -n 2p)" \
  '^\{"id":2,"rule":"no-such-rule","key":null,.*"expired_at":"[0-9T:-]+Z","state":"expired"\}$'

# ---- the daemon ----

start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing

r=$(printf '%s\n' 'Mar. 3, 2024: Soldiers cross the border at Panmunjom for a few minutes.' | send_unix)
like "an entry that raises the silenced rule's alert is stored" "$r" '^ok [0-9]+$'
check "the daemon says the alert was silenced" \
  wait_running 60 grep -q 'alert 1 silenced by silence 1' "$DLOG"
is "the alert is stored with the silence's id" \
  "$(sq "select silence_id from alerts where rule = 'border-incident' and key = 'Panmunjom'")" 1
like "vigil alerts --json shows it silenced" "$("$VIGIL" alerts --db "$DB" --json)" \
  '"key":"Panmunjom".*"silenced":1,"state":"silenced"'
like "vigil alerts marks it" "$("$VIGIL" alerts --db "$DB")" 'Panmunjom.*\[silenced by 1\]'
like "vigil show names the silence" "$("$VIGIL" show --db "$DB" 1)" 'silenced by 1'
like "the metrics count it silenced" "$(curl -sS --max-time 60 "$HTTP/metrics")" \
  'vigil_alerts_silenced_total\{rule="border-incident"\} 1'

r=$(printf '%s\n' 'Mar. 4, 2024: A border patrol fires warning shots at Cheorwon.' | send_unix)
check "an alert of another key reaches the alerts file" \
  wait_running 60 grep -q '"key":"Cheorwon"' "$JSONL"
like "... and is listed active" "$("$VIGIL" alerts --db "$DB" --json | grep Cheorwon)" \
  '"silenced":null,"state":"active"'

# Added over HTTP while the daemon runs: the next transaction takes it.
code=$(curl -s -o "$T/post.json" -D "$T/post.head" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' \
  -d '{"rule":"border-incident","key":"Yeonpyeong","for":"3h","author":"watch desk","reason":"an exercise announced by the navy"}' \
  "$HTTP/v1/silences")
is "POST /v1/silences answers 201" "$code" 201
like "... with the silence" "$(cat "$T/post.json")" \
  '^\{"id":3,"rule":"border-incident","key":"Yeonpyeong","until":"[0-9T:-]+Z","author":"watch desk","reason":"an exercise announced by the navy","created_at":"[0-9T:-]+Z","expired_at":null,"state":"active"\}$'
like "... and its Location" "$(tr -d '\r' <"$T/post.head")" "Location: $HTTP/v1/silences/3"
r=$(printf '%s\n' 'Mar. 5, 2024: Shells land near the border at Yeonpyeong.' | send_unix)
check "an alert of the key silenced over HTTP is silenced" \
  wait_running 60 grep -q 'silenced by silence 3' "$DLOG"
is "... stored with that silence" "$(sq "select silence_id from alerts where key = 'Yeonpyeong'")" 3

like "GET /v1/silences lists the active ones" "$(curl -s "$HTTP/v1/silences")" \
  '^\{"silences":\[\{"id":1,.*\{"id":3,.*\],"next":null\}$'
is "... the expired one left out" "$(curl -s "$HTTP/v1/silences" | grep -c '"id":2')" 0
like "GET /v1/silences?all=1 has it" "$(curl -s "$HTTP/v1/silences?all=1")" '"id":2,.*"state":"expired"'
page=$(curl -s "$HTTP/v1/silences?all=1&limit=2")
like "a page of two has a cursor to the next" "$page" '"next":"2"\}$'
like "... which gives the rest" "$(curl -s "$HTTP/v1/silences?all=1&limit=2&cursor=2")" \
  '^\{"silences":\[\{"id":3,[^]]*\],"next":null\}$'
like "GET /v1/silences/1" "$(curl -s "$HTTP/v1/silences/1")" '^\{"id":1,"rule":"border-incident"'

# Expired: the next alert of that key goes out.
code=$(curl -s -o "$T/del.json" -w '%{http_code}' -X DELETE "$HTTP/v1/silences/1")
is "DELETE /v1/silences/1 answers 200" "$code" 200
like "... with it expired" "$(cat "$T/del.json")" '"expired_at":"[0-9T:-]+Z","state":"expired"\}$'
is "... in the store" "$(sq "select expired_at is not null from silences where id = 1")" 1
code=$(curl -s -o "$T/del2.json" -w '%{http_code}' -X DELETE "$HTTP/v1/silences/1")
is "a second DELETE is no error (200)" "$code" 200
r=$(printf '%s\n' 'Mar. 6, 2024: Soldiers cross the border at Panmunjom again at night.' | send_unix)
check "once expired, the next alert of that key reaches the alerts file" \
  wait_running 60 grep -q 'Panmunjom again' "$JSONL"
is "... not silenced" "$(sq "select silence_id is null from alerts where message like '%Panmunjom again%'")" 1
is "the alert silenced before stays silenced" \
  "$(sq "select silence_id from alerts where message like '%Panmunjom for a few%'")" 1
like "the CLI lists the expired one with --all only" "$("$VIGIL" silence list --db "$DB" --all)" \
  '^1 +expired [0-9T:-]+Z +border-incident'

# Added by the CLI while the daemon runs.
is "silence add while the daemon runs" \
  "$("$VIGIL" silence add --db "$DB" --rule border-incident --for 90m --author kim --reason "every key" 2>&1)" 4
r=$(printf '%s\n' 'Mar. 7, 2024: Loudspeakers resume along the border at Gimpo.' | send_unix)
check "the daemon takes a silence the CLI added, without a restart" \
  wait_running 60 grep -q 'silenced by silence 4' "$DLOG"
is "... for any key" "$(sq "select silence_id from alerts where key = 'Gimpo'")" 4

# ---- refusals ----

post() {
  curl -s -o "$T/err.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    -d "$1" "$HTTP/v1/silences"
}
is "POST without an author: 400" "$(post '{"rule":"r","for":"1h","reason":"x"}')" 400
like "... naming it" "$(cat "$T/err.json")" '^\{"error":"'"'"'author'"'"' is required","status":400\}$'
is "POST without a reason: 400" "$(post '{"rule":"r","for":"1h","author":"x"}')" 400
like "... naming it" "$(cat "$T/err.json")" "reason"
is "POST with an empty rule: 400" "$(post '{"rule":"","for":"1h","author":"x","reason":"y"}')" 400
is "POST that is no JSON: 400" "$(post '{"rule": ')" 400
like "... saying so" "$(cat "$T/err.json")" 'not JSON'
is "POST of an array: 400" "$(post '[1]')" 400
is "POST with a NUL in a field: 400" \
  "$(post '{"rule":"r","for":"1h","author":"x","reason":"a\u0000b"}')" 400
is "POST with a reason over 4096 bytes: 400" \
  "$(post "{\"rule\":\"r\",\"for\":\"1h\",\"author\":\"x\",\"reason\":\"$(head -c 5000 /dev/zero | tr '\0' a)\"}")" 400
is "POST of an object with something after it: 400" \
  "$(post '{"rule":"r","for":"1h","author":"x","reason":"y"} trailing')" 400
is "POST with an unknown member: 400" \
  "$(post '{"rule":"r","for":"1h","author":"x","reason":"y","ends":"z"}')" 400
like "... naming it" "$(cat "$T/err.json")" "unknown member 'ends'"
is "POST until a time past: 422" \
  "$(post '{"rule":"r","until":"2001-01-01T00:00:00Z","author":"x","reason":"y"}')" 422
like "... naming until" "$(cat "$T/err.json")" 'until: .*not in the future'
is "POST with an until that is no time: 400" \
  "$(post '{"rule":"r","until":"tomorrow","author":"x","reason":"y"}')" 400
is "POST with both until and for: 400" \
  "$(post '{"rule":"r","until":"2999-01-01T00:00:00Z","for":"1h","author":"x","reason":"y"}')" 400
is "POST with a bad duration: 400" "$(post '{"rule":"r","for":"2 hours","author":"x","reason":"y"}')" 400
is "nothing refused was written" "$(sq "select count(*) from silences")" 4
is "GET of a silence that does not exist: 404" \
  "$(curl -s -o "$T/err.json" -w '%{http_code}' "$HTTP/v1/silences/99")" 404
is "DELETE of one that does not exist: 404" \
  "$(curl -s -o "$T/err.json" -w '%{http_code}' -X DELETE "$HTTP/v1/silences/99")" 404
like "... naming it" "$(cat "$T/err.json")" 'no silence 99'
is "GET /v1/silences/abc: 400" "$(curl -s -o "$T/err.json" -w '%{http_code}' "$HTTP/v1/silences/abc")" 400
is "GET /v1/silences?limit=0: 400" \
  "$(curl -s -o "$T/err.json" -w '%{http_code}' "$HTTP/v1/silences?limit=0")" 400
like "... naming limit" "$(cat "$T/err.json")" "'limit'"
is "GET /v1/silences?active=1: 400" \
  "$(curl -s -o "$T/err.json" -w '%{http_code}' "$HTTP/v1/silences?active=1")" 400
is "PUT /v1/silences/1: 405" \
  "$(curl -s -o "$T/err.json" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' -d '{}' "$HTTP/v1/silences/1")" 405

# Another process holds the write lock past the busy timeout: 503, to retry.
mkfifo "$T/lock.fifo"
sqlite3 -batch "$DB" <"$T/lock.fifo" >"$T/lock.out" 2>&1 &
bg_started $!
exec 3>"$T/lock.fifo"
echo 'BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS held (x);' >&3
locked() { ! sqlite3 -batch -cmd '.timeout 0' "$DB" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; }
check "another process holds the write lock" wait_for 60 locked
code=$(curl -s -o "$T/busy.json" -D "$T/busy.head" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' \
  -d '{"rule":"border-incident","for":"1h","author":"x","reason":"while locked"}' \
  "$HTTP/v1/silences")
is "POST while the database stays locked: 503" "$code" 503
like "... with Retry-After" "$(tr -d '\r' <"$T/busy.head")" 'Retry-After: 1'
like "... saying the database is busy" "$(cat "$T/busy.json")" 'database is busy: database is locked'
echo 'ROLLBACK;' >&3
exec 3>&-
unlocked() { ! locked; }
check "the lock is let go" wait_for 60 unlocked
is "POST once it is let go: 201" \
  "$(post '{"rule":"border-incident","key":"Dora","for":"1h","author":"x","reason":"after the lock"}')" 201
check "the daemon is still running" daemon_running
# The file sink got every alert not silenced, and none of the silenced.
is "the alerts file holds the alerts not silenced, and only those" \
  "$(sed -n 's/.*"key":"\([A-Za-z]*\)".*/\1/p' "$JSONL" | tr '\n' ' ')" "Cheorwon Panmunjom "
is "... the Panmunjom one the one raised after the expiry" \
  "$(count_matching 'for a few minutes' "$JSONL")" 0

stop_daemon
is "vigil run stopped cleanly" "$DRC" 0

done_testing

#!/bin/sh
# End-to-end: the JetStream source through failures — a daemon started
# before its NATS server, a daemon killed (SIGKILL) again and again in the
# middle of a stream, a NATS server killed and restarted under a running
# daemon. Whatever happens, a message is acknowledged only once stored,
# every message is stored exactly once, and the entries and alerts are those
# of one clean `vigil ingest` of the same lines. VIGIL_LONG=1 kills the
# daemon 100 times instead of 20.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need python3

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

# rows: the messages noted in nats_msgs.
rows() {
  sq 'select count(*) from nats_msgs'
}

# rows_past N: nats_msgs holds more than N rows.
rows_past() {
  [ "$(rows)" -gt "$1" ]
}

# rows_are N: nats_msgs holds N rows.
rows_are() {
  [ "$(rows)" = "$1" ]
}

# publish FROM TO: lines FROM to TO of the generated file, one message each.
publish() {
  sed -n "$1,$2p" "$T/lines.txt" | "$NATSTOOL" "$NATS_URL" pub vigil.entries.0 >>"$T/pub.err" 2>&1
}

# Distinct dated lines, one a day: launches, some followed by an allied drill
# four days later (and some not), among routine bulletins; the last QUIET
# lines are bulletins alone, so that when they come matters to no rule.
N=3000
QUIET=200
python3 - "$N" "$QUIET" >"$T/lines.txt" <<'EOF'
import datetime, sys
n, quiet = int(sys.argv[1]), int(sys.argv[2])
day = datetime.date(2001, 1, 1)
for i in range(1, n + 1):
    d = (day + datetime.timedelta(days=i)).isoformat()
    if i <= n - quiet and i % 46 == 5:
        print(f"{d}: North Korea launches a ballistic missile, salvo number {i}.")
    elif i <= n - quiet and i % 46 == 9:
        print(f"{d}: South Korea and the US hold a live-fire exercise, drill number {i}.")
    elif i <= n - quiet and i % 46 == 28:
        print(f"{d}: North Korea launches a cruise missile, salvo number {i}.")
    else:
        print(f"{d}: Routine bulletin number {i} from the coastal weather office.")
EOF
is "the lines are generated" "$(line_count "$T/lines.txt")" "$N"
"$VIGIL" ingest --db "$T/clean.db" --source nats --rules "$RULES" "$T/lines.txt" >"$T/clean.out" 2>&1
is "a clean vigil ingest stores them" "$(sq "$T/clean.db" 'select count(*) from entries')" "$N"
clean_alerts=$(alerts_of "$T/clean.db")
like "... and the shipped rules raise launch and correlation alerts" \
  "$(printf '%s\n' "$clean_alerts" | cut -d'|' -f1 | sort -u | tr '\n' ' ')" \
  'dprk-launch .*launch-then-exercise .*launch-without-response'

# Alerts go out through the outbox to the JetStream sink on the same server.
cat >"$T/vigil.conf" <<'EOF'
nats_batch = 20
sinks = { bus = { nats = true, default = true } }
EOF
run() {
  start_daemon --config "$T/vigil.conf" --rules "$RULES" --nats "$NATS_URL"
}

# ---- the server is not there when the daemon starts ----

timeout 120 "$VIGIL" run --db "$T/bad.db" --socket '' --http-listen '' --spool '' \
  --rules "$RULES" --nats 'nats://127.0.0.1:notaport' >"$T/bad.log" 2>&1
is "a NATS URL that cannot be read stops the daemon before it starts (a usage error)" "$?" 2
like "... saying why" "$(cat "$T/bad.log")" \
  "nats_url 'nats://127.0.0.1:notaport' is no list of NATS servers"
check_sanitizers "... with no sanitizer report" "$T/bad.log"

NATS_PORT=$(_random_port)
NATS_URL=nats://127.0.0.1:$NATS_PORT
run || exit 1
check "the daemon starts without its NATS server, and says it cannot reach it yet" \
  grep -q "cannot reach $NATS_URL yet" "$DLOG"
stop_daemon
is "... stops cleanly while it waits for it" "$DRC" 0
run || exit 1
start_nats "$NATS_PORT" || exit 1
check "... connects once the server is up" wait_running 120 grep -q 'nats: connected to' "$DLOG"
check "... and makes the stream" wait_running 60 "$NATSTOOL" "$NATS_URL" stream VIGIL_ENTRIES
check "the first lines are published" publish 1 100
check "... and stored" wait_running 120 rows_are 100

# ---- the daemon killed in the middle of the stream ----

# Every fifth time it is stopped (SIGTERM) rather than killed: what it
# fetched and did not store is left for the next run all the same.

kills=20
[ -n "${VIGIL_LONG:-}" ] && kills=100
from=101
to_kill=$((N - QUIET))
chunk=$(((to_kill - from + 1) / kills))
last=$(rows)
ahead=""    # a kill after which the ack floor was past what was committed
unclean=""  # a stop (SIGTERM) after which the daemon did not exit 0
grew=0      # kills after which the count had grown past the one before
i=0
while [ "$i" -lt "$kills" ]; do
  i=$((i + 1))
  to=$((from + chunk - 1))
  [ "$i" -eq "$kills" ] && to=$to_kill
  publish "$from" "$to" || fail "lines $from to $to are published" "$(tail -n 3 "$T/pub.err")"
  from=$((to + 1))
  if [ "$i" -gt 1 ]; then run || break; fi
  wait_running 120 rows_past "$last" && grew=$((grew + 1))
  if [ $((i % 5)) -eq 0 ]; then
    stop_daemon TERM
    [ "$DRC" = 0 ] || unclean="$unclean stop $i: exit status $DRC;"
  else
    stop_daemon KILL
  fi
  floor=$(consumer_field ack_floor)
  committed=$(sq 'select coalesce(max(seq), 0) from nats_msgs')
  [ "${floor:-x}" -le "$committed" ] 2>/dev/null || ahead="$ahead kill $i: ack floor ${floor:-?}, committed $committed;"
  last=$(rows)
done
is "the daemon was killed or stopped $kills times, each after it stored more" "$grew" "$kills"
is "... and after each no message was acknowledged before it was committed" "$ahead" ""
is "... the stops (SIGTERM) each ending cleanly" "$unclean" ""

# ---- the NATS server killed under the daemon ----

run || exit 1
check "the daemon started again takes up where it was killed" wait_running 120 rows_are "$to_kill"
check "lines are published" publish $((to_kill + 1)) $((to_kill + QUIET / 2))
wait_running 120 rows_past "$to_kill"
stop_nats KILL
check "the daemon says the server is gone" wait_running 60 grep -q 'nats: disconnected from' "$DLOG"
check "... and keeps running" daemon_running
start_nats "$NATS_PORT" || exit 1
check "... reconnects once the server is back, the log says" \
  wait_running 120 grep -q 'nats: reconnected to' "$DLOG"
check "more lines are published" publish $((to_kill + QUIET / 2 + 1)) "$N"
check "every message is taken" wait_running 120 rows_are "$N"
check "... and acknowledged" wait_running 120 settled
outbox_empty() { [ "$(sq 'select count(*) from outbox')" = 0 ]; }
check "every alert change is delivered: the outbox is empty" wait_running 120 outbox_empty
stop_daemon
is "the daemon stops cleanly" "$DRC" 0
stop_nats

# ---- what it all came to ----

is "every seq from 1 to $N is in nats_msgs, each once" \
  "$(sq 'select count(*), count(distinct seq), min(seq), max(seq) from nats_msgs')" "$N|$N|1|$N"
is "as many entries as the clean vigil ingest" "$(sq 'select count(*) from entries')" "$N"
is "the same entries" "$(sq "select date || '|' || text from entries order by date")" \
  "$(sq "$T/clean.db" "select date || '|' || text from entries order by date")"
is "the same alerts (rule, key, entries)" "$(alerts_of "$DB")" "$clean_alerts"
# Every change of every alert (the alert log: new, then each amendment) is
# on vigil.alerts.> exactly once, under DBID-ID-VERSION, and nothing else
# is: the kills in the middle of publishing sent some twice, and
# JetStream's duplicate window dropped the second.
start_nats "$NATS_PORT" || exit 1
dbid=$(sq "select value from meta where name = 'db_id'")
is "each alert change is published once, and nothing else" \
  "$("$NATSTOOL" "$NATS_URL" dump VIGIL_ALERTS | python3 -c 'import json, sys
print("\n".join(sorted(json.loads(l)["msg_id"] for l in sys.stdin if l.strip())))')" \
  "$(sq "select '$dbid-' || alert_id || '-' || version from alert_log order by 1")"
like "... and there are some" "$(sq 'select count(*) from alert_log')" '^[1-9]'
stop_nats
redelivered=$(cat "$T"/daemon.*.log | grep -c 'recognised as stored before')
diag "runs that recognised messages delivered again: $redelivered"

done_testing

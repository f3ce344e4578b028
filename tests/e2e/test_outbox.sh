#!/bin/sh
# End-to-end: alerts go to their sinks through the outbox, so that no
# delivery is lost to a failing sink, a crash, a server that is down or a
# one-shot command that exits. Two sinks take every alert: a command that
# fails while a flag file exists (else appends the alert's line to a file),
# and a JetStream stream on a real nats-server.
#
# What is asserted: every alert change (id and version, as `vigil alerts`
# lists them) reaches the command at least once, and the JetStream stream
# holds exactly one message per alert change (counted by Nats-Msg-Id,
# which is DBID-ID-VERSION), after each of: the command failing and the
# daemon killed (SIGKILL) and started again; the JetStream server down
# while alerts are raised, then back; a delivery published whose row was
# not deleted (the state a crash between the publish and the delete
# leaves, made by hand, and a daemon killed while it publishes); a
# one-shot `vigil ingest` whose command sink fails, leaving its rows to
# the next daemon; a one-shot beside the running daemon (each delivers its
# own rows: the command gets those alerts once, not once per process); a
# one-shot killed while it delivers, whose rows the daemon takes over once
# their lease has run out. Each time, the outbox empties. Also the JetStream
# sink's subjects (a rule's name made a subject token) and settings.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need python3
SPOOL=
start_nats || done_testing

mkdir "$T/rules"
cat >"$T/rules/every.lua" <<'EOF2'
rule "every-entry" {
  description = "an alert for each entry, to be delivered",
  alert = function(e) return "seen: " .. e.text end,
}
EOF2
cat >"$T/vigil.conf" <<EOF2
alerts_file = ""
sinks = {
  cmd = { command = { "/bin/sh", "-c", '[ -e "\$0" ] && exit 1; cat >>"\$1"', "$T/fail",
                      "$T/delivered" },
          retries = 0, timeout_ms = 30000, default = true },
  js = { nats = "$NATS_URL", default = true },
}
EOF2
: >"$T/delivered"

# lines N FROM: N chronology lines, numbered from FROM, each a new entry.
lines() {
  awk -v n="$1" -v from="$2" 'BEGIN { for (i = from; i < from + n; i++)
    printf "2023-0%d-%02d: outbox entry number %d\n", i % 9 + 1, i % 28 + 1, i }'
}
outbox_rows() { sq "select count(*) from outbox${1:+ where $1}"; }
outbox_empty() { [ "$(outbox_rows)" = 0 ]; }
# The alert changes the database has, as DBID-ID-VERSION, sorted.
expected_ids() {
  "$VIGIL" alerts --db "$DB" --json --limit 100000 2>>"$T/alerts.err" |
    python3 -c 'import sys, json
db = sys.argv[1]
print("\n".join(sorted("%s-%d-%d" % (db, a["id"], a["version"]) for a in map(json.loads, sys.stdin))))' \
      "$(sq "select value from meta where name = 'db_id'")"
}
# The stream's messages' ids, sorted, one line each (duplicates kept).
stream_ids() {
  "$NATSTOOL" "$NATS_URL" dump VIGIL_ALERTS 2>>"$T/natstool.err" |
    python3 -c 'import sys, json
print("\n".join(sorted(json.loads(l)["msg_id"] for l in sys.stdin if l.strip())))'
}
stream_count() { stream_ids | grep -c . || true; }
# Alert ids and versions the command got, as DBID-ID-VERSION, each once.
delivered_ids() {
  python3 -c 'import sys, json
db = sys.argv[1]
print("\n".join(sorted({"%s-%d-%d" % (db, a["id"], a["version"]) for a in map(json.loads, open(sys.argv[2])) })))' \
    "$(sq "select value from meta where name = 'db_id'")" "$T/delivered"
}
stream_has() { [ "$(stream_count)" -ge "$1" ]; }
all_failed_once() { [ "$(outbox_rows "sink = 'cmd' and attempts >= 1")" = "$1" ]; }

# ---- the command fails; the daemon is killed; started again ----
touch "$T/fail"
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
lines 20 1 | send_unix >"$T/replies1"
is "20 lines stored" "$(count_matching '^ok [0-9]+$' "$T/replies1")" 20
is "20 alerts raised" "$(sq 'select count(*) from alerts')" 20
check "JetStream gets the 20 alerts while the command fails" wait_running 60 stream_has 20
check "the command's deliveries wait in the outbox, each tried and failed" \
  wait_running 60 all_failed_once 20
like "... with the command's failure kept" "$(sq "select error from outbox where sink = 'cmd' limit 1")" \
  "command exit status 1"
like "the vigil_outbox_pending gauge counts them" \
  "$(curl -s "$HTTP/metrics" | grep '^vigil_outbox_pending ')" "^vigil_outbox_pending 20$"
is "nothing reached the command" "$(line_count "$T/delivered")" 0
stop_daemon KILL
rm "$T/fail"
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
check "started again, the daemon delivers what waited: the outbox empties" \
  wait_running 90 outbox_empty
is "the command got every alert change" "$(delivered_ids)" "$(expected_ids)"
is "... each once, here (no crash came between a delivery and its row's delete)" \
  "$(line_count "$T/delivered")" 20
is "the stream holds every alert change exactly once" "$(stream_ids)" "$(expected_ids)"
is "... each on the subject of its rule" \
  "$("$NATSTOOL" "$NATS_URL" dump VIGIL_ALERTS | python3 -c 'import sys, json
print(" ".join(sorted({json.loads(l)["subject"] for l in sys.stdin if l.strip()})))')" \
  "vigil.alerts.every-entry"

# ---- the JetStream server is down while alerts are raised ----
stop_nats
lines 10 100 | send_unix >"$T/replies2"
is "10 more lines stored while the server is down" "$(count_matching '^ok [0-9]+$' "$T/replies2")" 10
check "the JetStream sink says its deliveries wait" \
  wait_running 60 grep -q "sink 'js': alert [0-9]* (version [0-9]*) not published yet" "$DLOG"
js_waiting() { [ "$(outbox_rows "sink = 'js' and attempts >= 1")" -ge 1 ]; }
check "... and they wait in the outbox with failed attempts" wait_running 60 js_waiting
stop_daemon TERM
is "stopped with deliveries waiting: exit status 0" "$DRC" 0
like "... the log says what is left, for the next start" "$(cat "$DLOG")" \
  "outbox: [0-9]+ alert deliveries are left in the outbox, delivered at the next start"
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
delivered_has() { [ "$(line_count "$T/delivered")" -ge "$1" ]; }
check "the command takes its 10 all the same" wait_running 60 delivered_has 30
is "... once each" "$(line_count "$T/delivered")" 30
start_nats "$NATS_PORT" || done_testing
check "the server back, everything is delivered: the outbox empties" wait_running 120 outbox_empty
gauge_zero() { curl -s "$HTTP/metrics" | grep -qx 'vigil_outbox_pending 0'; }
check "... and vigil_outbox_pending says 0" wait_running 60 gauge_zero
is "the stream holds every alert change exactly once" "$(stream_ids)" "$(expected_ids)"

# ---- published, but the row not deleted: what a crash in between leaves ----
sq "insert into outbox (sink, alert_id, version, rule, payload, due, created)
    select sink, alert_id, version, rule, payload, 0, created from (
      select 'js' as sink, id as alert_id, version, rule,
             '{\"id\":' || id || '}' as payload, '2023-01-01T00:00:00Z' as created
      from alerts order by id limit 5)" >/dev/null
is "five deliveries published already are back in the outbox" "$(outbox_rows)" 5
stop_daemon KILL
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
check "started again, the daemon publishes them again: the outbox empties" \
  wait_running 90 outbox_empty
is "JetStream dropped the second publishes: each alert change once" "$(stream_ids)" "$(expected_ids)"

# The daemon killed while it publishes, several times.
n=200
for round in 1 2 3; do
  before_count=$(stream_count)
  lines 20 "$n" | send_unix >/dev/null
  n=$((n + 20))
  wait_running 60 stream_has $((before_count + 1))
  stop_daemon KILL
  start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
done
check "killed while publishing, three times: the outbox empties in the end" \
  wait_running 120 outbox_empty
is "... the stream holds every alert change exactly once" "$(stream_ids)" "$(expected_ids)"
is "... and the command got every one" "$(delivered_ids)" "$(expected_ids)"
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

# ---- a one-shot command whose command sink fails ----
touch "$T/fail"
lines 7 500 >"$T/late.txt"
"$VIGIL" ingest --db "$DB" --rules "$T/rules" --config "$T/vigil.conf" "$T/late.txt" \
  >"$T/ingest.out" 2>"$T/ingest.err"
is "vigil ingest with a failing command sink exits 0" "$?" 0
like "... and says what it leaves in the outbox" "$(cat "$T/ingest.err")" \
  "7 alert deliveries are left in the outbox"
is "... its 7 command deliveries, given to the daemon (no owner)" \
  "$(outbox_rows "sink = 'cmd' and owner is null and attempts = 1")" 7
is "... and none for JetStream, which it delivered itself" "$(outbox_rows "sink = 'js'")" 0
is "the stream holds every alert change exactly once" "$(stream_ids)" "$(expected_ids)"
rm "$T/fail"
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
check "the next daemon delivers what the one-shot left: the outbox empties" \
  wait_running 90 outbox_empty
is "the command got every alert change" "$(delivered_ids)" "$(expected_ids)"

# ---- a one-shot command beside the daemon: each delivers its own rows ----
before_id=$(sq 'select max(id) from alerts')
lines 10 600 >"$T/beside.txt"
"$VIGIL" ingest --db "$DB" --rules "$T/rules" --config "$T/vigil.conf" "$T/beside.txt" \
  >"$T/beside.out" 2>"$T/beside.err"
is "vigil ingest beside the daemon exits 0" "$?" 0
check "... the outbox empties" wait_running 90 outbox_empty
is "... its 10 alerts reached the command once each, not once per process" \
  "$(grep -c "\"id\":\($(seq -s '\|' $((before_id + 1)) $((before_id + 10)))\)," "$T/delivered")" 10
is "... and the stream still holds every alert change exactly once" "$(stream_ids)" "$(expected_ids)"
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0
check_sanitizers "no sanitizer report from the one-shot command beside the daemon" "$T/beside.err"

# ---- a one-shot command killed while it delivers ----
cat >"$T/hang.conf" <<EOF2
alerts_file = ""
sinks = {
  cmd = { command = { "/bin/sh", "-c", 'echo \$\$ >"\$0"; exec sleep 300', "$T/hang.pid" },
          retries = 0, timeout_ms = 600000, default = true },
  js = { nats = "$NATS_URL", default = true },
}
EOF2
lines 3 800 >"$T/killed.txt"
"$VIGIL" ingest --db "$DB" --rules "$T/rules" --config "$T/hang.conf" "$T/killed.txt" \
  >/dev/null 2>"$T/killed.err" &
ipid=$!
check "a one-shot's command runs" wait_for 60 test -s "$T/hang.pid"
kill -KILL "$ipid"
wait "$ipid" 2>/dev/null
kill -KILL "$(cat "$T/hang.pid")" 2>/dev/null
is "killed, it leaves its 3 command rows under its own name and lease" \
  "$(outbox_rows "sink = 'cmd' and owner is not null and lease > 0")" 3
sq "update outbox set lease = 1" >/dev/null # as when its lease of 5 minutes has run out
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing
check "the daemon takes its rows over" \
  wait_running 60 grep -Eq "outbox: [3-6] deliveries of a command that ended without them are the daemon's now" "$DLOG"
check "... and delivers them: the outbox empties" wait_running 90 outbox_empty
is "the command got every alert change" "$(delivered_ids)" "$(expected_ids)"
is "... and the stream holds every one exactly once" "$(stream_ids)" "$(expected_ids)"
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

# A rule whose name holds what NATS gives a meaning to: made '_' in the subject.
mkdir "$T/odd"
cat >"$T/odd/odd.lua" <<'EOF2'
rule "odd.name *>x" {
  description = "a name NATS could not take as a subject token",
  alert = function(e) return "odd: " .. e.text end,
}
EOF2
lines 1 700 | "$VIGIL" ingest --db "$DB" --rules "$T/odd" --config "$T/vigil.conf" - \
  >/dev/null 2>"$T/odd.err"
is "vigil ingest with the odd rule exits 0" "$?" 0
is "... its alert is on the subject with '.', ' ', '*' and '>' made '_'" \
  "$("$NATSTOOL" "$NATS_URL" dump VIGIL_ALERTS | grep -c '"subject":"vigil.alerts.odd_name___x"')" 1
is "... and the stream holds every alert change exactly once" "$(stream_ids)" "$(expected_ids)"
is "... and the outbox is empty: the one-shot delivered its own rows" "$(outbox_rows)" 0

# The configuration: what a JetStream sink may be.
printf 'sinks = { js = { nats = 5 } }\n' >"$T/c1.conf"
printf 'sinks = { js = { nats = true, subject = "vigil.>" } }\n' >"$T/c2.conf"
printf 'sinks = { js = { nats = true, file = "x" } }\n' >"$T/c3.conf"
printf 'sinks = { js = { nats = true, stream = "A.B" } }\n' >"$T/c4.conf"
like "nats must be true or a URL" "$("$VIGIL" config --check "$T/c1.conf" 2>&1)" \
  "sink 'js': 'nats' must be true or a URL"
like "a subject prefix without wildcards" "$("$VIGIL" config --check "$T/c2.conf" 2>&1)" \
  "sink 'js': 'subject' must be a NATS subject prefix"
like "one kind a sink" "$("$VIGIL" config --check "$T/c3.conf" 2>&1)" \
  "sink 'js': give one of 'file', 'command' or 'nats'"
like "a stream name without dots" "$("$VIGIL" config --check "$T/c4.conf" 2>&1)" \
  "sink 'js': 'stream' must be a JetStream stream name"
like "config --show shows the JetStream sink's defaults" \
  "$("$VIGIL" config --show --config "$T/vigil.conf" | grep '^sinks')" \
  '"js":\{"nats":"nats://127.0.0.1:[0-9]+","subject":"vigil.alerts","stream":"VIGIL_ALERTS"'

# A JetStream sink of the nats_url setting needs that setting.
cat >"$T/bad.conf" <<EOF2
sinks = { js = { nats = true } }
EOF2
"$VIGIL" ingest --db "$DB" --rules "$T/rules" --config "$T/bad.conf" "$T/beside.txt" \
  >/dev/null 2>"$T/bad.err"
is "nats = true without nats_url: refused" "$?" 3
like "... saying why" "$(cat "$T/bad.err")" "sink 'js': nats = true needs the nats_url setting"
check_sanitizers "no sanitizer report from the one-shot command" "$T/ingest.err"

# A one-shot command whose JetStream server is frozen (SIGSTOP: it takes
# connections and answers nothing) waits for it once, not once an alert:
# the deliveries behind the first fail at once and stay in the outbox.
printf 'alerts_file = ""\nsinks = { js = { nats = "%s", default = true } }\n' "$NATS_URL" \
  >"$T/frozen.conf"
lines 150 9000 >"$T/frozen.txt"
kill -STOP "$NATS_PID"
timeout 240 "$VIGIL" ingest --db "$T/frozen.db" --rules "$T/rules" --config "$T/frozen.conf" \
  "$T/frozen.txt" >/dev/null 2>"$T/frozen.err"
frc=$?
kill -CONT "$NATS_PID"
is "with the server frozen, the one-shot ends by itself (150 alerts, not 150 waits)" "$frc" 0
is "... its 150 deliveries stay in the outbox for the daemon" \
  "$(sq "$T/frozen.db" "select count(*) from outbox where sink = 'js'")" 150
like "... and it says so" "$(cat "$T/frozen.err")" "150 alert deliveries are left in the outbox"
check_sanitizers "no sanitizer report from it" "$T/frozen.err"
stop_nats

done_testing

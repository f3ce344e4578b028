#!/bin/sh
# End-to-end: a command sink slower than the alerts that come holds at most
# queue_max of them in memory; the others wait in the outbox, none is
# dropped. Its command waits until the test lets it go, so that none is
# delivered while 500 alerts are raised: the log says once that the queue is
# full, never one line per alert, and the outbox holds a row for each of the
# 500. Once let go the command delivers every one of them, each once, the
# outbox empties, and new alerts are delivered too.
# A command that hangs holds up its own sink only: another sink's deliveries
# go through beside it; stopping the daemon while commands run ends cleanly,
# kills what the commands started too, and what they did not deliver stays
# in the outbox for the next start.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

SPOOL=
mkdir "$T/rules"
cat >"$T/rules/every.lua" <<'EOF'
rule "every-entry" {
  description = "an alert for each entry, for the sink to hold",
  alert = function(e) return "seen: " .. e.text end,
}
EOF
cat >"$T/vigil.conf" <<EOF
alerts_file = ""
sinks = {
  slow = { command = { "/bin/sh", "-c",
                       'while [ ! -e "\$0" ]; do sleep 0.1; done; cat >>"\$1"',
                       "$T/release", "$T/delivered" },
           timeout_ms = 600000, retries = 0, queue_max = 50, default = true },
}
EOF
start_daemon --rules "$T/rules" --config "$T/vigil.conf" || done_testing

awk 'BEGIN { for (i = 1; i <= 500; i++) printf "2023-05-%02d: entry %d for the slow sink\n", i % 28 + 1, i }' \
  >"$T/lines"
send_unix <"$T/lines" >"$T/replies"
is "500 lines, 500 replies 'ok'" "$(count_matching '^ok [0-9]+$' "$T/replies")" 500
is "the database has 500 alerts" "$(sq 'select count(*) from alerts')" 500
check "the log says once that the sink's queue is full" \
  wait_running 20 grep -q "sink 'slow': 50 alerts wait for it (queue_max): the next ones wait in the outbox" "$DLOG"
is "... once" "$(grep -c "sink 'slow': .* wait for it (queue_max)" "$DLOG")" 1
is "... and nothing per alert" "$(grep -c "sink 'slow': alert [0-9]* " "$DLOG")" 0
is "the outbox holds a delivery for each of the 500 alerts" \
  "$(sq "select count(distinct alert_id) from outbox where sink = 'slow'")" 500
is "... and nothing was delivered yet" "$(cat "$T/delivered" 2>/dev/null | wc -l | tr -d ' ')" 0

touch "$T/release"
check "let go, the command delivers all 500 alerts" \
  wait_running 120 sh -c "[ \"\$(wc -l <'$T/delivered' 2>/dev/null)\" -ge 500 ]"
is "... each once" "$(sed 's/.*"id":\([0-9]*\),.*/\1/' "$T/delivered" | sort -n | uniq | tr '\n' ' ')" \
  "$(seq 1 500 | tr '\n' ' ')"
is "... 500 lines for 500 alerts" "$(line_count "$T/delivered")" 500
outbox_empty() { [ "$(sq 'select count(*) from outbox')" = 0 ]; }
check "the outbox empties" wait_running 60 outbox_empty

printf '2023-06-01: after the drain, line %d\n' 1 2 3 | send_unix >"$T/after"
is "after the drain new alerts are taken" "$(count_matching '^ok ' "$T/after")" 3
check "... and delivered" wait_running 60 sh -c "[ \"\$(wc -l <'$T/delivered')\" -eq 503 ]"
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

# ---- one hanging sink, one quick one ----
cat >"$T/two.conf" <<EOF
alerts_file = ""
sinks = {
  hang = { command = { "/bin/sh", "-c", 'echo started >>"\$0"; sleep 600 & echo \$! >>"\$1"; wait',
                       "$T/hang-started", "$T/hang-children" },
           timeout_ms = 600000, retries = 0, default = true },
  quick = { command = { "/bin/sh", "-c", 'cat >>"\$0"', "$T/quick" }, default = true },
}
EOF
DB=$T/two.db
start_daemon --rules "$T/rules" --config "$T/two.conf" || done_testing
awk 'BEGIN { for (i = 1; i <= 40; i++) printf "2023-07-%02d: line %d for two sinks\n", i % 28 + 1, i }' |
  send_unix >"$T/two-replies"
is "40 lines taken" "$(count_matching '^ok [0-9]+$' "$T/two-replies")" 40
check "with 'hang' stuck, 'quick' still delivers all 40 alerts" \
  wait_running 120 sh -c "[ \"\$(wc -l <'$T/quick' 2>/dev/null)\" -ge 40 ]"
check "... while 'hang' has commands running" \
  wait_running 60 sh -c "[ \"\$(wc -l <'$T/hang-started' 2>/dev/null)\" -ge 1 ]"
is "... and 'hang' delivered none" "$(sq "$T/two.db" "select count(*) from outbox where sink = 'hang'")" 40
stop_daemon TERM
is "stopped with commands running: exit status 0" "$DRC" 0
alive=
# A killed child whose parent is gone may wait as a zombie for init to reap it: not alive.
for p in $(cat "$T/hang-children"); do
  st=$(ps -o stat= -p "$p" 2>/dev/null)
  [ -n "$st" ] && [ "${st#Z}" = "$st" ] && alive="$alive $p"
done
is "... and nothing the commands started outlives them (their process group is killed)" "$alive" ""
for p in $alive; do kill "$p"; done
is "... what they had not delivered stays in the outbox" \
  "$(sq "$T/two.db" "select count(*) from outbox where sink = 'hang'")" 40
is "... and nothing for 'quick'" "$(sq "$T/two.db" "select count(*) from outbox where sink = 'quick'")" 0

done_testing

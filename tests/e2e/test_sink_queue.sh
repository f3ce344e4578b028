#!/bin/sh
# End-to-end: a command sink slower than the alerts that come holds at most
# queue_max of them. Its command waits until the test lets it go, so that
# none is delivered while 500 alerts are raised: the first queue_max (50) are
# held, the 450 others are dropped, said in one log line when the queue
# fills and one with their count and ids once it has drained, never one
# line per alert. The database keeps all 500; once let go the command
# delivers the 50 it held, and new alerts are taken again.
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
  wait_running 20 grep -q "sink 'slow': 50 alerts wait for it (queue_max): new alerts are not delivered" "$DLOG"
is "... once" "$(grep -c "sink 'slow': .* wait for it (queue_max)" "$DLOG")" 1
is "... and nothing per alert" "$(grep -c "sink 'slow': alert [0-9]* not delivered" "$DLOG")" 0

touch "$T/release"
check "let go, the command delivers the 50 alerts it held" \
  wait_running 120 sh -c "[ \"\$(wc -l <'$T/delivered' 2>/dev/null)\" -ge 50 ]"
is "... exactly those" "$(line_count "$T/delivered")" 50
is "... the first 50 ids" "$(sed 's/.*"id":\([0-9]*\),.*/\1/' "$T/delivered" | sort -n | tr '\n' ' ')" \
  "$(seq 1 50 | tr '\n' ' ')"
drained="sink 'slow': 450 alerts were not delivered while its queue was full"
drained="$drained (ids 51 to 500; vigil alerts lists them); it takes alerts again"
check "once drained, the log says how many were dropped, and which" \
  wait_running 20 grep -qF "$drained" "$DLOG"

printf '2023-06-01: after the drain, line %d\n' 1 2 3 | send_unix >"$T/after"
is "after the drain new alerts are taken again" "$(count_matching '^ok ' "$T/after")" 3
check "... and delivered" wait_running 60 sh -c "[ \"\$(wc -l <'$T/delivered')\" -eq 53 ]"
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

done_testing

#!/bin/sh
# End-to-end: scaling out. Two daemons each consume one partition of the
# stream of entries (nats_partition = 0 and 1 of nats_partitions = 2, keyed
# by region), each into its own database; `vigil publish --partition-by
# region --partitions 2` feeds them. The alerts of the rules that group by
# region, taken from both databases together, are those one `vigil ingest`
# of the same file raises; the rules that do not group by region are warned
# of, by the daemons and by `vigil check`.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
need python3

[ -x "$NATSTOOL" ] || {
  echo "Bail out! $NATSTOOL is not built (make build/asan/natstool)"
  exit 1
}

REGIONS=$FIXTURES/regions.jsonl
n=$(line_count "$REGIONS")

# The rules: two that group by the field the partitions are keyed by, and
# three that do not (a function, none, another field).
mkdir -p "$T/rules"
cat >"$T/rules/regions.lua" <<'EOF'
sequence "drill-then-launch" {
  steps = {
    function(e) return e:match("(?i)drill|exercises|rehearse") end,
    function(e) return e:match("(?i)missile|drone") end,
  },
  within = days(10), by = "region",
}
threshold "incursions" {
  match = function(e) return e:match("(?i)crossing|entered|unannounced") end,
  count = 3, within = days(14), by = "region",
}
EOF
cat >"$T/rules/unchecked.lua" <<'EOF'
first "first-of-source" {
  by = function(e) return e.source end,
}
threshold "launches" {
  match = function(e) return e:match("(?i)missile") end, count = 4, within = days(7),
}
sequence "shipping-then-protest" {
  steps = {
    function(e) return e:match("(?i)tanker|container") end,
    function(e) return e:match("(?i)protest") end,
  },
  within = days(5), by = "source",
}
EOF

# alerts_of DB: the alerts of the rules grouped by region, as
# rule|key|date|the texts of its entries, sorted.
alerts_of() {
  sq "$1" "select a.rule || '|' || a.key || '|' || a.date || '|' || (select group_concat(text, ' + ')
             from (select e.text from alert_entries ae join entries e on e.id = ae.entry_id
                   where ae.alert_id = a.id order by e.text))
           from alerts a where a.rule in ('drill-then-launch', 'incursions')" | sort
}

# consumed DURABLE: the daemon's consumer has nothing left to deliver nor
# waiting for an ack.
consumed() {
  _c=$("$NATSTOOL" "$NATS_URL" consumer VIGIL_ENTRIES "$1" 2>&1)
  case $_c in
  *'"num_pending":0,"num_ack_pending":0'*) return 0 ;;
  esac
  return 1
}

# rows_in_both N: the two databases noted N messages between them.
rows_in_both() {
  [ "$(($(sq "$T/p0.db" 'select count(*) from nats_msgs') +
    $(sq "$T/p1.db" 'select count(*) from nats_msgs')))" = "$1" ]
}

# stop_one PID LOG: stops one of the daemons (TERM), waits for it, and
# checks its log holds no sanitizer report.
stop_one() {
  kill -TERM "$1" 2>/dev/null
  if ! wait_for 120 sh -c "! kill -0 $1 2>/dev/null"; then
    kill -KILL "$1" 2>/dev/null
    fail "the daemon $1 stops on SIGTERM"
  fi
  check_sanitizers "no sanitizer report in $(basename "$2")" "$2"
}

start_nats || exit 1

# ---- vigil check warns of the rules that do not follow the partitions ----

for p in 0 1; do
  cat >"$T/p$p.conf" <<EOF
nats = { url = "$NATS_URL", partition = $p, partitions = 2, partition_by = "region",
         durable = "vigil-$p" }
rules = "$T/rules"
EOF
done
"$VIGIL" check --config "$T/p0.conf" >"$T/check.out" 2>"$T/check.err"
is "vigil check with a partition configured: exit status 0 (warnings are no errors)" "$?" 0
like "... it warns of a rule whose by is a function" "$(cat "$T/check.err")" \
  "unchecked.lua:1: warning: partition 0: rule 'first-of-source' groups by a function"
like "... of a rule without by" "$(cat "$T/check.err")" \
  "unchecked.lua:4: warning: partition 0: rule 'launches' has no 'by'"
like "... of a rule grouped by another field" "$(cat "$T/check.err")" \
  "unchecked.lua:7: warning: partition 0: rule 'shipping-then-protest' groups by \"source\", not by \"region\""
is "... and of no other" "$(grep -c warning "$T/check.err")" 3
"$VIGIL" check --rules "$T/rules" >/dev/null 2>"$T/nopart.err"
is "without a partition configured: no warning" "$(grep -c warning "$T/nopart.err")" 0
"$VIGIL" check --config "$T/p0.conf" --json >"$T/check.json" 2>/dev/null
like "... with --json, each warning is an object" "$(grep '"launches"' "$T/check.json")" \
  '^\{"type":"warning","file":".*unchecked.lua","line":4,"rule":"launches","message":"has no'

# ---- two daemons, one partition each ----

DB=$T/p0.db SOCK=$T/p0.sock SPOOL=
start_daemon --config "$T/p0.conf" || exit 1
PID0=$DPID LOG0=$DLOG
DB=$T/p1.db SOCK=$T/p1.sock
start_daemon --config "$T/p1.conf" || exit 1
PID1=$DPID LOG1=$DLOG

out=$("$VIGIL" publish --nats "$NATS_URL" --partition-by region --partitions 2 "$REGIONS")
is "the fixture is published by region into two partitions" "$out" \
  "$n published, 0 duplicates, 0 rejected"
check "both daemons noted every message between them" wait_for 120 rows_in_both "$n"
check "... partition 0 has nothing left to deliver" wait_for 120 consumed vigil-0
check "... nor partition 1" wait_for 120 consumed vigil-1
isnt "partition 0 stored entries" "$(sq "$T/p0.db" 'select count(*) from entries')" 0
isnt "... and so did partition 1" "$(sq "$T/p1.db" 'select count(*) from entries')" 0
is "each took only its own subject" \
  "$(sq "$T/p0.db" "select count(*) from nats_msgs")|$(sq "$T/p1.db" "select count(*) from nats_msgs")" \
  "$("$NATSTOOL" "$NATS_URL" dump VIGIL_ENTRIES | grep -c '"subject":"vigil.entries.0"')|$("$NATSTOOL" "$NATS_URL" dump VIGIL_ENTRIES | grep -c '"subject":"vigil.entries.1"')"
regions0=$(sq "$T/p0.db" "select distinct json_extract(fields, '$.region') from entries where fields is not null" | sort)
regions1=$(sq "$T/p1.db" "select distinct json_extract(fields, '$.region') from entries where fields is not null" | sort)
is "no region is in both databases" \
  "$(printf '%s\n%s\n' "$regions0" "$regions1" | sed '/^$/d' | sort | uniq -d)" ""

"$VIGIL" ingest --db "$T/one.db" --rules "$T/rules" "$REGIONS" >"$T/one.out" 2>&1
is "one vigil ingest of the same file" "$?" 0
expected=$(alerts_of "$T/one.db")
isnt "... raises alerts of the rules grouped by region" "$expected" ""
is "the two databases' alerts together are those of the one (rule, key, date, entries)" \
  "$( (alerts_of "$T/p0.db"; alerts_of "$T/p1.db") | sort)" "$expected"

# launches_of DB: the alerts of the threshold without `by`, as date|count.
launches_of() {
  sq "$1" "select date || '|' || count from alerts where rule = 'launches'" | sort
}
isnt "the threshold without by raises other alerts when partitioned (why it is warned of)" \
  "$( (launches_of "$T/p0.db"; launches_of "$T/p1.db") | sort)" "$(launches_of "$T/one.db")"

for log in "$LOG0" "$LOG1"; do
  p=${log##*daemon.}
  like "daemon $p warns at start of the rule whose by is a function" "$(cat "$log")" \
    "warn +nats: partition [01]: rule 'first-of-source' \(.*unchecked.lua:1\) groups by a function"
  like "... of the rule without by" "$(cat "$log")" \
    "warn +nats: partition [01]: rule 'launches' \(.*unchecked.lua:4\) has no 'by'"
  like "... of the rule grouped by source" "$(cat "$log")" \
    "warn +nats: partition [01]: rule 'shipping-then-protest' .* groups by \"source\""
  is "... and of none grouped by region" "$(grep -c "nats: partition .*regions.lua" "$log")" 0
done

stop_one "$PID0" "$LOG0"
stop_one "$PID1" "$LOG1"
done_testing

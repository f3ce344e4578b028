#!/bin/sh
# End-to-end: GET /metrics, GET /v1/rules and POST /v1/rules/reload on a
# running daemon. Before any entry the series known at the start are there
# at zero (each reject class, each rule with each severity, each sink and
# feed with each result, the histograms with their buckets); after lines
# good, bad and duplicate the counters say exactly what became of them,
# and `promtool check metrics` passes on each scrape. /v1/rules shows the
# rules' counters moving; a reload with a broken rule file is answered 422
# naming file:line while the rules before stay in force, and once it is
# fixed 200; the HTTP checks on writes apply to the reload.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

for tool in curl promtool python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Bail out! $tool is needed (make test-deps installs it)"
    exit 1
  fi
done

RULES=$T/rules
mkdir -p "$RULES"
cat >"$RULES/watch.lua" <<'LUA'
rule "launch" {
  when = function(e) return e.text:find("missile") ~= nil end,
  tags = {"launch"},
  alert = function(e) return {message = "a launch", severity = "crit"} end,
}
rule "talks" {
  when = function(e) return e.text:find("talks") ~= nil end,
  tags = {"talks", "diplomacy"},
  alert = "talks held",
  severity = "info",
}
rule "fragile" {
  when = function(e)
    if e.text:find("Panmunjom") then error("cannot read this one") end
    return false
  end,
  tags = {"never"},
}
LUA

# scrape NAME: GET /metrics into $T/NAME.prom (headers in $T/NAME.head).
scrape() {
  timeout 60 curl -s -D "$T/$1.head" -o "$T/$1.prom" "$HTTP/metrics"
}

# sample NAME SERIES: the value of the series (its name and labels, exactly
# as rendered) in scrape NAME, or nothing when absent.
sample() {
  S=$2 awk 'BEGIN { s = ENVIRON["S"] } substr($0, 1, length(s) + 1) == s " " { print substr($0, length(s) + 2) }' \
    "$T/$1.prom"
}

# promtool_ok NAME: promtool check metrics passes on scrape NAME.
promtool_ok() {
  if promtool check metrics <"$T/$1.prom" >"$T/$1.promtool" 2>&1; then
    ok "promtool check metrics passes on the $1 scrape"
  else
    fail "promtool check metrics passes on the $1 scrape" "$(head -n 5 "$T/$1.promtool")"
  fi
}

# rule_field RULE FIELD: a field of RULE in $T/rules.json (GET /v1/rules).
rule_field() {
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["rules"]:
    if r["name"] == sys.argv[2]:
        v = r[sys.argv[3]]
        print(json.dumps(v) if isinstance(v, bool) else v)
' "$T/rules.json" "$1" "$2"
}

# post_reload NAME [CURL ARG...]: POST /v1/rules/reload; the body in
# $T/NAME.json, the status in $status.
post_reload() {
  _n=$1
  shift
  status=$(timeout 120 curl -s -o "$T/$_n.json" -w '%{http_code}' -X POST "$@" \
    "$HTTP/v1/rules/reload")
}

start_daemon --rules "$RULES" --feed "http://127.0.0.1:9/feed.xml" || {
  done_testing
  exit 1
}

# ---- before any entry ----

scrape start
like "the content type is the text format 0.0.4" "$(cat "$T/start.head")" \
  'Content-Type: text/plain; version=0\.0\.4; charset=utf-8'
for reason in no_date bad_date bad_json too_long empty encoding other; do
  is "rejected{reason=$reason} is there at zero from the start" \
    "$(sample start "vigil_entries_rejected_total{reason=\"$reason\"}")" 0
done
is "duplicates at zero" "$(sample start vigil_entries_duplicate_total)" 0
for rule in launch talks fragile; do
  for sev in info warn crit; do
    is "alerts{rule=$rule,severity=$sev} at zero" \
      "$(sample start "vigil_alerts_total{rule=\"$rule\",severity=\"$sev\"}")" 0
  done
  is "rule_errors{rule=$rule} at zero" "$(sample start "vigil_rule_errors_total{rule=\"$rule\"}")" 0
  is "alerts_silenced{rule=$rule} at zero" \
    "$(sample start "vigil_alerts_silenced_total{rule=\"$rule\"}")" 0
done
is "vigil_outbox_pending is there" "$(grep -c '^vigil_outbox_pending ' "$T/start.prom")" 1
for result in ok failed; do
  is "sink log, result $result, at zero" \
    "$(sample start "vigil_sink_deliveries_total{sink=\"log\",result=\"$result\"}")" 0
done
check "the feed's series are there from the start" \
  grep -q '^vigil_feed_polls_total{feed="http://127.0.0.1:9/feed.xml",result="not_modified"} ' \
  "$T/start.prom"
is "no entry ingested yet: the family has no series" \
  "$(grep -c '^vigil_entries_ingested_total' "$T/start.prom")" 0
check "HELP and TYPE of the ingested counter" grep -q \
  '^# TYPE vigil_entries_ingested_total counter$' "$T/start.prom"
is "pending lines at zero" "$(sample start vigil_pending_lines)" 0
is "build_info names the version" \
  "$(sample start "vigil_build_info{version=\"$("$VIGIL" --version | awk '{print $NF}')\"}")" 1
for h in vigil_batch_commit_seconds vigil_ack_latency_seconds vigil_rule_call_seconds; do
  check "$h is a histogram" grep -q "^# TYPE $h histogram$" "$T/start.prom"
  like "$h has a +Inf bucket" "$(sample start "${h}_bucket{le=\"+Inf\"}")" '^[0-9]+$'
  like "$h has _sum" "$(sample start "${h}_sum")" '^[0-9]'
  is "$h's _count is its +Inf bucket" "$(sample start "${h}_count")" \
    "$(sample start "${h}_bucket{le=\"+Inf\"}")"
done
# The feed's failed poll may have committed already; no line came.
for h in vigil_ack_latency_seconds vigil_rule_call_seconds; do
  is "$h: nothing observed yet" "$(sample start "${h}_count")" 0
done
for p in process_resident_memory_bytes process_virtual_memory_bytes process_open_fds \
  process_max_fds process_cpu_seconds_total process_start_time_seconds; do
  like "$p is there" "$(sample start "$p")" '^[0-9][0-9.e+]*$'
done
promtool_ok start

timeout 60 curl -s -o "$T/rules.json" "$HTTP/v1/rules"
is "/v1/rules: launch not called yet" "$(rule_field launch calls)" 0
is "/v1/rules: launch's kind" "$(rule_field launch kind)" rule
is "/v1/rules: launch's file" "$(rule_field launch file)" "$RULES/watch.lua"
like "/v1/rules: a content hash of the file" "$(rule_field launch hash)" '^[0-9a-f]{32}$'
is "/v1/rules: not disabled" "$(rule_field launch disabled)" false
like "/v1/rules: loaded_at" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["loaded_at"])' \
  "$T/rules.json")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# ---- lines: good, bad, duplicate ----

cat >"$T/lines" <<'TXT'
2023-03-16: North Korea fired a ballistic missile into the East Sea.
2023-03-16: North Korea fired a ballistic missile into the East Sea.
2023-07-27: Envoys of the two Koreas met for talks at Panmunjom.
{"date": "2023-04-13", "text": "A missile flew over the sea.", "source": "wire \"A\"\\b"}
Pyongyang called the drills a rehearsal for invasion.
Feb. 30, 2023: A day the calendar does not have.
["2023-04-13", "an array is not a record"]

{"date": "2023-04-14"}
{"text": "A record without a date."}
TXT
send_unix <"$T/lines" >"$T/replies"
is "each line is answered" "$(line_count "$T/replies")" 10
wait_running 60 sh -c "curl -s '$HTTP/metrics' | grep -q '^vigil_ack_latency_seconds_count 10$'"

scrape after
is "entries by source: socket" "$(sample after 'vigil_entries_ingested_total{source="socket"}')" 2
is "entries by source: a source with a quote and a backslash, escaped" \
  "$(sample after 'vigil_entries_ingested_total{source="wire \"A\"\\b"}')" 1
is "duplicates" "$(sample after vigil_entries_duplicate_total)" 1
is "rejected: no date" "$(sample after 'vigil_entries_rejected_total{reason="no_date"}')" 2
is "rejected: bad date" "$(sample after 'vigil_entries_rejected_total{reason="bad_date"}')" 1
is "rejected: bad JSON" "$(sample after 'vigil_entries_rejected_total{reason="bad_json"}')" 2
is "rejected: empty" "$(sample after 'vigil_entries_rejected_total{reason="empty"}')" 1
is "rejected: other" "$(sample after 'vigil_entries_rejected_total{reason="other"}')" 0
is "alerts: launch crit" "$(sample after 'vigil_alerts_total{rule="launch",severity="crit"}')" 2
is "alerts: launch warn" "$(sample after 'vigil_alerts_total{rule="launch",severity="warn"}')" 0
is "alerts: talks info" "$(sample after 'vigil_alerts_total{rule="talks",severity="info"}')" 1
is "the log sink delivered each alert" \
  "$(sample after 'vigil_sink_deliveries_total{sink="log",result="ok"}')" 3
is "ack latency: one observation a line" "$(sample after vigil_ack_latency_seconds_count)" 10
like "a commit was timed" "$(sample after vigil_batch_commit_seconds_count)" '^[1-9][0-9]*$'
is "rule calls: three rules on three new entries" "$(sample after vigil_rule_call_seconds_count)" 9
is "rule errors: fragile failed once" "$(sample after 'vigil_rule_errors_total{rule="fragile"}')" 1
is "rule errors: launch never" "$(sample after 'vigil_rule_errors_total{rule="launch"}')" 0
promtool_ok after

timeout 60 curl -s -o "$T/rules.json" "$HTTP/v1/rules"
is "/v1/rules: launch called on each new entry" "$(rule_field launch calls)" 3
is "/v1/rules: launch matched two" "$(rule_field launch matches)" 2
is "/v1/rules: launch raised two alerts" "$(rule_field launch alerts)" 2
is "/v1/rules: talks set two tags" "$(rule_field talks tags_set)" 2
is "/v1/rules: no failure" "$(rule_field talks failures)" 0
is "/v1/rules: fragile failed once" "$(rule_field fragile failures)" 1
is "/v1/rules: ... and is not disabled" "$(rule_field fragile disabled)" false
like "/v1/rules: seconds per call" "$(rule_field launch seconds_per_call)" '^[0-9.e-]+$'

# ---- reload ----

post_reload foreign -H 'Origin: http://elsewhere.example'
is "a reload from a foreign Origin is refused" "$status" 403
status=$(timeout 60 curl -s -o /dev/null -w '%{http_code}' "$HTTP/v1/rules/reload")
is "GET on the reload is not allowed" "$status" 405

cp "$RULES/watch.lua" "$T/watch.good"
cat >"$RULES/watch.lua" <<'LUA'
rule "launch" {
  when = function(e) return e.text:find("missile") ~= nil end
  tags = {"launch"},
}
LUA
post_reload broken
is "a reload with a broken file is answered 422" "$status" 422
like "... naming the file and line" "$(cat "$T/broken.json")" "$RULES/watch.lua:3:"
like "... in its errors list" "$(cat "$T/broken.json")" '"errors":\[\{"file":'
like "... and the rules still in force" "$(cat "$T/broken.json")" '"rules":3'
printf '%s\n' '2023-08-24: North Korea launched a missile carrying a satellite.' | send_unix \
  >"$T/after_broken"
like "the old rules still work" "$(cat "$T/after_broken")" '^ok '
wait_running 60 sh -c "curl -s '$HTTP/metrics' |
  grep -q '^vigil_alerts_total{rule=\"launch\",severity=\"crit\"} 3$'"
is "... the old launch rule alerted (the log sink)" "$(count_matching '\[crit\] launch: a launch' "$DLOG")" 3

cp "$T/watch.good" "$RULES/watch.lua"
post_reload fixed
is "a reload once fixed is answered 200" "$status" 200
like "... with the rules loaded" "$(cat "$T/fixed.json")" '"rules":3'
like "... and no error" "$(cat "$T/fixed.json")" '"errors":\[\]'
timeout 60 curl -s -o "$T/rules.json" "$HTTP/v1/rules"
is "/v1/rules: counters survive the reloads for a rule that keeps its name" \
  "$(rule_field launch calls)" 4
scrape end
is "alerts counted across reloads" "$(sample end 'vigil_alerts_total{rule="launch",severity="crit"}')" 3
promtool_ok end

stop_daemon
is "the daemon stopped cleanly" "$DRC" 0

# ---- a reload is a write: with a token set, it must bear it ----

printf 'a-token-for-the-test\n' >"$T/token"
chmod 600 "$T/token"
printf 'http_token_file = "%s"\n' "$T/token" >"$T/vigil.conf"
start_daemon --config "$T/vigil.conf" --rules "$RULES" || {
  done_testing
  exit 1
}
post_reload untokened
is "a reload without the token is refused" "$status" 401
post_reload tokened -H 'Authorization: Bearer a-token-for-the-test'
is "a reload with the token is done" "$status" 200
scrape tokened
is "a scrape needs no token" "$(sample tokened 'vigil_rule_errors_total{rule="fragile"}')" 0
stop_daemon
is "the second daemon stopped cleanly" "$DRC" 0
done_testing

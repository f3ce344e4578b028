#!/bin/sh
# End-to-end: amended alerts reach the sinks. An alert that a late entry
# adds to (a sequence's late first step), or that moves to an earlier first
# occurrence (a `first` rule), is amended in the database: same id, one more
# version. Each amendment goes to the sinks as well, under the same id with
# its version and `"amended": true`, from the daemon and from the one-shot
# commands alike, so that the alerts file, read as "the last version of each
# id", holds exactly what `vigil alerts --json` says. A replay that changes
# nothing sends nothing.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

JSONL=$T/alerts.jsonl
cat >"$T/vigil.conf" <<EOF
alerts_file = "$JSONL"
EOF

# jsonl_count REGEX: lines of the alerts file matching REGEX.
jsonl_count() {
  [ -f "$JSONL" ] || {
    echo 0
    return
  }
  count_matching "$1" "$JSONL"
}
# has_lines N REGEX: the alerts file has at least N lines matching REGEX.
has_lines() {
  [ "$(jsonl_count "$2")" -ge "$1" ]
}

# converged: the last version of each alert in the alerts file equals the
# database's alerts (id, rule, key, severity, message, date, version, entries),
# and no version of an id went backwards. Prints the differences.
converged() {
  "$VIGIL" alerts --db "$DB" --json >"$T/db-alerts.json" 2>"$T/db-alerts.err" || {
    echo "vigil alerts failed: $(cat "$T/db-alerts.err")"
    return 1
  }
  python3 - "$JSONL" "$T/db-alerts.json" <<'EOF'
import json, sys
fields = ("id", "rule", "key", "severity", "message", "date", "version", "entries")
last, bad = {}, []
for n, line in enumerate(open(sys.argv[1]), 1):
    a = json.loads(line)
    seen = last.get(a["id"])
    if seen and seen["version"] >= a["version"]:
        bad.append("line %d: version %d of alert %d after version %d"
                   % (n, a["version"], a["id"], seen["version"]))
    if a["version"] > 1 and a.get("amended") is not True:
        bad.append("line %d: version %d without amended: true" % (n, a["version"]))
    last[a["id"]] = a
db = {a["id"]: a for a in map(json.loads, open(sys.argv[2]))}
for i in sorted(set(last) | set(db)):
    f = {k: last[i].get(k) for k in fields} if i in last else None
    d = {k: db[i].get(k) for k in fields} if i in db else None
    if f != d:
        bad.append("alert %d: file %s, database %s" % (i, f, d))
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# ---- the daemon ----

start_daemon --rules "$RULES" --config "$T/vigil.conf" || {
  done_testing
}
r1=$(printf '%s\n' \
  'Nov. 21, 2023: North Korea launches a ballistic missile into the East Sea.' \
  'Dec. 1, 2023: South Korea and the US hold a combined air drill.' | send_unix)
like "a launch and an allied drill are stored" "$r1" '^ok [0-9]+
ok [0-9]+$'
check "the sequence alert reaches the alerts file" \
  wait_running 60 has_lines 1 '"rule":"launch-then-exercise"'
first=$(grep '"rule":"launch-then-exercise"' "$JSONL" | head -n 1)
seq_id=$(printf '%s\n' "$first" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
like "... as version 1, not amended" "$first" '"version":1,"entries"'
is "... and the database holds it as version 1" \
  "$(sq "select version from alerts where id = ${seq_id:-0}")" 1

# A late launch inside the 14 days before the drill: the same alert names it.
late=$(printf 'Nov. 25, 2023: North Korea launches two short-range ballistic missiles.\n' | send_unix)
like "a late launch is stored" "$late" '^ok [0-9]+$'
late_id=${late#ok }
check "the amended alert reaches the alerts file" \
  wait_running 60 has_lines 1 "\"id\":${seq_id:-0},.*\"version\":2,\"amended\":true"
amended=$(grep "\"id\":${seq_id:-0},.*\"version\":2" "$JSONL" | head -n 1)
like "... under the same id, naming the late launch too" "$amended" \
  "\"entries\":\\[.*[[,]${late_id}[],]"
is "... and the database says version 2, three entries" \
  "$(sq "select version || ' ' || (select count(*) from alert_entries where alert_id = a.id)
         from alerts a where id = ${seq_id:-0}")" "2 3"
is "one alert of that rule, not a second" \
  "$(sq "select count(*) from alerts where rule = 'launch-then-exercise'")" 1

# A `first` rule's alert moves to an earlier first mention of the weapon.
printf 'Dec. 18, 2023: North Korea test-fires a Hwasong-18 ICBM.\n' | send_unix >/dev/null
check "a new-weapon alert reaches the alerts file" \
  wait_running 60 has_lines 1 '"rule":"new-weapon"'
nw_id=$(grep '"rule":"new-weapon"' "$JSONL" | head -n 1 | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
early=$(printf 'Apr. 13, 2023: North Korea test-fires a Hwasong-18 ICBM for the first time.\n' | send_unix)
early_id=${early#ok }
check "... and its move to the earlier mention reaches it as an amendment" \
  wait_running 60 has_lines 1 "\"id\":${nw_id:-0},.*\"date\":\"2023-04-13\".*\"version\":2,\"amended\":true,\"entries\":\\[${early_id}\\]"
check "the log sink says the alert was amended" \
  wait_running 60 grep -q "alert ${seq_id:-0} amended (version 2)" "$DLOG"
check "the alerts file converges on the database" converged
stop_daemon TERM
is "the daemon stops cleanly" "$DRC" 0

# ---- the one-shot commands ----

printf 'Nov. 28, 2023: North Korea fires a cruise missile off its west coast.\n' >"$T/late.txt"
"$VIGIL" ingest --db "$DB" --rules "$RULES" --config "$T/vigil.conf" "$T/late.txt" \
  >"$T/ingest.out" 2>"$T/ingest.err"
is "vigil ingest of another late launch exits 0" "$?" 0
is "... and appends version 3 of the sequence alert to the alerts file" \
  "$(jsonl_count "\"id\":${seq_id:-0},.*\"version\":3,\"amended\":true")" 1
check "... which converges on the database" converged

lines_before=$(line_count "$JSONL")
"$VIGIL" replay --db "$DB" --rules "$RULES" --config "$T/vigil.conf" >"$T/replay.out" 2>"$T/replay.err"
is "vigil replay exits 0" "$?" 0
like "... raising and amending nothing" "$(cat "$T/replay.out")" ': 0 new alerts, 0 amended$'
is "... and it sends nothing to the alerts file" "$(line_count "$JSONL")" "$lines_before"
check "... which still converges on the database" converged

check_sanitizers "no sanitizer report from the one-shot commands" \
  "$T/ingest.err" "$T/replay.err" "$T/db-alerts.err"
done_testing

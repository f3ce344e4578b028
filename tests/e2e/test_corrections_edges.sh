#!/bin/sh
# End-to-end: corrections and retractions at their edges, each compared with
# a clean ingest of the final versions. An absence whose alert function
# gives its alert a key of its own, answered by a correction; and an event
# whose reports, once one of them is retracted, group again only when the
# last of them is run again.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

cat >"$T/rules.lua" <<'EOF_RULES'
rule "kinds" {
  description = "what kind of event a line tells",
  tags = function(e)
    local t = {}
    if e:match("\\blaunch\\b") then t[#t + 1] = "launch" end
    if e:match("\\bdrill\\b") then t[#t + 1] = "drill" end
    return t
  end,
}

absence "unanswered" {
  steps = { tagged "launch", tagged "drill" },
  within = days(7), by = "region",
  alert = function(launch)
    return { message = "unanswered: " .. launch.text, key = "own" }
  end,
}

sequence "pair" {
  steps = { tagged "launch", tagged "drill" },
  within = days(10), by = "region",
}
EOF_RULES
V() { "$VIGIL" "$@" --rules "$T/rules.lua" 2>>"$T/stderr"; }
# in_force DB: the alerts in force as rule|key|date|their entries' texts.
in_force() {
  sq "$1" "select a.rule || '|' || a.key || '|' || a.date || '|' ||
             (select group_concat(text, ' + ') from (select e.text from alert_entries ae
              join entries e on e.id = ae.entry_id where ae.alert_id = a.id order by e.text))
           from alerts a where a.state = 'active'" | sort
}

# ---- an absence alert under its own key, answered by a correction ----
cat >"$T/a.jsonl" <<'EOF_A'
{"date": "2024-01-02", "text": "North Korea fires a launch vehicle from Sohae.", "region": "korea"}
{"date": "2024-01-05", "text": "Japan holds a missile defence drill off Kyushu.", "region": "japan"}
{"date": "2024-01-30", "text": "Officials meet at Panmunjom.", "region": "korea"}
EOF_A
V ingest -q --db "$T/a.db" "$T/a.jsonl"
is "the launch goes unanswered: its alert, under the key its function gave" \
  "$(sq "$T/a.db" "select key || ' ' || state from alerts where rule = 'unanswered'")" "own active"
V amend --db "$T/a.db" 2 --field region=korea --reason "the drill was Korean" >/dev/null
is "amend: exit status 0" "$?" 0
cat >"$T/a2.jsonl" <<'EOF_A2'
{"date": "2024-01-02", "text": "North Korea fires a launch vehicle from Sohae.", "region": "korea"}
{"date": "2024-01-05", "text": "Japan holds a missile defence drill off Kyushu.", "region": "korea"}
{"date": "2024-01-30", "text": "Officials meet at Panmunjom.", "region": "korea"}
EOF_A2
V ingest -q --db "$T/a-clean.db" "$T/a2.jsonl"
is "a clean run of the final versions raises no absence" \
  "$(sq "$T/a-clean.db" "select count(*) from alerts where rule = 'unanswered'")" 0
is "the corrected drill answers the launch: its absence alert is retracted" \
  "$(sq "$T/a.db" "select state from alerts where rule = 'unanswered'")" retracted
is "... the alerts in force equal the clean run's" "$(in_force "$T/a.db")" "$(in_force "$T/a-clean.db")"

# ---- a retracted report: the others group again, as a clean run groups them ----
# Reports 1 and 2 come from one source, so only 3 or 4 (from others) joins
# them into one event; the launch before them pairs with that event once.
cat >"$T/b.jsonl" <<'EOF_B'
{"date": "2024-02-07", "source": "wire-a", "text": "A combined drill is held near the northern hill city at dawn.", "region": "korea"}
{"date": "2024-02-07", "source": "wire-a", "text": "A combined drill is held near the northern hill city at dusk.", "region": "korea"}
{"date": "2024-02-07", "source": "wire-b", "text": "A combined drill is held near the northern hill city today.", "region": "korea"}
{"date": "2024-02-07", "source": "wire-c", "text": "A combined drill is held near the northern hill city again.", "region": "korea"}
{"date": "2024-01-30", "source": "wire-c", "text": "North Korea fires a launch vehicle over the sea.", "region": "korea"}
EOF_B
V ingest -q --db "$T/b.db" "$T/b.jsonl"
is "the four reports are one event, paired once with the launch" \
  "$(sq "$T/b.db" "select count(*) from alerts where rule = 'pair' and state = 'active'")" 1
V retract --db "$T/b.db" 4 --reason "withdrawn by the wire" >/dev/null
is "retract: exit status 0" "$?" 0
grep -v 'wire-c", "text": "A combined drill' "$T/b.jsonl" >"$T/b2.jsonl"
V ingest -q --db "$T/b-clean.db" "$T/b2.jsonl"
is "a clean run of the final versions pairs the launch once" \
  "$(sq "$T/b-clean.db" "select count(*) from alerts where rule = 'pair'")" 1
is "after the retraction, one pairing in force too" \
  "$(sq "$T/b.db" "select count(*) from alerts where rule = 'pair' and state = 'active'")" 1
is "... the alerts in force equal the clean run's" "$(in_force "$T/b.db")" "$(in_force "$T/b-clean.db")"

# ---- a correction leaves alone what does not rest on it ----
# The launch's absence fired before a late drill answered it, in another
# ingest: a run of the entries in their order keeps that alert. Correcting
# a drill two months away changes nothing it rested on: the alert stays as
# it fired, its cause still entry 3 (the one whose date moved the watermark
# past the launch's window).
cat >"$T/absence.lua" <<'EOF_RULES'
rule "kinds" {
  description = "what kind of event a line tells",
  tags = function(e)
    local t = {}
    if e:match("\\blaunch\\b") then t[#t + 1] = "launch" end
    if e:match("\\bdrill\\b") then t[#t + 1] = "drill" end
    return t
  end,
}

absence "unanswered" {
  steps = { tagged "launch", tagged "drill" },
  within = days(7),
}
EOF_RULES
cat >"$T/c1.jsonl" <<'EOF_C1'
{"date": "2024-01-02", "text": "North Korea fires a launch vehicle from Sohae."}
{"date": "2024-01-30", "text": "Officials meet at Panmunjom."}
{"date": "2024-03-01", "text": "South Korea holds a civil defence drill in Seoul."}
EOF_C1
printf '%s\n' '{"date": "2024-01-04", "text": "Japan holds a missile defence drill off Kyushu."}' >"$T/c2.jsonl"
for f in c1 c2; do
  "$VIGIL" ingest -q --db "$T/c.db" --rules "$T/absence.lua" "$T/$f.jsonl" 2>>"$T/stderr"
done
is "the absence fired before its late answer came, and stays" \
  "$(sq "$T/c.db" "select state from alerts where rule = 'unanswered'")" active
"$VIGIL" amend --db "$T/c.db" --rules "$T/absence.lua" 3 \
  --text "South Korea holds a nationwide civil defence drill in Seoul." >/dev/null 2>>"$T/stderr"
is "amend: exit status 0" "$?" 0
is "an alert that did not rest on the corrected entry is not retracted by it" \
  "$(sq "$T/c.db" "select state || ' ' || coalesce(cause, '') from alerts where rule = 'unanswered'")" "active 3"

# ---- a correction stored without rules leaves the other reports' tags ----
"$VIGIL" ingest -q --db "$T/d.db" --rules "$T/rules.lua" "$T/b.jsonl" 2>>"$T/stderr"
before=$(sq "$T/d.db" "select count(*) from tags where entry_id = 2")
is "a report of the drill is tagged" "$before" 1
printf '%s\n' '{"amends": 1, "text": "A combined drill is held near the northern hill city at first light."}' |
  "$VIGIL" ingest -q --db "$T/d.db" --no-rules - 2>>"$T/stderr"
is "ingest --no-rules of a correction: exit status 0" "$?" 0
is "another report of its event keeps its tag" \
  "$(sq "$T/d.db" "select count(*) from tags where entry_id = 2")" "$before"
is "... and its place in its event" \
  "$(sq "$T/d.db" "select count(*) from entry_events where entry_id = 2")" 1

done_testing

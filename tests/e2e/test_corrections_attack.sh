#!/bin/sh
# End-to-end: corrections the store refuses, said to the client that sent
# them; and a correction of the newest entry, which leaves the text index
# as it is (the entry is the same entry still).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need python3
need curl
need socat

RULES=$(cd "$E2E/../.." && pwd)/rules
V() { "$VIGIL" "$@" --db "$DB" --rules "$RULES" 2>>"$T/stderr"; }

cat >"$T/a.jsonl" <<'EOF2'
{"date": "2024-01-02", "text": "North Korea fires a short-range ballistic missile into the East Sea."}
{"date": "2024-01-09", "text": "South Korea and the United States hold a combined air drill near the border."}
{"date": "2024-01-14", "text": "North Korea launches an intermediate-range missile over the sea."}
EOF2
V ingest --quiet "$T/a.jsonl"
is "three entries stored" "$(sq 'select count(*) from entries')" 3

# ---- the text index: the newest entry corrected is the same entry ----
"$VIGIL" query --db "$DB" --text missile >/dev/null 2>>"$T/stderr"
is "the text index holds the three entries" \
  "$(sqlite3 "$DB-text" 'select upto from text_state')" 3
V amend 3 --text "North Korea launches a solid-fuel intermediate-range missile over the sea." \
  --reason "the fuel named" >/dev/null
is "the newest entry corrected" "$(sq 'select version from entries where id = 3')" 2
is "... the new text is found" \
  "$("$VIGIL" query --db "$DB" --json --text 'solid-fuel' 2>>"$T/stderr" | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))')" 3

is "... kept, not built again as another database's" \
  "$(grep -c 'made for other entries' "$T/stderr")" 0

# ---- a long reason, cut short in the alert, ends on a whole character ----
R2=$T/reason.db
"$VIGIL" ingest --db "$R2" --rules "$RULES" --quiet "$T/a.jsonl" 2>>"$T/stderr"
long=x$(python3 -c 'print("\uc544" * 300)')
"$VIGIL" amend 1 --db "$R2" --rules "$RULES" --text "A quiet day at the border." --reason "$long" \
  >/dev/null 2>>"$T/stderr"
is "alerts retracted by the correction" \
  "$(sqlite3 "$R2" "select count(*) from alerts where state = 'retracted'")" 2
is "... its reason, cut short, is whole UTF-8 in vigil alerts --json" \
  "$("$VIGIL" alerts --db "$R2" --state retracted --json 2>>"$T/stderr" |
    python3 -c 'import json,sys; print(" ".join(sorted({str((r[:18], len(r) < 300)) for r in (json.loads(l)["reason"] for l in sys.stdin.buffer.read().decode("utf-8").splitlines())})))')" \
  "('entry 1 corrected:', True)"


# ---- an alert raised again after its retraction says what it says now ----
# An absence alert retracted by a correction (its launch was answered), its
# launch's date corrected, then the alert raised again when a later
# correction moves the watermark: it bears the launch's date as it is now.
A=$T/again
mkdir -p "$A"
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import corrections_property as p; print(p.RULES)' \
  "$E2E" >"$A/rules.lua"
cat >"$A/first.jsonl" <<'EOF2'
{"date": "2024-01-17", "text": "reported drill near the unit sea", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-01-07/2024-01-15", "text": "reported launch near the night north", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-01-10", "text": "reported drill near the border coast", "region": "korea", "weapon": "hwasong"}
{"date": "2024-01-06", "text": "reported launch near the north island", "region": "japan", "weapon": "hwasong"}
{"date": "2024-02-03", "text": "reported meeting near the navy night", "region": "korea", "weapon": "hwasong"}
{"date": "2024-02-07", "text": "reported launch near the island navy", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-02-09", "text": "reported drill near the island unit", "region": "japan", "weapon": "hwasong"}
{"date": "2024-01-13", "text": "reported drill near the sea unit", "region": "japan", "weapon": "hwasong"}
{"date": "2024-01-22", "text": "reported launch near the sea unit", "region": "japan", "weapon": "pukguksong"}
{"date": "2024-01-15", "text": "reported meeting near the coast island", "region": "korea", "weapon": "hwasong"}
{"date": "2024-02-04", "text": "reported launch near the sea island", "region": "japan", "weapon": "pukguksong"}
{"date": "2024-01-11", "text": "reported launch near the coast unit", "region": "japan", "weapon": "hwasong"}
{"date": "2024", "text": "reported launch near the unit coast", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-02-08", "text": "reported launch big near the island coast", "region": "korea", "weapon": "hwasong"}
{"date": "2024-01-17/2024-01-20", "text": "reported drill near the unit navy", "region": "japan", "weapon": "pukguksong"}
{"date": "2024-02-10", "text": "reported meeting big near the night island", "region": "japan", "weapon": "hwasong"}
{"date": "2024-02-10", "text": "reported launch near the unit navy", "region": "korea", "weapon": "hwasong"}
{"date": "2024-01-13", "text": "reported drill near the night island", "region": "japan", "weapon": "hwasong"}
{"date": "2024-02-11", "text": "reported launch big near the north night", "region": "korea", "weapon": "hwasong"}
{"date": "2024-01-27", "text": "reported meeting near the unit north", "region": "japan", "weapon": "hwasong"}
{"date": "2024-01-11", "text": "reported launch near the navy night", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-01-16/2024-01-23", "text": "reported drill near the unit border", "region": "korea", "weapon": "hwasong"}
{"date": "2024-02-06", "text": "reported launch near the island coast", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-02-08", "text": "reported drill near the unit border", "region": "korea", "weapon": "pukguksong"}
{"date": "2024-01", "text": "reported drill near the navy border", "region": "japan", "weapon": "hwasong"}
EOF2
cat >"$A/c0.jsonl" <<'EOF2'
{"date": "2024-01-11", "text": "reported launch near the island navy", "region": "korea", "weapon": "hwasong", "amends": 22}
{"amends": 13, "date": "2024-01-16/2024-01-23", "text": "reported drill near the unit border"}
EOF2
cat >"$A/c1.jsonl" <<'EOF2'
{"amends": 19, "date": "2024-02-07/2024-02-12"}
EOF2
cat >"$A/c2.jsonl" <<'EOF2'
{"amends": 15, "date": "2024-02-09/2024-02-20"}
EOF2
for f in first c0 c1 c2; do
  "$VIGIL" ingest --db "$A/a.db" --rules "$A/rules.lua" --quiet "$A/$f.jsonl" 2>>"$T/stderr"
done
is "an absence alert raised again bears its entry's corrected date" \
  "$(sqlite3 "$A/a.db" "select a.state || ' ' || a.date || ' ' || e.date from alerts a
     join alert_entries x on x.alert_id = a.id join entries e on e.id = x.entry_id
     where a.rule = 'unanswered' and e.id = 19")" \
  "active 2024-02-07/2024-02-12 2024-02-07/2024-02-12"

# ---- through the daemon: a refused correction says why ----
start_daemon --rules "$RULES" || done_testing
r=$(printf '%s\n' '{"retracts": 1, "reason": "withdrawn by the agency"}' \
  '{"amends": 1, "text": "North Korea fires two missiles."}' '{"amends": 99, "text": "x"}' | send_unix)
is "socket: a correction of a retracted entry says why it is refused" "$r" "$(printf '%s\n' \
  'retracted 1' \
  'error line 2: amends 1: it is retracted: it cannot be corrected' \
  'error line 3: amends 99: there is no such entry')"
body=$(timeout 120 curl -s -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"amends": 1, "text": "North Korea fires three missiles."}' "$HTTP/v1/entries")
is "HTTP: a correction of a retracted entry says why it is refused" \
  "$(printf '%s' "$body" | python3 -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; print(r["status"] + ": " + r["reason"])')" \
  "rejected: amends 1: it is retracted: it cannot be corrected"
stop_daemon
is "the daemon stopped cleanly" "$DRC" 0

# ---- alerts over several databases: a retracted one says why ----
cp "$DB" "$T/copy.db"
"$VIGIL" alerts --db "$DB" --db "$T/copy.db" --state retracted --json >"$T/merged.json" 2>>"$T/stderr"
is "alerts over two databases: each retracted alert says why, from its own copy" \
  "$(python3 -c 'import json,sys; print(sorted({json.loads(l)["reason"] for l in open(sys.argv[1])}))' "$T/merged.json")" \
  "['entry 1 retracted: withdrawn by the agency']"
check_sanitizers "$T/stderr"

done_testing

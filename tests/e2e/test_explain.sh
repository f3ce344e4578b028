#!/bin/sh
# End-to-end: `vigil explain` and GET /v1/{alerts,entries}/{id}/explain, over
# the shipped rules (rules/correlations.lua) and a chronology of our own:
#   - a launch-then-exercise alert states its window arithmetic (10 days <= 14),
#     its rule's file and hash (the hash of /v1/rules, and xxhsum's when it is
#     installed), its versions; after the rule file is edited, the old hash and
#     that the file changed;
#   - --entry of a launch answered 16 days later: "2 days beyond"; of a launch
#     dated to a month: the coarse date that may fall after the exercise;
#   - a threshold's count, an absence's window, a silenced alert's silence;
#   - the API answers the same objects; 404 for unknown ids, 400 for bad ones;
#   - an unknown alert on the command line: a clear error, exit status 1.
. "$(dirname "$0")/lib.sh"

need sqlite3 curl python3

mkdir -p "$T/rules"
cp "$RULES"/*.lua "$T/rules/"
X="--db $DB --rules $T/rules"

# js FILE EXPR: EXPR, a Python expression of d (the JSON in FILE), printed.
js() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(r if not isinstance(r, (list, dict, bool)) and r is not None else json.dumps(r))' \
    "$1" "$2" 2>&1
}

# First the launches before the silence; the absence of 2023-08-20 fires
# only once later entries pass its window, after the silence is added.
cat >"$T/part1.txt" <<'EOF'
2023-06-05: North Korea fires two short-range ballistic missiles into the sea.
2023-06-15: North Korea test-fires a cruise missile from its west coast.
2023-06-25: North Korea launches a ballistic missile over its eastern waters.
2023-07-01: North Korea launches a short-range ballistic missile off its east coast.
2023-07-20: South Korea and the US hold a combined air drill near the border.
EOF
cat >"$T/part2.txt" <<'EOF'
2023-08-20: North Korea launches a ballistic missile toward the sea.
2023-11-21: North Korea launches a reconnaissance satellite.
2023-12-01: South Korea and the US hold a combined air drill.
2024-02-02: North Korea fires several cruise missiles off its west coast.
2024-02-18: The US and South Korea hold a joint naval exercise.
2024-03: North Korea launches a short-range missile, officials say.
2024-03-20: Japan and the US hold a combined missile defense drill.
EOF
check "the first part is stored" "$VIGIL" ingest $X "$T/part1.txt"
sil=$("$VIGIL" silence add --db "$DB" --rule launch-without-response --for 1w \
  --author duty-officer --reason "answers are reported late this summer" 2>"$T/sil.err")
like "a silence of the absence rule is added" "$sil" '^[0-9]+$'
check "the second part is stored" "$VIGIL" ingest $X "$T/part2.txt"

alert_of() { sq "select id from alerts where rule = '$1' order by day limit 1"; }
entry_of() { sq "select id from entries where text like '%$1%'"; }

# ---- why did this fire ----

seq_id=$(alert_of launch-then-exercise)
like "a launch-then-exercise alert was raised" "$seq_id" '^[0-9]+$'
"$VIGIL" explain $X "$seq_id" >"$T/seq.txt" 2>"$T/seq.err"
is "explain ALERT_ID exits 0" "$?" 0
like "the sequence's window: 10 days <= 14" "$(cat "$T/seq.txt")" \
  'launch 2023-11-21, show-of-force 2023-12-01: 10 days <= 14'
like "it names the rule's kind" "$(cat "$T/seq.txt")" 'kind +sequence'
like "it names the rule's file" "$(cat "$T/seq.txt")" "file +$T/rules/correlations.lua"
like "the file loaded now has the alert's hash" "$(cat "$T/seq.txt")" \
  'now +the file loaded now has that hash'
like "its version names the entry that wrote it" "$(cat "$T/seq.txt")" \
  'version 1: raised at .* by entry [0-9]+ \(2023-12-01 South Korea'
"$VIGIL" explain $X --json "$seq_id" >"$T/seq.json" 2>>"$T/seq.err"
hash=$(js "$T/seq.json" "d['rule_file']['hash']")
like "--json gives the rule's hash" "$hash" '^[0-9a-f]{32}$'
is "--json: the rule's parameters" "$(js "$T/seq.json" "[d['rule']['kind'], d['rule']['within']]")" \
  '["sequence", 14]'
is "--json: the steps each entry matched" \
  "$(js "$T/seq.json" "[[s['name'] for s in e['steps']] for e in d['entries']]")" \
  '[["launch"], ["show-of-force"]]'
if command -v xxhsum >/dev/null 2>&1; then
  is "the hash is the XXH3-128 of the rule file" \
    "$(xxhsum -H2 "$T/rules/correlations.lua" | cut -d' ' -f1)" "$hash"
else
  skip "the hash is the XXH3-128 of the rule file" "xxhsum is not installed (checked over /v1/rules below)"
fi

thr_id=$(alert_of repeated-launches)
"$VIGIL" explain $X "$thr_id" >"$T/thr.txt" 2>&1
like "the threshold's count against its count" "$(cat "$T/thr.txt")" \
  '3 launches within 30 days \(2023-05-26\.\.2023-06-25\) >= 3'
like "the threshold's quiet period is told" "$(cat "$T/thr.txt")" 'quiet = days\(30\)'

abs_id=$(sq "select a.id from alerts a join alert_entries ae on ae.alert_id = a.id
  join entries e on e.id = ae.entry_id
  where a.rule = 'launch-without-response' and e.date = '2023-08-20'")
"$VIGIL" explain $X "$abs_id" >"$T/abs.txt" 2>&1
like "the absence's window" "$(cat "$T/abs.txt")" \
  'no show-of-force from 2023-08-20 to 2023-08-27 \(7 days\)'
like "the absence's lateness" "$(cat "$T/abs.txt")" \
  'closed once entries passed 2023-08-30 \(2023-08-27 \+ lateness 3 days\)'
like "the silenced alert names its silence" "$(cat "$T/abs.txt")" \
  "silenced by silence $sil \\(duty-officer, answers are reported late this summer\\)"
is "--json: the silence" \
  "$("$VIGIL" explain $X --json "$abs_id" 2>/dev/null | python3 -c 'import json,sys; s=json.load(sys.stdin)["silence"]; print(s["id"], s["author"])')" \
  "$sil duty-officer"

# ---- why did that not fire ----

feb=$(entry_of "several cruise missiles")
"$VIGIL" explain $X --entry "$feb" --rule launch-then-exercise >"$T/feb.txt" 2>&1
is "explain --entry exits 0" "$?" 0
like "a launch answered 16 days later: 2 days beyond" "$(cat "$T/feb.txt")" \
  'show-of-force 2024-02-18: a show-of-force 16 days later: 2 days beyond within = days\(14\)'
like "the launch matches step 1" "$(cat "$T/feb.txt")" 'step 1 \(launch\): matches'

month=$(entry_of "officials say")
"$VIGIL" explain $X --entry "$month" --rule launch-then-exercise --json >"$T/month.json" 2>&1
like "a launch dated to a month may fall after the exercise" \
  "$(js "$T/month.json" "[m['why'] for m in d['rules'][0]['near_misses']]")" \
  "the launch's date is the month 2024-03 \\(2024-03-01\\.\\.2024-03-31\\): it may fall after the show-of-force \\(2024-03-20\\)"

nov=$(entry_of "reconnaissance satellite")
"$VIGIL" explain $X --entry "$nov" --rule launch-then-exercise >"$T/nov.txt" 2>&1
like "a launch that paired names its partner" "$(cat "$T/nov.txt")" \
  'entry [0-9]+ +show-of-force 2023-12-01: launch 2023-11-21, show-of-force 2023-12-01: 10 days <= 14'
"$VIGIL" explain $X --entry "$nov" --rule repeated-launches >"$T/nov-thr.txt" 2>&1
like "a lone launch: the window's count is not enough" "$(cat "$T/nov-thr.txt")" \
  'holds 1 launch: 1 < 3: not enough'
"$VIGIL" explain $X --entry "$nov" --rule launch-without-response >"$T/nov-abs.txt" 2>&1
like "an absence that fired says so" "$(cat "$T/nov-abs.txt")" \
  'fired: no show-of-force from 2023-11-21 to 2023-11-28 \(7 days\)'
"$VIGIL" explain $X --entry "$nov" >"$T/nov-all.txt" 2>&1
like "without --rule, a tagging rule's when is told" "$(cat "$T/nov-all.txt")" \
  'when\(e\) is true on it'

fourth=$(entry_of "off its east coast")
"$VIGIL" explain $X --entry "$fourth" --rule repeated-launches >"$T/fourth.txt" 2>&1
like "a fourth launch: its window holds enough" "$(cat "$T/fourth.txt")" \
  '2023-06-01\.\.2023-07-01, holds 4 launches: 4 >= 3'
like "a fourth launch: kept back by the quiet period" "$(cat "$T/fourth.txt")" \
  "suppressed by quiet \\(alert $thr_id on 2023-06-25 within 30 days\\)"

# ---- bad ids ----

"$VIGIL" explain $X 999999 >"$T/none.out" 2>"$T/none.err"
is "an unknown alert: exit status 1" "$?" 1
like "an unknown alert: a clear error" "$(cat "$T/none.err")" 'vigil explain: no alert 999999'
"$VIGIL" explain $X --entry 999999 >/dev/null 2>"$T/none.err"
is "an unknown entry: exit status 1" "$?" 1
"$VIGIL" explain $X abc >/dev/null 2>"$T/bad.err"
is "a bad alert id: usage error" "$?" 2
like "a bad alert id: said" "$(cat "$T/bad.err")" "'abc' is no alert id"
"$VIGIL" explain $X --entry "$nov" --rule no-such-rule >/dev/null 2>"$T/bad.err"
is "an unknown rule: usage error" "$?" 2

# ---- the API ----

start_daemon --rules "$T/rules" || { done_testing; exit; }
get() {
  code=$(timeout 120 curl -s -o "$T/$1.json" -w '%{http_code}' "$HTTP$2")
}
get api-seq "/v1/alerts/$seq_id/explain"
is "GET /v1/alerts/ID/explain: 200" "$code" 200
is "the API's object is the command's" \
  "$(js "$T/api-seq.json" "[d['why'], d['rule_file']['hash'], d['key']]")" \
  "$(js "$T/seq.json" "[d['why'], d['rule_file']['hash'], d['key']]")"
get rules "/v1/rules"
is "the alert's hash is the one /v1/rules shows" \
  "$(js "$T/rules.json" "[r['hash'] for r in d['rules'] if r['name'] == 'launch-then-exercise'][0]")" \
  "$hash"
get api-feb "/v1/entries/$feb/explain?rule=launch-then-exercise"
is "GET /v1/entries/ID/explain: 200" "$code" 200
like "the API's near miss" "$(js "$T/api-feb.json" "d['rules'][0]['near_misses'][0]['why']")" \
  '16 days later: 2 days beyond within = days\(14\)'
is "?rule= gives that rule alone" "$(js "$T/api-feb.json" "len(d['rules'])")" 1
get api-none "/v1/alerts/999999/explain"
is "an unknown alert: 404" "$code" 404
get api-none "/v1/entries/999999/explain"
is "an unknown entry: 404" "$code" 404
get api-bad "/v1/alerts/abc/explain"
is "a bad alert id: 400" "$code" 400
get api-bad "/v1/entries/0/explain"
is "a bad entry id: 400" "$code" 400
get api-bad "/v1/entries/$feb/explain?rule=no-such-rule"
is "an unknown rule: 404" "$code" 404
get api-bad "/v1/entries/$feb/explain?color=red"
is "an unknown parameter: 400" "$code" 400
stop_daemon

# ---- explaining beside the daemon leaves its rules as they are ----
# A rule the daemon disabled (it failed too often) stays disabled, and its
# failures are not counted again, however often an explanation runs it.
mkdir -p "$T/flaky"
cat >"$T/flaky/flaky.lua" <<'EOF'
rule "flaky" {
  when = function(e) if e:match("Yellow Sea") then error("cannot read this line") end end,
  tags = { "never" },
}
EOF
DB0=$DB
DB=$T/flaky.db
start_daemon --rules "$T/flaky" || { done_testing; exit; }
i=0
while [ $i -lt 12 ]; do
  i=$((i + 1))
  echo "2024-03-$((i + 10)): North Korea fires artillery into the Yellow Sea, round $i."
done | send_unix >/dev/null
get flaky "/v1/rules"
is "the daemon disabled the failing rule" \
  "$(js "$T/flaky.json" "[(r['disabled'], r['failures']) for r in d['rules']]")" "[[true, 10]]"
get flaky-why "/v1/entries/1/explain"
like "an explanation tells the rule's error" "$(cat "$T/flaky-why.json")" 'cannot read this line'
get flaky-after "/v1/rules"
is "... and the daemon's rule is still disabled, its failures as they were" \
  "$(js "$T/flaky-after.json" "[(r['disabled'], r['failures']) for r in d['rules']]")" "[[true, 10]]"
stop_daemon
DB=$DB0

# ---- after the rule file changes ----

printf '\n-- a note added after the alerts were raised\n' >>"$T/rules/correlations.lua"
"$VIGIL" explain $X "$seq_id" >"$T/seq2.txt" 2>&1
like "after an edit: the alert's old hash" "$(cat "$T/seq2.txt")" "hash +$hash"
like "after an edit: the file changed" "$(cat "$T/seq2.txt")" \
  'now +the file changed since: the one loaded now has another hash'
isnt "after an edit: the loaded hash differs" \
  "$("$VIGIL" explain $X --json "$seq_id" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["rule_file"]["loaded_hash"])')" \
  "$hash"

# ---- after a retraction ----

drill=$(entry_of "combined air drill.")
check "the drill of 2023-12-01 is retracted" "$VIGIL" retract --db "$DB" --rules "$T/rules" \
  "$drill" --reason "the drill was called off"
"$VIGIL" explain $X "$seq_id" >"$T/seq3.txt" 2>&1
like "a retracted alert: its state" "$(cat "$T/seq3.txt")" 'state +retracted'
like "a retracted alert: the reason" "$(cat "$T/seq3.txt")" 'reason +.+'
like "a retracted alert: the version the retraction wrote, and its entry" "$(cat "$T/seq3.txt")" \
  "version 2: retracted at .* by entry $drill \\(2023-12-01 "

check_sanitizers "no sanitizer report from the commands" "$T"/*.txt "$T"/*.err "$T"/*.json

done_testing

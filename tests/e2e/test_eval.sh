#!/bin/sh
# End-to-end: `vigil eval` measures two small rule sets, whose right answers
# are worked out by hand below, against a labelled corpus: the tp, fp and fn
# counts and F1 of each tag and alert rule in text and in --json, the misses
# and false positives named by file and line, bad corpus lines refused by
# name while the rest is measured, --against naming the lines fixed and
# broken, and --min-f1 floors that hold and fail.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# cli NAME ARG...: runs `vigil ARG...` with its output in $T/NAME.out and
# $T/NAME.err (read by the sanitizer check at the end); sets rc.
cli() {
  _name=$1
  shift
  "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}
_cli_errs=""

# The old rules see weather in any word holding "storm" (brainstorm too) and
# miss hail; the new ones look for the words storm and hail, so they also
# take a greeting ("Hail to ...") for weather. Both tag ferries as transport
# and raise flood-alert on weather that floods something.
mkdir -p "$T/old" "$T/new"
cat >"$T/old/weather.lua" <<'EOF'
rule "tag-weather" {
  when = function(e) return e:match("(?i)storm") ~= nil end,
  tags = { "weather" },
}
EOF
cat >"$T/new/weather.lua" <<'EOF'
rule "tag-weather" {
  when = function(e) return e:find({ "storm", "hail" }) end,
  tags = { "weather" },
}
EOF
for d in old new; do
  cat >"$T/$d/common.lua" <<'EOF'
rule "tag-transport" {
  when = function(e) return e:find({ "ferry" }) end,
  tags = { "transport" },
}
-- The labels are no fields of the entry; the entry's own fields are.
rule "tag-labelled" {
  when = function(e)
    return e.fields ~= nil and (e.fields.expect_tags or e.fields.reject_tags or e.fields.id) ~= nil
  end,
  tags = { "labelled" },
}
rule "tag-coastal" {
  when = function(e) return e.fields ~= nil and e.fields.region == "coast" end,
  tags = { "coastal" },
}
rule "flood-alert" {
  after = { "tag-weather" },
  when = function(e) return e:has_tag("weather") and e:find({ "floods" }) end,
  alert = "weather floods something",
}
EOF
done

# Lines 4 and 5 are refused; the others are written out of date order.
cat >"$T/corpus.jsonl" <<'EOF'
{"date":"2024-03-02","text":"A storm floods the harbour road","expect_tags":["weather"],"expect_alerts":["flood-alert"],"id":"harbour"}
{"date":"2024-03-01","text":"Hail breaks windows in the old town","expect_tags":["weather"]}
{"date":"2024-03-03","text":"Staff brainstorm names for the new ferry","reject_tags":["weather"],"expect_tags":["transport"],"expect_alerts":[]}
{"date":"2024-03-04", "text": "an unfinished record"
{"text":"A line without a date","expect_tags":["weather"]}
{"date":"2024-03-04","region":"coast","text":"The library opens on Sundays","expect_tags":["coastal"],"reject_tags":["weather","transport","labelled"]}
{"date":"2024-03-05","text":"Hail to the new mayor, the crowd cheers","reject_tags":["weather"],"id":"mayor"}
{"date":"2024-03-06","source":"council","text":"Melting snow floods the cellars","expect_alerts":["flood-alert"]}
EOF
grep -v -e 'unfinished' -e 'without a date' "$T/corpus.jsonl" >"$T/clean.jsonl"

# By hand, with the old rules: weather tp 1 (line 1), fp 1 (line 3), fn 1
# (line 2): precision, recall and F1 0.5. transport: tp 1 (line 3), F1 1;
# coastal tp 1 and labelled tp 0, fp 0, fn 0 (line 6): F1 1 each.
# flood-alert, on the lines carrying expect_alerts (1, 3, 8): tp 1 (line 1),
# fn 1 (line 8, no weather): F1 2/3. With the new rules weather is tp 2
# (lines 1, 2), fp 1 (line 7), fn 0: precision 2/3, recall 1, F1 0.8.

# ---- text ----
cli old_text eval --rules "$T/old" "$T/corpus.jsonl"
is "refused lines make the exit status 1" "$rc" 1
like "the line that is no JSON object is named with why" "$(cat "$T/old_text.err")" \
  "corpus.jsonl:4: not a JSON object"
like "the line without a date is named with why" "$(cat "$T/old_text.err")" \
  "corpus.jsonl:5: no date"
like "weather's figures with the old rules" "$(grep '^weather ' "$T/old_text.out")" \
  '^weather +1 +1 +1 +0\.500 +0\.500 +0\.500$'
like "transport's figures" "$(grep '^transport ' "$T/old_text.out")" \
  '^transport +1 +0 +0 +1\.000 +1\.000 +1\.000$'
like "flood-alert's figures" "$(grep '^flood-alert ' "$T/old_text.out")" \
  '^flood-alert +1 +0 +1 +1\.000 +0\.500 +0\.667$'
like "the weather miss is named by file, line and text" "$(cat "$T/old_text.out")" \
  'miss +[^ ]*corpus\.jsonl:2: Hail breaks windows in the old town'
like "the false positive is named too" "$(cat "$T/old_text.out")" \
  'false positive +[^ ]*corpus\.jsonl:3: Staff brainstorm'
like "the alert miss is named" "$(cat "$T/old_text.out")" \
  'miss +[^ ]*corpus\.jsonl:8: Melting snow'
like "the summary counts the entries measured and the lines refused" \
  "$(tail -n 1 "$T/old_text.out")" '^6 entries, 4 tags and 1 alert rule scored; 2 lines refused$'

cli clean eval --rules "$T/old" "$T/clean.jsonl"
is "low scores alone are no error: exit status 0" "$rc" 0
is "nothing said on stderr of a clean corpus" "$(cat "$T/clean.err")" ""

# ---- --json ----
cli new_json eval --json --rules "$T/new" "$T/corpus.jsonl"
is "--json: refused lines make the exit status 1 too" "$rc" 1
got=$(python3 - "$T/new_json.out" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
out = []
for r in rows:
    if r["type"] in ("tag", "alert"):
        name = r.get("tag", r.get("rule"))
        out.append("%s %s %d %d %d %.4f %.4f %.4f" % (r["type"], name, r["tp"], r["fp"], r["fn"],
                                                     r["precision"], r["recall"], r["f1"]))
    elif r["type"] in ("miss", "false_positive"):
        out.append("%s %s %s:%d %s %s" % (r["type"], r.get("tag", r.get("alert")),
                                          r["file"].rsplit("/", 1)[-1], r["line"],
                                          r.get("id", "-"), r["text"]))
    elif r["type"] == "error":
        out.append("error %s:%d" % (r["file"].rsplit("/", 1)[-1], r["line"]))
    elif r["type"] == "summary":
        out.append("summary %d %d %d %d %d" % (r["entries"], r["refused"], r["tags"],
                                               r["alert_rules"], r["below_floor"]))
print("\n".join(out))
EOF
)
is "--json: every figure, miss, false positive and refused line" "$got" \
  "error corpus.jsonl:4
error corpus.jsonl:5
tag coastal 1 0 0 1.0000 1.0000 1.0000
tag labelled 0 0 0 1.0000 1.0000 1.0000
tag transport 1 0 0 1.0000 1.0000 1.0000
tag weather 2 1 0 0.6667 1.0000 0.8000
false_positive weather corpus.jsonl:7 mayor Hail to the new mayor, the crowd cheers
alert flood-alert 1 0 1 1.0000 0.5000 0.6667
miss flood-alert corpus.jsonl:8 - Melting snow floods the cellars
summary 6 2 4 1 0"

# ---- --against ----
cli against eval --json --rules "$T/new" --against "$T/old" "$T/clean.jsonl"
is "--against on a clean corpus: exit status 0" "$rc" 0
got=$(python3 - "$T/against.out" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
for r in rows:
    if r["type"] == "tag" and r["tag"] == "weather":
        print("%s %d %d %d %.4f" % (r["set"], r["tp"], r["fp"], r["fn"], r["f1"]))
for r in rows:
    if r["type"] in ("fixed", "broken"):
        print(r["type"], r["tag"], r["line"])
EOF
)
is "--against: both sets' weather figures, and the lines fixed and broken" "$got" \
  "rules 2 1 0 0.8000
against 1 1 1 0.5000
fixed weather 2
fixed weather 3
broken weather 5"
cli against_text eval --rules "$T/new" --against "$T/old" "$T/clean.jsonl"
like "--against in text: both figures on the tag's row" "$(grep '^weather ' "$T/against_text.out")" \
  '^weather +2 +1 +0 +0\.667 +1\.000 +0\.800 \| +1 +1 +1 +0\.500 +0\.500 +0\.500$'
like "--against in text: the broken line named" "$(cat "$T/against_text.out")" \
  'broken +[^ ]*clean\.jsonl:5 \[mayor\]: Hail to the new mayor'

# ---- --min-f1 ----
cli floor_ok eval --rules "$T/new" --min-f1 weather=0.8 --min-f1 transport=1 "$T/clean.jsonl"
is "--min-f1 at or under the F1 reached: exit status 0" "$rc" 0
cli floor_low eval --rules "$T/old" --min-f1 weather=0.8 --min-f1 transport=1 "$T/clean.jsonl"
is "--min-f1 above the F1 reached: exit status 1" "$rc" 1
like "it says which tag is below its floor" "$(cat "$T/floor_low.err")" \
  "tag 'weather': F1 0\.500 is below its floor 0\.800"
cli floor_json eval --json --rules "$T/old" --min-f1 weather=0.8 "$T/clean.jsonl"
like "--json: the summary counts the floors failed" "$(tail -n 1 "$T/floor_json.out")" \
  '"below_floor":1'
cli floor_unknown eval --rules "$T/new" --min-f1 wether=0.5 "$T/clean.jsonl"
is "--min-f1 on a tag no line scores fails" "$rc" 1
like "and says so" "$(cat "$T/floor_unknown.err")" \
  "min-f1 wether: no corpus line scores this tag or alert rule"
cli floor_bad eval --rules "$T/new" --min-f1 weather=high "$T/clean.jsonl"
is "--min-f1 without a number is a usage error" "$rc" 2

# ---- reject_alerts, and floors on alert rules ----
# A line naming reject_alerts scores only the alert rules it names, in
# either list: ferry-alert fires on line 1 but no line names it.
mkdir -p "$T/alerts"
cat >"$T/alerts/alerts.lua" <<'EOF'
rule "flood-alert" {
  when = function(e) return e:find({ "floods" }) end,
  alert = "something floods",
}
rule "ferry-alert" {
  when = function(e) return e:find({ "ferry" }) end,
  alert = "ferry news",
}
EOF
cat >"$T/alerts.jsonl" <<'EOF'
{"date":"2024-04-01","text":"The river floods the ferry landing","expect_alerts":["flood-alert"],"reject_alerts":[]}
{"date":"2024-04-02","text":"Rain floods the square","expect_alerts":[],"reject_alerts":["flood-alert"]}
EOF
cli named_alerts eval --rules "$T/alerts" "$T/alerts.jsonl"
like "reject_alerts: the named rule is scored (tp 1, fp 1)" \
  "$(grep '^flood-alert ' "$T/named_alerts.out")" '^flood-alert +1 +1 +0 +0\.500 +1\.000 +0\.667$'
is "reject_alerts: a rule no line names is not scored" "$(grep -c '^ferry-alert' "$T/named_alerts.out")" 0
cli alert_floor eval --rules "$T/alerts" --min-f1 flood-alert=0.6 "$T/alerts.jsonl"
is "--min-f1 on an alert rule at or under its F1: exit status 0" "$rc" 0
cli alert_floor_low eval --rules "$T/alerts" --min-f1 flood-alert=0.9 "$T/alerts.jsonl"
is "--min-f1 on an alert rule above its F1: exit status 1" "$rc" 1
like "it names the alert rule below its floor" "$(cat "$T/alert_floor_low.err")" \
  "alert rule 'flood-alert': F1 0\.667 is below its floor 0\.900"

cli nothing eval --rules "$T/new"
is "no corpus named is a usage error" "$rc" 2
cli missing eval --rules "$T/new" "$T/nowhere.jsonl"
like "a corpus that cannot be read is named" "$(cat "$T/missing.err")" "nowhere.jsonl: cannot read"

check_sanitizers "no sanitizer report from eval" $_cli_errs
done_testing

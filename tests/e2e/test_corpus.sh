#!/bin/sh
# The hand-labelled corpus of tests/corpus is well formed: every line of
# korea.jsonl and heldout.jsonl parses, ids are unique across both, dates
# are real, each line names every tag once and its alert labels follow from
# the tags (tests/corpus/check.py). The checker itself refuses a broken
# file, naming the line and the reason.
#
# Then the shipped rules are measured on both parts with `vigil eval`: each
# tag and the launch-then-exercise alert must reach the F1 floors below,
# set a little under what the rules reach (README: "How good are the
# shipped rules"). A change to rules/ or scripts/ that makes the rules worse
# on real news fails here, naming the tag.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

CORPUS=$E2E/../corpus

check "the corpus files are well formed" python3 "$CORPUS/check.py"

cat >"$T/bad.jsonl" <<'JSON'
{"id": "x1", "date": "2017-07-04", "source": "s", "text": "a", "expect_tags": ["launch"], "reject_tags": ["launch-report", "show-of-force", "north-korea-drill", "reaction", "plan"]}
{"id": "x1", "date": "2017-02-30", "source": "s", "text": "b", "expect_tags": [], "reject_tags": ["launch", "show-of-force", "north-korea-drill", "reaction", "plan"]}
not json
JSON
python3 "$CORPUS/check.py" "$T/bad.jsonl" >"$T/bad.out" 2>"$T/bad.err"
is "a broken corpus file is refused" "$?" 1
like "a reused id is named" "$(cat "$T/bad.err")" "bad.jsonl:2: id x1 already used at bad.jsonl:1"
like "an impossible date is named" "$(cat "$T/bad.err")" "bad.jsonl:2: date '2017-02-30' is not a valid"
like "a tag left out is named" "$(cat "$T/bad.err")" "bad.jsonl:2: tag launch-report named 0 times"
like "a line that is not JSON is named" "$(cat "$T/bad.err")" "bad.jsonl:3: not JSON"

# A launch with a show of force ten days later: both are named by the alert,
# and a line saying otherwise is refused.
cat >"$T/pair.jsonl" <<'JSON'
{"id": "p1", "date": "2017-07-04", "source": "s", "text": "a", "expect_tags": ["launch"], "reject_tags": ["launch-report", "show-of-force", "north-korea-drill", "reaction", "plan"], "expect_alerts": [], "reject_alerts": ["launch-then-exercise"]}
{"id": "p2", "date": "2017-07-14", "source": "s", "text": "b", "expect_tags": ["show-of-force"], "reject_tags": ["launch", "launch-report", "north-korea-drill", "reaction", "plan"], "expect_alerts": ["launch-then-exercise"], "reject_alerts": []}
JSON
python3 "$CORPUS/check.py" "$T/pair.jsonl" >"$T/pair.out" 2>"$T/pair.err"
is "alert labels that disagree with the tags are refused" "$?" 1
like "the line is named with what its alert labels should be" "$(cat "$T/pair.err")" \
  "pair.jsonl:1: expect_alerts \[\] and reject_alerts \['launch-then-exercise'\] should be \['launch-then-exercise'\] and \[\]"
cp "$T/pair.jsonl" "$T/fixed.jsonl"
python3 "$CORPUS/check.py" --write-alerts "$T/fixed.jsonl" >/dev/null 2>&1
check "--write-alerts writes the alert labels the tags call for" python3 "$CORPUS/check.py" "$T/fixed.jsonl"

# ---- the shipped rules on the corpus ----
"$VIGIL" eval --rules "$RULES" \
  --min-f1 launch=0.97 --min-f1 launch-report=0.95 --min-f1 show-of-force=0.98 \
  --min-f1 north-korea-drill=0.95 --min-f1 reaction=0.86 --min-f1 plan=0.89 \
  --min-f1 launch-then-exercise=0.97 "$CORPUS/korea.jsonl" >"$T/korea.out" 2>"$T/korea.err"
is "korea.jsonl: every tag and the alert reach their floors" "$?" 0
is "korea.jsonl: nothing below a floor" "$(cat "$T/korea.err")" ""
"$VIGIL" eval --rules "$RULES" \
  --min-f1 launch=0.85 --min-f1 launch-report=0.7 --min-f1 show-of-force=0.9 \
  --min-f1 north-korea-drill=0.95 --min-f1 reaction=0.9 --min-f1 plan=0.9 \
  --min-f1 launch-then-exercise=0.95 "$CORPUS/heldout.jsonl" >"$T/heldout.out" 2>"$T/heldout.err"
is "heldout.jsonl: every tag and the alert reach their floors" "$?" 0
is "heldout.jsonl: nothing below a floor" "$(cat "$T/heldout.err")" ""
like "the figures name the alert" "$(cat "$T/korea.out")" "^launch-then-exercise +[0-9]"

done_testing

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
# measure FILE FLOOR...: the shipped rules on tests/corpus/FILE.jsonl reach
# every floor (NAME=X, one --min-f1 each).
measure() {
  _file=$1
  shift
  _floors=""
  for _f; do _floors="$_floors --min-f1 $_f"; done
  # shellcheck disable=SC2086
  "$VIGIL" eval --rules "$RULES" $_floors "$CORPUS/$_file.jsonl" >"$T/$_file.out" 2>"$T/$_file.err"
  is "$_file.jsonl: every tag and the alert reach their floors" "$?" 0
  is "$_file.jsonl: nothing below a floor" "$(cat "$T/$_file.err")" ""
}
measure korea launch=0.97 launch-report=0.95 show-of-force=0.98 north-korea-drill=0.95 \
  reaction=0.86 plan=0.88 launch-then-exercise=0.97
measure heldout launch=0.85 launch-report=0.7 show-of-force=0.9 north-korea-drill=0.95 \
  reaction=0.9 plan=0.9 launch-then-exercise=0.95
like "the figures name the alert" "$(cat "$T/korea.out")" "^launch-then-exercise +[0-9]"

done_testing

#!/bin/sh
# The hand-labelled corpus of tests/corpus is well formed: every line of
# korea.jsonl and heldout.jsonl parses, ids are unique across both, dates
# are real, and each line names every tag once (tests/corpus/check.py).
# The checker itself refuses a broken file, naming the line and the reason.
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

done_testing

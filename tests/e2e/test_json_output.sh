#!/bin/sh
# End-to-end: --json on every command that prints records or a summary, and
# the daemon's log with log_format = "json". Each command's output is parsed
# line by line with python3's json module (a line that does not parse fails
# the check), and the fields a user reads are compared with the database:
# ingest's counts and rejected lines, query and alerts, replay, check and
# test on good and broken rule files, poll and feeds against a local feed
# server, digest --list and digest NAME. Then a daemon logging JSON is fed
# lines holding escape sequences, line breaks and bytes that are not UTF-8:
# every line of its log parses and has ts, level and msg (tests/unit/test_log.c
# checks the escaping of each kind of byte).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# cli NAME ARG...: runs vigil with the arguments; its output in $T/NAME.out
# and $T/NAME.err, its status in $rc.
cli() {
  _name=$1
  shift
  timeout 300 "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
}

# pj FILE EXPR: parses every line of FILE as JSON into the list L and prints
# the Python expression EXPR over it; "unparsed line N: ..." when a line
# does not parse (and none at all is an empty L).
pj() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
L = []
with open(sys.argv[1], "rb") as f:
    for n, line in enumerate(f, 1):
        try:
            L.append(json.loads(line.decode("utf-8")))
        except ValueError as e:
            print("unparsed line %d: %s: %r" % (n, e, line[:200]))
            sys.exit(0)
print(eval(sys.argv[2]))
EOF
}

# ---- ingest ----
printf '2023-05-01: A line to keep.\nno date here\n2023-05-02: Another.\n\n' >"$T/mixed.txt"
cli ingest ingest --json --db "$DB" --rules "$RULES" "$FIXTURES/chronology.txt" "$T/mixed.txt"
is "ingest --json: exit status 1 (a line was rejected)" "$rc" 1
stored=$(sq "select count(*) from entries")
is "ingest --json: the summary's stored count is the entries stored" \
  "$(pj "$T/ingest.out" '[(o["stored"], o["duplicates"], o["files"], o["interrupted"]) for o in L if o["type"] == "summary"]')" \
  "[($stored, 0, 2, False)]"
is "... its rejected count is the rows of the rejects table" \
  "$(pj "$T/ingest.out" '[o["rejected"] for o in L if o["type"] == "summary"]')" \
  "[$(sq "select count(*) from rejects")]"
is "... each file has its own counts" \
  "$(pj "$T/ingest.out" '[(o["file"].split("/")[-1], o["rejected"]) for o in L if o["type"] == "file"]')" \
  "[('chronology.txt', 0), ('mixed.txt', 2)]"
is "... each rejected line with its file, number and reason" \
  "$(pj "$T/ingest.out" '[(o["file"].split("/")[-1], o["line"], bool(o["reason"])) for o in L if o["type"] == "reject"]')" \
  "[('mixed.txt', 2, True), ('mixed.txt', 4, True)]"
is "... and no rejected line on standard error" "$(count_matching 'mixed.txt' "$T/ingest.err")" 0

cli stdin ingest --json --db "$DB" --no-rules --source mixed.txt - <"$T/mixed.txt"
is "ingest --json from standard input: the duplicates counted" \
  "$(pj "$T/stdin.out" '[(o["file"], o["stored"], o["duplicates"]) for o in L if o["type"] == "file"]')" \
  "[('stdin', 0, 2)]"

# ---- query, alerts, replay ----
cli query query --json --db "$DB"
is "query --json: one object an entry" "$(pj "$T/query.out" 'len(L)')" "$stored"
is "... each with its id, date and text" \
  "$(pj "$T/query.out" 'all(o["id"] > 0 and o["date"] and o["text"] for o in L)')" True
alerts=$(sq "select count(*) from alerts")
cli alerts alerts --json --db "$DB"
is "alerts --json: one object an alert" "$(pj "$T/alerts.out" 'len(L)')" "$alerts"
isnt "... and the shipped rules raised some" "$alerts" 0

cli replay replay --json --db "$DB" --rules "$RULES"
is "replay --json: exit status 0" "$rc" 0
is "replay --json: the entries replayed, no new alert, not interrupted" \
  "$(pj "$T/replay.out" '[(o["type"], o["entries"], o["new_alerts"], o["interrupted"]) for o in L]')" \
  "[('summary', $stored, 0, False)]"

# ---- check and test ----
mkdir -p "$T/broken" "$T/failing"
printf 'rule "x" {\n  when = function(e) return e:find( end,\n}\n' >"$T/broken/syntax.lua"
cat >"$T/failing/wrong.lua" <<'EOF'
rule "tag-rain" { when = function(e) return e:find{"rain"} end, tags = {"rain"} }
test "rain is rain" {
  given = { "2023-04-01: Rain fell all day." },
  tags = { {"rain"} },
}
test "sun is not rain, says this case wrongly" {
  given = { "2023-04-02: Sun all day." },
  tags = { {"rain"} },
}
EOF
cli check-bad check --json "$T/broken"
is "check --json on a broken file: exit status 1" "$rc" 1
is "... the error with its file and line" \
  "$(pj "$T/check-bad.out" '[(o["file"].split("/")[-1], o["line"]) for o in L if o["type"] == "error"]')" \
  "[('syntax.lua', 2)]"
is "... and the summary counts it" \
  "$(pj "$T/check-bad.out" '[o["errors"] for o in L if o["type"] == "summary"]')" "[1]"
cli check-good check --json "$RULES"
is "check --json on the shipped rules: no error" \
  "$(pj "$T/check-good.out" '[(o["type"], o["errors"], o["rules"] > 0) for o in L]')" \
  "[('summary', 0, True)]"

cli test-fail test --json "$T/failing"
is "test --json with a failing case: exit status 1" "$rc" 1
is "... each case with its name and verdict" \
  "$(pj "$T/test-fail.out" '[(o["name"], o["passed"]) for o in L if o["type"] == "case"]')" \
  "[('rain is rain', True), ('sun is not rain, says this case wrongly', False)]"
like "... the failing one says what differs" \
  "$(pj "$T/test-fail.out" '[o["differences"] for o in L if o["type"] == "case" and not o["passed"]]')" \
  "missing tag 'rain'"
is "... and the summary" \
  "$(pj "$T/test-fail.out" '[(o["passed"], o["failed"]) for o in L if o["type"] == "summary"]')" "[(1, 1)]"
cli test-good test --json "$RULES"
is "test --json on the shipped rules: every case passed" \
  "$(pj "$T/test-good.out" '(sum(1 for o in L if o["type"] == "case" and o["passed"]), [o["failed"] for o in L if o["type"] == "summary"])')" \
  "($(grep -c '^test "' "$RULES"/*.lua | awk -F: '{s += $2} END {print s}'), [0])"

# ---- poll and feeds ----
WWW=$T/www
mkdir -p "$WWW"
cp "$FIXTURES/feeds/rss.xml" "$WWW/rss.xml"
python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
bg_started $!
if wait_for 60 test -s "$T/port"; then
  URL=http://127.0.0.1:$(cat "$T/port")/feed/rss.xml
  BAD=http://127.0.0.1:$(cat "$T/port")/feed/missing.xml
  cli poll poll --json --db "$DB" --no-rules "$URL" "$BAD"
  is "poll --json: exit status 1 (a feed failed)" "$rc" 1
  is "poll --json: the good feed stored its items, the missing one failed" \
    "$(pj "$T/poll.out" 'sorted((o["url"].split("/")[-1], o["status"], o["stored"] > 0, "error" in o) for o in L if o["type"] == "feed")')" \
    "[('missing.xml', 'failed', False, True), ('rss.xml', 'stored', True, False)]"
  is "... the summary's stored count is what the feed stored" \
    "$(pj "$T/poll.out" '[(o["feeds"], o["failed"], o["stored"]) for o in L if o["type"] == "summary"]')" \
    "[(2, 1, $(sq "select count(*) from feed_items"))]"
  cli feeds feeds --all --json --db "$DB"
  is "feeds --all --json: each feed's health, polled once and so not scheduled" \
    "$(pj "$T/feeds.out" 'sorted((o["url"].split("/")[-1], o["polls"], o["failures"], o["last_error"] is None, o["scheduled"], o["next_poll"]) for o in L)')" \
    "[('missing.xml', 1, 1, False, False, None), ('rss.xml', 1, 0, True, False, None)]"
else
  fail "the feed server started" "$(cat "$T/server.err")"
fi

# ---- digests ----
cat >"$T/digest.conf" <<EOF
timezone = "UTC"
digests = {
  weekly = { schedule = "0 7 * * 1", days = 7, template = "weekly", out = "$T/dg" },
  broken = { schedule = "not a schedule", days = 1, template = "daily", out = "$T/dg" },
}
EOF
cli list digest --list --json --config "$T/digest.conf" --db "$DB"
is "digest --list --json: each digest with its schedule" \
  "$(pj "$T/list.out" 'sorted((o["digest"], o["schedule"], o["days"], o["last_period"], o["next_run"] is None, "error" in o) for o in L)')" \
  "[('broken', 'not a schedule', 1, None, True, True), ('weekly', '0 7 * * 1', 7, None, False, False)]"
cli render digest weekly --at 2023-12-20 --json --config "$T/digest.conf" --db "$DB"
is "digest NAME --json: exit status 0" "$rc" 0
files=$(pj "$T/render.out" '" ".join(o["file"] for o in L if o["digest"] == "weekly")')
isnt "... names the files written" "$files" ""
missing=""
for f in $files; do [ -s "$f" ] || missing="$missing $f"; done
is "... and each of them is there" "$missing" ""

# ---- the daemon's log as JSON ----
cat >"$T/jsonlog.conf" <<'EOF'
log_format = "json"
EOF
start_daemon --config "$T/jsonlog.conf" --rules "$RULES" --log-level debug
printf '2023-06-01: North Korea fires a Hwasong-18 ICBM \033[31mred\033[0m.\nno date \001\002 \377\376 here\n{"date": "bad\\u001b[2J\\nforged", "text": "x"}\n' |
  send_unix >"$T/replies.txt"
check "the daemon answered the three lines" test "$(line_count "$T/replies.txt")" -eq 3
stop_daemon
is "the daemon stopped cleanly" "$DRC" 0
is "every line of its log parses as JSON with ts, level and msg" \
  "$(pj "$DLOG" 'all(set(o) >= {"ts", "level", "msg"} and o["level"] in ("debug", "info", "notice", "warn", "error") for o in L) and len(L) > 3')" True
like "... it said ready" "$(pj "$DLOG" '[o["msg"] for o in L]')" "'ready'"
is "... and the alert quoting the entry holds its escape character, escaped by JSON" \
  "$(pj "$DLOG" 'any(o["msg"].startswith("alert ") and "ICBM \x1b[31mred" in o["msg"] for o in L)')" True

printf 'log_format = "yaml"\n' >"$T/badlog.conf"
cli badlog run --config "$T/badlog.conf" --db "$T/other.db"
is "log_format = \"yaml\": vigil run refuses it (status 2)" "$rc" 2
like "... saying what it takes" "$(cat "$T/badlog.err")" "log_format must be text or json"

done_testing

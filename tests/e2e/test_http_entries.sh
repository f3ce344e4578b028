#!/bin/sh
# End-to-end: entries over HTTP. POST /v1/entries takes a JSON object or
# array, JSON Lines and chronology lines; each line is answered stored,
# duplicate or rejected (rejects kept as a socket's are), and what the reply
# says stored is in the database (sqlite3) when the reply comes. A body that
# is not JSON is refused 400 naming where; text/plain 415; an empty body
# 400; a body over http_max_body 413. Backpressure: with max_pending = 1 and
# a body waiting (batch_ms long), another body is refused 503 with
# Retry-After and nothing of it is stored; a client that leaves before its
# answer loses nothing; a stop before a body is stored answers it 503, not
# stored. GET /v1/entries pages through everything with its cursor, each
# entry once, in the order of `vigil query`, and filters as `vigil query`
# does; GET /v1/entries/{id} is `vigil show --json ID` with its url; 404 and
# 400 for ids. Two requests on one connection: one connect.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need curl python3

# post NAME CTYPE FILE [QUERY]: POSTs FILE to /v1/entries; the body in
# $T/NAME.out, the headers in $T/NAME.hdr; sets code.
post() {
  code=$(timeout 120 curl -s -o "$T/$1.out" -D "$T/$1.hdr" -w '%{http_code}' \
    -H "Content-Type: $2" --data-binary "@$3" "$HTTP/v1/entries${4:-}")
}

# get NAME PATH: GETs PATH; the body in $T/NAME.out; sets code.
get() {
  code=$(timeout 120 curl -s -o "$T/$1.out" -w '%{http_code}' "$HTTP$2")
}

# js NAME EXPR: prints the Python expression EXPR over the JSON in
# $T/NAME.out (as d).
js() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$T/$1.out"
}

# batch_max = 10: a body of 25 lines is stored in three transactions, and
# answered once the last has committed.
echo 'batch_max = 10' >"$T/first.conf"
start_daemon --rules "$RULES" --config "$T/first.conf" || { done_testing; exit 1; }

# ---- POST: each content type ----

cat >"$T/lines.jsonl" <<'X'
{"date": "2024-05-01", "text": "North Korea fired a short-range ballistic missile into the East Sea"}
{"date": "2024-05-02", "text": "Seoul convened its national security council after the launch"}
this line is no JSON
{"date": "2024-05-01", "text": "North Korea fired a short-range ballistic missile into the East Sea"}
X
post jsonl application/x-ndjson "$T/lines.jsonl"
is "JSON Lines: 200" "$code" 200
is "JSON Lines: what became of each line" \
  "$(js jsonl '" ".join(r["status"] for r in d["results"]), d["stored"], d["duplicates"], d["rejected"]')" \
  "stored stored rejected duplicate 2 1 1"
is "JSON Lines: the duplicate names the first line's entry" \
  "$(js jsonl 'd["results"][3]["id"] == d["results"][0]["id"], d["results"][2]["line"]')" "True 3"
like "JSON Lines: the rejected line says why" "$(js jsonl 'd["results"][2]["reason"]')" 'JSON'
# Read at once: the reply came after the commit.
is "the entries said stored are in the database when the reply comes" \
  "$(sq "SELECT count(*) FROM entries WHERE source = 'http'")" 2
is "the rejected line is kept in rejects, with where it came from" \
  "$(sq "SELECT count(*) FROM rejects WHERE source = 'http' AND origin LIKE 'http %' AND line = 3")" 1

printf '{"date": "2024-06-03", "text": "Joint drills began near the demilitarized zone"}' >"$T/one.json"
post one application/json "$T/one.json" '?source=wire'
is "a JSON object: 200, stored" "$code $(js one 'd["results"][0]["status"], d["stored"]')" "200 stored 1"
is "?source= names the entry's source" \
  "$(sq "SELECT source FROM entries WHERE id = $(js one 'd["results"][0]["id"]')")" wire

cat >"$T/array.json" <<'X'
[{"date": "2024-06-10", "text": "Pyongyang announced a military reconnaissance satellite launch window"},
 {"date": "2024-06-11", "text": "Tokyo protested the announced satellite launch"},
 ["not", "an", "object"]]
X
post array 'application/json; charset=UTF-8' "$T/array.json"
is "a JSON array: one line per element" \
  "$code $(js array '[r["status"] for r in d["results"]], [r["line"] for r in d["results"]]')" \
  "200 ['stored', 'stored', 'rejected'] [1, 2, 3]"
is "an element is stored as its JSON line" \
  "$(sq "SELECT count(*) FROM entries WHERE text = 'Tokyo protested the announced satellite launch'")" 1

printf '2024-07-04: The unification ministry proposed military talks\n2024-07-05 no colon here\n' >"$T/chrono.txt"
post chrono 'text/x-chronology; charset=utf-8' "$T/chrono.txt"
is "chronology lines: 200, one stored, one rejected" \
  "$code $(js chrono 'd["stored"], d["rejected"]')" "200 1 1"

printf '{"date": "2024-08-01", "text": "x"}\n' >"$T/ld.jsonl"
post jsonl2 application/jsonl "$T/ld.jsonl"
is "application/jsonl is JSON Lines" "$code $(js jsonl2 'd["stored"]')" "200 1"

# ---- POST: refusals ----

printf '[{"date": "2024-06-01",\n  "text": oops}]' >"$T/bad.json"
post bad application/json "$T/bad.json"
is "bad JSON: 400" "$code" 400
like "bad JSON: the error says where" "$(js bad 'd["error"]')" 'line 2, column 11'
post plain text/plain "$T/lines.jsonl"
is "text/plain: 415" "$code" 415
post unknown application/xml "$T/lines.jsonl"
like "another content type: 415 naming the ones taken" "$code $(js unknown 'd["error"]')" \
  '^415 .*text/x-chronology'
: >"$T/empty"
post empty application/x-ndjson "$T/empty"
is "an empty body: 400" "$code" 400
post badsrc application/x-ndjson "$T/ld.jsonl" '?source=a%20b'
like "a bad source: 400 naming the parameter" "$code $(js badsrc 'd["error"]')" "^400 .*'source'"
post unkparam application/x-ndjson "$T/ld.jsonl" '?sauce=x'
like "an unknown parameter: 400 naming it" "$code $(js unkparam 'd["error"]')" "^400 .*'sauce'"

# One object over max_line (1 MiB) is refused as the same line from the
# socket or in an array is, and kept in rejects.
python3 -c '
import json, sys
print(json.dumps({"date": "2024-06-02", "text": "A long report. " * 80000}))' >"$T/huge.json"
rejects_before=$(sq 'select count(*) from rejects')
post huge application/json "$T/huge.json"
like "one object over max_line: rejected for its length" \
  "$code $(js huge 'd["results"][0]["status"] + " " + d["results"][0]["reason"]')" \
  '^200 rejected .*over the 1048576-byte cap'
is "... kept in rejects, not stored" "$(sq 'select count(*) from rejects') $(sq "select count(*) from entries where date = '2024-06-02'")" \
  "$((rejects_before + 1)) 0"

# ---- keep-alive ----

n=$(timeout 120 curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "$HTTP/v1/entries?limit=1" \
  "$HTTP/v1/entries?limit=2")
is "two requests on one connection: the second connects not" "$n" "1 0 "

# ---- GET /v1/entries: pages, filters ----

python3 -c '
for i in range(25):
    print("{\"date\": \"2023-%02d-%02d\", \"text\": \"Artillery drill number %d on the western islands\"}"
          % (1 + i % 12, 1 + i, i))' >"$T/many.jsonl"
post many application/x-ndjson "$T/many.jsonl" '?source=drills'
is "25 more entries stored, over three batches, in one reply" \
  "$code $(js many 'd["stored"], [r["line"] for r in d["results"]] == list(range(1, 26))')" "200 25 True"
is "and all 25 are in the database" "$(sq "SELECT count(*) FROM entries WHERE source = 'drills'")" 25

cursor=
pages=0
: >"$T/paged"
while :; do
  get page "/v1/entries?limit=7${cursor:+&cursor=$cursor}"
  [ "$code" = 200 ] || break
  pages=$((pages + 1))
  js page '"\n".join(str(e["id"]) for e in d["entries"])' >>"$T/paged"
  cursor=$(js page 'd["next"] or ""')
  [ -n "$cursor" ] && [ $pages -lt 100 ] || break
done
is "paging ends with next null" "$code $cursor" "200 "
sq "SELECT id FROM entries ORDER BY day_first, id" >"$T/all"
check "the pages hold every entry once, in the query's order" cmp "$T/paged" "$T/all"
is "7 a page" "$pages" $((($(line_count "$T/all") + 6) / 7))

get bysrc "/v1/entries?source=wire"
is "source filter" "$(js bysrc '[e["source"] for e in d["entries"]], d["next"]')" "['wire'] None"
get bytext "/v1/entries?text=satellite"
is "text filter" "$(js bytext 'len(d["entries"])')" 2
get bydate "/v1/entries?since=2024-05&until=2024-05-31"
is "since and until" "$(js bydate 'sorted(set(e["date"] for e in d["entries"]))')" \
  "['2024-05-01', '2024-05-02']"
tag=$(sq "SELECT tag FROM tags GROUP BY tag ORDER BY count(*) DESC, tag LIMIT 1")
get bytag "/v1/entries?tag=$tag&limit=1000"
is "tag filter" "$(js bytag 'len(d["entries"])')" \
  "$(sq "SELECT count(DISTINCT entry_id) FROM tags WHERE tag = '$tag'")"
"$VIGIL" query --json --db "$DB" --tag "$tag" >"$T/cli_tag.out"
check "an entry listed is what vigil query --json prints" python3 -c '
import json, sys
api = json.load(open(sys.argv[1]))["entries"]
cli = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(api != cli)' "$T/bytag.out" "$T/cli_tag.out"
get badlimit "/v1/entries?limit=1001"
like "limit over 1000: 400 naming it" "$code $(js badlimit 'd["error"]')" "^400 .*'limit'"
get baddate "/v1/entries?since=2024-13-01"
like "a bad date: 400 naming the parameter" "$code $(js baddate 'd["error"]')" "^400 .*'since'"
get badcursor "/v1/entries?cursor=nonsense"
like "a bad cursor: 400" "$code $(js badcursor 'd["error"]')" "^400 .*'cursor'"
get unk "/v1/entries?order=desc"
like "an unknown parameter: 400" "$code $(js unk 'd["error"]')" "^400 .*'order'"

# ---- GET /v1/entries/{id} ----

id=$(js jsonl 'd["results"][0]["id"]')
get show "/v1/entries/$id"
is "an entry by id: 200" "$code" 200
"$VIGIL" show --json --db "$DB" "$id" >"$T/cli_show.out"
check "it is vigil show --json and its url" python3 -c '
import json, sys
api = json.load(open(sys.argv[1]))
cli = json.loads(open(sys.argv[2]).read())
url = api.pop("url")
sys.exit(api != cli or not url.endswith("/v1/entries/" + sys.argv[3]))' \
  "$T/show.out" "$T/cli_show.out" "$id"
get missing "/v1/entries/999999"
is "no such entry: 404" "$code" 404
get notid "/v1/entries/12x"
is "not an id: 400" "$code" 400
get zero "/v1/entries/0"
is "id 0: 400" "$code" 400

stop_daemon
is "vigil run #1 stopped cleanly" "$DRC" 0

# ---- limits: 413, 503 under backpressure, a client that leaves ----

cat >"$T/small.conf" <<'X'
http_max_body = 1000
max_pending = 1
batch_ms = 600000
X
start_daemon --rules "$RULES" --config "$T/small.conf" --log-level debug || { done_testing; exit 1; }
python3 -c '
for i in range(30):
    print("{\"date\": \"2022-01-%02d\", \"text\": \"A long report of a naval patrol %d\"}" % (1 + i, i))' \
  >"$T/big.jsonl"
post big application/x-ndjson "$T/big.jsonl"
is "a body over http_max_body: 413" "$code" 413
head -n 2 "$T/big.jsonl" >"$T/two.jsonl"
post two application/x-ndjson "$T/two.jsonl"
like "a body of more lines than max_pending: 413" "$code $(js two 'd["error"]')" '^413 .*max_pending'

printf '{"date": "2022-02-01", "text": "A patrol boat crossed the northern limit line"}\n' >"$T/a.jsonl"
timeout 120 curl -s -o "$T/a.out" -H 'Content-Type: application/x-ndjson' \
  --data-binary "@$T/a.jsonl" "$HTTP/v1/entries" &
apid=$!
bg_started $apid
if wait_for 60 grep -q 'a body of 1 lines waits to be stored' "$DLOG"; then
  ok "a body waits for its batch"
else
  fail "a body waits for its batch" "$(tail -n 5 "$DLOG")"
fi
printf '{"date": "2022-02-02", "text": "A second patrol boat crossed the line"}\n' >"$T/b.jsonl"
post busy application/x-ndjson "$T/b.jsonl"
is "another body while max_pending lines wait: 503" "$code" 503
like "with Retry-After" "$(cat "$T/busy.hdr")" 'Retry-After: 1'
# The first client leaves before its answer; what it sent is stored.
kill "$apid"
wait "$apid" 2>/dev/null
sed 's/^batch_ms = .*/batch_ms = 2/' "$T/small.conf" >"$T/small2.conf" && mv "$T/small2.conf" "$T/small.conf"
kill -HUP "$DPID"
patrol_stored() {
  [ "$(sq "SELECT count(*) FROM entries WHERE text LIKE 'A patrol boat crossed%'")" = 1 ]
}
if wait_for 60 patrol_stored; then
  ok "a client that left before its answer: its entry is stored"
else
  fail "a client that left before its answer: its entry is stored" "$(tail -n 5 "$DLOG")"
fi
is "the body refused 503 was not stored" \
  "$(sq "SELECT count(*) FROM entries WHERE text LIKE 'A second patrol%'")" 0
stop_daemon
is "vigil run #2 stopped cleanly" "$DRC" 0

# ---- turns by arrival: a body that came before a socket line goes first ----

cat >"$T/order.conf" <<'X'
max_pending = 2
batch_ms = 600000
X
start_daemon --rules "$RULES" --config "$T/order.conf" --log-level debug || { done_testing; exit 1; }
printf '{"date": "2022-04-01", "text": "Posted first: a drone crossed into the capital region"}\n' \
  >"$T/first.jsonl"
timeout 120 curl -s -o "$T/first.out" -H 'Content-Type: application/x-ndjson' \
  --data-binary "@$T/first.jsonl" "$HTTP/v1/entries" &
fpid=$!
bg_started $fpid
if wait_for 60 grep -q 'a body of 1 lines waits to be stored' "$DLOG"; then
  ok "the body waits for its batch"
else
  fail "the body waits for its batch" "$(tail -n 5 "$DLOG")"
fi
# One line waits and max_pending is 2: a body of two more would go past it.
head -n 2 "$T/big.jsonl" >"$T/two-more.jsonl"
post past application/x-ndjson "$T/two-more.jsonl"
is "a body that would take the lines waiting past max_pending: 503" "$code" 503
printf '{"date": "2022-04-01", "text": "Sent second: the drone was tracked by radar"}\n' |
  send_unix >"$T/second.out" &
spid=$!
bg_started $spid
# Two lines waiting (the body's and the socket's) answer 503 before a body
# is looked at; one alone lets this body of three lines be refused 413.
head -n 3 "$T/big.jsonl" >"$T/three.jsonl"
socket_line_waits() {
  post probe application/x-ndjson "$T/three.jsonl"
  [ "$code" = 503 ]
}
if wait_for 60 socket_line_waits; then
  ok "the socket line waits too"
else
  fail "the socket line waits too" "last probe: $code $(cat "$T/probe.out")"
fi
sed 's/^batch_ms = .*/batch_ms = 2/' "$T/order.conf" >"$T/order2.conf" && mv "$T/order2.conf" "$T/order.conf"
kill -HUP "$DPID"
wait "$fpid"
wait "$spid"
like "the socket line is stored" "$(cat "$T/second.out")" '^ok [0-9]+$'
first_id=$(js first 'd["results"][0]["id"]')
second_id=$(sed -n 's/^ok //p' "$T/second.out")
if [ "${first_id:-0}" -gt 0 ] && [ "$first_id" -lt "${second_id:-0}" ]; then
  ok "the body that came first is stored first"
else
  fail "the body that came first is stored first" "body: entry $first_id, socket line: entry $second_id"
fi
stop_daemon
is "vigil run #3 stopped cleanly" "$DRC" 0

# ---- a stop before the body is stored ----

sed 's/^batch_ms = .*/batch_ms = 600000/' "$T/small.conf" >"$T/small2.conf" && mv "$T/small2.conf" "$T/small.conf"
start_daemon --rules "$RULES" --config "$T/small.conf" --log-level debug || { done_testing; exit 1; }
printf '{"date": "2022-03-01", "text": "Loudspeaker broadcasts resumed along the border"}\n' >"$T/c.jsonl"
timeout 120 curl -s -o "$T/c.out" -D "$T/c.hdr" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' \
  --data-binary "@$T/c.jsonl" "$HTTP/v1/entries" >"$T/c.code" &
cpid=$!
bg_started $cpid
if wait_for 60 grep -q 'a body of 1 lines waits to be stored' "$DLOG"; then
  ok "a body waits for its batch (again)"
else
  fail "a body waits for its batch (again)" "$(tail -n 5 "$DLOG")"
fi
stop_daemon
wait "$cpid"
is "stopped before it was stored: 503, the line not stored" \
  "$(cat "$T/c.code") $(js c '[r["status"] for r in d["results"]], d["stored"], d["not_stored"]')" \
  "503 ['not stored'] 0 1"
like "with Retry-After" "$(cat "$T/c.hdr")" 'Retry-After: 1'
is "nothing of it is in the database" \
  "$(sq "SELECT count(*) FROM entries WHERE text LIKE 'Loudspeaker%'")" 0
is "vigil run #4 stopped cleanly" "$DRC" 0

done_testing

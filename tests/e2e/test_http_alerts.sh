#!/bin/sh
# End-to-end: reading alerts, feeds and digests over the HTTP API with curl.
#   - GET /v1/alerts: the latest first, each filter (since, until, rule,
#     severity alone and as a list, state), limit, and a cursor walked until
#     next is null, every alert seen once while new ones arrive meanwhile;
#     bad and unknown parameters refused with 400 naming them;
#   - GET /v1/alerts/{id}: the alert and its entries in full; 404, 400;
#   - alerts' links: in the API, in alerts.jsonl (the http_listen address,
#     or public_url), none when http_listen is '';
#   - GET /v1/feeds: what `vigil feeds --json` says, a healthy and a failing
#     feed (tests/e2e/feedserver.py), all=true;
#   - GET /v1/digests and each file of a digest written by `vigil digest`,
#     with its content type; unknown digests and periods are 404, and no
#     path trickery (dot segments, encoded slashes, a planted link) reads
#     anything outside the digests' files.
. "$(dirname "$0")/lib.sh"

need curl python3

# get NAME PATH [CURL ARG...]: GET $HTTP$PATH with the body in $T/NAME.json
# and the headers in $T/NAME.head; sets code (the status).
get() {
  _gname=$1
  _gpath=$2
  shift 2
  code=$(timeout 120 curl -s --path-as-is -o "$T/$_gname.json" -D "$T/$_gname.head" \
    -w '%{http_code}' "$@" "$HTTP$_gpath")
}

# js NAME EXPR: EXPR, a Python expression of d (the JSON of $T/NAME.json), printed.
js() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(r if not isinstance(r, (list, dict, bool)) and r is not None else json.dumps(r))' \
    "$T/$1.json" "$2" 2>&1
}

# ids NAME: the ids of the alerts of $T/NAME.json, space-separated.
ids() {
  js "$1" "' '.join(str(a['id']) for a in d['alerts'])"
}

# header NAME FIELD: the value of a reply header (case-insensitive), without CR.
header() {
  grep -i "^$2:" "$T/$1.head" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'
}

# ---- rules of the test's own, a feed server, a configuration ----

mkdir -p "$T/rules"
cat >"$T/rules/watch.lua" <<'EOF'
rule "launch-watch" {
  when = function(e) return e:find{"launches", "fires"} end,
  alert = function(e)
    return { severity = e:find{"ICBM"} and "crit" or "warn", message = "launch: " .. e.text }
  end,
}

rule "talks-watch" {
  when = function(e) return e:find{"talks"} end,
  alert = function(e) return { severity = "info", message = "talks: " .. e.text } end,
}
EOF

WWW=$T/www
mkdir -p "$WWW"
cat >"$WWW/notes.txt" <<'EOF'
2023-12-04: The unification ministry publishes its yearly white paper.
2023-12-05: A ferry route between Incheon and Baengnyeong Island resumes after repairs.
EOF
python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
bg_started $!
if ! wait_for 60 test -s "$T/port"; then
  echo "Bail out! the feed server did not start: $(cat "$T/server.err")"
  exit 1
fi
FBASE=http://127.0.0.1:$(cat "$T/port")
GOOD=$FBASE/feed/notes.txt
BAD=$FBASE/status/500
ONCE="$FBASE/feed/notes.txt?once=1"

DG=$T/digests
cat >"$T/vigil.conf" <<EOF
alerts_file = "$T/alerts.jsonl"
timezone = "UTC"
feeds = {
  { url = "$GOOD", source = "notes", format = "chrono", interval = 3600 },
  { url = "$BAD", source = "broken", format = "chrono", interval = 3600 },
}
digests = {
  daily = { schedule = "0 0 1 1 *", days = 1, template = "daily", out = "$DG" },
  weekly = { schedule = "0 0 1 1 *", days = 7, template = "weekly", formats = {"md", "json"},
             out = "$DG" },
}
EOF

# A feed polled once by hand: `all=true` lists it, not scheduled.
timeout 300 "$VIGIL" poll --no-rules --db "$DB" --config "$T/vigil.conf" --format chrono \
  --source once "$ONCE" >"$T/poll.out" 2>"$T/poll.err"
is "vigil poll of a feed the configuration does not list: exit status 0" "$?" 0

start_daemon --rules "$T/rules" --config "$T/vigil.conf" || {
  diag "the daemon did not start; its log ends:" "$(tail -n 20 "$DLOG")"
  done_testing
}

# ---- alerts ----

cat >"$T/lines.txt" <<'EOF'
2023-11-21: North Korea launches a military reconnaissance satellite from Sohae.
2023-12-01: The two Koreas hold no talks as tension along the border grows.
2023-12-03: North Korea fires artillery near the western sea border.
2023-12-07: Seoul proposes talks on reunions of separated families.
2023-12-11: North Korea fires a short-range ballistic missile toward the East Sea.
2023-12-15: The Red Cross offers to host talks between the two Koreas.
2023-12-17: North Korea launches two cruise missiles over the Yellow Sea.
2023-12-18: North Korea fires a solid-fuel ICBM on a lofted path.
2024-01-05: North Korea fires about two hundred shells near Yeonpyeong Island.
2024-01-14: North Korea launches an intermediate-range missile with a hypersonic warhead.
2024-01-24: Envoys of Seoul, Tokyo and Washington hold talks on the missile programme.
2024-03-18: North Korea fires several short-range missiles from near Pyongyang.
EOF
send_unix <"$T/lines.txt" >"$T/sent.out"
is "twelve lines stored" "$(grep -c '^ok ' "$T/sent.out")" 12
is "... raising twelve alerts" "$(sq 'select count(*) from alerts')" 12
ALL=$(sq 'select id from alerts order by day desc, id desc' | tr '\n' ' ')
ALL=${ALL% }

get all /v1/alerts
is "GET /v1/alerts: 200" "$code" 200
is "... application/json" "$(header all content-type)" "application/json"
is "... every alert, the latest event first" "$(ids all)" "$ALL"
is "... and next is null" "$(js all "d['next']")" "null"
is "... each as vigil alerts --json gives it, with its link" \
  "$(js all "sorted(set(k for a in d['alerts'] for k in a))")" \
  '["cause", "created_at", "dashboard_url", "date", "entries", "id", "key", "message", "rule", "rule_file", "rule_hash", "severity", "silenced", "state", "url", "version"]'
id1=$(sq "select id from alerts where date = '2023-12-18'")
is "... the url of an alert is under the listen address" \
  "$(js all "[a['url'] for a in d['alerts'] if a['id'] == $id1][0]")" "$HTTP/v1/alerts/$id1"
is "... and its dashboard_url opens it in the dashboard" \
  "$(js all "[a['dashboard_url'] for a in d['alerts'] if a['id'] == $id1][0]")" "$HTTP/#alert/$id1"
"$VIGIL" alerts --json --db "$DB" >"$T/cli-alerts.out" 2>"$T/cli-alerts.err"
python3 - "$T/cli-alerts.out" "$T/all.json" >"$T/same.out" 2>&1 <<'EOF'
import json, sys
cli = {a["id"]: a for a in map(json.loads, open(sys.argv[1]))}
api = json.load(open(sys.argv[2]))["alerts"]
for a in api:
    url = a.pop("url")
    a.pop("dashboard_url")
    assert cli[a["id"]] == a, (cli[a["id"]], a)
assert len(api) == len(cli)
EOF
is "... and otherwise what vigil alerts --json prints" "$? $(cat "$T/same.out")" "0 "

# since/until as `vigil alerts` reads them: on the event date.
get since "/v1/alerts?since=2024-01-01"
is "since=2024-01-01: the alerts dated from then" "$(ids since)" \
  "$(sq "select id from alerts where date >= '2024-01-01' order by day desc, id desc" | tr '\n' ' ' |
    sed 's/ $//')"
get until "/v1/alerts?until=2023-11"
is "until=2023-11: November's alert alone (the month's last day included)" "$(ids until)" \
  "$(sq "select id from alerts where date = '2023-11-21'")"
get range "/v1/alerts?since=2023-12-10&until=2023-12-17"
is "since and until together: Dec. 10 to 17" "$(js range "[a['date'] for a in d['alerts']]")" \
  '["2023-12-17", "2023-12-15", "2023-12-11"]'
get rule "/v1/alerts?rule=talks-watch"
is "rule=talks-watch: its four alerts" "$(js rule "sorted(set(a['rule'] for a in d['alerts'])) + [len(d['alerts'])]")" \
  '["talks-watch", 4]'
get crit "/v1/alerts?severity=crit"
is "severity=crit: exactly crit (the ICBM)" "$(js crit "[(a['severity'], a['date']) for a in d['alerts']]")" \
  '[["crit", "2023-12-18"]]'
get warn "/v1/alerts?severity=warn"
is "severity=warn: exactly warn, not crit" "$(js warn "sorted(set(a['severity'] for a in d['alerts'])) + [len(d['alerts'])]")" \
  '["warn", 7]'
get two "/v1/alerts?severity=info,crit"
is "severity=info,crit: either" "$(js two "[len(d['alerts']), sorted(set(a['severity'] for a in d['alerts']))]")" \
  '[5, ["crit", "info"]]'
get mix "/v1/alerts?severity=warn&rule=launch-watch&since=2024-01-01&limit=2"
is "filters together, limit=2" "$(js mix "[a['date'] for a in d['alerts']] + [d['next'] is not None]")" \
  '["2024-03-18", "2024-01-14", true]'
get active "/v1/alerts?state=active"
is "state=active: every alert (none is silenced)" "$(ids active)" "$ALL"
get silenced "/v1/alerts?state=silenced"
is "state=silenced: none" "$(js silenced "[d['alerts'], d['next']]")" "[[], null]"

# Pages of five, walked by cursor until next is null, while alerts arrive:
# one dated after every page (never shown: the walk is past it) and one
# dated before them all (shown once, at the end).
seen=""
pages=0
cursor=""
while [ $pages -lt 20 ]; do
  pages=$((pages + 1))
  get "page$pages" "/v1/alerts?limit=5${cursor:+&cursor=$cursor}"
  [ "$code" = 200 ] || break
  seen="$seen $(ids "page$pages")"
  if [ $pages -eq 1 ]; then
    printf '%s\n' "2024-06-02: North Korea fires a volley of rockets into the sea." \
      "2023-10-02: North Korea fires a salvo of shells during an autumn drill." | send_unix \
      >"$T/sent2.out"
  fi
  cursor=$(js "page$pages" "d['next'] or ''")
  [ -n "$cursor" ] || break
done
is "the walk: three pages of 5, 5 and 3" \
  "$pages $(js page1 "len(d['alerts'])") $(js page3 "len(d['alerts'])")" "3 5 3"
old=$(sq "select id from alerts where date = '2023-10-02'")
new=$(sq "select id from alerts where date = '2024-06-02'")
is "... every alert there was at the start, seen once, the older newcomer last" \
  "$(echo $seen)" "$ALL $old"
isnt "... (the newer newcomer is stored)" "${new:-none}" none
get newest "/v1/alerts?limit=1"
is "... and a new listing starts with the newer newcomer" "$(ids newest)" "$new"
get limit1000 "/v1/alerts?limit=1000"
is "limit=1000 is allowed" "$code $(js limit1000 "len(d['alerts'])")" "200 14"

# Refusals: 400, naming the parameter.
refused() {
  get refused "$1"
  if [ "$code" = 400 ] && grep -q "$2" "$T/refused.json" &&
    [ "$(js refused "d['status']")" = 400 ]; then
    ok "$1: 400 naming $2"
  else
    fail "$1: 400 naming $2" "status $code: $(cat "$T/refused.json")"
  fi
}
refused "/v1/alerts?sort=date" "unknown parameter 'sort'"
refused "/v1/alerts?since=yesterdayish" "parameter 'since'"
refused "/v1/alerts?until=2023-13-01" "parameter 'until'"
refused "/v1/alerts?severity=high" "parameter 'severity'"
refused "/v1/alerts?severity=" "parameter 'severity'"
refused "/v1/alerts?state=muted" "parameter 'state'"
refused "/v1/alerts?limit=0" "parameter 'limit'"
refused "/v1/alerts?limit=1001" "parameter 'limit'"
refused "/v1/alerts?limit=ten" "parameter 'limit'"
refused "/v1/alerts?cursor=nonsense" "parameter 'cursor'"
refused "/v1/alerts?rule=%1B%5B31mlaunch" "parameter 'rule' holds a control character"
refused "/v1/alerts?severity=%FFwarn" "parameter 'severity' holds a control character"
refused "/v1/alerts?cursor=19000.0" "parameter 'cursor'"
refused "/v1/alerts/abc" "no alert id"
refused "/v1/alerts/0" "no alert id"
refused "/v1/alerts/-3" "no alert id"
refused "/v1/alerts/99999999999999999999" "no alert id"
refused "/v1/alerts/$id1?full=1" "unknown parameter 'full'"

get bytes "/v1/alerts/%FF%FE"
is "an id that is not UTF-8: 400, the reply still strict UTF-8 JSON" "$code $(python3 -c '
import json, sys
print(json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))["status"])' \
  "$T/bytes.json" 2>&1)" "400 400"

get one "/v1/alerts/$id1"
is "GET /v1/alerts/$id1: 200" "$code" 200
is "... the alert" "$(js one "[d['id'], d['rule'], d['severity'], d['date'], d['url']]")" \
  "[$id1, \"launch-watch\", \"crit\", \"2023-12-18\", \"$HTTP/v1/alerts/$id1\"]"
eid=$(sq "select entry_id from alert_entries where alert_id = $id1")
"$VIGIL" query --json --db "$DB" --since 2023-12-18 --until 2023-12-18 >"$T/q.out" 2>"$T/q.err"
is "... with its entries in full, as vigil query --json prints them" \
  "$(js one "[e for e in d['entries_detail']] == [json.loads(l) for l in open('$T/q.out')] and [e['id'] for e in d['entries_detail']]")" \
  "[$eid]"
get missing "/v1/alerts/424242"
is "an alert that does not exist: 404" "$code $(js missing "d['status']")" "404 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data '{}' "$HTTP/v1/alerts")
is "POST /v1/alerts: 405" "$code" 405

# ---- alerts' links in the sinks ----

check "alerts.jsonl holds the fourteen alerts" wait_running 60 \
  sh -c "[ \$(wc -l <'$T/alerts.jsonl') -ge 14 ]"
python3 - "$T/alerts.jsonl" "$HTTP" >"$T/links.out" 2>&1 <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
bad = [a for a in lines if a.get("url") != "%s/v1/alerts/%d" % (sys.argv[2], a["id"])
       or a.get("dashboard_url") != "%s/#alert/%d" % (sys.argv[2], a["id"])]
print(len(lines), len(bad))
EOF
is "... each line with its links (API and dashboard), under the listen address" "$(cat "$T/links.out")" "14 0"

printf '%s\n' "2023-12-18: North Korea fires a solid-fuel ICBM on a lofted path." >"$T/one.txt"
cat >"$T/public.conf" <<EOF
alerts_file = "$T/public.jsonl"
public_url = "https://vigil.example.org/watch/"
EOF
"$VIGIL" ingest --db "$T/public.db" --rules "$T/rules" --config "$T/public.conf" "$T/one.txt" \
  >"$T/public.out" 2>"$T/public.err"
like "vigil ingest with public_url: the alert's link is under it" "$(cat "$T/public.jsonl")" \
  '"url":"https://vigil.example.org/watch/v1/alerts/1"'
cat >"$T/nohttp.conf" <<EOF
alerts_file = "$T/nohttp.jsonl"
http_listen = ""
EOF
"$VIGIL" ingest --db "$T/nohttp.db" --rules "$T/rules" --config "$T/nohttp.conf" "$T/one.txt" \
  >"$T/nohttp.out" 2>"$T/nohttp.err"
is "with http_listen '' and no public_url: no link" \
  "$(grep -c '"url"' "$T/nohttp.jsonl") $(grep -c '"id":1' "$T/nohttp.jsonl")" "0 1"

# ---- feeds ----

polled() {
  [ "$(sq "select count(*) from feeds where url in ('$GOOD', '$BAD') and polls >= 1")" = 2 ]
}
check "the daemon polled both configured feeds" wait_running 120 polled
get feeds /v1/feeds
is "GET /v1/feeds: 200" "$code" 200
is "... the two configured feeds, the healthy one's items and the failing one's error" \
  "$(js feeds "[(f['source'], f['scheduled'], f['items'], f['failures'] > 0, f['last_error'] is not None) for f in d['feeds']]")" \
  '[["notes", true, 2, false, false], ["broken", true, 0, true, true]]'
"$VIGIL" feeds --json --db "$DB" --config "$T/vigil.conf" >"$T/feeds-cli.out" 2>"$T/feeds.err"
is "... what vigil feeds --json says" \
  "$(js feeds "d['feeds'] == [json.loads(l) for l in open('$T/feeds-cli.out')]")" true
get feedsall "/v1/feeds?all=true"
is "all=true: the feed polled by hand too, not scheduled" \
  "$(js feedsall "[(f['source'], f['scheduled']) for f in d['feeds']]")" \
  '[["notes", true], ["once", false], ["broken", true]]'
refused "/v1/feeds?all=maybe" "parameter 'all'"
refused "/v1/feeds?since=2023-01-01" "unknown parameter 'since'"

# ---- digests ----

for at in 2023-12-19 2023-12-18; do
  "$VIGIL" digest daily --at "$at" --db "$DB" --config "$T/vigil.conf" >>"$T/digest.out" \
    2>>"$T/digest.err"
done
"$VIGIL" digest weekly --at 2023-12-20 --db "$DB" --config "$T/vigil.conf" >>"$T/digest.out" \
  2>>"$T/digest.err"
is "vigil digest wrote eight files" "$(wc -l <"$T/digest.out" | tr -d ' ')" 8

get digests /v1/digests
is "GET /v1/digests: 200" "$code" 200
is "... each configured digest and its settings, by name" \
  "$(js digests "[(g['name'], g['schedule'], g['days'], g['formats'], g['out'] == '$DG') for g in d['digests']]")" \
  '[["daily", "0 0 1 1 *", 1, ["md", "html", "json"], true], ["weekly", "0 0 1 1 *", 7, ["md", "json"], true]]'
is "... the periods on disk, the latest first" \
  "$(js digests "[(g['name'], [p['period'] for p in g['periods']], g['periods_total']) for g in d['digests']]")" \
  '[["daily", ["2023-12-18", "2023-12-17"], 2], ["weekly", ["2023-12-13_2023-12-19"], 1]]'
is "... each with a link per format written" \
  "$(js digests "d['digests'][1]['periods'][0]")" \
  "{\"period\": \"2023-12-13_2023-12-19\", \"first\": \"2023-12-13\", \"last\": \"2023-12-19\", \"files\": {\"md\": \"$HTTP/v1/digests/weekly/2023-12-13_2023-12-19.md\", \"json\": \"$HTTP/v1/digests/weekly/2023-12-13_2023-12-19.json\"}}"
get digests1 "/v1/digests?limit=1"
is "limit=1: one period a digest, the total still said" \
  "$(js digests1 "[(len(g['periods']), g['periods_total']) for g in d['digests']]")" '[[1, 2], [1, 1]]'
refused "/v1/digests?limit=0" "parameter 'limit'"
refused "/v1/digests?name=daily" "unknown parameter 'name'"

# served FILE TYPE: GET of a digest file by its link: 200, TYPE, the file's bytes.
served() {
  _url=$(js digests "[u for g in d['digests'] for p in g['periods'] for u in p['files'].values() if u.endswith('/$1')][0]")
  _code=$(timeout 120 curl -s -o "$T/served" -D "$T/served.head" -w '%{http_code}' "$_url")
  _type=$(grep -i '^content-type:' "$T/served.head" | sed 's/^[^:]*: *//' | tr -d '\r')
  _name=$(echo "$1" | sed 's|/|-|')
  if [ "$_code" = 200 ] && [ "$_type" = "$2" ] && cmp -s "$T/served" "$DG/$_name"; then
    ok "GET $_url: 200, $2, the file"
  else
    fail "GET $_url: 200, $2, the file" "status $_code, type $_type" "$(head -c 300 "$T/served")"
  fi
}
served daily/2023-12-18.md "text/markdown; charset=utf-8"
served daily/2023-12-18.html "text/html; charset=utf-8"
served daily/2023-12-18.json "application/json"
served daily/2023-12-17.md "text/markdown; charset=utf-8"
served weekly/2023-12-13_2023-12-19.md "text/markdown; charset=utf-8"
served weekly/2023-12-13_2023-12-19.json "application/json"
get html /v1/digests/daily/2023-12-18.html
like "... a page runs no script and reaches nothing" "$(header html content-security-policy)" \
  "^default-src 'none'.*sandbox"

not_found() {
  get nf "$1"
  is "$1: 404" "$code $(js nf "d['status']")" "404 404"
}
not_found /v1/digests/monthly/2023-12-18.md
not_found /v1/digests/daily/2023-12-16.md
not_found /v1/digests/weekly/2023-12-13_2023-12-19.html
not_found /v1/digests/daily/2023-12-18.txt
not_found /v1/digests/daily/2023-02-30.md

# Path trickery: never a 200, never a byte of what lies outside.
echo "a secret kept beside the digests" >"$T/secret.md"
ln -s "$T/secret.md" "$DG/daily-2023-12-01.md"
ln -s /etc/passwd "$DG/daily-2023-12-02.md"
for p in \
  "/v1/digests/daily/..%2F..%2Fetc%2Fpasswd.md" \
  "/v1/digests/daily/../../etc/passwd.md" \
  "/v1/digests/daily/%2e%2e%2f%2e%2e%2fetc%2fpasswd.md" \
  "/v1/digests/daily/%2E%2E%2Fsecret.md" \
  "/v1/digests/..%2F..%2Fetc/passwd.md" \
  "/v1/digests/daily/....%2F2023-12-18.md" \
  "/v1/digests/daily/2023-12-18.md%00.txt" \
  "/v1/digests/daily/2023-12-18%2F..%2F..%2Fsecret.md" \
  "/v1/digests/daily%2F..%2F..%2Fsecret/2023-12-18.md" \
  "/v1/digests/daily/2023-12-01.md" \
  "/v1/digests/daily/2023-12-02.md"; do
  get trick "$p"
  if [ "$code" != 200 ] && ! grep -q 'secret kept\|root:' "$T/trick.json"; then
    ok "$p: refused ($code)"
  else
    fail "$p: refused" "status $code: $(head -c 200 "$T/trick.json")"
  fi
done
# A period of another length under the same name (its days were changed
# since): a period of its own, beside the one it starts like.
cp "$DG/daily-2023-12-17.md" "$DG/daily-2023-12-17_2023-12-23.md"
get digests2 /v1/digests
is "the planted links are not listed; a week under the daily name is a period of its own" \
  "$(js digests2 "[(p['period'], sorted(p['files'])) for p in d['digests'][0]['periods']]")" \
  '[["2023-12-17_2023-12-23", ["md"]], ["2023-12-18", ["html", "json", "md"]], ["2023-12-17", ["html", "json", "md"]]]'

check "the daemon is still running" daemon_running
stop_daemon
is "vigil run: exit status 0" "$DRC" 0
check_sanitizers "no sanitizer report from the commands" "$T"/*.err

done_testing

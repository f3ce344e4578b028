#!/bin/sh
# End-to-end: feeds over HTTP — `vigil poll` of RSS, Atom, chronology and
# JSON Lines feeds from a local server (tests/e2e/feedserver.py, python3,
# on 127.0.0.1 and a port the kernel picks); conditional requests (ETag and
# Last-Modified, answered 304); a feed switched to a new version (one new
# item, one changed item kept as an update); gzip and deflate bodies;
# redirects (to the same host followed, five at most; to another host or
# port, to ftp, or any with follow_redirects = "none", refused); failures
# (HTTP 500, broken XML, an HTML page, a body over the cap, a refused
# connection) with `vigil feeds --all` showing them; XML entities: a bomb of
# 400 MB in a body of 206 KB refused in bounded time and memory, an item
# over max_line kept as a reject while the others are stored, and rejects
# kept once however often a feed is polled; and the daemon polling a
# healthy, a failing and a stalled feed every second with the shipped
# rules, then the hostile feeds beside a socket client. No traffic leaves
# 127.0.0.1; the stalled feed is never waited for (the daemon cuts it when
# it stops).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! python3 is needed for the feed server (make test-deps installs it)"
  exit 1
fi

FEEDS=$FIXTURES/feeds
WWW=$T/www
REQS=$WWW/requests.log
mkdir -p "$WWW"
cp "$FEEDS/rss.xml" "$WWW/news.xml"
cp "$FEEDS/atom.xml" "$FEEDS/chronology.txt" "$FEEDS/items.jsonl" "$FEEDS/broken.xml" \
  "$FEEDS/error.html" "$WWW/"
cp "$FEEDS/rss-korean.xml" "$WWW/korean.xml"
cp "$FEEDS/rss.xml" "$WWW/daemon.xml"
touch -d '2023-12-01 00:00:00 UTC' "$WWW"/*
: >"$REQS"

# A feed well over 2000 bytes, and one that compresses far below that.
{
  echo '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
  i=1
  while [ $i -le 40 ]; do
    printf '<item><title>Padding item %d of a big feed</title><guid>big-%d</guid>' "$i" "$i"
    printf '<description>Filler text that makes the body exceed the cap.</description></item>\n'
    i=$((i + 1))
  done
  echo '</channel></rss>'
} >"$WWW/big.xml"

python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
SPID=$!
bg_started "$SPID"
if ! wait_for 60 test -s "$T/port"; then
  echo "Bail out! the feed server did not start: $(cat "$T/server.err")"
  exit 1
fi
BASE=http://127.0.0.1:$(cat "$T/port")
ok "the feed server listens on $BASE"

# poll NAME ARG...: `vigil poll --db $DB ARG...` with its output in $T/NAME.out
# and errors in $T/NAME.err; sets rc. Bounded by timeout(1), past curl's own
# timeouts (a minute a fetch), which none of these should come near.
poll() {
  _name=$1
  shift
  timeout 300 "$VIGIL" poll --db "$DB" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
}

# feeds_out: `vigil feeds --all` on $DB (the feeds polled once here are
# configured nowhere: --all shows them).
feeds_out() {
  timeout 300 "$VIGIL" feeds --all --db "$DB" 2>>"$T/feeds.err"
}

# count SOURCE: the entries of SOURCE.
count() {
  sq "select count(*) from entries where source = '$1'"
}

# field SOURCE GUID EXPR: EXPR over the entry of SOURCE whose guid is GUID.
field() {
  sq "select $3 from entries where source = '$1' and json_extract(fields, '$.guid') = '$2'"
}

# requests PATH: how many requests the server had for PATH.
requests() {
  awk -F '\t' -v p="$1" '$1 == p' "$REQS" | wc -l | tr -d ' '
}

# last_request PATH COLUMN: a column (2 If-None-Match, 3 If-Modified-Since,
# 4 Accept-Encoding) of the last request for PATH.
last_request() {
  awk -F '\t' -v p="$1" -v c="$2" '$1 == p { v = $c } END { print v }' "$REQS"
}

EM=$(printf '\342\200\224') # the dash between an item's title and summary

# ---- RSS 2.0 ----

URL=$BASE/feed/news.xml
poll rss1 --no-rules --source rss "$URL"
is "RSS: exit status 0" "$rc" 0
is "RSS: four items stored" "$(cat "$T/rss1.out")" \
  "$URL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
is "RSS: four entries" "$(count rss)" 4
is "RSS: dates in UTC (pubDate +0900 and -0400, dc:date -04:00)" \
  "$(sq "select date from entries where source = 'rss' order by id limit 3" | tr '\n' ' ')" \
  "2023-03-15T22:10:00Z 2023-04-26T18:00:00Z 2023-08-18T20:00:00Z "
is "RSS: title, then the description reduced to text" \
  "$(field rss pw-2023-03-16-icbm text)" \
  "North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo $EM The missile flew for about 70 minutes and came down in the sea between Korea & Japan."
is "RSS: fields title, url, guid and feed" \
  "$(field rss pw-2023-03-16-icbm "json_extract(fields, '$.title') || '|' || json_extract(fields, '$.url') || '|' || json_extract(fields, '$.feed') || '|' || coalesce(json_extract(fields, '$.date_from'), '-')")" \
  "North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo|https://news.example.org/2023/03/16/hwasong-17|$URL|-"
is "RSS: content:encoded is preferred to description" \
  "$(field rss https://news.example.org/2023/04/26/washington-declaration text)" \
  "Biden and Yoon adopt the Washington Declaration $EM The allies set up a Nuclear Consultative Group; Seoul again forswore nuclear weapons of its own."
is "RSS: an item without guid is named by its link" \
  "$(field rss https://news.example.org/2023/08/18/camp-david "json_extract(fields, '$.url')")" \
  "https://news.example.org/2023/08/18/camp-david"
undated=$(sq "select json_extract(fields, '$.guid') || ' ' || json_extract(fields, '$.date_from') || ' ' || coalesce(json_extract(fields, '$.url'), '-') || ' ' || date from entries where source = 'rss' and text like 'State media%'")
like "RSS: an undated item without guid or link: a hash guid, the poll's time, date_from poll" \
  "$undated" '^hash:[0-9a-f]{32} poll - 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
rec=$("$VIGIL" query --db "$DB" --json --source rss --text Hwasong-17 2>>"$T/query.err")
like "vigil query --json shows the item's fields" "$rec" \
  '"fields":\{"title":"North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo","url":"https://news.example.org/2023/03/16/hwasong-17","guid":"pw-2023-03-16-icbm","feed":"http://127\.0\.0\.1:[0-9]+/feed/news\.xml"\}'
is "RSS: the feed's health row" \
  "$(sq "select source, polls, failures, items_seen, last_error is null, etag is not null, last_success is not null from feeds where url = '$URL'")" \
  "rss|1|0|4|1|1|1"

poll rss2 --no-rules --source rss "$URL"
is "RSS again: exit status 0" "$rc" 0
is "RSS again: not modified (304)" "$(cat "$T/rss2.out")" "$URL: not modified"
like "... the request sent If-None-Match with the ETag" "$(last_request /feed/news.xml 2)" '^"[0-9a-f]{16}"$'
is "... and nothing more was stored" "$(count rss)" 4
is "... the poll was counted" "$(sq "select polls || ' ' || failures from feeds where url = '$URL'")" "2 0"

# Version 2: one new item at the top, the ICBM item says 69 minutes now.
cp "$FEEDS/rss-v2.xml" "$WWW/news.xml"
touch -d '2023-12-20 00:00:00 UTC' "$WWW/news.xml"
poll rss3 --no-rules --source rss "$URL"
is "RSS v2: exit status 0" "$rc" 0
is "RSS v2: one stored, one updated, three unchanged" "$(cat "$T/rss3.out")" \
  "$URL: 1 stored, 0 duplicates, 0 rejected, 1 updated, 3 unchanged"
is "RSS v2: five entries, not six" "$(count rss)" 5
is "RSS v2: the new item stored once, dated in UTC" \
  "$(sq "select count(*) || ' ' || min(date) from entries where source = 'rss' and text like 'North Korea says Malligyong-1%'")" \
  "1 2023-11-21T13:43:00Z"
icbm=$(field rss pw-2023-03-16-icbm id)
is "RSS v2: the changed item corrects its entry: it says the new text now" \
  "$(field rss pw-2023-03-16-icbm text)" \
  "North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo $EM The missile flew for about 69 minutes and came down west of Oshima, Japan's coast guard said."
is "RSS v2: ... as its version 2, the first kept with its feed as the origin" \
  "$(sq "select e.version || ' ' || v.version || ' ' || v.origin || ' ' || v.reason from entries e join entry_versions v on v.entry_id = e.id")" \
  "2 1 $URL changed in its feed"
is "RSS v2: the first version holds the first text" "$(sq "select text from entry_versions")" \
  "North Korea fires a Hwasong-17 ICBM as Yoon leaves for Tokyo $EM The missile flew for about 70 minutes and came down in the sea between Korea & Japan."
is "RSS v2: ... and the item's fields stay the entry's" \
  "$(sq "select json_extract(fields, '$.guid') || ' ' || json_extract(fields, '$.url') from entries where id = $icbm")" \
  "pw-2023-03-16-icbm https://news.example.org/2023/03/16/hwasong-17"

poll rss4 --no-rules --source rss "$URL"
is "RSS v2 again: not modified" "$(cat "$T/rss4.out")" "$URL: not modified"
is "... no entry and no correction more" "$(count rss) $(sq 'select count(*) from entry_versions')" "5 1"

# Without validators the server answers 200 every time: the guids tell.
PURL=$BASE/plain/news.xml
poll plain1 --no-rules --source rss-plain "$PURL"
is "RSS without validators: five stored" "$(cat "$T/plain1.out")" \
  "$PURL: 5 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
poll plain2 --no-rules --source rss-plain "$PURL"
is "RSS without validators again: every item unchanged, nothing stored" "$(cat "$T/plain2.out")" \
  "$PURL: 0 stored, 0 duplicates, 0 rejected, 0 updated, 5 unchanged"
is "... five entries of that source, no more corrections" \
  "$(count rss-plain) $(sq 'select count(*) from entry_versions')" "5 1"

# ---- Atom ----

AURL="$BASE/feed/atom.xml?type=application/atom+xml"
poll atom1 --no-rules --source atom "$AURL"
is "Atom: three entries stored" "$(cat "$T/atom1.out")" \
  "$AURL: 3 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
is "Atom: published (else updated) in UTC" \
  "$(sq "select date from entries where source = 'atom' order by id" | tr '\n' ' ')" \
  "2023-04-12T22:23:00Z 2023-09-13T04:00:00Z 2023-07-18T06:00:00Z "
is "Atom: title and the html summary as text" \
  "$(field atom tag:news.example.org,2023:hwasong-18-first text)" \
  "First flight of the solid-fuel Hwasong-18 $EM Pyongyang tested its first solid-fuel ICBM $EM a faster missile to launch."
is "Atom: the alternate link is the url, the id the guid" \
  "$(field atom tag:news.example.org,2023:hwasong-18-first "json_extract(fields, '$.url')")" \
  "https://news.example.org/2023/04/13/hwasong-18"
is "Atom: xhtml content when there is no summary" \
  "$(field atom tag:news.example.org,2023:vostochny text)" \
  "Kim Jong Un meets Putin at the Vostochny Cosmodrome $EM The two leaders toured the launch site before their talks."

LURL=$BASE/lm/atom.xml
poll lm1 --no-rules --source atom-lm "$LURL"
is "Atom with Last-Modified only: three stored" "$(cat "$T/lm1.out")" \
  "$LURL: 3 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
poll lm2 --no-rules --source atom-lm "$LURL"
is "... again: not modified" "$(cat "$T/lm2.out")" "$LURL: not modified"
is "... the request sent If-Modified-Since and no If-None-Match" \
  "$(last_request /lm/atom.xml 3) / $(last_request /lm/atom.xml 2)" \
  "Fri, 01 Dec 2023 00:00:00 GMT / -"

# ---- chronology and JSON Lines ----

CURL=$BASE/feed/chronology.txt
poll chrono --no-rules --source chrono "$CURL"
is "chronology: four lines stored" "$(cat "$T/chrono.out")" \
  "$CURL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
is "chronology: the dates of its lines" \
  "$(sq "select date from entries where source = 'chrono' order by id" | tr '\n' ' ')" \
  "2023-05-31 2023-08-24 2023-11-22 2023-12 "
is "chronology: a line's text" \
  "$(sq "select text from entries where source = 'chrono' and date = '2023-08-24'")" \
  "A second satellite launch failed during the flight of the third stage."

JURL=$BASE/feed/items.jsonl
poll json --no-rules --source jsonl "$JURL"
is "JSON Lines: three records stored (the blank line skipped)" "$(cat "$T/json.out")" \
  "$JURL: 3 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
is "JSON Lines: dates, texts and fields as sent" \
  "$(sq "select date || ' ' || coalesce(json_extract(fields, '$.url'), '-') from entries where source = 'jsonl' order by id" | tr '\n' ' ')" \
  "2023-07-12 https://news.example.org/2023/07/12/hwasong-18 2023-12-02 https://news.example.org/2023/12/02/425-project 2023-12-18 - "
JPURL="$BASE/plain/items.jsonl?type=text/plain"
poll json2 --no-rules --source jsonl-plain "$JPURL"
is "JSON Lines sent as text/plain: told by the body" "$(cat "$T/json2.out")" \
  "$JPURL: 3 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"

# ---- encodings, redirects ----

GURL=$BASE/gzip/news.xml
poll gzip --no-rules --source gz "$GURL"
is "gzip: the body is decoded and its five items stored" "$(cat "$T/gzip.out")" \
  "$GURL: 5 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
like "... the request offered gzip" "$(last_request /gzip/news.xml 4)" 'gzip'
DURL="$BASE/deflate/atom.xml?type=application/atom+xml"
poll deflate --no-rules --source df "$DURL"
is "deflate: the body is decoded and its three entries stored" "$(cat "$T/deflate.out")" \
  "$DURL: 3 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"

RURL=$BASE/redirect/feed/chronology.txt
poll redirect --no-rules --source redir "$RURL"
is "a 302 is followed" "$(cat "$T/redirect.out")" \
  "$RURL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
is "... the server saw the redirect and then the target" \
  "$(requests /redirect/feed/chronology.txt) $(tail -n 1 "$REQS" | cut -f 1)" "1 /feed/chronology.txt"
is "... and the feed keeps its own URL" "$(sq "select count(*) from feeds where url = '$RURL' and failures = 0")" 1

PORT_NOW=$(cat "$T/port")
HOSTURL=$BASE/redirect-to/localhost/feed/chronology.txt?xhost=1
poll xhost --no-rules --source xhost "$HOSTURL"
is "a redirect to another host (localhost) is refused: exit status 1" "$rc" 1
is "... the reason names the target and the policy" "$(cat "$T/xhost.out")" \
  "$HOSTURL: failed: redirected to http://localhost:$PORT_NOW/feed/chronology.txt?xhost=1; not followed: another host than 127.0.0.1 (follow_redirects is \"same-host\")"
is "... the other host was never asked" "$(requests '/feed/chronology.txt?xhost=1')" 0
is "... nothing stored" "$(count xhost)" 0
PURL=$BASE/redirect-to/127.0.0.1:1/feed/chronology.txt?port=1
poll otherport --no-rules --source otherport "$PURL"
is "a redirect to another port of the same host is refused" "$(cat "$T/otherport.out")" \
  "$PURL: failed: redirected to http://127.0.0.1:1/feed/chronology.txt?port=1; not followed: another port than $PORT_NOW, not that of http or https (follow_redirects is \"same-host\")"
AURL=$BASE/redirect-to/127.0.0.1/feed/chronology.txt?abs=1
poll abs --no-rules --source abs "$AURL"
is "an absolute redirect to the same host is followed" "$(cat "$T/abs.out")" \
  "$AURL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
YURL=$BASE/redirect-to/localhost/feed/chronology.txt?any=1
poll any --no-rules --follow-redirects any --source any "$YURL"
is "--follow-redirects any: the redirect to localhost is followed" "$(cat "$T/any.out")" \
  "$YURL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
is "... the target was asked once" "$(requests '/feed/chronology.txt?any=1')" 1
printf 'follow_redirects = "any"\n' >"$T/any.conf"
ZURL=$BASE/redirect-to/localhost/feed/chronology.txt?anyconf=1
poll anyconf --no-rules --config "$T/any.conf" --source anyconf "$ZURL"
is "follow_redirects = \"any\" in the configuration: followed" "$(cat "$T/anyconf.out")" \
  "$ZURL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
NOURL=$BASE/redirect-chain/0/feed/chronology.txt?none=1
poll none --no-rules --follow-redirects none --source none "$NOURL"
is "--follow-redirects none: a redirect to the same host is refused" "$(cat "$T/none.out")" \
  "$NOURL: failed: redirected to $BASE/feed/chronology.txt?none=1; not followed (follow_redirects is \"none\")"
C5URL=$BASE/redirect-chain/4/feed/chronology.txt?hops=5
poll chain5 --no-rules --source chain5 "$C5URL"
is "five redirects are followed" "$(cat "$T/chain5.out")" \
  "$C5URL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
C6URL=$BASE/redirect-chain/5/feed/chronology.txt?hops=6
poll chain6 --no-rules --source chain6 "$C6URL"
is "a sixth is not" "$(cat "$T/chain6.out")" \
  "$C6URL: failed: more than 5 redirects (the last to $BASE/feed/chronology.txt?hops=6)"
is "... and its target never asked" "$(requests '/feed/chronology.txt?hops=6')" 0
FTPURL=$BASE/redirect-ftp/chronology.txt
poll ftp --no-rules --follow-redirects any --source ftp "$FTPURL"
is "a redirect to ftp is refused, whatever the policy" "$(cat "$T/ftp.out")" \
  "$FTPURL: failed: redirected to ftp://127.0.0.1/chronology.txt; only http and https are followed"

# ---- a long Korean summary: cut to the summary cap at a character boundary ----

KURL=$BASE/feed/korean.xml
poll korean --no-rules --source ko "$KURL"
is "a Korean item with a summary over 2000 bytes is stored" "$(cat "$T/korean.out")" \
  "$KURL: 1 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"
like "... its text starts with its title" "$(sq "select substr(text, 1, 40) from entries where source = 'ko'")" \
  "^북한, 세 번째 시도 끝에 정찰위성 발사 $EM 북한은 2023년"

# ---- failures ----

FURL=$BASE/status/500
poll f500 --no-rules --source s500 "$FURL"
is "HTTP 500: exit status 1" "$rc" 1
is "HTTP 500: the reason" "$(cat "$T/f500.out")" "$FURL: failed: HTTP status 500"
poll f500b --no-rules --source s500 "$FURL"
is "HTTP 500 again: exit status 1" "$rc" 1
is "HTTP 500: nothing stored" "$(count s500)" 0
is "HTTP 500: failures and polls counted" \
  "$(sq "select failures || ' ' || polls || ' ' || last_error || ' ' || (last_success is null) from feeds where url = '$FURL'")" \
  "2 2 HTTP status 500 1"

BURL=$BASE/feed/broken.xml
poll broken --no-rules --source broken "$BURL"
is "broken XML: exit status 1" "$rc" 1
like "broken XML: the reason names the line" "$(cat "$T/broken.out")" \
  "^$BURL: failed: malformed XML at line 8: "
is "broken XML: nothing stored" "$(count broken)" 0

HURL=$BASE/feed/error.html
poll html --no-rules --source html "$HURL"
is "an HTML page: exit status 1" "$rc" 1
like "an HTML page: the reason says so" "$(cat "$T/html.out")" "^$HURL: failed: .*HTML page"
is "an HTML page: nothing stored" "$(count html)" 0

cat >"$T/cap.conf" <<EOF
feed_max_body = 2000
EOF
for kind in feed nolength gzip; do
  XURL=$BASE/$kind/big.xml
  poll "big-$kind" --no-rules --config "$T/cap.conf" --source "big-$kind" "$XURL"
  is "a body over feed_max_body ($kind): exit status 1" "$rc" 1
  is "... the reason" "$(cat "$T/big-$kind.out")" "$XURL: failed: the body is over the 2000-byte cap"
  is "... nothing stored" "$(count "big-$kind")" 0
done
SURL=$BASE/plain/chronology.txt
poll small --no-rules --config "$T/cap.conf" --source cap-ok "$SURL"
is "a body under feed_max_body is read" "$(cat "$T/small.out")" \
  "$SURL: 4 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"

# ---- XML entities: caps on what the parser produces ----

# hostile_xml FILE ENTITY_BYTES USES: an RSS feed of three items whose
# second has a title made of USES references to one internal entity of
# ENTITY_BYTES characters (declared on line 3; the item is on line 7).
hostile_xml() {
  python3 - "$@" <<'EOF'
import sys
path, size, uses = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
item = '<item><guid>%s</guid><title>%s</title><pubDate>%s</pubDate></item>\n'
with open(path, "w") as f:
    f.write('<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY x "%s">\n]>\n' % ("A" * size))
    f.write('<rss version="2.0"><channel><title>Hostile</title>\n')
    f.write(item % ("before", "North Korea fires a ballistic missile", "Mon, 18 Dec 2023 08:24:00 +0900"))
    f.write(item % ("bomb", "&x;" * uses, "Mon, 18 Dec 2023 09:00:00 +0900"))
    f.write(item % ("after", "Seoul and Washington hold a drill", "Tue, 19 Dec 2023 10:00:00 +0900"))
    f.write('</channel></rss>\n')
EOF
}
# The bomb: 206 KB that would make 400 MB. Before the cap, `vigil poll`
# ran 40 s, peaked at 4 GB and stored an entry of 400 MB.
hostile_xml "$WWW/bomb.xml" 200000 2000
# Entities of 1,000 bytes, under the entity cap: a title of 2 MB, over max_line.
hostile_xml "$WWW/wide.xml" 1000 2000
diag "bomb.xml: $(wc -c <"$WWW/bomb.xml") bytes, wide.xml: $(wc -c <"$WWW/wide.xml") bytes"

BOMB=$BASE/plain/bomb.xml
measure bomb "$VIGIL" poll --db "$DB" --no-rules --source bomb "$BOMB"
is "the entity bomb: exit status 1" "$rc" 1
is "... refused: the entity is over the cap, said with its line" "$(cat "$T/bomb.out")" \
  "$BOMB: failed: XML refused at line 3: the entity 'x' holds 200000 bytes, over the 1024 an internal entity may hold"
is "... nothing stored from it" "$(count bomb)" 0
like "... in well under 40 s, sanitizers included ($secs s)" "$((secs <= 20))" '^1$'
like "... with a peak memory well under 1 GB ($((kb / 1024)) MB)" "$((kb < 512 * 1024))" '^1$'
diag "vigil poll of the bomb: $secs s, peak RSS $kb kB"
db_kb=$(($(stat -c %s "$DB") / 1024))
like "... and the database stayed small ($db_kb kB, not 800 MB)" "$((db_kb < 64 * 1024))" '^1$'

WIDE=$BASE/plain/wide.xml
measure wide "$VIGIL" poll --db "$DB" --no-rules --source wide "$WIDE"
is "an item of 2 MB once its entities are expanded: exit status 0" "$rc" 0
is "... that item is rejected, the two others stored" "$(cat "$T/wide.out")" \
  "$WIDE: 2 stored, 0 duplicates, 1 rejected, 0 updated, 0 unchanged"
is "... its reject names its line and why" \
  "$(sq "select source || ' | ' || line || ' | ' || reason from rejects where origin = '$WIDE'")" \
  "wide | 7 | the item's title is over the 1048576-byte cap"
is "... no entry over max_line" "$(sq "select count(*) from entries where length(text) > 1048576")" 0
like "... in bounded time ($secs s) and memory ($((kb / 1024)) MB)" \
  "$((secs <= 20 && kb < 512 * 1024))" '^1$'
diag "vigil poll of wide.xml: $secs s, peak RSS $kb kB"
like "... and the log says which item" "$(cat "$T/wide.err")" \
  "feed $WIDE: item bomb \\(line 7\\) not stored: the item's title is over the 1048576-byte cap"
poll wide2 --no-rules --source wide "$WIDE"
is "polled again: nothing new, the reject not kept again" "$(cat "$T/wide2.out")" \
  "$WIDE: 0 stored, 0 duplicates, 0 rejected, 0 updated, 3 unchanged"
is "... one reject for it, still" "$(sq "select count(*) from rejects where origin = '$WIDE'")" 1

# A chronology feed with a line that has no date: kept once too.
cat >"$WWW/undated.txt" <<'EOF'
2023-11-21: North Korea launches a reconnaissance satellite on its third try.
The satellite reached orbit, Pyongyang said.
2023-11-22: South Korea suspends part of the 2018 military agreement.
EOF
UURL=$BASE/plain/undated.txt
poll undated1 --no-rules --source undated "$UURL"
is "a chronology feed with a line without a date" "$(cat "$T/undated1.out")" \
  "$UURL: 2 stored, 0 duplicates, 1 rejected, 0 updated, 0 unchanged"
poll undated2 --no-rules --source undated "$UURL"
is "... polled again: the bad line is not kept again" "$(cat "$T/undated2.out")" \
  "$UURL: 0 stored, 2 duplicates, 0 rejected, 0 updated, 1 unchanged"
is "... one reject, on line 2" "$(sq "select count(*) || ' ' || min(line) from rejects where origin = '$UURL'")" "1 2"

CLOSED=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
NURL=http://127.0.0.1:$CLOSED/feed/news.xml
MURL="$BASE/feed/items.jsonl?again=1"
poll mixed --no-rules --source mixed "$NURL" "$MURL"
is "a refused connection beside a good feed: exit status 1" "$rc" 1
like "... the refused one fails" "$(grep -F "$NURL:" "$T/mixed.out")" "^$NURL: failed: .*[Cc]onnect"
is "... the good one is stored all the same" "$(grep -F "$MURL:" "$T/mixed.out")" \
  "$MURL: 3 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged"

feeds_out >"$T/feeds.out"
rc=$?
is "vigil feeds: exit status 0" "$rc" 0
like "vigil feeds: the 500 feed, failing twice" "$(grep -A2 -F "$FURL" "$T/feeds.out" | tr '\n' ' ')" \
  "source s500; 2 polls, 0 items; last success never; .* failing: 2 in a row; last error at [0-9T:Z-]+: HTTP status 500"
like "vigil feeds: the broken feed and its error" "$(grep -A2 -F "$BURL" "$T/feeds.out" | tr '\n' ' ')" \
  "failing: 1 in a row; last error at [0-9T:Z-]+: malformed XML at line [0-9]+: "
like "vigil feeds: the HTML page's feed, failing once" "$(grep -A2 -F "$HURL" "$T/feeds.out" | tr '\n' ' ')" \
  "source html; 1 polls, 0 items; .* failing: 1 in a row; last error at [0-9T:Z-]+: [a-zA-Z]"
like "vigil feeds: the oversized feed and its error" "$(grep -A2 -F "$BASE/feed/big.xml" "$T/feeds.out" | tr '\n' ' ')" \
  'failing: 1 in a row; .*over the 2000-byte cap'
like "vigil feeds: the refused redirect and why" "$(grep -A2 -F "$HOSTURL" "$T/feeds.out" | tr '\n' ' ')" \
  'failing: 1 in a row; last error at [0-9T:Z-]+: redirected to http://localhost:[0-9]+/feed/chronology.txt\?xhost=1; not followed: another host than 127.0.0.1'
like "vigil feeds: the entity bomb and why" "$(grep -A2 -F "$BOMB" "$T/feeds.out" | tr '\n' ' ')" \
  "failing: 1 in a row; last error at [0-9T:Z-]+: XML refused at line 3: the entity 'x' holds 200000 bytes"
like "vigil feeds: the healthy feed, 4 polls and 5 items, not failing" \
  "$(grep -A2 -F "$URL" "$T/feeds.out" | head -n 2 | tr '\n' ' ')" \
  "source rss; 4 polls, 5 items; last success [0-9T:Z-]+; not scheduled: not a configured feed $"

# ---- the shipped rules, from vigil poll ----

poll rules --rules "$RULES" --source rules-poll "$BASE/plain/daemon.xml"
is "vigil poll --rules: exit status 0" "$rc" 0
rp=$(field rules-poll pw-2023-03-16-icbm id)
is "vigil poll --rules: the launch item is tagged launch and actor:north-korea" \
  "$(sq "select group_concat(tag, ' ') from (select tag from tags where entry_id = '$rp' and tag in ('launch', 'actor:north-korea') order by tag)")" \
  "actor:north-korea launch"
is "... and raised dprk-launch" \
  "$(sq "select count(*) from alerts a join alert_entries ae on ae.alert_id = a.id where a.rule = 'dprk-launch' and ae.entry_id = '$rp'")" 1

check_sanitizers "vigil poll, feeds and query: no sanitizer report" "$T"/*.err

# ---- the daemon: a healthy, a failing and a stalled feed, every second ----

DURL1=$BASE/feed/daemon.xml
DURL2=$BASE/status/503
DURL3=$BASE/stall/items.jsonl
DCFG="$BASE/feed/chronology.txt?daemon=1"
DSRC=${DURL1#http://}
cat >"$T/daemon.conf" <<EOF
feed_interval = 1
feeds = {
  { url = "$DCFG", source = "daemon-cfg", format = "chrono", interval = 1 },
}
EOF

# feed_col URL COLUMN: a column of the feeds table (0 when there is no row).
feed_col() {
  sq "select coalesce((select $2 from feeds where url = '$1'), 0)"
}
polls_at_least() {
  [ "$(feed_col "$1" polls)" -ge "$2" ]
}

if start_daemon --rules "$RULES" --config "$T/daemon.conf" \
  --feed "$DURL1" --feed "$DURL2" --feed "$DURL3"; then
  check "the healthy feed, due every second, is polled 4 times" wait_running 120 polls_at_least "$DURL1" 4
  # The stalled feed's fetch is still waiting for its answer (the server
  # holds it far longer, and curl gives up only after a minute).
  s_polls=$(feed_col "$DURL3" polls)
  h_polls=$(feed_col "$DURL1" polls)
  b_polls=$(feed_col "$DURL2" polls)
  b_fail=$(feed_col "$DURL2" failures)
  is "daemon: the healthy feed's four items are stored" "$(count "$DSRC")" 4
  is "daemon: ... once each, every later poll not modified" \
    "$(feed_col "$DURL1" "failures || ' ' || items_seen")" "0 4"
  like "daemon: ... and its dates are the items' own" \
    "$(sq "select date from entries where source = '$DSRC' order by id limit 1")" '^2023-03-15T22:10:00Z$'
  check "daemon: the configured feed (source, format, interval from the file) is polled too" \
    wait_running 60 polls_at_least "$DCFG" 2
  is "daemon: ... and its lines stored" "$(count daemon-cfg)" 4
  like "daemon: the failing feed has failed every poll so far" "$b_fail/$b_polls" '^([1-9][0-9]*)/\1$'
  like "daemon: ... it backs off: fewer polls than the healthy feed ($b_polls vs $h_polls)" \
    "$((b_polls < h_polls))" '^1$'
  is "daemon: ... its last error" "$(feed_col "$DURL2" last_error)" "HTTP status 503"
  is "daemon: ... nothing stored from it" "$(count "${DURL2#http://}")" 0
  like "daemon: ... the log gives its next try" "$(grep -F "$DURL2" "$DLOG" | head -n 1)" \
    'HTTP status 503; next try in [0-9]+ s'
  is "daemon: the stalled feed holds up no other (it had no health row yet)" "$s_polls" 0

  # The shipped rules tag a feed item just like the same text over the socket.
  fid=$(field "$DSRC" pw-2023-03-16-icbm id)
  ftags=$(sq "select group_concat(tag, ' ') from (select tag from tags where entry_id = '$fid' order by tag)")
  like "daemon rules: the feed's launch item is tagged launch and actor:north-korea" \
    " $ftags " ' actor:north-korea .* launch '
  is "daemon rules: ... and raised dprk-launch" \
    "$(sq "select count(*) from alerts a join alert_entries ae on ae.alert_id = a.id where a.rule = 'dprk-launch' and ae.entry_id = '$fid'")" 1
  ftext=$(sq "select text from entries where id = '$fid'")
  reply=$(printf 'March 16, 2023: %s\n' "$ftext" | send_unix)
  like "daemon rules: the same text over the socket is stored" "$reply" '^ok [0-9]+$'
  sid=${reply#ok }
  is "daemon rules: ... and gets the same tags" \
    "$(sq "select group_concat(tag, ' ') from (select tag from tags where entry_id = '${sid:-0}' order by tag)")" \
    "$ftags"

  # A stop takes a second or less here; one that waited for the stalled
  # fetch would last until curl gives up on it, a minute after it began.
  t0=$(date +%s)
  stop_daemon TERM
  t1=$(date +%s)
  is "daemon: exit status 0 on SIGTERM" "$DRC" 0
  like "daemon: ... promptly, the stalled fetch cut ($((t1 - t0)) s)" "$((t1 - t0 <= 20))" '^1$'
fi

# A restart picks up the validators: its first poll of the feed is conditional.
before=$(requests /feed/daemon.xml)
p0=$(feed_col "$DURL1" polls)
if start_daemon --rules "$RULES" --feed "$DURL1"; then
  check "restart: the feed is polled at once" wait_running 60 polls_at_least "$DURL1" $((p0 + 1))
  first=$(awk -F '\t' '$1 == "/feed/daemon.xml"' "$REQS" | sed -n "$((before + 1))p" | cut -f 2)
  like "restart: the first request sends the stored ETag" "$first" '^"[0-9a-f]{16}"$'
  is "restart: nothing stored twice" "$(count "$DSRC")" 4
  stop_daemon TERM
  is "restart: exit status 0 on SIGTERM" "$DRC" 0
fi

# ---- the daemon and hostile feeds ----

# The bomb, the item over max_line and the undated line, polled every
# second beside a client: the client is answered at once, each reject is
# kept once, however many polls, and the daemon stays small.
MAIN_DB=$DB
DB=$T/hostile.db
printf 'feed_interval = 1\n' >"$T/hostile.conf"
# bomb_refused: the daemon has recorded why it refused the bomb.
bomb_refused() {
  feed_col "$BOMB" last_error | grep -q "entity 'x' holds 200000 bytes"
}
if start_daemon --rules "$RULES" --config "$T/hostile.conf" --feed "$BOMB" --feed "$WIDE" --feed "$UURL"; then
  check "the undated feed is polled 3 times within 20 s" wait_running 20 polls_at_least "$UURL" 3
  check "the wide feed too" wait_running 20 polls_at_least "$WIDE" 3
  check "the bomb is refused" wait_running 20 bomb_refused
  t0=$(date +%s)
  reply=$(printf '2023-12-20: A line sent while the feeds are polled.\n' | send_unix)
  t1=$(date +%s)
  like "a client is answered while they are polled" "$reply" '^ok [0-9]+$'
  like "... within 10 s (in $((t1 - t0)) s)" "$((t1 - t0 <= 10))" '^1$'
  is "the wide feed's reject is kept once ($(feed_col "$WIDE" polls) polls)" \
    "$(sq "select count(*) from rejects where origin = '$WIDE'")" 1
  is "the undated line's reject is kept once ($(feed_col "$UURL" polls) polls)" \
    "$(sq "select count(*) from rejects where origin = '$UURL'")" 1
  is "the good items and lines are stored once, with the client's line" \
    "$(sq "select count(*) from entries")" 5
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null)
  diag "the daemon's peak resident memory: ${hwm:-?} kB"
  like "the daemon's memory stayed well under 1 GB (${hwm:-?} kB)" "$((${hwm:-9999999} < 512 * 1024))" '^1$'
  stop_daemon TERM
  is "exit status 0 on SIGTERM" "$DRC" 0
fi
DB=$MAIN_DB

# feed_interval = 0 must not turn the poller into a busy loop against the
# server: refused, or at most a handful of polls in the two seconds after
# the first.
cat >"$T/zero.conf" <<EOF
feed_interval = 0
EOF
ZPATH="/feed/chronology.txt?zero=1"
(
  "$VIGIL" run --db "$T/zero.db" --socket '' --listen '' --spool '' \
    --rules "$RULES" --config "$T/zero.conf" --feed "$BASE$ZPATH" >"$T/zero.log" 2>&1 &
  echo $! >"$T/zero.pid"
  wait $!
  echo $? >"$T/zero.rc.tmp"
  mv "$T/zero.rc.tmp" "$T/zero.rc"
) &
bg_started $!
wait_for 60 test -s "$T/zero.pid"
zpid=$(cat "$T/zero.pid")
# zero_started: the daemon has exited (refusing), or polled the feed.
# shellcheck disable=SC2317 # called through wait_for
zero_started() {
  [ -f "$T/zero.rc" ] || [ "$(requests "$ZPATH")" -ge 1 ]
}
wait_for 120 zero_started
if [ ! -f "$T/zero.rc" ]; then
  sleep 2 # the window in which a busy loop would poll far more than 5 times
  kill -TERM "$zpid" 2>/dev/null
  wait_for 120 test -f "$T/zero.rc" || kill -KILL "$zpid" 2>/dev/null
fi
zrc=$(cat "$T/zero.rc" 2>/dev/null || echo killed)
zn=$(requests "$ZPATH")
if { [ "$zrc" -eq 2 ] || [ "$zrc" -eq 3 ]; } && grep -q feed_interval "$T/zero.log"; then
  ok "feed_interval = 0 is refused (status $zrc)"
elif [ "$zn" -le 5 ]; then
  ok "feed_interval = 0 is refused or polls at a sane pace (status $zrc, $zn requests)"
else
  fail "feed_interval = 0 is refused or polls at a sane pace" \
    "vigil run exited $zrc after it sent $zn requests for one feed, 2 s after the first"
fi
check_sanitizers "feed_interval = 0: no sanitizer report" "$T/zero.log"

kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
done_testing

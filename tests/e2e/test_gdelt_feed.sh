#!/bin/sh
# End-to-end: a feed of format "gdelt" following GDELT 2.0's update listing
# (lastupdate.txt: "SIZE MD5 URL" for the export, mentions and GKG archives
# of a quarter hour) to its export archive, from the local feed server
# (tests/e2e/feedserver.py). The archives are zipped here with python3's
# zipfile from the fixture tables of tests/fixtures/gdelt (61 tab-separated
# columns a row). With `vigil poll`: the archive fetched, checked and its
# rows stored once, the archive recorded with its counts; the same listing
# again (a 304, then the same archive under a new ETag) fetches nothing and
# stores nothing; `vigil feeds` names the last archive. With the daemon: a
# restart on the same listing fetches nothing, a listing naming a second
# archive ingests only it (its row with an impossible date kept in rejects
# under the archive's URL, a log line with its counts, the metric, GET
# /v1/feeds naming it), and an MD5 that does not match is a warning; a
# daemon fetching an archive that never comes stops at once. Failures store nothing and say why, naming the archive: an MD5 that
# does not match, a size that does not, a broken zip, a 404, an archive over
# feed_max_archive. A zip or a table served as the feed itself is ingested
# as it is. No traffic leaves 127.0.0.1.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

need python3 curl

GD=$FIXTURES/gdelt
WWW=$T/www
REQS=$WWW/requests.log
mkdir -p "$WWW"
: >"$REQS"

# zip_table NAME: zips the fixture table NAME (its one member) into $WWW/NAME.zip.
zip_table() {
  python3 - "$GD/$1" "$WWW/$1.zip" <<'EOF'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], arcname=os.path.basename(sys.argv[1]))
EOF
}

# listing FILE [MD5]: writes lastupdate.txt naming $WWW/FILE (its size and
# MD5, or the MD5 given) as the export archive, beside mentions and GKG
# archives that are never fetched.
listing() {
  _stamp=${1%%.*}
  _size=$({ wc -c <"$WWW/$1"; } 2>/dev/null | tr -d ' ')
  _md5=${2:-$(python3 -c 'import hashlib,sys; print(hashlib.md5(open(sys.argv[1],"rb").read()).hexdigest())' "$WWW/$1" 2>/dev/null)}
  {
    printf '%s %s %s/plain/%s\n' "${_size:-1000}" "${_md5:-00000000000000000000000000000000}" "$BASE" "$1"
    printf '2048 0123456789abcdef0123456789abcdef %s/plain/%s.mentions.CSV.zip\n' "$BASE" "$_stamp"
    printf '4096 fedcba9876543210fedcba9876543210 %s/plain/%s.gkg.csv.zip\n' "$BASE" "$_stamp"
  } >"$WWW/lastupdate.txt.new"
  mv "$WWW/lastupdate.txt.new" "$WWW/lastupdate.txt"
}

A=20180427013000.export.CSV
B=20180612014500.export.CSV
C=20200616071500.export.CSV
zip_table "$A"
zip_table "$B"
zip_table "$C"

python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
SPID=$!
bg_started "$SPID"
if ! wait_for 60 test -s "$T/port"; then
  echo "Bail out! the feed server did not start: $(cat "$T/server.err")"
  exit 1
fi
BASE=http://127.0.0.1:$(cat "$T/port")
ok "the feed server listens on $BASE"
LURL=$BASE/feed/lastupdate.txt

# poll NAME ARG...: `vigil poll --db $DB --no-rules --format gdelt ARG...`, its
# output in $T/NAME.out and errors in $T/NAME.err; sets rc.
poll() {
  _name=$1
  shift
  timeout 300 "$VIGIL" poll --db "$DB" --no-rules --format gdelt "$@" >"$T/$_name.out" \
    2>"$T/$_name.err"
  rc=$?
}

entries() {
  sq "select count(*) from entries"
}
# fetched NAME: how often the server was asked for the archive NAME.
fetched() {
  count_matching "^/plain/$1	" "$REQS"
}
archives() {
  sq "select group_concat(name || ':' || stored || ':' || duplicates || ':' || rejected, ' ')
        from (select * from feed_archives order by name)"
}

# ---- vigil poll: one archive, once ----

listing "$A.zip"
poll first "$LURL"
is "poll: exit status 0" "$rc" 0
is "poll: what became of the archive" "$(cat "$T/first.out")" \
  "$LURL: archive $A.zip: 4 stored, 0 duplicates, 0 rejected"
is "poll: its four rows are entries" "$(entries)" 4
is "poll: the archive is recorded with its counts" "$(archives)" "$A.zip:4:0:0"
is "poll: ... with the size and MD5 the listing gave" \
  "$(sq "select size || ' ' || md5 from feed_archives")" \
  "$(wc -c <"$WWW/$A.zip" | tr -d ' ') $(python3 -c 'import hashlib,sys; print(hashlib.md5(open(sys.argv[1],"rb").read()).hexdigest())' "$WWW/$A.zip")"
is "poll: the archive was fetched once, the other two lines not at all" \
  "$(fetched "$A.zip")/$(count_matching 'mentions|gkg' "$REQS")" "1/0"
like "poll: the rows' dates are the events' own" \
  "$(sq "select group_concat(distinct substr(date, 1, 10)) from entries")" '^2018-04-27$'

poll again "$LURL"
is "the same listing again: exit status 0" "$rc" 0
is "... a 304 on lastupdate.txt" "$(cat "$T/again.out")" "$LURL: not modified"
like "... asked with the ETag it had" "$(grep '^/feed/lastupdate.txt' "$REQS" | tail -n 1)" \
  '^/feed/lastupdate.txt	"[0-9a-f]+"	'
is "... nothing fetched, nothing stored" "$(fetched "$A.zip")/$(entries)" "1/4"

# The listing changes (a new ETag) but still names the same archive.
printf '\n' >>"$WWW/lastupdate.txt"
poll same "$LURL"
is "a new listing naming the same archive: exit status 0" "$rc" 0
is "... it says the archive was ingested before" "$(cat "$T/same.out")" \
  "$LURL: archive $A.zip ingested before; nothing fetched"
is "... nothing fetched, nothing stored" "$(fetched "$A.zip")/$(entries)/$(archives)" \
  "1/4/$A.zip:4:0:0"

poll json --json "$LURL"
like "poll --json: a 304 on the listing" "$(head -n 1 "$T/json.out")" '"status":"not_modified"'

timeout 300 "$VIGIL" feeds --all --db "$DB" >"$T/feeds.out" 2>"$T/feeds.err"
like "vigil feeds: the last archive ingested" "$(cat "$T/feeds.out")" "last archive $A.zip"
timeout 300 "$VIGIL" feeds --all --json --db "$DB" >"$T/feeds.json" 2>>"$T/feeds.err"
like "vigil feeds --json: last_archive" "$(cat "$T/feeds.json")" "\"last_archive\":\"$A.zip\""

# ---- failures: nothing stored, the archive named ----

# fails NAME WHY: the poll NAME failed (status 1) with WHY in its line,
# stored nothing and recorded no archive beside A.
fails() {
  is "$1: exit status 1" "$rc" 1
  like "$1: the reason names the archive" "$(cat "$T/$1.out")" "^$LURL: failed: archive $2"
  is "$1: nothing stored, no archive recorded" "$(entries)/$(archives)" "4/$A.zip:4:0:0"
}

listing "$C.zip" 0123456789abcdef0123456789abcdef
poll md5 "$LURL"
fails md5 "$C.zip: MD5 [0-9a-f]{32}, not the 0123456789abcdef0123456789abcdef the listing gives"
is "md5: the archive was fetched to be checked" "$(fetched "$C.zip")" 1
is "md5: the feed's failure is recorded" \
  "$(sq "select failures || ' ' || (last_error like 'archive $C.zip: MD5 %') from feeds")" "1 1"

# A size the listing gives that the archive does not have.
size=$(wc -c <"$WWW/$C.zip" | tr -d ' ')
sed "1s/^[0-9]* /$((size + 7)) /" "$WWW/lastupdate.txt" >"$WWW/l.tmp" && mv "$WWW/l.tmp" "$WWW/lastupdate.txt"
poll size "$LURL"
fails size "$C.zip: $size bytes, not the $((size + 7)) the listing gives"

# A broken zip: the bytes of the archive cut in two, listed as they are.
head -c $((size / 2)) "$WWW/$C.zip" >"$WWW/20200616073000.export.CSV.zip"
listing 20200616073000.export.CSV.zip
poll broken "$LURL"
fails broken "20200616073000.export.CSV.zip: not a zip archive that can be read"

# A zip whose one member is no table.
python3 - "$WWW/20200616074500.export.CSV.zip" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("notes/readme.txt", "no table here\n")
EOF
listing 20200616074500.export.CSV.zip
poll member "$LURL"
fails member "20200616074500.export.CSV.zip: the archive's member 'notes/readme.txt' is not a .CSV"

listing 20200616080000.export.CSV.zip 0123456789abcdef0123456789abcdef
poll missing "$LURL"
fails missing "20200616080000.export.CSV.zip: HTTP status 404"

cat >"$T/cap.conf" <<EOF
feed_max_archive = 200
EOF
listing "$C.zip"
before_cap=$(fetched "$C.zip")
poll cap --config "$T/cap.conf" "$LURL"
fails cap "$C.zip: the listing gives $size bytes, over the 200-byte cap \\(feed_max_archive\\)"
is "cap: nothing fetched" "$(fetched "$C.zip")" "$before_cap"

# ---- the daemon: a restart, then a second archive ----

listing "$A.zip"
cat >"$T/daemon.conf" <<EOF
feeds = {
  { url = "$LURL", format = "gdelt", interval = 1 },
}
EOF

# feed_col COLUMN: a column of the feed's row.
feed_col() {
  sq "select coalesce((select $1 from feeds where url = '$LURL'), 0)"
}
polls_past() {
  [ "$(feed_col polls)" -gt "$1" ]
}
archives_are() {
  [ "$(sq "select count(*) from feed_archives")" -ge "$1" ]
}

p0=$(feed_col polls)
if start_daemon --rules "$RULES" --config "$T/daemon.conf"; then
  check "daemon: it polls the listing (twice)" wait_running 120 polls_past $((p0 + 1))
  is "daemon: the listing names the archive ingested before: nothing fetched, nothing stored" \
    "$(fetched "$A.zip")/$(entries)/$(archives)" "1/4/$A.zip:4:0:0"
  is "daemon: the poll is a success" "$(feed_col failures)" 0

  listing "$B.zip"
  check "daemon: a listing naming a second archive: it is ingested" wait_running 120 archives_are 2
  is "daemon: ... only it, once" "$(fetched "$A.zip")/$(fetched "$B.zip")/$(entries)" "1/1/7"
  is "daemon: ... recorded with its counts" "$(archives)" "$A.zip:4:0:0 $B.zip:3:0:1"
  is "daemon: ... its row with a day June does not have kept in rejects, naming the archive" \
    "$(sq "select origin || ' row ' || line from rejects")" "$BASE/plain/$B.zip row 4"
  like "daemon: ... a log line with its counts" "$(cat "$DLOG")" \
    "feed $LURL: archive $B.zip: 3 stored, 0 duplicates, 1 rejected"
  timeout 60 curl -s -o "$T/metrics.prom" "$HTTP/metrics"
  is "daemon: the metrics count the archive it ingested" \
    "$(grep "^vigil_feed_archives_total{feed=\"$LURL\"} " "$T/metrics.prom")" \
    "vigil_feed_archives_total{feed=\"$LURL\"} 1"
  code=$(timeout 60 curl -s -o "$T/v1feeds.json" -w '%{http_code}' "$HTTP/v1/feeds")
  is "GET /v1/feeds: 200" "$code" 200
  like "GET /v1/feeds: the last archive" "$(cat "$T/v1feeds.json")" "\"last_archive\":\"$B.zip\""
  p1=$(feed_col polls)
  check "daemon: it polls on" wait_running 120 polls_past $((p1 + 1))
  is "daemon: ... the second archive is not fetched again" "$(fetched "$B.zip")/$(entries)" "1/7"

  # An archive whose MD5 does not match: a warning naming it, a backoff.
  listing "$C.zip" 0123456789abcdef0123456789abcdef
  check "daemon: an MD5 that does not match: a warning naming the archive and the next try" \
    wait_running 120 grep -Eq "warn +feed $LURL: archive $C.zip: MD5 [0-9a-f]{32}, not the 0123456789abcdef0123456789abcdef the listing gives; not stored; next try in [0-9]+ s" "$DLOG"
  is "daemon: ... nothing stored, nothing recorded" "$(entries)/$(archives)" \
    "7/$A.zip:4:0:0 $B.zip:3:0:1"
  like "daemon: ... the failure is recorded" "$(feed_col failures)" '^[1-9][0-9]*$'
  listing "$B.zip"
  stop_daemon TERM
  is "daemon: exit status 0 on SIGTERM" "$DRC" 0
fi

# The same listing under a new ETag, and a restart: nothing fetched again.
printf '\n' >>"$WWW/lastupdate.txt"
p2=$(feed_col polls)
if start_daemon --rules "$RULES" --config "$T/daemon.conf"; then
  check "restart: it polls the listing" wait_running 120 polls_past "$p2"
  is "restart: nothing fetched, nothing stored" \
    "$(fetched "$A.zip")/$(fetched "$B.zip")/$(entries)/$(archives)" \
    "1/1/7/$A.zip:4:0:0 $B.zip:3:0:1"
  stop_daemon TERM
  is "restart: exit status 0 on SIGTERM" "$DRC" 0
fi

# A listing naming an archive whose server never answers: the daemon stops
# at once all the same (the fetch is cut), and the feed is not failed for it.
cp "$WWW/$C.zip" "$WWW/20200616083000.export.CSV.zip"
listing 20200616083000.export.CSV.zip
sed "1s|/plain/|/stall/|" "$WWW/lastupdate.txt" >"$WWW/l.tmp" && mv "$WWW/l.tmp" "$WWW/lastupdate.txt"
f0=$(feed_col failures)
stalled() {
  grep -q '^/stall/20200616083000.export.CSV.zip' "$REQS"
}
if start_daemon --rules "$RULES" --config "$T/daemon.conf"; then
  check "stalled archive: the daemon asks for it" wait_running 120 stalled
  t0=$(date +%s)
  stop_daemon TERM
  t1=$(date +%s)
  is "stalled archive: exit status 0 on SIGTERM" "$DRC" 0
  like "stalled archive: ... promptly, the fetch cut ($((t1 - t0)) s)" "$((t1 - t0 <= 20))" '^1$'
  is "stalled archive: nothing stored, the feed not failed for it" \
    "$(entries)/$(feed_col failures)" "7/$f0"
fi

# ---- a zip, or a table, as the feed itself ----

DB=$T/direct.db
poll zip "$BASE/plain/$B.zip"
is "a zip served as the feed: exit status 0" "$rc" 0
like "... its rows stored" "$(cat "$T/zip.out")" "^$BASE/plain/$B.zip: 3 stored, 0 duplicates, 1 rejected"
is "... no archive recorded (no listing named it)" "$(sq "select count(*) from feed_archives")" 0
cp "$GD/$C" "$WWW/table.tsv"
poll tsv "$BASE/plain/table.tsv"
is "a table served as the feed: exit status 0" "$rc" 0
like "... its rows stored" "$(cat "$T/tsv.out")" "^$BASE/plain/table.tsv: 2 stored, 0 duplicates, 0 rejected"
is "... the entries of both" "$(entries)" 5

done_testing

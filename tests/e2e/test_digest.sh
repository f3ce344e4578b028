#!/bin/sh
# End-to-end: digests. `vigil digest` over a database built from a December
# 2023 chronology with the shipped rules: the files it prints and writes,
# the Markdown and JSON against expected files, the HTML through xmllint and
# its SVG timeline through rsvg-convert; an empty period; `--list` and an
# unknown name. Then the daemon's scheduler: a digest set for the next
# minute, the catch-up of the period missed before start-up by a database
# made days before, the scheduled
# run on its minute, and once per period across a restart.
#
# The daemon is started first, so that the minute it waits for passes while
# the command-line checks run; the script takes as long as that minute.
# The minute is at least MARGIN seconds away, room for the daemon to start
# and catch up before it on a slow machine (it takes a second or two here).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DFIX=$FIXTURES/digest
WEEK=weekly-2023-12-13_2023-12-19

# cli NAME ARG...: runs vigil with the arguments; its output goes to
# $T/NAME.out and $T/NAME.err and its status to $rc.
_cli_errs=""
cli() {
  _name=$1
  shift
  "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}

# need TOOL PACKAGE: whether TOOL is installed; when it is not, one failing
# check says which package brings it.
need() {
  if command -v "$1" >/dev/null 2>&1; then
    return 0
  fi
  fail "$1 is installed" "$1 is missing: install the Debian package $2 (make test-deps does)"
  return 1
}

# names_in DIR: the names in DIR, sorted, one a line.
names_in() {
  find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort
}

# times_in DIR: each file of DIR with the time it was last modified.
times_in() {
  stat -c '%n %y' "$1"/* | sort
}

# png_width FILE: the width in the PNG header (bytes 16-19, big-endian).
png_width() {
  od -An -tu1 -j16 -N4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}

# ---- the daemon: a digest due at the start of the next minute ----

MARGIN=40
now=$(date -u +%s)
at=$(((now + MARGIN) / 60 * 60 + 60)) # the first minute at least MARGIN s ahead
schedule="$(date -u -d "@$at" '+%M %H') * * *"
at_text=$(date -u -d "@$at" '+%Y-%m-%d %H:%M')
tomorrow_text=$(date -u -d "@$((at + 86400))" '+%Y-%m-%d %H:%M')
yesterday=$(date -u -d "@$((at - 86400))" +%F)  # the period of the run at $at
before=$(date -u -d "@$((at - 2 * 86400))" +%F) # the period of the run a day earlier
DG=$T/dg
diag "digest 'soon' scheduled '$schedule' ($at_text UTC): periods $before and $yesterday"
cat >"$T/digest.conf" <<EOF
timezone = "UTC"
alerts_file = "$T/alerts.jsonl"
digests = {
  soon = { schedule = "$schedule", days = 1, template = "daily", out = "$DG" },
}
EOF

# The database was made three days ago: the runs it missed since are caught
# up (a new one catches up none; tests/e2e/test_places.sh).
"$VIGIL" ingest --no-rules --db "$DB" /dev/null >/dev/null 2>"$T/made.err"
sq "update state set value = value - 3 * 86400 where name = 'created_at'"
start_daemon --config "$T/digest.conf" --rules "$RULES" --log-level debug
log1=$DLOG
check "at start-up the missed run writes the period of the day before yesterday" \
  wait_running 120 test -f "$DG/soon-$before.md"
check "... in every format" wait_running 60 test -f "$DG/soon-$before.html" -a -f "$DG/soon-$before.json"
check "... and logs it" wait_running 60 grep -q "digest soon: wrote $DG/soon-$before.md" "$log1"
is "... and records it once" \
  "$(sq "select count(*) from digest_runs where name = 'soon' and period_last = '$before'")" 1
check "... an empty day, said so" grep -q "Nothing was recorded for $before\\." "$DG/soon-$before.md"
check "... then sets the timer for $at_text" \
  wait_running 60 grep -q "digest soon: next run $at_text UTC" "$log1"
if [ "$(date -u +%s)" -lt "$at" ]; then
  check "before its minute, yesterday's period is not written" test ! -e "$DG/soon-$yesterday.md"
else
  ok "before its minute, yesterday's period is not written # SKIP the minute had come already"
fi
reply=$(printf '%s: A line for the scheduled digest of the day, sent before its minute.\n' \
  "$yesterday" | send_unix)
like "an entry dated yesterday is stored" "$reply" '^ok [0-9]+$'

# ---- vigil digest over the December chronology ----

FDB=$T/fixture.db
cli ingest ingest --rules "$RULES" --db "$FDB" "$DFIX/december.txt"
is "vigil ingest --rules of the chronology: exit status 0" "$rc" 0
is "... stores its twelve lines" "$(sq "$FDB" 'select count(*) from entries')" 12

OUT=$T/out
cli weekly digest weekly --at 2023-12-20 --db "$FDB" --out "$OUT"
is "vigil digest weekly --at 2023-12-20: exit status 0" "$rc" 0
is "... prints the three files it wrote" "$(cat "$T/weekly.out")" "$OUT/$WEEK.md
$OUT/$WEEK.html
$OUT/$WEEK.json"
for ext in md html json; do
  check "... $WEEK.$ext exists and is not empty" test -s "$OUT/$WEEK.$ext"
done
is "... and nothing else is in the directory" "$(names_in "$OUT" | wc -l | tr -d ' ')" 3
check "the Markdown is the expected one" diff -u "$DFIX/expected-$WEEK.md" "$OUT/$WEEK.md"
check "the JSON is the expected one" diff -u "$DFIX/expected-$WEEK.json" "$OUT/$WEEK.json"

HTML=$OUT/$WEEK.html
if need xmllint libxml2-utils; then
  xmllint --html --noout "$HTML" >"$T/xmllint.out" 2>&1
  is "xmllint --html accepts the HTML (exit status)" "$?" 0
  is "... and has nothing to say about it" "$(cat "$T/xmllint.out")" ""
fi
sed -n 's|.*<img [^>]*src="data:image/svg+xml;base64,\([A-Za-z0-9+/=]*\)".*|\1|p' "$HTML" >"$T/svg.b64"
is "the HTML has one timeline image, an SVG data URI" "$(line_count "$T/svg.b64")" 1
base64 -d <"$T/svg.b64" >"$T/timeline.svg" 2>"$T/base64.err"
is "... whose base64 decodes" "$?" 0
like "... to an SVG document" "$(head -c 200 "$T/timeline.svg")" '^<svg xmlns="http://www.w3.org/2000/svg"'
is "... with a dot per entry of the period" "$(grep -o '<circle ' "$T/timeline.svg" | wc -l | tr -d ' ')" 5
is "... and a triangle per alert" "$(grep -o '<polygon ' "$T/timeline.svg" | wc -l | tr -d ' ')" 4
if need xmllint libxml2-utils; then
  check "... that is well-formed XML" xmllint --noout "$T/timeline.svg"
fi
if need rsvg-convert librsvg2-bin; then
  check "rsvg-convert renders the timeline to PNG" rsvg-convert -o "$T/timeline.png" "$T/timeline.svg"
  is "... a PNG file" "$(od -An -tx1 -N8 "$T/timeline.png" 2>&1 | tr -d ' \n')" 89504e470d0a1a0a
  size=$(wc -c <"$T/timeline.png" 2>/dev/null | tr -d ' ')
  check "... of more than 4 KB (it has $size bytes)" test "${size:-0}" -gt 4096
  width=$(png_width "$T/timeline.png" 2>/dev/null)
  check "... at least 500 px wide (it is ${width:-?})" test "${width:-0}" -ge 500
fi

# ---- an empty period ----

EMPTY=$T/empty
cli empty digest weekly --at 2020-01-01 --db "$FDB" --out "$EMPTY"
is "a period without entries: exit status 0" "$rc" 0
is "... prints its three files" "$(cat "$T/empty.out")" "$EMPTY/weekly-2019-12-25_2019-12-31.md
$EMPTY/weekly-2019-12-25_2019-12-31.html
$EMPTY/weekly-2019-12-25_2019-12-31.json"
check "... the Markdown says nothing was recorded" grep -qF \
  "Nothing was recorded with a date from 2019-12-25 to 2019-12-31." \
  "$EMPTY/weekly-2019-12-25_2019-12-31.md"
check "... and has no sections" test "$(grep -c '^## ' "$EMPTY/weekly-2019-12-25_2019-12-31.md")" -eq 0
check "... the JSON says empty" grep -Eq '"empty":[[:space:]]*true' "$EMPTY/weekly-2019-12-25_2019-12-31.json"
check "... the HTML says so too" grep -qF "Nothing was recorded" "$EMPTY/weekly-2019-12-25_2019-12-31.html"
check "... without a timeline" test "$(grep -c '<img' "$EMPTY/weekly-2019-12-25_2019-12-31.html")" -eq 0
if need xmllint libxml2-utils; then
  xmllint --html --noout "$EMPTY/weekly-2019-12-25_2019-12-31.html" >"$T/xmllint-empty.out" 2>&1
  is "... and is valid to xmllint --html" "$?:$(cat "$T/xmllint-empty.out")" "0:"
fi

# ---- --list and unknown names ----

cli list digest --list --db "$FDB"
is "vigil digest --list: exit status 0" "$rc" 0
like "... shows weekly on Mondays at 08:00, 7 days" "$(cat "$T/list.out")" '^weekly +0 8 \* \* mon +7 '
like "... and daily at 07:00, 1 day" "$(cat "$T/list.out")" '^daily +0 7 \* \* \* +1 '
cli unknown digest monthly --db "$FDB" --out "$T/unknown"
isnt "an unknown digest name: a non-zero exit status" "$rc" 0
like "... with a clear message" "$(cat "$T/unknown.err")" "no digest 'monthly' is configured"
check "... and nothing written" test ! -e "$T/unknown"
# shellcheck disable=SC2086 # one argument per file
check_sanitizers "no sanitizer report from the vigil commands" $_cli_errs

# ---- the scheduled run ----

left=$((at - $(date -u +%s) + 120))
[ "$left" -lt 120 ] && left=120
check "on its minute the scheduled run writes yesterday's period" \
  wait_running "$left" test -f "$DG/soon-$yesterday.json"
# The run is recorded, and then logged, after its last file is written.
wait_running 60 grep -q "digest soon: wrote $DG/soon-$yesterday\\.json\$" "$log1"
while [ "$(date -u +%s)" -lt $((at + 3)) ]; do sleep 0.2; done
check "... after the minute began" test "$(date -u +%s)" -ge "$at"
is "... recorded once" \
  "$(sq "select count(*) from digest_runs where name = 'soon' and period_last = '$yesterday'")" 1
is "... for that one day" \
  "$(sq "select period_first from digest_runs where name = 'soon' and period_last = '$yesterday'")" \
  "$yesterday"
ran=$(sq "select ran_at from digest_runs where name = 'soon' and period_last = '$yesterday'")
check "... not before its minute (ran at $ran)" expr "$ran" \>= "$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ)"
is "two runs in all: the catch-up and the scheduled one" \
  "$(sq "select count(*) from digest_runs where name = 'soon'")" 2
is "each file written once: three formats for each period, nothing left over" \
  "$(names_in "$DG" | tr '\n' ' ')" \
  "soon-$before.html soon-$before.json soon-$before.md soon-$yesterday.html soon-$yesterday.json soon-$yesterday.md "
is "the log names each file of the scheduled run once" \
  "$(count_matching "digest soon: wrote $DG/soon-$yesterday\\.(md|html|json)\$" "$log1")" 3
is "... and never finds a period written already" "$(count_matching 'written already' "$log1")" 0
check "the scheduled digest is the daily one for yesterday" \
  grep -qF "# Daily digest: $yesterday" "$DG/soon-$yesterday.md"
check "... with the entry sent before its minute" \
  grep -qF "A line for the scheduled digest of the day, sent before its minute." "$DG/soon-$yesterday.md"
check "the timer is set again, for the same time tomorrow" \
  wait_running 60 grep -q "digest soon: next run $tomorrow_text UTC" "$log1"

# ---- a restart: no period is written twice ----

runs_before=$(sq "select name, period_first, period_last, ran_at from digest_runs order by period_last")
times_before=$(times_in "$DG")
stop_daemon TERM
is "the daemon stops: exit status 0" "$DRC" 0
start_daemon --config "$T/digest.conf" --rules "$RULES" --log-level debug
log2=$DLOG
check "restarted, the scheduler looks at what is due and sets its timer" \
  wait_running 120 grep -q "digest soon: next run $tomorrow_text UTC" "$log2"
is "... and records no new run" \
  "$(sq "select name, period_first, period_last, ran_at from digest_runs order by period_last")" \
  "$runs_before"
is "... rewrites no file" \
  "$(times_in "$DG")" \
  "$times_before"
is "... and logs no digest written" "$(count_matching 'digest soon: wrote' "$log2")" 0
cli list-soon digest --list --config "$T/digest.conf" --db "$DB"
like "vigil digest --list shows soon, its schedule and the last period written" \
  "$(cat "$T/list-soon.out")" "soon +$(echo "$schedule" | sed 's/\*/\\*/g') +1 +$yesterday \\("
stop_daemon TERM
is "the restarted daemon stops: exit status 0" "$DRC" 0
check_sanitizers "no sanitizer report from the last vigil command" "$T/list-soon.err"

done_testing

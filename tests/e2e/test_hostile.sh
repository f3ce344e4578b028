#!/bin/sh
# End-to-end: the hostile suite of tests/hostile/ against the real daemon.
# Its rules directory holds the shipped rules and every hostile rule file
# (tests/hostile/rules/*.lua, one attack each); it is sent ordinary
# entries, the hostile entries of tests/hostile/entries.txt and larger or
# binary ones made here, then ordinary entries again. Checked:
#
#   - every hostile rule is contained: its failure is logged with its file
#     and line, with the reason the attack deserves (table below), and the
#     files that must not load are reported by name;
#   - no escape worked: no marker file, the database is where it was, the
#     daemon did not exit, no hostile rule set a tag or raised an alert,
#     and no log line was forged;
#   - the shipped rules tag the ordinary entries exactly as they do alone
#     (vigil ingest into a database of its own), before and after the
#     hostile entries, with a hoarder holding the rules' memory;
#   - every hostile entry gets the reply it should ("ok ID", or "error line
#     N: REASON"), and every refused one is kept in the rejects table;
#   - the daemon still answers at the end, its memory stayed bounded, and
#     neither it nor `vigil check` on the hostile directory left a
#     sanitizer report;
#   - every hostile feed (tests/hostile/feeds/, and larger ones made here:
#     an entity bomb, an item over max_line, a tag of 40,000 attributes,
#     elements nested 100,000 deep, HTML of 130,000 attributes in a
#     summary), polled with `vigil poll` from a local server, gets what
#     tests/hostile/feeds/expected.txt says, within 20 s and 512 MB, and no
#     external entity was read into an entry.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

HOSTILE=$(cd "$E2E/../hostile" && pwd)
MAX_LINE=1048576
started=$(date +%s)
TAB=$(printf '\t')

# cli NAME ARG...: runs `vigil ARG...` (killed after 300 s), its output in
# $T/NAME.out and $T/NAME.err; sets rc.
cli() {
  _name=$1
  shift
  timeout 300 "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}
_cli_errs=""

# split_expectations FILE LINES EXPECT: the entries of FILE (one line after
# each "#> EXPECTED" line) to LINES, and their expectations, one a line,
# to EXPECT.
split_expectations() {
  awk -v lines="$2" -v expect="$3" '
    /^#> / { want = substr($0, 4); next }
    /^#/ { next }
    { print > lines; print want > expect; want = "" }
  ' "$1"
}

# check_replies NAME LINES EXPECT REPLIES: one check per entry, that its
# reply is what EXPECT says; and one that there was a reply for each.
check_replies() {
  is "$1: one reply per entry" "$(line_count "$4")" "$(line_count "$2")"
  paste -d "$TAB" "$3" "$4" >"$T/$1.pairs"
  _n=0
  while IFS="$TAB" read -r _want _reply; do
    _n=$((_n + 1))
    case $_want in
    ok) like "$1 $_n: stored" "$_reply" '^(ok|duplicate) [0-9]+$' ;;
    error\ *)
      like "$1 $_n: refused with its reason (${_want#error })" "$_reply" \
        "^error line $_n: .*${_want#error }"
      ;;
    *) fail "$1 $_n: no expectation for it" ;;
    esac
  done <"$T/$1.pairs"
}

# texts_tags DB TEXTS_FILE: for each text of TEXTS_FILE stored in DB, the
# text and the tags rules other than the hostile ones gave it, sorted.
texts_tags() {
  while IFS= read -r _text; do
    printf '%s => %s\n' "$_text" "$(sq "$1" "select t.tag from tags t join entries e on e.id = t.entry_id
      where e.text = '$_text' and t.rule not like 'hostile-%' order by t.tag" | tr '\n' ' ')"
  done <"$2"
}

# ---- the ordinary entries, and the tags the shipped rules alone give them ----

cat >"$T/ordinary1.txt" <<'EOF'
2023-03-16: North Korea test-fires a Hwasong-17 ICBM into the sea east of the peninsula.
2023-03-13: South Korea and the US begin the Freedom Shield exercise.
2023-03-16: Yoon Suk Yeol and Kishida Fumio hold a summit in Tokyo.
2023-03-27: North Korea fires two short-range ballistic missiles.
2023-04-14: The US sanctions three North Korean officials over arms deals.
2023-04-18: Russia and China hold talks in Moscow on the peninsula.
2023-05-31: North Korea launches a military reconnaissance satellite, which falls into the sea.
2023-06-15: B-52 bombers fly with South Korean and US fighters over the peninsula.
2023-07-12: Kim Jong Un oversees the test of a Hwasong-18 ICBM.
2023-08-21: Ulchi Freedom Shield begins in South Korea.
EOF
cat >"$T/ordinary2.txt" <<'EOF'
2023-09-13: Putin hosts Kim Jong Un at a spaceport in the Russian Far East.
2023-11-21: North Korea launches a reconnaissance satellite on its third try.
2023-11-22: South Korea suspends part of the 2018 military agreement.
2023-11-30: The US sanctions a North Korean hacking group.
2023-12-18: North Korea test-fires a Hwasong-18 ICBM.
EOF
cat "$T/ordinary1.txt" "$T/ordinary2.txt" >"$T/ordinary.txt"
sed 's/^[^:]*: //' "$T/ordinary.txt" >"$T/ordinary.texts"
printf 'alerts_file = "%s"\n' "$T/expected-alerts.jsonl" >"$T/expected.conf"
cli expected ingest --rules "$RULES" --db "$T/expected.db" --config "$T/expected.conf" \
  "$T/ordinary.txt"
is "vigil ingest of the ordinary entries with the shipped rules alone: exit status 0" "$rc" 0
texts_tags "$T/expected.db" "$T/ordinary.texts" >"$T/expected.tags"
is "... which tag every one of them" "$(grep -c '=> $' "$T/expected.tags")" 0

# ---- vigil check on the hostile rules ----

cli check check "$HOSTILE/rules"
is "vigil check on the hostile rules: exit status 1 (some files do not load)" "$rc" 1
like "... and it counts what loaded and the errors" "$(cat "$T/check.out")" \
  ' [1-9][0-9]* rules, 0 test cases, 5 errors$'
for report in '00-deep-source\.lua: C stack overflow' \
  '00-loop-at-load\.lua:[0-9]+: instruction budget of [0-9]+ exceeded' \
  '00-poison-at-load\.lua:[0-9]+: 12 attempts to poison shared tables at load time were all refused' \
  "00-declare\\.lua:[0-9]+: rule 'hostile-after-unknown' runs after unknown rule 'no-such-rule'" \
  "00-declare\\.lua:[0-9]+: rule 'hostile-after-itself' is part of a cycle"; do
  like "... and reports $(printf '%s' "$report" | sed 's/\\//g; s/\[0-9\]+/N/g')" \
    "$(cat "$T/check.err")" "$report"
done

# ---- the daemon, with the shipped rules and the hostile ones ----

DRULES=$T/rules
mkdir "$DRULES"
cp "$RULES"/*.lua "$HOSTILE"/rules/*.lua "$DRULES"/
printf 'alerts_file = "%s"\n' "$T/alerts.jsonl" >"$T/vigil.conf"
start_daemon --rules "$DRULES" --config "$T/vigil.conf" || {
  diag "the daemon did not start; its log ends:" "$(tail -n 20 "$DLOG")"
  done_testing
}
for file in 00-deep-source 00-loop-at-load 00-poison-at-load; do
  like "the daemon reports that $file.lua does not load, naming it" \
    "$(grep -F "$file.lua" "$DLOG" | head -n 1)" " error +$DRULES/$file\\.lua(:[0-9]+)?: "
done

send_unix <"$T/ordinary1.txt" >"$T/ordinary1.replies"
is "the first ordinary entries are all stored" \
  "$(grep -Ec '^ok [0-9]+$' "$T/ordinary1.replies")" "$(line_count "$T/ordinary1.txt")"

# The hostile entries of entries.txt.
split_expectations "$HOSTILE/entries.txt" "$T/entries.lines" "$T/entries.expect"
send_unix <"$T/entries.lines" >"$T/entries.replies"
check_replies entries "$T/entries.lines" "$T/entries.expect" "$T/entries.replies"

# The ones made here: each printf writes one entry, each echo its expectation.
{
  printf '2023-03-18: raw control characters \001\002\033[31m red \177 end\n'
  printf '2023-03-18: a NUL\000inside the line\n'
  printf '2023-03-18: bytes that are not UTF-8 \377\376\n'
  printf '2023-03-18: an overlong encoding of a slash \300\257\n'
  printf '2023-03-18: an encoded surrogate \355\240\200\n'
  printf '\357\273\2772023-03-18: a byte order mark before the date\n'
  printf '2023-03-18: a line ending in CR LF\r\n'
  awk 'BEGIN {
    printf "{\"date\":\"2023-03-19\",\"text\":\"An entry with 100000 tags.\",\"tags\":["
    for (i = 0; i < 100000; i++) printf "%s\"t%d\"", i ? "," : "", i
    print "]}"
    s = ""; for (i = 0; i < 100000; i++) s = s "["
    print s
    printf "{\"date\":\"2023-03-19\",\"text\":\"nested 100000 deep\",\"deep\":%s", s
    gsub(/\[/, "]", s); print s "}"
    d = ""; for (i = 0; i < 500; i++) d = d "["
    e = d; gsub(/\[/, "]", e)
    printf "{\"date\":\"2023-03-19\",\"text\":\"Nested 500 deep, within what JSON allows.\",\"deep\":%s%s}\n", d, e
    y = ""; for (i = 0; i < 10000; i++) y = y "2"
    printf "{\"date\":\"%s\",\"text\":\"a date of 10000 digits\"}\n", y
    printf "%s-01-01: a year of 10000 digits\n", y
  }'
  # (a+)+$ over runs of 18 a: no start position reaches the match limit.
  awk 'BEGIN { printf "2023-03-20: "; for (i = 0; i < 5000; i++) printf "aaaaaaaaaaaaaaaaaa!"; print "" }'
  # A group of a thousand captures repeated over 5000 a, then no c.
  awk 'BEGIN { printf "2023-03-20: "; for (i = 0; i < 5000; i++) printf "a"; print "!c" }'
  # Texts of max_line bytes that name no one, so that every shipped rule
  # scans them whole: eleven, one more than the failures that disable a
  # rule. Then one byte more than max_line.
  awk -v max="$MAX_LINE" 'BEGIN {
    for (k = 0; k < 12; k++) {
      line = sprintf("2023-03-%02d: long text %02d ", k + 1, k)
      while (length(line) < max + (k == 11)) line = line "nothing to see here "
      print substr(line, 1, max + (k == 11))
    }
  }'
} >"$T/generated.lines"
{
  echo ok
  echo 'error NUL byte at byte 18'
  echo 'error invalid UTF-8 at byte 38'
  echo 'error invalid UTF-8 at byte 45'
  echo 'error invalid UTF-8 at byte 34'
  echo 'error no date at the start of the line'
  echo ok
  echo ok
  echo 'error invalid JSON'
  echo 'error invalid JSON'
  echo ok
  echo 'error year must have four digits'
  echo 'error year must have four digits'
  echo ok
  echo ok
  yes ok | head -n 11
  echo "error line of $((MAX_LINE + 1)) bytes is over the $MAX_LINE-byte cap"
} >"$T/generated.expect"
send_unix <"$T/generated.lines" >"$T/generated.replies"
check_replies generated "$T/generated.lines" "$T/generated.expect" "$T/generated.replies"

is "no record that gives a member twice is stored" \
  "$(sq "select count(*) from entries where text like 'Duplicate keys%'")" 0
errors=$(cat "$T/entries.replies" "$T/generated.replies" | grep -c '^error line ')
is "every refused entry is kept in the rejects table" \
  "$(sq 'select count(*) from rejects')" "$errors"

# The hoarder takes the rules' memory and keeps it (a call may take only
# what its budget pays for: three calls fill it); the ordinary entries
# after it must still be tagged.
printf '2023-03-21: hoard everything, %s time\n' first second third | send_unix >"$T/hoard.replies"
is "the entries that wake the hoarder are stored" "$(grep -Ec '^ok [0-9]+$' "$T/hoard.replies")" 3
send_unix <"$T/ordinary2.txt" >"$T/ordinary2.replies"
is "the ordinary entries after the hostile ones are all stored" \
  "$(grep -Ec '^ok [0-9]+$' "$T/ordinary2.replies")" "$(line_count "$T/ordinary2.txt")"

reply=$(printf '2023-12-31: The last line of the hostile run.\n' | send_unix)
like "the daemon still answers the last line" "$reply" '^ok [0-9]+$'
check "... and is still running" daemon_running
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status" 2>/dev/null)
diag "the daemon's peak resident memory: ${hwm:-?} kB"
if [ -n "$hwm" ] && [ "$hwm" -lt 1048576 ]; then
  ok "its memory stayed under 1 GB, sanitizers included"
else
  fail "its memory stayed under 1 GB, sanitizers included" "VmHWM: ${hwm:-unknown} kB"
fi
stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0

# ---- what the shipped rules made of the ordinary entries ----

texts_tags "$DB" "$T/ordinary.texts" >"$T/daemon.tags"
check "the shipped rules tag every ordinary entry as they do alone" \
  diff "$T/expected.tags" "$T/daemon.tags"
is "no rule of the shipped ones failed, even on entries of max_line bytes" \
  "$(grep -E "rule '[^']*' \\(" "$DLOG" | grep -v "rule 'hostile-" | grep -c 'failed on entry')" 0

# ---- no escape ----

is "no hostile rule set a tag" \
  "$(sq "select count(*) from tags where rule like 'hostile-%' or tag like 'hostile%'")" 0
is "no hostile rule raised an alert" "$(sq "select count(*) from alerts where rule like 'hostile-%'")" 0
is "no marker file was written" "$(find "$T" -name 'hostile-marker*' | wc -l | tr -d ' ')" 0
check "the database is where it was" test -s "$DB"
is "no log line was forged (none starts with the forged time)" \
  "$(grep -c '^2023-01-01T00:00:00' "$DLOG")" 0
like "a newline in an entry's text is logged as \\x0a" \
  "$(grep -F 'FORGED by an entry' "$DLOG" | head -n 1)" 'missile\.\\x0a2023-01-01T00:00:00\.000Z error FORGED'
like "a carriage return as \\x0d" "$(grep -F 'HIDDEN by a carriage' "$DLOG" | head -n 1)" \
  'rocket\.\\x0d2023-01-01T00:00:00\.000Z error HIDDEN'
is "no escape character or bell reached the log" \
  "$(tr -d '\n' <"$DLOG" | tr -c '\007\033' '\n' | grep -c .)" 0

# ---- every hostile rule contained, with its reason ----

# Each hostile rule, and what its failure must say (an extended regex on
# the reason the log gives). A rule may fail with other reasons too, once
# the hoarder holds the memory. A call may take a microsecond per unit of
# its budget: a loop of history look-ups, each charged little but a query
# of its own, runs out of that time about when it runs out of units, so
# which of the two stops it depends on the machine's speed (under load it
# was the time); test_hardening checks that look-ups are charged.
cat >"$T/reasons" <<'EOF'
hostile-dump-library|attempt to call a nil value \(field 'dump'\)
hostile-dump-method|attempt to call a nil value \(method 'dump'\)
hostile-load|unknown global 'load'
hostile-load-bytecode|unknown global 'load'
hostile-loadstring|unknown global 'loadstring'
hostile-dofile|unknown global 'dofile'
hostile-loadfile|unknown global 'loadfile'
hostile-require|unknown global 'require'
hostile-loadlib|unknown global 'package'
hostile-io-write|unknown global 'io'
hostile-os-execute|attempt to call a nil value \(field 'execute'\)
hostile-io-popen|unknown global 'io'
hostile-os-getenv|attempt to call a nil value \(field 'getenv'\)
hostile-os-remove|attempt to call a nil value \(field 'remove'\)
hostile-os-rename|attempt to call a nil value \(field 'rename'\)
hostile-os-exit|attempt to call a nil value \(field 'exit'\)
hostile-debug-sethook|unknown global 'debug'
hostile-debug-registry|unknown global 'debug'
hostile-debug-upvalue|unknown global 'debug'
hostile-string-metatable|unknown global 'getmetatable'
hostile-string-library|attempt to change a read-only table \(field 'lower'\)
hostile-string-setmetatable|cannot change a protected metatable
hostile-table-library|attempt to change a read-only table \(field 'sort'\)
hostile-lists|attempt to change a read-only table \(field 'north-korea'\)
hostile-lists-rawset|unknown global 'rawset'
hostile-lists-by-pairs|attempt to change a read-only table \(field '1'\)
hostile-other-globals|unknown global '_G'
hostile-own-globals|changed only its own globals
hostile-entry-write|an entry is read-only \(tried to set 'text'\)
hostile-entry-method|an entry is read-only \(tried to set 'find'\)
hostile-entry-setmetatable|bad argument #1 to 'setmetatable' \(table expected, got vigil\.entry\)
hostile-entry-fields|attempt to change a read-only table \(field 'region'\)
hostile-entry-kept|this entry is no longer valid
hostile-collectgarbage-stop|unknown global 'collectgarbage'
hostile-collectgarbage-step|unknown global 'collectgarbage'
hostile-gc-finalizer|rules may not set __gc
hostile-gc-late-finalizer|unknown global 'collectgarbage'
hostile-close-loops|instruction budget of [0-9]+ exceeded
hostile-yield-in-sort|attempt to yield across a C-call boundary
hostile-yield-in-gsub|attempt to yield across a C-call boundary
hostile-yield-in-tostring|attempt to yield across a C-call boundary
hostile-yield-in-entry-method|attempt to yield across a C-call boundary
hostile-yield-outside|attempt to yield from outside a coroutine
hostile-close-own-thread|cannot close a running coroutine
hostile-resume-main|cannot resume non-suspended coroutine
hostile-resume-later|this entry is no longer valid
hostile-recursion-lua|stack overflow|instruction budget of [0-9]+ exceeded
hostile-recursion-index|C stack overflow
hostile-index-chain|'__index' chain too long|instruction budget of [0-9]+ exceeded
hostile-recursion-concat|C stack overflow
hostile-recursion-tostring|C stack overflow
hostile-recursion-gsub|C stack overflow
hostile-recursion-sort|C stack overflow
hostile-deep-error-value|error raised with a table value, not a message
hostile-rep-gigabyte|not enough memory
hostile-rep-beyond|resulting string too large
hostile-rep-separator|not enough memory
hostile-doubling|instruction budget of [0-9]+ exceeded
hostile-copy-loop|instruction budget of [0-9]+ exceeded
hostile-table-concat|instruction budget of [0-9]+ exceeded
hostile-format-width|invalid conversion
hostile-compare-loop|time limit of [0-9]+ ms exceeded
hostile-convert-loop|time limit of [0-9]+ ms exceeded
hostile-lua-pattern|pattern '\.-\.-\.-\.-b' could take too long on a text of 100000 bytes
hostile-lua-balanced|pattern '%b\(\)' could take too long on a text of 100000 bytes
hostile-lua-pattern-on-text|could take too long on a text of [0-9]+ bytes
hostile-pcre-nested|instruction budget of [0-9]+ exceeded
hostile-pcre-groups|no more memory|instruction budget of [0-9]+ exceeded
hostile-pcre-new-patterns|instruction budget of [0-9]+ exceeded
hostile-pcre-huge-pattern|instruction budget of [0-9]+ exceeded
hostile-pcre-broken|bad regular expression '\(\(\(\(': missing closing parenthesis
hostile-while|instruction budget of [0-9]+ exceeded
hostile-repeat|instruction budget of [0-9]+ exceeded
hostile-goto|instruction budget of [0-9]+ exceeded
hostile-loop-in-coroutines|instruction budget of [0-9]+ exceeded
hostile-short-coroutines|instruction budget of [0-9]+ exceeded|time limit of [0-9]+ ms exceeded
hostile-hoard|not enough memory
hostile-error-always|fails on every entry
hostile-error-table|error raised with a table value, not a message
hostile-error-tostring-fails|error raised with a table value, not a message
hostile-error-nil|error raised with a nil value, not a message
hostile-error-huge|(long message ){100}
hostile-error-forged-line|its own failure\\x0a2023-01-01T00:00:00\.000Z info  FORGED
hostile-tags-garbage|'tags' must give a list of strings
hostile-alert-garbage|an alert needs a message
hostile-print-forged|printed a forged line
hostile-os-date-format|instruction budget of [0-9]+ exceeded
hostile-os-date-far|cannot be represented|out-of-bound
hostile-date-loop|instruction budget of [0-9]+ exceeded
hostile-tonumber-loop|instruction budget of [0-9]+ exceeded
hostile-utf8-offset-loop|instruction budget of [0-9]+ exceeded
hostile-history-loop|instruction budget of [0-9]+ exceeded|time limit of [0-9]+ ms exceeded
hostile-self-holding-table|invalid value \(table\) at index 1 in table for 'concat'
hostile-unpack|too many results to unpack
hostile-declare-late|rules are declared when their file loads, not later
hostile-after-itself|ran although it runs after itself
hostile-after-unknown|ran after a rule that does not exist
hostile-sequence|instruction budget of [0-9]+ exceeded
EOF
# Every hostile rule of the files that load has a line above.
for file in "$HOSTILE"/rules/*.lua; do
  case $file in
  */00-deep-source.lua | */00-loop-at-load.lua | */00-poison-at-load.lua) ;; # they do not load
  *) grep -Eho '^(rule|sequence) "hostile-[^"]*"' "$file" ;;
  esac
done | sed 's/^[a-z]* "//; s/"$//' | sort >"$T/declared"
cut -d'|' -f1 "$T/reasons" | sort >"$T/listed"
check "every hostile rule the files declare has its expected reason here" \
  diff "$T/declared" "$T/listed"
while IFS='|' read -r name reason; do
  failures=$(grep -F "rule '$name' (" "$DLOG" | grep -F ' failed on entry ')
  if [ -z "$failures" ]; then
    fail "$name is contained" "no failure of it in the log"
  elif printf '%s\n' "$failures" |
    grep -Eq "rule '$name' \\($DRULES/[0-9a-z-]+\\.lua:[0-9]+\\) failed on entry [0-9]+: .*($reason)"; then
    ok "$name is contained: its failure is logged with its file:line and the reason"
  else
    fail "$name is contained: its failure is logged with its file:line and the reason" \
      "$(printf '%s\n' "$failures" | head -n 3)" "expected: $reason"
  fi
done <"$T/reasons"
like "a rule failing on every entry is disabled after 10 failures" \
  "$(grep -F "rule 'hostile-error-always'" "$DLOG" | grep disabled)" 'disabled after 10 failures'
is "print() wrote its forged line as one log line" \
  "$(grep -Fc 'print: one line\x0a2023-01-01T00:00:00.000Z error FORGED by print\x1b[2J\x1b[H' "$DLOG")" \
  "$(grep -Fc 'FORGED by print' "$DLOG")"

# ---- hostile feeds ----

if command -v python3 >/dev/null 2>&1; then
  WWW=$T/www
  mkdir -p "$WWW"
  cp "$HOSTILE"/feeds/*.xml "$WWW"/
  grep -v '^#' "$HOSTILE/feeds/expected.txt" >"$T/feeds.expected"
  python3 - "$WWW" >>"$T/feeds.expected" <<'EOF'
import os, sys
www = sys.argv[1]
def rss(name, head, items, doctype=""):
    with open(os.path.join(www, name), "w") as f:
        f.write('<?xml version="1.0"?>\n%s<rss version="2.0"><channel><title>%s</title>\n' % (doctype, name))
        for guid, title, more in items:
            f.write('<item><guid>%s</guid><title>%s</title>%s</item>\n' % (guid, title, more))
        f.write('</channel></rss>\n')
good = ("good", "North Korea fires a ballistic missile", "<pubDate>Mon, 18 Dec 2023 08:24:00 +0900</pubDate>")
# One entity of 200,000 characters used 2,000 times: 400 MB from 206 KB.
rss("bomb.xml", "", [good, ("bomb", "&x;" * 2000, "")],
    '<!DOCTYPE rss [\n<!ENTITY x "%s">\n]>\n' % ("A" * 200000))
print("bomb.xml|^failed: XML refused at line 3: the entity 'x' holds 200000 bytes, over the 1024 an internal entity may hold$")
# Entities under that cap: an item of 2 MB, over max_line; the other stored.
rss("wide.xml", "", [good, ("wide", "&x;" * 2000, "")],
    '<!DOCTYPE rss [\n<!ENTITY x "%s">\n]>\n' % ("A" * 1000))
print("wide.xml|^1 stored, 0 duplicates, 1 rejected, 0 updated, 0 unchanged$")
# A tag of 40,000 attributes: libxml2 checks them for repeats in quadratic time.
with open(os.path.join(www, "attributes.xml"), "w") as f:
    f.write('<?xml version="1.0"?>\n<rss version="2.0"><channel>\n<item')
    f.write("".join(' a%d=""' % i for i in range(40000)))
    f.write('><title>t</title></item>\n</channel></rss>\n')
print("attributes.xml|^failed: XML refused at line 3: a tag, comment or declaration runs over 262144 bytes$")
# Elements nested 100,000 deep in a title.
rss("deep.xml", "", [good, ("deep", "<b>" * 100000 + "</b>" * 100000, "")])
print("deep.xml|^failed: malformed XML at line 4: Excessive depth in document")
# A summary of escaped HTML whose one tag has 130,000 attributes: HTML is
# reduced to text from its first 64 KiB, whose tag has fewer.
rss("html-attributes.xml", "", [("html", "Attributes", "<description>&lt;p" +
    "".join(" a%d" % i for i in range(130000)) + "&gt;text&lt;/p&gt;</description>")])
print("html-attributes.xml|^1 stored, 0 duplicates, 0 rejected, 0 updated, 0 unchanged$")
EOF
  python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/feedserver.err" &
  SPID=$!
  bg_started "$SPID"
  if wait_for 10 test -s "$T/port"; then
    BASE=http://127.0.0.1:$(cat "$T/port")
    while IFS='|' read -r file want; do
      url=$BASE/plain/$file
      measure "feed-$file" "$VIGIL" poll --db "$T/feeds.db" --no-rules --source "hostile-$file" "$url"
      _cli_errs="$_cli_errs $T/feed-$file.err"
      got=$(sed -n "s|^$url: ||p" "$T/feed-$file.out")
      like "hostile feed $file: $want" "$got" "$want"
      like "... within 20 s ($secs s) and 512 MB ($((kb / 1024)) MB)" \
        "$((secs <= 20 && kb < 512 * 1024))" '^1$'
    done <"$T/feeds.expected"
    is "no external entity was read into an entry" \
      "$(sq "$T/feeds.db" "select count(*) from entries where text like '%root:%' or text not like '% end'
        and source like 'hostile-external%'")" 0
    is "the items of the external-entity feeds are stored without them" \
      "$(sq "$T/feeds.db" "select group_concat(text, ' | ') from (select text from entries
        where source like 'hostile-external%' order by source)")" "Accounts: end | Fetched: end"
    is "no entry is over max_line" "$(sq "$T/feeds.db" "select count(*) from entries where length(text) > $MAX_LINE")" 0
  else
    fail "the feed server started" "$(cat "$T/feedserver.err")"
  fi
  kill "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
else
  skip "hostile feeds" "python3 is needed for the feed server"
fi

# shellcheck disable=SC2086
check_sanitizers "no sanitizer report from vigil check, vigil ingest and vigil poll" $_cli_errs
diag "the hostile run took $(($(date +%s) - started)) s"

done_testing

#!/bin/sh
# End-to-end: the rule engine — `vigil check` and `vigil test` on the shipped
# rules and on a broken copy, tags and alerts from a running daemon and the
# sinks they go to, hot reload of the rules directory (a new file, a broken
# edit, a removal), hostile rules in the sandbox, SIGHUP, `vigil replay`, and
# `vigil ingest` with and without rules; replay, ingest and poll refusing a
# rule file that does not load, or going on without it (--skip-broken)
# while keeping what its rules set; and `vigil test` failing a case on which
# a rule fails.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

ICBM='Dec. 18, 2023: North Korea test-fires a Hwasong-18 ICBM.'
BALLOON='North Korea sends trash balloons across the border'

# cli NAME ARG...: runs `vigil ARG...` (or, when ARG starts with timeout,
# `timeout SECONDS vigil ...`) with its output in $T/NAME.out and
# $T/NAME.err (read by the sanitizer check at the end); sets rc.
cli() {
  _name=$1
  shift
  if [ "$1" != timeout ]; then
    set -- "$VIGIL" "$@"
  fi
  "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}
_cli_errs=""

# send TEXT: sends one line over the Unix socket and prints the reply.
send() {
  printf '%s\n' "$1" | send_unix
}

# id_of REPLY: the entry id of an 'ok ID' reply, or nothing.
id_of() {
  case $1 in
  'ok '[0-9]*) echo "${1#ok }" ;;
  esac
}

# tags_of ID [DB]: the tags of entry ID, sorted, joined by spaces.
tags_of() {
  case $1 in
  '' | *[!0-9]*) echo "(no entry id: '$1')" ;;
  *) sq "${2:-$DB}" "select tag from tags where entry_id = $1 order by tag" | tr '\n' ' ' |
    sed 's/ $//' ;;
  esac
}

# has_tag ID TAG: entry ID has TAG.
has_tag() {
  case $1 in
  '' | *[!0-9]*) return 1 ;;
  esac
  [ "$(sq "select count(*) from tags where entry_id = $1 and tag = '$2'")" = 1 ]
}

# lines_at_least N FILE: FILE has N lines or more.
# shellcheck disable=SC2317 # called through wait_running
lines_at_least() {
  [ -f "$2" ] && [ "$(line_count "$2")" -ge "$1" ]
}

# log_count REGEX: the number of lines of the daemon's log matching REGEX.
log_count() {
  count_matching "$1" "$DLOG"
}

# log_more_than N REGEX: the daemon's log has more than N lines matching REGEX.
# shellcheck disable=SC2317 # called through wait_running
log_more_than() {
  [ "$(log_count "$2")" -gt "$1" ]
}

# put_rule NAME: standard input becomes the rule file NAME of the daemon's
# rules directory, written under a dot-name and renamed into place.
put_rule() {
  cat >"$DRULES/.$1.tmp"
  mv "$DRULES/.$1.tmp" "$DRULES/$1"
}

# ---- vigil check and vigil test on the shipped rules ----

cli check check "$RULES"
is "vigil check on the shipped rules: exit status 0" "$rc" 0
like "... and it counts rules and no error" "$(cat "$T/check.out")" ' [1-9][0-9]* rules, .* 0 errors$'
cli test test "$RULES"
is "vigil test on the shipped rules: exit status 0" "$rc" 0
last=$(tail -n 1 "$T/test.out")
like "... and its last line is 'N passed, 0 failed' with N > 0" "$last" '^[1-9][0-9]* passed, 0 failed$'
is "... and every case it lists is ok" \
  "$(grep -c '^ok ' "$T/test.out")" "${last%% *}"

# ---- a broken copy of them ----

cp -R "$RULES" "$T/broken"
broken_line=$(($(line_count "$T/broken/events.lua") + 1))
printf 'local broken = = 1\n' >>"$T/broken/events.lua"
cli check-broken check "$T/broken"
is "vigil check on a file with a syntax error: exit status 1" "$rc" 1
like "... and it names the file and the line" "$(cat "$T/check-broken.err")" \
  "events\\.lua:$broken_line:"
cli test-broken test "$T/broken"
isnt "vigil test on a file with a syntax error: exit status is not 0" "$rc" 0

# A file that never finishes loading is stopped by the instruction budget.
mkdir "$T/looping"
cp "$RULES/actors.lua" "$T/looping/"
printf -- '-- loops as it loads\nwhile true do end\n' >"$T/looping/loop.lua"
cli check-looping timeout 120 "$VIGIL" check "$T/looping"
is "vigil check on a file that loops as it loads: exit status 1" "$rc" 1
like "... and it names the file and the line" "$(cat "$T/check-looping.err")" 'loop\.lua:2:'

# A directory without rules is no error.
mkdir "$T/empty"
cli check-empty check "$T/empty"
is "vigil check on an empty rules directory: exit status 0" "$rc" 0
like "... and it counts no rule" "$(cat "$T/check-empty.out")" ': 0 rules, 0 test cases, 0 errors$'
check_sanitizers "... and has no sanitizer report" "$T/check-empty.err"
_cli_errs=${_cli_errs% *} # checked just above

# ---- a daemon with the shipped rules, an alerts file and a command sink ----

DRULES=$T/rules
cp -R "$RULES" "$DRULES"
cat >"$T/notify.sh" <<EOF
#!/bin/sh
cat >>"$T/notify.out"
EOF
chmod +x "$T/notify.sh"
cat >"$T/vigil.conf" <<EOF
alerts_file = "$T/alerts.jsonl"
sinks = {
  notify = { command = { "$T/notify.sh", "alert" }, timeout_ms = 60000, retries = 1, default = true },
}
EOF

start_daemon --rules "$DRULES" --config "$T/vigil.conf" || {
  diag "the daemon did not start; its log ends:" "$(tail -n 20 "$DLOG")"
  done_testing
}

reply=$(send "$ICBM")
like "the ICBM line is answered 'ok ID'" "$reply" '^ok [0-9]+$'
icbm=$(id_of "$reply")
tags=" $(tags_of "$icbm") "
like "... and the entry is tagged launch" "$tags" ' launch '
like "... and actor:north-korea" "$tags" ' actor:north-korea '
is "... and raised alerts from dprk-launch, icbm-launch and new-weapon naming it" \
  "$(sq "select a.rule || ':' || a.severity from alerts a join alert_entries ae on ae.alert_id = a.id
         where ae.entry_id = ${icbm:-0} order by a.rule" | tr '\n' ' ')" \
  "dprk-launch:warn icbm-launch:crit new-weapon:info "

wait_running 60 lines_at_least 3 "$T/alerts.jsonl"
is "alerts_file gets three JSON lines" "$(line_count "$T/alerts.jsonl" 2>&1)" 3
for r in dprk-launch icbm-launch; do
  is "... one from $r naming the entry" \
    "$(grep -c "\"rule\":\"$r\".*\"entries\":\\[$icbm\\]" "$T/alerts.jsonl" 2>&1)" 1
done
is "the log sink logs both" \
  "$(grep -Ec "alert [0-9]+ \\[(warn|crit)\\] (dprk|icbm)-launch: " "$DLOG")" 2
wait_running 60 lines_at_least 3 "$T/notify.out"
is "the command sink gets three lines" "$(line_count "$T/notify.out" 2>&1)" 3
for r in dprk-launch icbm-launch; do
  is "... one from $r naming the entry" \
    "$(grep -c "\"rule\":\"$r\".*\"entries\":\\[$icbm\\]" "$T/notify.out" 2>&1)" 1
done
cli alerts alerts --json --db "$DB"
is "vigil alerts --json: exit status 0" "$rc" 0
for r in dprk-launch icbm-launch; do
  is "... lists the alert from $r with \"entries\":[$icbm]" \
    "$(grep -c "\"rule\":\"$r\".*\"entries\":\\[$icbm\\]" "$T/alerts.out")" 1
done

# ---- hot reload: a new rule file ----

put_rule balloon.lua <<'EOF'
-- A rule added while the daemon runs.
rule "tag-balloon" {
  description = "balloons sent across the border",
  when = function(e) return e:match("(?i)balloon") ~= nil end,
  tags = { "balloon" },
}
EOF
# Each try is a new entry (a duplicate runs no rule).
n=0
first=
balloon=
until=$(deadline 120)
while before "$until"; do
  n=$((n + 1))
  text="2023-06-01: $BALLOON."
  [ $n -gt 1 ] && text="2023-06-01: $BALLOON (try $n)."
  id=$(id_of "$(send "$text")")
  [ -n "$first" ] || first=${id:-none}
  if has_tag "$id" balloon; then
    balloon=$id
    break
  fi
  daemon_running || break
  sleep 0.1
done
like "a rule file moved into the rules directory is loaded: a new entry gets its tag" \
  "$balloon" '^[0-9]+$'
diag "the first balloon entry was $first; entry $balloon was tagged after $n tries"

# ---- hot reload: a broken edit keeps the previous version ----

reloads=$(log_count 'rules: [0-9]+ loaded from')
put_rule balloon.lua <<'EOF'
-- The same rule, broken by an edit.
rule "tag-balloon" {
  when = function(e) return e:match("(?i)balloon") ~= nil end,
  tags = { "balloon" ),
}
EOF
wait_running 60 log_more_than "$reloads" 'rules: [0-9]+ loaded from'
like "a syntax error in the edited file is logged with the file and the line" \
  "$(grep 'balloon\.lua:' "$DLOG")" 'balloon\.lua:4: .*previous version stays in force'
id=$(id_of "$(send "2023-06-02: $BALLOON again, after the broken edit.")")
check "... and its previous version still tags new entries" has_tag "$id" balloon

# ---- hot reload: removing the file removes its rule ----

rm -f "$DRULES/balloon.lua"
n=0
untagged=
until=$(deadline 120)
while before "$until"; do
  n=$((n + 1))
  id=$(id_of "$(send "2023-06-03: $BALLOON once more (after the removal, try $n).")")
  if [ -n "$id" ] && ! has_tag "$id" balloon; then
    untagged=$id
    break
  fi
  daemon_running || break
  sleep 0.1
done
like "once the rule file is removed, a new balloon entry is not tagged" "$untagged" '^[0-9]+$'

# ---- hostile rules ----

put_rule hostile.lua <<EOF
-- Rules that try to hang the daemon and to leave the sandbox.
rule "hostile-loop" {
  when = function(e)
    if e:match("hostile") then while true do end end
    return false
  end,
  tags = { "never" },
}

rule "hostile-io" {
  when = function(e)
    if e:match("hostile") then return io.open("/etc/passwd") ~= nil end
    return false
  end,
  tags = { "read-passwd" },
}

rule "hostile-memory" {
  when = function(e)
    if e:match("hostile") then return #string.rep("x", 1 << 30) > 0 end
    return false
  end,
  tags = { "big" },
}

rule "hostile-exec" {
  when = function(e)
    if e:match("hostile") then os.execute("touch $T/pwned") end
    return false
  end,
  tags = { "executed" },
}
EOF
n=0
hostile=
until=$(deadline 120)
while before "$until"; do
  n=$((n + 1))
  reply=$(send "2023-07-01: a hostile entry for the sandbox, try $n.")
  hostile=$(id_of "$reply")
  grep -q "rule 'hostile-loop' .*failed on entry ${hostile:-none}:" "$DLOG" && break
  daemon_running || break
  sleep 0.1
done
like "with a rule that loops forever, a line is still answered 'ok ID'" "$reply" '^ok [0-9]+$'
is "... and its entry is stored" \
  "$(sq "select count(*) from entries where id = ${hostile:-0}")" 1
like "... and the log names the looping rule and the entry, and says it failed" \
  "$(grep "rule 'hostile-loop'" "$DLOG" | tail -n 1)" \
  "rule 'hostile-loop' \\(.*hostile\\.lua:[0-9]+\\) failed on entry $hostile: .*instruction budget"
like "the log names the rule that called io.open and the entry, and says it failed" \
  "$(grep "rule 'hostile-io'" "$DLOG" | tail -n 1)" \
  "rule 'hostile-io' \\(.*hostile\\.lua:[0-9]+\\) failed on entry $hostile: .*'io'"
like "the rule that called os.execute failed too" \
  "$(grep "rule 'hostile-exec'" "$DLOG" | tail -n 1)" \
  "rule 'hostile-exec' \\(.*hostile\\.lua:[0-9]+\\) failed on entry $hostile:"
is "... and created no file" "$(ls "$T/pwned" 2>/dev/null)" ""
like "a rule that asks for 1 GiB fails for want of memory" \
  "$(grep "rule 'hostile-memory'" "$DLOG" | tail -n 1)" \
  "rule 'hostile-memory' \\(.*hostile\\.lua:[0-9]+\\) failed on entry $hostile: not enough memory"
is "no hostile rule set a tag" \
  "$(sq "select count(*) from tags where tag in ('never', 'read-passwd', 'executed', 'big')")" 0
reply=$(send "2023-07-02: an ordinary line after the hostile ones.")
like "the daemon still answers the next line" "$reply" '^ok [0-9]+$'
like "... which is stored" "$(sq "select text from entries where id = ${reply#ok }" 2>&1)" \
  '^an ordinary line after the hostile ones\.$'

# ---- SIGHUP ----

reloads=$(log_count 'rules: [0-9]+ loaded from')
kill -HUP "$DPID" 2>/dev/null
wait_running 60 log_more_than "$reloads" 'rules: [0-9]+ loaded from'
check "SIGHUP does not stop the daemon" daemon_running
check "... which logs that it reloaded its configuration" grep -qF "reloaded configuration from $T/vigil.conf" "$DLOG"
check "... and its rules" log_more_than "$reloads" 'rules: [0-9]+ loaded from'
reply=$(send "2023-07-03: answered after SIGHUP.")
like "... and still answers" "$reply" '^ok [0-9]+$'

# ---- SIGTERM ----

stop_daemon TERM
is "SIGTERM: exit status 0" "$DRC" 0
check "SIGTERM: the log says stopped cleanly" grep -q "stopped cleanly" "$DLOG"

# ---- vigil replay on the daemon's database ----

# The balloon rule is gone, so replaying the shipped rules clears the tags it
# set; every other tag comes back as it was.
other_tags() {
  sq "select count(*) from tags where tag <> 'balloon'"
}
tags_before=$(other_tags)
alerts_before=$(sq 'select count(*) from alerts')
jsonl_before=$(line_count "$T/alerts.jsonl")
cli replay1 replay --db "$DB" --rules "$RULES" --config "$T/vigil.conf"
is "vigil replay on the daemon's database: exit status 0" "$rc" 0
like "... and it raises no new alert" "$(cat "$T/replay1.out")" ': 0 new alerts, 0 amended$'
is "... the tags the shipped rules set are the same" "$(other_tags)" "$tags_before"
is "... the tags of the removed balloon rule are gone" \
  "$(sq "select count(*) from tags where tag = 'balloon'")" 0
is "... the ICBM entry keeps its tags" "$(tags_of "$icbm")" "actor:north-korea by:north-korea launch"
is "... no alert is stored twice" "$(sq 'select count(*) from alerts')" "$alerts_before"
is "... and none is sent again" "$(line_count "$T/alerts.jsonl")" "$jsonl_before"
all_tags=$(sq 'select count(*) from tags')
cli replay2 replay --db "$DB" --rules "$RULES" --config "$T/vigil.conf"
is "vigil replay a second time: exit status 0" "$rc" 0
is "... the tags are the same" "$(sq 'select count(*) from tags')" "$all_tags"
is "... the alerts are the same" "$(sq 'select count(*) from alerts')" "$alerts_before"

# ---- vigil ingest, with and without rules, and replay over its database ----

cat >"$T/feed.txt" <<EOF
$ICBM
Nov. 21, 2023: North Korea launches a reconnaissance satellite on its third try.
2023-11-30: The US sanctions a North Korean hacking group.
Sept. 7, 2023: Yoon Suk Yeol and Li Qiang meet in Jakarta.
EOF
cat >"$T/ingest.conf" <<EOF
alerts_file = "$T/ingest-alerts.jsonl"
EOF
cli ingest-bare ingest --no-rules --db "$T/bare.db" --config "$T/ingest.conf" "$T/feed.txt"
is "vigil ingest --no-rules: exit status 0" "$rc" 0
is "... stores every line" "$(sq "$T/bare.db" 'select count(*) from entries')" 4
is "... and sets no tag" "$(sq "$T/bare.db" 'select count(*) from tags')" 0
is "... and raises no alert" "$(sq "$T/bare.db" 'select count(*) from alerts')" 0

IDB=$T/ingest.db
cli ingest-rules ingest --rules "$RULES" --db "$IDB" --config "$T/ingest.conf" "$T/feed.txt"
is "vigil ingest --rules: exit status 0" "$rc" 0
is "... stores every line" "$(sq "$IDB" 'select count(*) from entries')" 4
icbm2=$(sq "$IDB" "select id from entries where text like '%Hwasong-18%'")
is "... and tags them" "$(tags_of "$icbm2" "$IDB")" "actor:north-korea by:north-korea launch"
is "... and the others too" "$(sq "$IDB" 'select count(distinct entry_id) from tags')" 4
is "... and raises their alerts" \
  "$(sq "$IDB" 'select rule from alerts order by rule' | tr '\n' ' ')" \
  "dprk-launch dprk-launch icbm-launch launch-without-response new-weapon sanctions-news "
is "... and sends them to the alerts file" "$(line_count "$T/ingest-alerts.jsonl" 2>&1)" 6

tags_before=$(sq "$IDB" 'select count(*) from tags')
alerts_before=$(sq "$IDB" 'select count(*) from alerts')
cli replay3 replay --db "$IDB" --rules "$RULES" --config "$T/ingest.conf"
is "vigil replay with the rules the entries were ingested with: exit status 0" "$rc" 0
is "... the tag rows are the same" "$(sq "$IDB" 'select count(*) from tags')" "$tags_before"
is "... the alerts are the same" "$(sq "$IDB" 'select count(*) from alerts')" "$alerts_before"
cli replay4 replay --db "$IDB" --rules "$RULES" --config "$T/ingest.conf"
is "vigil replay a second time: exit status 0" "$rc" 0
is "... the tag rows are the same" "$(sq "$IDB" 'select count(*) from tags')" "$tags_before"
is "... the alerts are the same" "$(sq "$IDB" 'select count(*) from alerts')" "$alerts_before"
is "... and no alert went to the alerts file again" "$(line_count "$T/ingest-alerts.jsonl" 2>&1)" 6

cli replay5 replay --db "$T/bare.db" --rules "$RULES" --config "$T/ingest.conf"
is "vigil replay over entries stored without rules: exit status 0" "$rc" 0
is "... tags them as ingest --rules did" \
  "$(sq "$T/bare.db" 'select count(*) from tags')" "$tags_before"
is "... and raises their alerts" "$(sq "$T/bare.db" 'select count(*) from alerts')" "$alerts_before"

# ---- a rule file that does not load: replay, ingest and poll refuse ----

# $T/broken is the copy of the shipped rules whose events.lua ends in a
# syntax error at line $broken_line. events.lua sets the launch tags.

# tag_rows DB: every tag of DB as "entry|tag|rule", one a line.
tag_rows() {
  sq "$1" 'select entry_id, tag, rule from tags order by entry_id, tag'
}
# mark_rows DB: every correlation mark of DB, one a line.
mark_rows() {
  sq "$1" 'select rule, step, key, entry_id from marks order by rule, step, key, entry_id'
}

tags_before=$(tag_rows "$IDB")
marks_before=$(mark_rows "$IDB")
alerts_before=$(sq "$IDB" 'select count(*) from alerts')
like "the ingested entries carry tags that rules of events.lua set" "$tags_before" '\|launch\|tag-launch$'
isnt "... and correlation marks" "$marks_before" ""

cli replay-broken replay --db "$IDB" --rules "$T/broken" --config "$T/ingest.conf"
is "vigil replay with a rule file that does not load: exit status 3" "$rc" 3
like "... and it names the file and the line" "$(cat "$T/replay-broken.err")" \
  "events\\.lua:$broken_line: "
like "... and says that it did nothing, and how to go on" "$(cat "$T/replay-broken.err")" \
  '^vigil replay: nothing done: [0-9]+ errors? in the rules \(.*--skip-broken'
is "... and replays nothing" "$(cat "$T/replay-broken.out")" ""
is "... every tag stays" "$(tag_rows "$IDB")" "$tags_before"
is "... and every mark" "$(mark_rows "$IDB")" "$marks_before"

cli replay-skip replay --skip-broken --db "$IDB" --rules "$T/broken" --config "$T/ingest.conf"
is "vigil replay --skip-broken with that file: exit status 0" "$rc" 0
like "... it still names the file and the line" "$(cat "$T/replay-skip.err")" \
  "events\\.lua:$broken_line: "
like "... and replays with the rules that loaded" "$(cat "$T/replay-skip.out")" \
  '^replayed 4 entries with [0-9]+ rules: 0 new alerts, 0 amended$'
is "... the tags set by rules of the file that did not load are kept, the others set as before" \
  "$(tag_rows "$IDB")" "$tags_before"
is "... and so are the correlation marks (the kept tags are seen by the rules that run)" \
  "$(mark_rows "$IDB")" "$marks_before"
is "... and no alert is added" "$(sq "$IDB" 'select count(*) from alerts')" "$alerts_before"

cli replay-nodir replay --db "$IDB" --rules "$T/no-such-rules" --config "$T/ingest.conf"
is "vigil replay with a rules directory that does not exist: exit status 3" "$rc" 3
like "... and it names the directory" "$(cat "$T/replay-nodir.err")" \
  'no-such-rules: cannot read the rules path'
is "... and every tag stays" "$(tag_rows "$IDB")" "$tags_before"

cli ingest-broken ingest --rules "$T/broken" --db "$T/broken.db" --config "$T/ingest.conf" \
  "$T/feed.txt"
is "vigil ingest with a rule file that does not load: exit status 3" "$rc" 3
like "... and it names the file and the line" "$(cat "$T/ingest-broken.err")" \
  "events\\.lua:$broken_line: "
like "... and says that it did nothing" "$(cat "$T/ingest-broken.err")" \
  '^vigil ingest: nothing done: .*--skip-broken'
check "... and does not even make the database" test ! -e "$T/broken.db"

cli ingest-skip ingest --skip-broken --rules "$T/broken" --db "$T/skip.db" \
  --config "$T/ingest.conf" "$T/feed.txt"
is "vigil ingest --skip-broken with that file: exit status 0" "$rc" 0
is "... stores every line" "$(sq "$T/skip.db" 'select count(*) from entries')" 4
icbm3=$(sq "$T/skip.db" "select id from entries where text like '%Hwasong-18%'")
is "... and the rules that loaded tag them" "$(tags_of "$icbm3" "$T/skip.db")" "actor:north-korea by:north-korea"

cli poll-broken timeout 30 "$VIGIL" poll --rules "$T/broken" --db "$T/poll.db" \
  --config "$T/ingest.conf" http://127.0.0.1:9/news.rss
is "vigil poll with a rule file that does not load: exit status 3" "$rc" 3
like "... and it names the file and the line" "$(cat "$T/poll-broken.err")" \
  "events\\.lua:$broken_line: "
is "... and fetches nothing" "$(cat "$T/poll-broken.out")" ""
check "... nor makes the database" test ! -e "$T/poll.db"

# ---- vigil test: a rule that fails on a case's entries fails the case ----

mkdir "$T/runtime"
cat >"$T/runtime/mistakes.lua" <<'EOF'
-- Mistakes that only show when the rules run.
rule "tag-balloon" {
  when = function(e) return e:has_tags"balloon" end,
  tags = { "balloon-again" },
}

rule "tag-region" {
  when = function(e) return e:find(e.fields.region) end,
  tags = { "regional" },
}

test "nothing to tag in a plain line" {
  given = { "2023-06-01: North Korea sends trash balloons across the border." },
  tags = { {} },
}
EOF
cat >"$T/runtime/sound.lua" <<'EOF'
-- A sound rule whose test case runs beside the mistakes.
rule "tag-border" { when = function(e) return e:find"border" end, tags = { "border" } }

test "a border entry" {
  given = { "2023-06-02: Soldiers cross the border by mistake." },
  tags = { {"border"} },
}
EOF
cli test-runtime test "$T/runtime"
is "vigil test with rules that fail as they run: exit status 1" "$rc" 1
test_out=$(cat "$T/test-runtime.out")
like "... the case expecting no tag fails" "$test_out" \
  '^FAIL .*mistakes\.lua:12 nothing to tag in a plain line$'
like "... naming the rule calling a method that does not exist, and the line of the error" \
  "$test_out" \
  "^entry 1: rule 'tag-balloon' \\(.*mistakes\\.lua:2\\) failed: .*mistakes\\.lua:3: .*has_tags"
like "... and the rule passing nil to e:find" "$test_out" \
  "^entry 1: rule 'tag-region' \\(.*mistakes\\.lua:7\\) failed: .*mistakes\\.lua:8: bad argument #1 to 'find'"
like "a case of another file fails too, the rules failing on its entry" "$test_out" \
  '^FAIL .*sound\.lua:4 a border entry$'
is "... and the last line counts both" "$(tail -n 1 "$T/test-runtime.out")" "0 passed, 2 failed"

# ---- no sanitizer report from the commands ----

# shellcheck disable=SC2086
check_sanitizers "no sanitizer report from check, test, alerts, replay and ingest" $_cli_errs

done_testing

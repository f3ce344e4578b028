#!/bin/sh
# End-to-end: the command line and the configuration — global options
# before or after the command word; rules from several paths loaded as one
# set (`after` names and the shared lists across directories) by check,
# test, ingest and the daemon, whose reload keeps the last good version of
# a broken file; check and test on one file or directory, as part of the
# configured rules; a rules path that does not exist; configuration files
# refused for an unknown setting or a value of the wrong type, with the
# nearest name; and `vigil config --check` and `--show` with the origin of
# each setting.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# cli NAME ARG...: runs `vigil ARG...` with its output in $T/NAME.out and
# $T/NAME.err (read by the sanitizer check at the end); sets rc.
cli() {
  _name=$1
  shift
  "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}
_cli_errs=""

# tags_of TEXT [DB]: the tags of the entry whose text is TEXT, sorted,
# joined by spaces.
tags_of() {
  sq "${2:-$DB}" "select t.tag from tags t join entries e on e.id = t.entry_id
                  where e.text = '$1' order by t.tag" | tr '\n' ' ' | sed 's/ $//'
}

# ---- the rule files: a site's base rules, and a user's own beside them ----

mkdir "$T/base" "$T/mine" "$T/dup" "$T/empty"
cat >"$T/base/meetings.lua" <<'EOF'
-- A site's base rules: talks and summits are meetings.
rule "tag-meeting" {
  when = function(e) return e:find({ "talks", "summit" }) end,
  tags = { "meeting" },
}

test "talks are a meeting" {
  given = { "2024-03-04: Envoys hold talks in Geneva." },
  tags = { { "meeting" } },
}
EOF
# Sorted before meetings.lua, and in another directory: `after` orders it.
cat >"$T/mine/armed.lua" <<'EOF'
-- A user's rule on top of the base ones: meetings about weapons, the
-- weapons as the shipped word list names them.
rule "arms-talks" {
  after = { "tag-meeting" },
  when = function(e) return e:has_tag("meeting") and e:find(lists.weapons) end,
  tags = { "arms-talks" },
}

test "talks on missiles are arms talks, a summit on trade is not" {
  given = { "2024-03-05: Envoys hold talks on missile ranges.",
            "2024-03-06: A summit on grain trade opens." },
  tags = { { "arms-talks" }, {} },
}
EOF
cat >"$T/dup/again.lua" <<'EOF'
-- Declares a rule name the base rules have already.
rule "tag-meeting" {
  when = function(e) return e:find("conference") end,
  tags = { "meeting" },
}
EOF
cat >"$T/one.lua" <<'EOF'
-- A single rule file, checked on its own.
rule "tag-flood" {
  when = function(e) return e:find({ "flood", "floods" }) end,
  tags = { "flood" },
}

test "a flood is tagged" {
  given = { "2024-07-01: Floods hit the river valley." },
  tags = { { "flood" } },
}
EOF
printf 'rules = "%s"\n' "$T/base" >"$T/site.lua"
printf 'rules = "%s"\n' "$T/no-such-configured" >"$T/none-conf.lua"

# ---- global options before or after the command word ----

printf '2024-01-02: First entry of the year.\n2024-01-03: Second entry.\n' >"$T/few.txt"
cli few ingest --no-rules --db "$T/opts.db" "$T/few.txt"
is "ingest of two lines: exit status 0" "$rc" 0
cli q-after query --db "$T/opts.db"
cli q-before --db "$T/opts.db" query
is "vigil --db X query: exit status 0" "$rc" 0
like "... lists the entries of X" "$(cat "$T/q-before.out")" 'Second entry'
is "... exactly as vigil query --db X does" "$(cat "$T/q-before.out")" "$(cat "$T/q-after.out")"
cli qj-before --json --db "$T/opts.db" query
cli qj-after query --db "$T/opts.db" --json
is "vigil --json --db X query is vigil query --db X --json" \
  "$(cat "$T/qj-before.out")" "$(cat "$T/qj-after.out")"
is "... two JSON lines" "$(grep -c '^{' "$T/qj-before.out")" 2
# An empty --db would be a database in memory: what ingest stored would
# vanish, and query would list nothing, both saying all went well.
cli empty-db ingest --no-rules --db "" "$T/few.txt"
is "vigil ingest --db '': exit status 2" "$rc" 2
like "... and why" "$(cat "$T/empty-db.err")" "vigil: db must name a file"
cli empty-db-q query --db ""
is "vigil query --db '': exit status 2" "$rc" 2

# ---- two rule directories as one set ----

cli check-both check --rules "$T/base" --rules "$T/mine"
is "check --rules base --rules mine: exit status 0" "$rc" 0
is "... counts the rules and cases of both" "$(cat "$T/check-both.out")" \
  "$T/base, $T/mine: 2 rules, 2 test cases, 0 errors"

cli check-mine-alone check --rules "$T/mine"
is "check --rules mine alone: exit status 1 (its after name is in base)" "$rc" 1
like "... names the file, the line and the unknown rule" "$(cat "$T/check-mine-alone.err")" \
  "mine/armed\\.lua:3: rule 'arms-talks' runs after unknown rule 'tag-meeting'"

cli check-mine check --config "$T/site.lua" "$T/mine"
is "check mine with the configured rules base: exit status 0" "$rc" 0
is "... speaks of mine alone" "$(cat "$T/check-mine.out")" "$T/mine: 1 rules, 1 test cases, 0 errors"

cli test-both test --rules "$T/base" --rules "$T/mine"
is "test --rules base --rules mine: exit status 0" "$rc" 0
like "... runs the case of mine" "$(cat "$T/test-both.out")" \
  '^ok   .*mine/armed\.lua:9 talks on missiles are arms talks'
like "... and the case of base" "$(cat "$T/test-both.out")" '^ok   .*base/meetings\.lua:7 talks are a meeting'
like "... 2 passed" "$(cat "$T/test-both.out")" '^2 passed, 0 failed$'

cli test-mine test --config "$T/site.lua" "$T/mine"
is "test mine with the configured rules base: exit status 0" "$rc" 0
is "... runs the case of mine alone" "$(cat "$T/test-mine.out")" \
  "ok   $T/mine/armed.lua:9 talks on missiles are arms talks, a summit on trade is not
1 passed, 0 failed"

cli check-dup check --rules "$T/base" --rules "$T/dup"
is "a rule name declared in two directories: exit status 1" "$rc" 1
like "... names both files and lines" "$(cat "$T/check-dup.err")" \
  "dup/again\\.lua:2: rule 'tag-meeting' is declared twice \\(first at .*base/meetings\\.lua:2\\)"

ARMS='2024-03-05: Envoys hold talks on missile ranges.'
TRADE='2024-03-06: A summit on grain trade opens.'
TEST='2024-03-07: A missile test is reported.'
printf '%s\n%s\n%s\n' "$ARMS" "$TRADE" "$TEST" >"$T/three.txt"
cli ingest-both ingest --db "$T/both.db" --rules "$T/empty" --rules "$T/mine" --rules "$T/base" \
  "$T/three.txt"
is "ingest with three rules paths (one empty): exit status 0" "$rc" 0
like "... warns of the directory without rule files" "$(cat "$T/ingest-both.err")" \
  'empty holds no rule files'
is "talks on missiles: tagged meeting by base, arms-talks by mine" \
  "$(tags_of 'Envoys hold talks on missile ranges.' "$T/both.db")" "arms-talks meeting"
is "a summit on trade: meeting only" "$(tags_of 'A summit on grain trade opens.' "$T/both.db")" \
  "meeting"
is "a missile test: no tag" "$(tags_of 'A missile test is reported.' "$T/both.db")" ""

# ---- check and test on a single file ----

cli check-one check "$T/one.lua"
is "check FILE: exit status 0" "$rc" 0
is "... checks that file" "$(cat "$T/check-one.out")" "$T/one.lua: 1 rules, 1 test cases, 0 errors"
cli test-one test "$T/one.lua"
is "test FILE: exit status 0" "$rc" 0
like "... runs its case" "$(cat "$T/test-one.out")" '^1 passed, 0 failed$'
cli check-one-rules check --rules "$T/one.lua" --rules "$T/base"
is "--rules FILE --rules DIR: exit status 0" "$rc" 0
like "... both loaded" "$(cat "$T/check-one-rules.out")" ': 2 rules, 2 test cases, 0 errors$'

# ---- a rules path that does not exist ----

cli check-none check --rules "$T/no-such"
is "check --rules on a missing path: exit status 2" "$rc" 2
like "... names the path" "$(cat "$T/check-none.err")" 'no-such: cannot read the rules path: No such file'
cli check-none-named check "$T/no-such.lua"
is "check on a missing file: exit status 2" "$rc" 2
like "... names it" "$(cat "$T/check-none-named.err")" 'no-such\.lua: cannot read the rules path'
cli check-none-context check --rules "$T/no-such" "$T/one.lua"
is "check FILE with a missing --rules path beside it: exit status 2" "$rc" 2
cli test-none-config test --config "$T/none-conf.lua" "$T/one.lua"
is "test FILE with a configured rules path that is missing: exit status 2" "$rc" 2
like "... names it" "$(cat "$T/test-none-config.err")" 'no-such-configured: cannot read the rules path'
cli ingest-none ingest --db "$T/none.db" --rules "$T/base" --rules "$T/no-such" --skip-broken \
  "$T/three.txt"
is "ingest with a missing rules path, even with --skip-broken: exit status 3" "$rc" 3
check "... and the database is not made" test ! -e "$T/none.db"
cli run-none run --db "$T/run-none.db" --socket "$T/none.sock" --spool '' --rules "$T/base" \
  --rules "$T/no-such"
is "vigil run with a missing rules path: exit status 2" "$rc" 2
like "... says which" "$(cat "$T/run-none.err")" 'no-such: cannot read the rules path'
is "... and never says ready" "$(count_matching 'ready$' "$T/run-none.err")" 0

# ---- the daemon on two rule directories ----

# log_has REGEX: the daemon's log has a line matching REGEX.
log_has() {
  grep -Eq -- "$1" "$DLOG"
}

# The file asks for warnings only; -v on the command line still shows the
# informational lines (ready, what the rules loaded), after each reload too.
SPOOL=
printf 'log_level = "warn"\nrules = { "%s" }\n' "$T/base" >"$T/daemon.lua"
if start_daemon -v --config "$T/daemon.lua"; then
  like "the daemon loads the configured rules" "$(cat "$DLOG")" "rules: 1 loaded from $T/base$"
  printf '%s\n' "$ARMS" | send_unix >/dev/null
  is "... and tags with them alone" "$(tags_of 'Envoys hold talks on missile ranges.')" "meeting"

  printf 'log_level = "warn"\nrulez = { "%s", "%s" }\n' "$T/base" "$T/mine" >"$T/daemon.lua"
  kill -HUP "$DPID"
  check "SIGHUP with a misspelt setting: the log names the file, line, key and nearest one" \
    wait_running 120 log_has "reload: $T/daemon\\.lua:2: unknown setting 'rulez' \\(did you mean 'rules'\\?\\)"
  like "... and keeps the settings in force" "$(cat "$DLOG")" 'reload: keeping the settings in force'

  printf 'log_level = "warn"\nrules = { "%s", "%s" }\n' "$T/base" "$T/mine" >"$T/daemon.lua"
  kill -HUP "$DPID"
  check "SIGHUP with a second rules directory: the rules of both are loaded" \
    wait_running 120 log_has "rules: 2 loaded from $T/base, $T/mine$"
  printf '2024-03-08: More talks on missile ranges.\n' | send_unix >/dev/null
  is "... and tag as one set" "$(tags_of 'More talks on missile ranges.')" "arms-talks meeting"

  # The new directory is watched: an edit there reloads without a signal.
  printf -- '-- broken\nrule "arms-talks" {\n' >"$T/mine/armed.lua"
  check "a broken edit in the second directory is noticed; its last good version stays" \
    wait_running 120 log_has 'armed\.lua:3: .*\(its previous version stays in force\)'
  printf '2024-03-09: Talks on missile ranges resume.\n' | send_unix >/dev/null
  is "... and still tags" "$(tags_of 'Talks on missile ranges resume.')" "arms-talks meeting"
  stop_daemon
  is "the daemon stops: exit status 0" "$DRC" 0
fi

# ---- configuration files that say what is wrong ----

cat >"$T/bad.lua" <<'EOF'
local dir = "var"
db = dir .. "/bad.db"
log_levl = "debug"
batchmax = 10
sinks = { pager = { command = { "true" }, timout_ms = 500 } }
feeds = { { url = "http://127.0.0.1:1/a.xml", interval = "often" } }
EOF
cli bad-query query --config "$T/bad.lua"
is "query with a config file that has unknown settings: exit status 2" "$rc" 2
like "... names the file, the line, the key and the nearest setting" "$(cat "$T/bad-query.err")" \
  "bad\\.lua:3: unknown setting 'log_levl' \\(did you mean 'log_level'\\?\\)"
like "... and every other one" "$(cat "$T/bad-query.err")" \
  "bad\\.lua:4: unknown setting 'batchmax' \\(did you mean 'batch_max'\\?\\)"
like "... inside a sink" "$(cat "$T/bad-query.err")" \
  "sink 'pager': unknown field 'timout_ms' \\(did you mean 'timeout_ms'\\?\\)"
like "... a value of the wrong type inside a feed" "$(cat "$T/bad-query.err")" \
  "feed 1: 'interval' must be a number, not a string"
is "... and nothing of the local variable" "$(count_matching "'dir'" "$T/bad-query.err")" 0
cli bad-ingest ingest --config "$T/bad.lua" --no-rules "$T/few.txt"
is "ingest refuses it too: exit status 2" "$rc" 2
check "... and makes no database" test ! -e "$T/var/bad.db"
cli bad-check config --check "$T/bad.lua"
is "config --check on it: exit status 2" "$rc" 2
is "... the same messages, one a line" "$(grep -c 'bad\.lua:' "$T/bad-check.err")" 4
cli bad-default config --check --config "$T/bad.lua"
is "config --check takes the --config file by default: exit status 2" "$rc" 2
cli good-check config --check "$T/site.lua"
is "config --check on a good file: exit status 0" "$rc" 0
is "... says so" "$(cat "$T/good-check.out")" "$T/site.lua: ok"

# ---- config --show: every setting and where it came from ----

printf 'log_level = "warn"\nrules = { "%s", "%s" }\n' "$T/base" "$T/mine" >"$T/show.lua"
cli show-json --json config --show --config "$T/show.lua" --db "$T/flag.db"
is "config --show --json: exit status 0" "$rc" 0
# origin KEY [FILE]: "ORIGIN VALUE[ FILE]" of KEY in FILE (default show-json.out), parsed.
origin() {
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o["key"] == sys.argv[2]:
        print(o["origin"], json.dumps(o["value"]), o.get("file", "-"))
' "$T/${2:-show-json}.out" "$1"
}
is "db came from the flag" "$(origin db)" "flag \"$T/flag.db\" -"
is "log_level came from the file" "$(origin log_level)" "file \"warn\" $T/show.lua"
is "rules came from the file, as a list" "$(origin rules)" \
  "file [\"$T/base\", \"$T/mine\"] $T/show.lua"
is "socket is the default, derived: beside the database" "$(origin socket)" \
  "default \"$T/vigil.sock\" -"
is "max_line is the default, a number" "$(origin max_line)" 'default 1048576 -'
is "every line is a setting: as many lines as the text output has" \
  "$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["key"]))' \
    "$T/show-json.out")" "$(cli show-text config --show && line_count "$T/show-text.out")"
cli show-flag --json config --show --config "$T/show.lua" --rules "$T/one.lua"
is "--rules replaces the file's rules" "$(origin rules show-flag)" "flag [\"$T/one.lua\"] -"
cli show-aligned config --show --config "$T/show.lua"
like "the text output: name, origin, value, aligned" "$(cat "$T/show-aligned.out")" \
  "^log_level +file $T/show\\.lua +warn$"
like "... every line" "$(cat "$T/show-aligned.out")" '^db +default +var/vigil\.db$'

check_sanitizers "no sanitizer report from the commands" $_cli_errs

done_testing

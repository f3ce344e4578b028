#!/bin/sh
# End-to-end: the command line and the configuration file used as a careless
# or hostile user would — a database name SQLite takes for no file (``,
# `:memory:`, a `file:` URI), where whatever was stored would be gone at
# exit; a configuration file that loops for ever, piles up memory or reaches
# for the metatable of its globals, given to a command or read again by the
# daemon on SIGHUP (which must go on answering); and names holding a newline
# and an escape sequence (a file, a rules path, an argument, a setting), which
# every message must quote escaped, on one line.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# cli NAME ARG...: runs `vigil ARG...` (killed after 120 s) with its output in
# $T/NAME.out and $T/NAME.err (read by the sanitizer check at the end); sets rc.
cli() {
  _name=$1
  shift
  timeout 120 "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}
_cli_errs=""

cd "$T" || exit 1
printf '2024-05-01: Envoys meet in Geneva.\n' >"$T/one.txt"

# ---- database names that are no file ----

for db in '' ':memory:' 'file:kept.db?mode=memory'; do
  cli nodb ingest --no-rules --db "$db" "$T/one.txt"
  is "ingest --db '$db': refused as a usage error" "$rc" 2
  like "... saying the name is no file" "$(cat "$T/nodb.err")" \
    "^vigil: db .*(''|':memory:'|URI)"
  is "... and nothing said to be stored" "$(cat "$T/nodb.out")" ""
done
cli nodb-query query --db=
is "query --db= (empty): refused" "$rc" 2
printf "state_dir = 'file:state'\n" >"$T/state.lua"
cli nodb-state ingest --no-rules --config "$T/state.lua" "$T/one.txt"
is "a state_dir that makes the database a URI: refused before anything is stored" "$rc" 3
like "... saying so" "$(cat "$T/nodb-state.err")" \
  "^vigil ingest: db 'file:state/vigil\\.db' would be read by SQLite as a URI"
is "... and nothing said to be stored" "$(cat "$T/nodb-state.out")" ""
cli nodb-run run --db ':memory:' --socket '' --spool ''
is "run --db :memory:: refused before it starts" "$rc" 2
like "... saying why" "$(cat "$T/nodb-run.err")" "^vigil run: db must name a file, not ':memory:'"
printf "db = 'file:x.db?mode=memory'\n" >"$T/uri.lua"
cli nodb-file config --check "$T/uri.lua"
is "a configuration file's db that is a URI: refused" "$rc" 2
cli dotfile ingest --no-rules --db './file:kept.db' "$T/one.txt"
is "./file:kept.db is a file of that name: stored" "$rc" 0
is "... in that file" "$(sq "$T/file:kept.db" 'select count(*) from entries')" 1

# ---- configuration files held to a budget ----

cat >"$T/loop.lua" <<'EOF'
db = "loop.db"
while true do end
EOF
cat >"$T/hoard.lua" <<'EOF'
local t = {}
for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end
EOF
cat >"$T/meta.lua" <<'EOF'
getmetatable(_ENV).__newindex(1, "db", 2)
EOF
cat >"$T/index.lua" <<'EOF'
sinks = { pager = setmetatable({}, { __index = function() error("ran after the file") end }) }
EOF
cli loop config --check "$T/loop.lua"
is "a file that loops for ever: refused" "$rc" 2
like "... at its line, for its budget" "$(cat "$T/loop.err")" "^$T/loop\\.lua:2: instruction budget"
cli hoard query --config "$T/hoard.lua"
is "a file that piles up memory: refused" "$rc" 2
like "... naming it" "$(cat "$T/hoard.err")" "$T/hoard\\.lua"
cli meta config --check "$T/meta.lua"
is "a file that reaches for its globals' metatable: refused, no crash" "$rc" 2
like "... getmetatable is not there" "$(cat "$T/meta.err")" "meta\\.lua:1: .*getmetatable"
cli index config --check "$T/index.lua"
is "a sink whose table raises from __index: refused, no crash" "$rc" 2
like "... as a sink without file or command" "$(cat "$T/index.err")" "give one of 'file', 'command' or 'nats'"

# log_has REGEX: the daemon's log has a line matching REGEX.
log_has() {
  grep -Eq -- "$1" "$DLOG"
}

SPOOL=
printf 'rules = {}\n' >"$T/daemon.lua"
if start_daemon --config "$T/daemon.lua"; then
  cp "$T/loop.lua" "$T/daemon.lua"
  kill -HUP "$DPID"
  check "SIGHUP with a file that loops: the reload stops at its budget" \
    wait_running 120 log_has "reload: $T/daemon\\.lua:2: instruction budget"
  like "... and keeps the settings in force" "$(cat "$DLOG")" 'reload: keeping the settings in force'
  like "the daemon still answers" "$(printf '2024-05-02: Talks resume.\n' | send_unix)" '^ok [0-9]+$'
  stop_daemon
  is "... and stops cleanly" "$DRC" 0
fi

# ---- a clean stop while waiting on a pipe ----

# Lines read from a FIFO whose writer stays open are committed when SIGINT
# stops the wait: they cannot be read again. The line without a date is
# reported as soon as the ingest has it, which is what the test waits for.
mkfifo "$T/fifo"
exec 3<>"$T/fifo" # held open (Linux opens a FIFO read-write without waiting)
printf '2024-05-04: First line of the pipe.\nno date\n2024-05-05: Second line.\n' >&3
"$VIGIL" ingest --no-rules --db "$T/fifo.db" "$T/fifo" >"$T/fifo.out" 2>"$T/fifo.err" &
ingester=$!
_cli_errs="$_cli_errs $T/fifo.err"
check "the lines of a FIFO are taken before more come" \
  wait_for 60 grep -q 'fifo:2: no date' "$T/fifo.err"
kill -INT "$ingester"
wait "$ingester"
is "SIGINT while a FIFO is waited on: status 130" "$?" 130
is "... the two lines read are stored" "$(sq "$T/fifo.db" 'select count(*) from entries')" 2
like "... and the summary says so" "$(cat "$T/fifo.out")" '^2 stored, 0 duplicates, 1 rejected; interrupted by SIGINT'
exec 3>&-

# ---- names with a newline and an escape sequence ----

ESC=$(printf '\033')
odd=$(printf 'odd\033[2Jname\nforged.txt:9: x')
# no_raw NAME: the stderr of command NAME holds no escape byte.
no_raw() {
  ! grep -q "$ESC" "$T/$1.err"
}
printf 'no date here\n2024-05-03: A dated line.\n' >"$T/$odd"
cli oddfile ingest --no-rules --db "$T/odd.db" "$T/$odd"
is "a file whose name holds a newline: its reject is one line" "$(line_count "$T/oddfile.err")" 1
like "... its name escaped" "$(cat "$T/oddfile.err")" 'odd\\x1b\[2Jname\\x0aforged\.txt:9: x:1: no date'
check "... no escape byte" no_raw oddfile
cli oddrules check --rules "$T/$odd.d"
is "a rules path with a newline: each message one line" \
  "$(grep -cv '^vigil check: ' "$T/oddrules.err")" 0
like "... escaped" "$(cat "$T/oddrules.err")" 'odd\\x1b\[2Jname\\x0aforged.*: cannot read the rules path'
cli oddrule check --rules "$T/$odd"
is "a rule file with a newline in its name: its error is one line" \
  "$(line_count "$T/oddrule.err")" 1
check "... no escape byte" no_raw oddrule
check "... no escape byte" no_raw oddrules
cli oddcmd "$odd"
like "an unknown command word, escaped" "$(head -n 1 "$T/oddcmd.err")" \
  "^vigil: unknown command 'odd\\\\x1b\\[2Jname\\\\x0aforged\\.txt:9: x'$"
check "... no escape byte" no_raw oddcmd
cli oddid show --db "$T/odd.db" "$odd"
is "an id that is no number: one line" "$(line_count "$T/oddid.err")" 1
check "... no escape byte" no_raw oddid
printf '_ENV["log\\27[2J\\nlevel"] = "debug"\n' >"$T/oddkey.lua"
cli oddkey query --config "$T/oddkey.lua"
is "a setting's name with a newline: one line" "$(line_count "$T/oddkey.err")" 1
like "... escaped" "$(cat "$T/oddkey.err")" "unknown setting 'log\\\\x1b\\[2J\\\\x0alevel'"
check "... no escape byte" no_raw oddkey

check_sanitizers "no sanitizer report from the commands" $_cli_errs

done_testing

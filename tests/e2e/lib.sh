# lib.sh — what every end-to-end test of vigil shares. Each test sources it:
#
#   . "$(dirname "$0")/lib.sh"
#
# and then speaks TAP through it: `ok`, `fail`, `skip`, `check`, `is`, `like`, and
# `done_testing` at the end (prints 1..N, exits non-zero when a check failed).
# It gives the test a scratch directory $T (removed on exit; kept when
# VIGIL_E2E_KEEP is set), and starts and stops `vigil run` in the background
# under the sanitizers: every daemon run is one check that its log holds no
# AddressSanitizer, UndefinedBehaviorSanitizer or LeakSanitizer report.
#
# Every wait is bounded, and waits for something it can observe (a log
# line, a file, a reply), never for a time to pass. The bounds are generous
# (a minute or more for what takes a second here): the sanitizer build on a
# slow or busy machine is many times slower, and a bound only costs time
# when a test fails anyway. Polls give up at their bound, clients run under
# timeout(1), and a daemon that does not stop is killed.

set -u

: "${VIGIL:?VIGIL must name the vigil binary to test}"
case $VIGIL in
/*) ;;
*) VIGIL=$(pwd)/$VIGIL ;;
esac
E2E=$(cd "$(dirname "$0")" && pwd)
FIXTURES=$(cd "$E2E/../fixtures" && pwd)

# The sanitizers report into the daemon's log, which the checks read.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LC_ALL=C

if [ ! -x "$VIGIL" ]; then
  echo "Bail out! $VIGIL is not an executable"
  exit 1
fi
for tool in socat sqlite3 timeout od; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Bail out! $tool is needed (make test-deps installs it)"
    exit 1
  fi
done

# need TOOL...: bails out unless every tool is installed.
need() {
  for _tool in "$@"; do
    if ! command -v "$_tool" >/dev/null 2>&1; then
      echo "Bail out! $_tool is needed (make test-deps installs it)"
      exit 1
    fi
  done
}

# ---- TAP ----

_tap_n=0
_tap_failed=0

# diag TEXT...: prints TEXT as TAP comment lines.
diag() {
  printf '%s\n' "$*" | sed 's/^/# /'
}

# ok DESCRIPTION: one passing check.
ok() {
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n - $1"
}

# fail DESCRIPTION [DIAGNOSTIC...]: one failing check, and why.
fail() {
  _tap_n=$((_tap_n + 1))
  _tap_failed=$((_tap_failed + 1))
  echo "not ok $_tap_n - $1"
  shift
  for _d in "$@"; do
    [ -n "$_d" ] && printf '%s\n' "$_d" | head -n 20 | sed 's/^/#   /'
  done
  return 0
}

# check DESCRIPTION COMMAND [ARG...]: passes when the command exits 0. Its
# output is shown only when it fails.
check() {
  _desc=$1
  shift
  if "$@" >"$T/.check.out" 2>&1; then
    ok "$_desc"
  else
    fail "$_desc" "command failed (status $?): $*" "$(cat "$T/.check.out")"
  fi
}

# skip DESCRIPTION REASON: a check that could not run here, and why.
skip() {
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n - $1 # SKIP $2"
}

# is DESCRIPTION GOT EXPECTED: passes when the two strings are equal.
is() {
  if [ "$2" = "$3" ]; then
    ok "$1"
  else
    fail "$1" "got:      $2" "expected: $3"
  fi
}

# isnt DESCRIPTION GOT UNEXPECTED: passes when the two strings differ.
isnt() {
  if [ "$2" != "$3" ]; then
    ok "$1"
  else
    fail "$1" "got what it must not be: $2"
  fi
}

# like DESCRIPTION GOT REGEX: passes when GOT matches the extended regex.
like() {
  if printf '%s\n' "$2" | grep -Eq -- "$3"; then
    ok "$1"
  else
    fail "$1" "got:      $2" "expected to match: $3"
  fi
}

# done_testing: the plan, and the verdict as exit status.
done_testing() {
  echo "1..$_tap_n"
  [ "$_tap_n" -gt 0 ] && [ "$_tap_failed" -eq 0 ]
  exit $?
}

# ---- the scratch directory and clean-up ----

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e.XXXXXX") || {
  echo "Bail out! mktemp failed"
  exit 1
}
# The project's shipped rules, for the tests that use them.
RULES=$(cd "$E2E/../../rules" && pwd)
# Work inside the scratch directory, so that the relative defaults (rules/,
# and what goes beside a database given by a relative path) land there and
# never in the source tree.
cd "$T" || exit 1
_daemon_pids=""
_bg_pids=""
_at_exit=""

_cleanup() {
  for _p in $_bg_pids; do
    kill "$_p" 2>/dev/null
  done
  for _p in $_daemon_pids; do
    kill -KILL "$_p" 2>/dev/null
  done
  if [ -n "$_at_exit" ]; then
    eval "$_at_exit"
  fi
  if [ -n "${VIGIL_E2E_KEEP:-}" ]; then
    echo "# scratch directory kept: $T"
  else
    rm -rf "$T"
  fi
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bg_started PID: a background job to kill if the test ends early.
bg_started() {
  _bg_pids="$_bg_pids $1"
}

# at_exit COMMAND: runs the shell command COMMAND when the test exits, however
# it ends, after the daemons and background jobs are killed and before the
# scratch directory is removed (the latest registered runs first). For what
# outlives the process, such as a mount.
at_exit() {
  _at_exit="$1
$_at_exit"
}

# ---- small tools ----

# deadline SECONDS: the time SECONDS from now, in seconds since the epoch,
# for a loop that tries until then (see before).
deadline() {
  echo $(($(date +%s) + $1))
}

# before DEADLINE: the time DEADLINE (from deadline) has not come yet.
before() {
  [ "$(date +%s)" -lt "$1" ]
}

# wait_for SECONDS COMMAND [ARG...]: polls the command every 50 ms until it
# succeeds (returns 0) or SECONDS have passed (returns 1).
wait_for() {
  _wf_until=$(deadline "$1")
  shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    before "$_wf_until" || return 1
    sleep 0.05
  done
}

# wait_running SECONDS COMMAND [ARG...]: like wait_for, but gives up at once
# when the daemon last started is no longer running.
wait_running() {
  _wr_until=$(deadline "$1")
  shift
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    daemon_running || return 1
    before "$_wr_until" || return 1
    sleep 0.05
  done
}

# sq [DB] SQL: runs SQL with the sqlite3 shell on DB (default $DB).
sq() {
  if [ $# -ge 2 ]; then
    _sqdb=$1
    shift
  else
    _sqdb=$DB
  fi
  sqlite3 -batch -cmd '.timeout 60000' "$_sqdb" "$1"
}

# measure NAME COMMAND [ARG...]: runs the command (killed after 120 s) with
# its output in $T/NAME.out and its errors in $T/NAME.err; sets rc (its exit
# status, 124 when killed), secs (the wall-clock seconds it took, rounded
# up) and kb (its peak resident memory in kB). Needs python3.
_measure_py='
import resource, subprocess, sys, time
start = time.monotonic()
with open(sys.argv[1] + ".out", "w") as out, open(sys.argv[1] + ".err", "w") as err:
    try:
        rc = subprocess.call(sys.argv[2:], stdout=out, stderr=err, timeout=120)
    except subprocess.TimeoutExpired:
        rc = 124
print(rc, int(time.monotonic() - start + 0.999), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
'
measure() {
  _mname=$1
  shift
  # shellcheck disable=SC2046 # three numbers, split on purpose
  set -- $(python3 -c "$_measure_py" "$T/$_mname" "$@")
  rc=${1:-127} secs=${2:-0} kb=${3:-0}
}

# line_count FILE: the number of newline-terminated lines in FILE.
line_count() {
  wc -l <"$1" | tr -d ' '
}

# count_matching REGEX FILE: the number of lines of FILE matching REGEX.
count_matching() {
  grep -Ec -- "$1" "$2" || true
}

# sanitizer_reports FILE...: prints the sanitizer report lines in the files.
_san_re='ERROR: AddressSanitizer|runtime error:|LeakSanitizer'
sanitizer_reports() {
  grep -E -h -- "$_san_re|SUMMARY:" "$@" 2>/dev/null | head -n 4
  grep -E -h -- '^ +#[0-9]+ ' "$@" 2>/dev/null | head -n 4
}

# check_sanitizers DESCRIPTION FILE...: passes when no file holds a report.
check_sanitizers() {
  _desc=$1
  shift
  if grep -Eq -- "$_san_re" "$@" 2>/dev/null; then
    fail "$_desc" "$(sanitizer_reports "$@")"
  else
    ok "$_desc"
  fi
}

# ---- what a database holds, to compare two ----

# entries_of DB: each entry as date|source|text, sorted.
entries_of() {
  sq "$1" "select date || '|' || source || '|' || text from entries" | sort
}

# tags_of DB: each tag as text|tag, sorted.
tags_of() {
  sq "$1" "select e.text || '|' || t.tag from tags t join entries e on e.id = t.entry_id" | sort
}

# alerts_of DB: each alert as rule|key|the texts of its entries, sorted.
alerts_of() {
  sq "$1" "select a.rule || '|' || a.key || '|' || (select group_concat(text, ' + ') from
             (select e.text from alert_entries ae join entries e on e.id = ae.entry_id
              where ae.alert_id = a.id order by e.text)) from alerts a" | sort
}

# ---- clients ----

# send_unix / send_tcp: send standard input to the daemon over its Unix socket
# or TCP port and print its replies. The daemon closes the connection once it
# has answered every line, which ends socat; until then socat waits for the
# replies however long the daemon takes (-t: up to 5 minutes after the last
# line went out), and timeout bounds the whole.
send_unix() {
  timeout 600 socat -t 300 - "UNIX-CONNECT:$SOCK" 2>>"$T/socat.err"
}
send_tcp() {
  timeout 600 socat -t 300 - "TCP:127.0.0.1:$PORT" 2>>"$T/socat.err"
}

# ---- the daemon ----

# Where the daemon keeps its state; a test may point these elsewhere before
# start_daemon (an empty SPOOL means no spool directory).
DB=$T/vigil.db
SOCK=$T/vigil.sock
SPOOL=$T/spool
TCP_HOST=127.0.0.1 # the address the TCP listener binds; clients use 127.0.0.1
PORT=
HTTP_PORT=
HTTP=
DPID=
DLOG=
DRC=
_runs=0
_drc_file=

_random_port() {
  _r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' \n')
  echo $((20000 + _r % 20000))
}

_daemon_exited() {
  [ -f "$_drc_file" ]
}

# daemon_running: the daemon last started has not exited.
daemon_running() {
  [ -n "$_drc_file" ] && [ ! -f "$_drc_file" ] && kill -0 "$DPID" 2>/dev/null
}

# start_daemon [ARG...]: runs `vigil run` on $DB, $SOCK, $SPOOL and a TCP port
# on $TCP_HOST picked at random from 20000-39999 (another one if that is taken), with the
# extra arguments, its log in $DLOG. One check: the daemon logged "ready" and
# its socket exists (waited for up to $READY_SECONDS s). Sets DPID and PORT.
# Returns 0 when ready.
READY_SECONDS=120
start_daemon() {
  _attempt=0
  while [ $_attempt -lt 5 ]; do
    _attempt=$((_attempt + 1))
    _runs=$((_runs + 1))
    PORT=$(_random_port)
    HTTP_PORT=$((PORT + 1))
    HTTP=http://127.0.0.1:$HTTP_PORT
    DLOG=$T/daemon.$_runs.log
    _drc_file=$T/daemon.$_runs.status
    _pid_file=$T/daemon.$_runs.pid
    DRC=
    (
      "$VIGIL" run --db "$DB" --socket "$SOCK" --listen "$TCP_HOST:$PORT" --spool "$SPOOL" \
        --http-listen "127.0.0.1:$HTTP_PORT" "$@" >"$DLOG" 2>&1 &
      echo $! >"$_pid_file"
      wait $!
      echo $? >"$_drc_file.tmp"
      mv "$_drc_file.tmp" "$_drc_file"
    ) &
    if ! wait_for 60 test -s "$_pid_file"; then
      fail "vigil run #$_runs started" "no process id recorded"
      return 1
    fi
    DPID=$(cat "$_pid_file")
    _daemon_pids="$_daemon_pids $DPID"
    _ready=0
    _sd_until=$(deadline "$READY_SECONDS")
    while :; do
      if grep -Eq '[[:space:]]ready$|"msg":"ready"}$' "$DLOG" && [ -S "$SOCK" ]; then
        _ready=1
        break
      fi
      _daemon_exited && break
      before "$_sd_until" || break
      sleep 0.05
    done
    if [ $_ready -eq 1 ]; then
      ok "vigil run #$_runs is ready (unix socket and tcp port $PORT)"
      return 0
    fi
    if _daemon_exited && grep -Eq 'cannot listen on (tcp|http).*address already in use' "$DLOG"; then
      continue # the port was taken: try another
    fi
    if _daemon_exited; then
      fail "vigil run #$_runs is ready (unix socket and tcp port $PORT)" \
        "it exited with status $(cat "$_drc_file") before it was ready; its log ends:" \
        "$(tail -n 10 "$DLOG")"
    else
      fail "vigil run #$_runs is ready (unix socket and tcp port $PORT)" \
        "not ready after $READY_SECONDS s; its log ends:" "$(tail -n 10 "$DLOG")"
    fi
    return 1
  done
  fail "vigil run is ready" "no free tcp port found in 5 attempts"
  return 1
}

# stop_daemon [SIGNAL]: sends SIGNAL (default TERM) to the daemon unless it
# has exited already, waits up to 120 s for it (then kills it), and sets DRC to
# its exit status ("killed" when it had to be killed). One check: its log
# holds no sanitizer report.
stop_daemon() {
  _sig=${1:-TERM}
  [ -n "$_drc_file" ] || return 0
  _daemon_exited || kill -"$_sig" "$DPID" 2>/dev/null
  if wait_for 120 _daemon_exited; then
    DRC=$(cat "$_drc_file")
  else
    kill -KILL "$DPID" 2>/dev/null
    wait_for 60 _daemon_exited
    DRC=killed
  fi
  check_sanitizers "vigil run #$_runs: no sanitizer report in its log" "$DLOG"
}

# ---- NATS JetStream ----

# natstool: the tests' JetStream client (tests/e2e/natstool.c), built beside vigil.
NATSTOOL=$(dirname "$VIGIL")/natstool
NATS_DIR=
NATS_PID=
NATS_URL=
NATS_LOG=
_nats_runs=0

# start_nats [PORT]: runs `nats-server -js` on 127.0.0.1, on PORT or one
# picked at random (another one if that is taken), its store in $T/nats
# (kept across restarts: start_nats "$NATS_PORT" after stop_nats brings the
# same server back), its log in $NATS_LOG. Sets NATS_URL, NATS_PORT and
# NATS_PID. One check: the server said it is ready. Returns 0 when it is.
start_nats() {
  need nats-server
  _ns_attempt=0
  while [ $_ns_attempt -lt 5 ]; do
    _ns_attempt=$((_ns_attempt + 1))
    _nats_runs=$((_nats_runs + 1))
    NATS_PORT=${1:-$(_random_port)}
    NATS_DIR=$T/nats
    NATS_LOG=$T/nats.$_nats_runs.log
    mkdir -p "$NATS_DIR"
    nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$NATS_DIR" >"$NATS_LOG" 2>&1 &
    NATS_PID=$!
    bg_started "$NATS_PID"
    NATS_URL=nats://127.0.0.1:$NATS_PORT
    if wait_for 60 grep -q 'Server is ready' "$NATS_LOG"; then
      ok "nats-server #$_nats_runs is ready on port $NATS_PORT"
      return 0
    fi
    kill "$NATS_PID" 2>/dev/null
    wait "$NATS_PID" 2>/dev/null
    if [ $# -eq 0 ] && grep -q 'address already in use' "$NATS_LOG"; then
      continue
    fi
    fail "nats-server #$_nats_runs is ready on port $NATS_PORT" "its log ends:" \
      "$(tail -n 10 "$NATS_LOG")"
    return 1
  done
  fail "nats-server is ready" "no free port found in 5 attempts"
  return 1
}

# stop_nats [SIGNAL]: stops the server last started (TERM by default) and
# waits for it to exit.
stop_nats() {
  [ -n "$NATS_PID" ] || return 0
  kill -"${1:-TERM}" "$NATS_PID" 2>/dev/null
  wait "$NATS_PID" 2>/dev/null
  NATS_PID=
}

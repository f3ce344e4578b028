#!/bin/bash
# bench.sh — the benchmark behind `make bench` (which builds ./vigil first).
#
# Generates 1,000,000 dated entries (fixed seed) into build/bench/, computes
# the exact alert count of the benchmark's sequence rule with an independent
# reference (reference.py), then times, each on a fresh database:
#   (a) vigil ingest --no-rules            (b) vigil ingest --rules rules
#   (c) vigil ingest --rules tests/bench/rules, alerts checked exactly
#   (d) the daemon over its Unix socket, 4 connections, unpaced and paced;
#       and over HTTP, 4 clients POSTing JSON Lines bodies of 1,000 entries
#   (e) SEC doing the same event-time correlation, count checked exactly
#   (f) 1M more entries into stores already holding 0, 1M and 5M entries
#   (g) the live alert stream: alerts at a steady rate to 100 subscribers
#   (h) NATS JetStream: `vigil publish` of the 1M entries, then one daemon
#       consuming them; then two daemons on two partitions keyed by region
#   (i) (c) again with every alert going through the outbox to a file sink
#   (j) corrections and retractions of 1,000 of its entries in the store of (c),
#       the alerts in force checked against the reference over the final versions
#   (k) the table formats: 1M rows of an ACLED-shaped CSV and of GDELT 2.0
#       events (TSV), each against the same entries as JSON Lines, the CSV read
#       again (all duplicates), and the shipped rules on fewer (tables.sh)
# and prints one table, also written to bench/results.txt. Exits non-zero
# when an alert count differs from the reference or a run fails.
# BENCH_ONLY=tables runs (k) alone, its table written to build/bench/results-tables.txt.
#
# Run as root on a fresh Debian 12, it installs the packages it needs
# (sec, time, python3, sqlite3, nats-server) with apt-get; otherwise it names them.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
B=build/bench
N=1000000
SEED=20240521
B_ENTRIES=200000      # (b) runs on this many first entries: see its note
CORRECTIONS=1000      # (j): launches and exercises corrected or retracted
PACED_RATE=50000
CONNS=4
HTTP_BODY=1000       # (d) over HTTP: entries a POST carries
CONF=$B/bench.conf.lua
ROWS=$B/rows.txt
NOTES=$B/notes.txt
SECONDS=0
failed=0
ONLY=${BENCH_ONLY:-}
case $ONLY in
  ""|tables) ;;
  *) echo "BENCH_ONLY must be tables (or unset for the whole benchmark), not '$ONLY'" >&2; exit 2 ;;
esac

# ---- packages ----
need=""
for p in sec time python3 sqlite3 gcc nats-server; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "make bench needs these Debian packages:$need" >&2
    echo "install them with:  sudo apt-get install -y$need" >&2
    exit 1
  fi
  echo "installing:$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends $need >&2 || {
    apt-get update >&2 && apt-get install -y --no-install-recommends $need >&2
  }
fi

# ---- helpers ----
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
per_s() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
rss_mb() { awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }' "$1"; }
group() { echo "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
row() { printf '%-46s %10s %8s %17s  %s\n' "$1" "$2" "$3" "$4" "$5" >> "$ROWS"; }
note() { echo "$*" >> "$NOTES"; echo "  $*"; }
fresh() { rm -f "$B/$1.db" "$B/$1.db-wal" "$B/$1.db-shm" "$B/$1.db-text"*; }
say() { printf '\n== %s\n' "$*"; }
alerts_in() { sqlite3 "$B/$1.db" 'select count(*) from alerts where rule = "launch-then-exercise"'; }

# Compares an alert count with the reference: "expected / got", and fails
# the bench when they differ.
check() {
  local what=$1 got=$2
  echo "  $what: alerts expected $expected, got $got"
  if [ "$got" != "$expected" ]; then
    echo "  MISMATCH: $what stored $got alerts of launch-then-exercise, the reference says $expected" >&2
    failed=1
    verdict="$expected / $got DIFF"
  else
    verdict="$expected / $got ok"
  fi
}

# ingest NAME LINES FILE ARGS...: times `vigil ingest` of FILE into NAME.db;
# sets rate and rss, and fails unless every line was stored (or unless its
# summary is $WANT, when set).
ingest() {
  local name=$1 lines=$2 file=$3 want=${WANT:-"$2 stored, 0 duplicates, 0 rejected"}
  shift 3
  local t0 t1 rc=0
  t0=$(now)
  /usr/bin/time -v -o "$B/$name.time" ./vigil ingest --config "$CONF" --db "$B/$name.db" "$@" "$file" \
    > "$B/$name.out" 2> "$B/$name.log" || rc=$?
  t1=$(now)
  secs=$(elapsed "$t0" "$t1")
  rate=$(per_s "$lines" "$secs")
  rss=$(rss_mb "$B/$name.time")
  echo "  $(cat "$B/$name.out") in $secs s: $rate entries/s, peak RSS $rss MB"
  if [ "$rc" -ne 0 ] || [ "$(cat "$B/$name.out")" != "$want" ]; then
    echo "  FAILED: vigil ingest $name exited $rc; see $B/$name.log" >&2
    failed=1
  fi
}

DAEMON_TIME_PID=""
stop_daemon() {
  [ -n "$DAEMON_TIME_PID" ] || return 0
  # /usr/bin/time does not pass signals on: SIGTERM goes to its child, vigil.
  local f st kids=""
  for f in /proc/[0-9]*/stat; do
    st=$(cat "$f" 2>/dev/null) || continue
    set -- ${st##*) }   # the fields after the command name: state, ppid...
    [ "${2:-}" = "$DAEMON_TIME_PID" ] && kids="$kids ${f//[^0-9]/}"
  done
  [ -n "$kids" ] && kill -TERM $kids 2>/dev/null || true
  local rc=0
  wait "$DAEMON_TIME_PID" || rc=$?
  DAEMON_TIME_PID=""
  return $rc
}
trap 'stop_daemon || true' EXIT

# daemon NAME RATE [http]: starts `vigil run` on a fresh NAME.db with the
# bench rules, floods it with the entries (over its Unix socket, or with
# http, POSTed in bodies of HTTP_BODY lines), stops it with SIGTERM.
daemon() {
  local name=$1 offered=$2 via=${3:-socket} sock=$B/vigil.sock http_port
  fresh "$name"
  rm -f "$sock"
  http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  /usr/bin/time -v -o "$B/$name.time" ./vigil run --config "$CONF" --db "$B/$name.db" \
    --socket "$sock" --listen '' --spool '' --http-listen "127.0.0.1:$http_port" \
    --rules tests/bench/rules 2> "$B/$name.log" &
  DAEMON_TIME_PID=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ "$via" = http ] && for _ in $(seq 100); do
    python3 -c 'import http.client, sys; c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5); c.request("GET", "/healthz"); sys.exit(c.getresponse().status != 200)' "$http_port" 2>/dev/null && break
    sleep 0.1
  done
  local rc=0
  if [ "$via" = http ]; then
    python3 tests/bench/http_flood.py "127.0.0.1:$http_port" "$B/entries.jsonl" "$CONNS" \
      "$HTTP_BODY" > "$B/$name.out" || rc=$?
  else
    "$B/flood" "$sock" "$B/entries.jsonl" "$CONNS" "$offered" > "$B/$name.out" || rc=$?
  fi
  cat "$B/$name.out"
  local drc=0
  stop_daemon || drc=$?
  if [ "$rc" -ne 0 ] || [ "$drc" -ne 0 ]; then
    echo "  FAILED: flood exited $rc, the daemon $drc; see $B/$name.log" >&2
    failed=1
  fi
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$B/$name.out"; }
  rate=$(field acked_per_s)
  p50=$(awk -v x="$(field p50_ms)" 'BEGIN { printf "%.0f", x }')
  p99=$(awk -v x="$(field p99_ms)" 'BEGIN { printf "%.0f", x }')
  rss=$(rss_mb "$B/$name.time")
  check "daemon $name" "$(alerts_in "$name")"
}

# ---- build ----
mkdir -p "$B" bench
rm -f "$ROWS" "$NOTES" "$B/preload.log" "$B"/*.db "$B"/*.db-wal "$B"/*.db-shm
say "build"
cc -std=c11 -O2 -Wall -Wextra -o "$B/gen" tests/bench/gen.c
cc -std=c11 -O2 -Wall -Wextra -pthread -o "$B/flood" tests/bench/flood.c
./vigil check --rules tests/bench/rules
./vigil test --rules tests/bench/rules | tail -1
cat > "$CONF" <<'EOF'
-- make bench: the default settings, but for where alerts, digests and
-- input go (nothing beside the socket, no alerts file)
alerts_file = ""
digests = {}
listen = ""
spool = ""
-- The generated texts are a few templates with a serial ("North Korea
-- launches a missile (report a-0000123)"), so every launch of a day reads
-- like every other, while the reference counts each entry as an event of
-- its own. With 1 no two of them are one event (no two have the same
-- words), and each launch and exercise is still compared with the others
-- of its kind and days: the cost of grouping reports is measured, its
-- effect on the count left out.
event_similarity = 1
EOF

# ---- (k) alone ----
. tests/bench/tables.sh
if [ "$ONLY" = tables ]; then
  tables
  {
    echo "vigil benchmark, the table formats alone (BENCH_ONLY=tables make bench)"
    echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC'); total $((SECONDS / 60)) min $((SECONDS % 60)) s"
    echo "machine:  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "versions: $(./vigil --version 2>/dev/null | head -1 || true), SQLite $(sqlite3 --version | cut -d' ' -f1)"
    echo
    printf '%-46s %10s %8s %17s  %s\n' "workload" "entries/s" "RSS MB" "alerts exp / got" "notes"
    printf '%-46s %10s %8s %17s  %s\n' "--------" "---------" "------" "----------------" "-----"
    cat "$ROWS"
    echo
    cat "$NOTES"
  } > "$B/results-tables.txt"
  echo
  cat "$B/results-tables.txt"
  [ "$failed" -eq 0 ] || { echo "make bench: FAILED (see above)" >&2; exit 1; }
  exit 0
fi
# ---- input and reference ----
say "generating $N entries (seed $SEED)"
"$B/gen" "$N" "$SEED" a "$B/entries.jsonl" "$B/entries.txt"
head -n $((B_ENTRIES / 2)) "$B/entries.jsonl" > "$B/entries-head1.jsonl"
head -n "$B_ENTRIES" "$B/entries.jsonl" | tail -n +$((B_ENTRIES / 2 + 1)) > "$B/entries-head2.jsonl"
"$B/gen" "$N" $((SEED + 1)) g "$B/grow-1m.jsonl"
"$B/gen" "$N" $((SEED + 5)) h "$B/grow-5m.jsonl"
python3 tests/bench/reference.py "$B/entries.jsonl" > "$B/expected.txt" 2> "$B/reference.log"
expected=$(cat "$B/expected.txt")
sed 's/^/  /' "$B/reference.log"


# ---- (a) (b) (c) vigil ingest ----
say "(a) vigil ingest --no-rules"
fresh a
ingest a "$N" "$B/entries.jsonl" --no-rules
row "(a) ingest --no-rules" "$rate" "$rss" "-" "fresh store"
rate_a=$rate rss_a=$rss
# The text index follows ingest on another thread; a search first indexes
# what it has not reached. Both together against ingest alone:
behind=$(( N - $(sqlite3 "$B/a.db-text" 'select upto from text_state' 2>/dev/null || echo 0) ))
t0=$(now)
found=$(./vigil query --config "$CONF" --db "$B/a.db" --text "storm warning" 2> "$B/a-text.log" | wc -l)
t1=$(now)
want=$(grep -c 'storm warning' "$B/entries.jsonl")
secs_q=$(elapsed "$t0" "$t1")
echo "  text index $behind entries behind at exit; the first search took $secs_q s;" \
     "found $found of $want"
[ "$found" -eq "$want" ] || { echo "  FAILED: the text search found $found, not $want" >&2; failed=1; }
rate_aq=$(per_s "$N" "$(awk -v a="$secs" -v b="$secs_q" 'BEGIN { print a + b }')")
row "(a) + the first text search after it" "$rate_aq" "-" "$want / $found" \
    "index $behind behind at exit"

say "(b) vigil ingest --rules rules (the shipped rules), first $B_ENTRIES entries"
# In two halves into the same store, to show how the cost per entry grows.
fresh b
half=$((B_ENTRIES / 2))
ingest b "$half" "$B/entries-head1.jsonl" --rules rules
secs_b1=$secs rate_b1=$rate rss_b=$rss
ingest b "$half" "$B/entries-head2.jsonl" --rules rules
secs_b2=$secs rate_b2=$rate
[ "$(awk -v a="$rss" -v b="$rss_b" 'BEGIN { print (a > b) }')" = 1 ] && rss_b=$rss
rate_b=$(per_s "$B_ENTRIES" "$(awk -v a="$secs_b1" -v b="$secs_b2" 'BEGIN { print a + b }')")
shipped=$(sqlite3 "$B/b.db" 'select rule || " " || count(*) from alerts group by rule order by rule' | paste -sd, - | sed 's/,/, /g')
echo "  alerts: $shipped"
row "(b) ingest --rules rules (shipped)" "$rate_b" "$rss_b" "-" "first $(group "$B_ENTRIES") entries only"
note "(b) ran on the first $(group "$B_ENTRIES") entries, in two runs of $(group "$half") into the same store:"
note "    $rate_b1 entries/s for the first, $rate_b2 for the second; the cost per entry grows"
note "    with the store, so all 1M would take minutes. Alerts: ${shipped:-none}."

say "(c) vigil ingest --rules tests/bench/rules"
fresh c
ingest c "$N" "$B/entries.jsonl" --rules tests/bench/rules
rate_c=$rate
check "(c)" "$(alerts_in c)"
row "(c) ingest --rules tests/bench/rules" "$rate" "$rss" "$verdict" "sequence by region, 14 days"

# ---- (j) corrections and retractions in the store of (c) ----
# CORRECTIONS launches and exercises of the 1M, half moved in date, half
# retracted, in one `vigil ingest` of their records; then the alerts in
# force against the reference over the final versions.
say "(j) $CORRECTIONS corrections and retractions into the store of (c)"
python3 tests/bench/corrections.py "$B/entries.jsonl" "$CORRECTIONS" "$SEED" \
  "$B/corrections.jsonl" "$B/final.jsonl"
expected_c=$expected
expected=$(python3 tests/bench/reference.py "$B/final.jsonl" 2>/dev/null)
t0=$(now)
/usr/bin/time -v -o "$B/j.time" ./vigil ingest --config "$CONF" --db "$B/c.db" \
  --rules tests/bench/rules "$B/corrections.jsonl" > "$B/j.out" 2> "$B/j.log" || failed=1
t1=$(now)
secs=$(elapsed "$t0" "$t1")
echo "  $(cat "$B/j.out") in $secs s"
grep -q "$CORRECTIONS corrected or retracted" "$B/j.out" ||
  { echo "  FAILED: not every correction went through; see $B/j.log" >&2; failed=1; }
check "(j) after the corrections" \
  "$(sqlite3 "$B/c.db" 'select count(*) from alerts where rule = "launch-then-exercise" and state = "active"')"
changed=$(sqlite3 "$B/c.db" 'select count(distinct alert_id) from alert_log where kind <> "alert"')
row "(j) corrections in the store of (c)" "$(per_s "$CORRECTIONS" "$secs")" "$(rss_mb "$B/j.time")" \
  "$verdict" "$(awk -v s="$secs" -v n="$CORRECTIONS" 'BEGIN { printf "%.1f", s * 1000 / n }') ms each; $changed alerts amended or retracted"
expected=$expected_c

# ---- (d) the daemon ----
say "(d) vigil run, $CONNS connections, unpaced"
daemon d1 0
rate_d1=$rate
row "(d) daemon, $CONNS conns, as fast as it takes" "$rate" "$rss" "$verdict" "p50 $p50 ms, p99 $p99 ms"
say "(d) vigil run, $CONNS connections, paced at $PACED_RATE entries/s"
daemon d2 "$PACED_RATE"
row "(d) daemon, $CONNS conns, offered $(group "$PACED_RATE")/s" "$rate" "$rss" "$verdict" "p50 $p50 ms, p99 $p99 ms"
say "(d) vigil run, $CONNS HTTP clients, bodies of $HTTP_BODY entries"
daemon d3 0 http
row "(d) daemon, HTTP, $CONNS clients, bodies of $(group "$HTTP_BODY")" "$rate" "$rss" "$verdict" "a body's p50 $p50 ms, p99 $p99 ms"

# ---- (e) SEC ----
say "(e) SEC, the same correlation"
t0=$(now)
rc=0
/usr/bin/time -v -o "$B/sec.time" sec --conf=tests/bench/sec.rules --input="$B/entries.txt" \
  --notail --intevents --nochildterm --log=/dev/null > "$B/sec.out" 2> "$B/sec.log" || rc=$?
t1=$(now)
secs=$(elapsed "$t0" "$t1")
rate_sec=$(per_s "$N" "$secs")
rss=$(rss_mb "$B/sec.time")
echo "  $N lines in $secs s: $rate_sec entries/s, peak RSS $rss MB"
if [ "$rc" -ne 0 ]; then
  echo "  FAILED: sec exited $rc; see $B/sec.log" >&2
  failed=1
fi
check "SEC" "$(sed -n 's/^alerts \([0-9]*\)$/\1/p' "$B/sec.out")"
ratio=$(awk -v a="$rate_c" -v b="$rate_sec" 'BEGIN { printf "%.2f", a / b }')
sec_version=$(sec --version 2>/dev/null | head -1 | sed 's/^SEC (Simple Event Correlator) //')
row "(e) SEC $sec_version, same correlation" "$rate_sec" "$rss" "$verdict" "vigil (c) / SEC = $ratio"

# ---- (f) the cost per entry as the store grows ----
say "(f) 1M new entries into a store of 0, 1M and 5M entries (no rules)"
row "(f) 1M into an empty store" "$rate_a" "$rss_a" "-" "the run (a)"
ingest a "$N" "$B/grow-1m.jsonl" --no-rules
row "(f) 1M into a store of 1M" "$rate" "$rss" "-" "new texts, same dates"
t0=$(now)
for k in 2 3 4; do
  "$B/gen" "$N" $((SEED + k)) "p$k" - | ./vigil ingest --config "$CONF" --db "$B/a.db" --no-rules - \
    > "$B/preload.out" 2>> "$B/preload.log"
  [ "$(cat "$B/preload.out")" = "$N stored, 0 duplicates, 0 rejected" ] || {
    echo "  FAILED: preload $k: $(cat "$B/preload.out")" >&2
    failed=1
  }
done
t1=$(now)
echo "  preloaded 3,000,000 more in $(elapsed "$t0" "$t1") s"
stored=$(sqlite3 "$B/a.db" 'select count(*) from entries')
[ "$stored" -eq $((5 * N)) ] || { echo "  FAILED: the store holds $stored entries, not 5M" >&2; failed=1; }
ingest a "$N" "$B/grow-5m.jsonl" --no-rules
row "(f) 1M into a store of 5M" "$rate" "$rss" "-" "store of $(du -m "$B/a.db" | cut -f1) MB after"
fresh a

# ---- (g) the live alert stream's fan-out ----
SSE_ALERTS=1000
SSE_RATE=100
SSE_SUBS=100
say "(g) GET /v1/alerts/stream: $SSE_ALERTS alerts at $SSE_RATE/s to $SSE_SUBS subscribers"
fresh g
rm -f "$B/vigil.sock"
http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/time -v -o "$B/g.time" ./vigil run --config "$CONF" --db "$B/g.db" \
  --socket "$B/vigil.sock" --listen '' --spool '' --http-listen "127.0.0.1:$http_port" \
  --rules tests/bench/sse.lua 2> "$B/g.log" &
DAEMON_TIME_PID=$!
for _ in $(seq 100); do [ -S "$B/vigil.sock" ] && break; sleep 0.1; done
rc=0
python3 tests/bench/sse_fanout.py "127.0.0.1:$http_port" "$B/vigil.sock" "$SSE_ALERTS" \
  "$SSE_RATE" "$SSE_SUBS" > "$B/g.out" || rc=$?
cat "$B/g.out"
drc=0
stop_daemon || drc=$?
if [ "$rc" -ne 0 ] || [ "$drc" -ne 0 ]; then
  echo "  FAILED: sse_fanout exited $rc, the daemon $drc; see $B/g.log" >&2
  failed=1
fi
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$B/g.out"; }
row "(g) SSE fan-out, $SSE_SUBS subscribers" "$SSE_RATE" "$(rss_mb "$B/g.time")" \
    "$((SSE_ALERTS * SSE_SUBS)) / $(field delivered)" \
    "events; p50 $(field p50_ms) ms, p99 $(field p99_ms) ms, max $(field max_ms) ms"
note "(g) entries/s is the alerts raised a second; each reached every subscriber"
note "    (tests/bench/sse_fanout.py: one asyncio process); the delay is from the entry's"
note "    send on the socket to the event's arrival at a subscriber: batch, commit, read, send."
fresh g

# ---- (h) NATS JetStream ----
# A nats-server of its own (Debian's, JetStream on, a store in build/bench),
# started afresh for each run so that every run reads a stream of its own.
NATS_PID=""
nats_start() {
  nats_stop
  rm -rf "$B/nats"
  NATS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  NATS_URL=nats://127.0.0.1:$NATS_PORT
  nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$B/nats" > "$B/nats.log" 2>&1 &
  NATS_PID=$!
  for _ in $(seq 200); do grep -q 'Server is ready' "$B/nats.log" && return 0; sleep 0.1; done
  echo "  FAILED: nats-server did not start; see $B/nats.log" >&2
  failed=1
}
nats_stop() {
  [ -n "$NATS_PID" ] || return 0
  kill "$NATS_PID" 2>/dev/null || true
  wait "$NATS_PID" 2>/dev/null || true
  NATS_PID=""
}
trap 'stop_daemon || true; nats_stop' EXIT

# publish ARGS...: times `vigil publish` of the 1M entries; sets rate.
publish() {
  local t0 t1 rc=0
  t0=$(now)
  ./vigil publish --config "$CONF" --nats "$NATS_URL" "$@" "$B/entries.jsonl" \
    > "$B/h-publish.out" 2> "$B/h-publish.log" || rc=$?
  t1=$(now)
  rate=$(per_s "$N" "$(elapsed "$t0" "$t1")")
  echo "  $(head -1 "$B/h-publish.out"): $rate entries/s"
  [ "$rc" -eq 0 ] || { echo "  FAILED: vigil publish exited $rc; see $B/h-publish.log" >&2; failed=1; }
}

# consume P...: starts one daemon per partition P ("" for the whole stream)
# on fresh databases hP.db, each with its own durable consumer, waits until
# every message is stored, stops them; sets rate (entries / wall time from
# the start to the last stored) and got (their alerts, summed).
consume() {
  local t0 t1 p pids="" total=0 left
  t0=$(now)
  for p in "$@"; do
    fresh "h$p"
    rm -f "$B/h$p.sock"
    { cat "$CONF"; echo "nats_durable = \"bench$p\""
      [ -z "$p" ] || echo "nats = { partition = $p, partitions = 2, partition_by = \"region\" }"
    } > "$B/h$p.conf.lua"
    ./vigil run --config "$B/h$p.conf.lua" --db "$B/h$p.db" --socket "$B/h$p.sock" --listen '' \
      --spool '' --http-listen '' --rules tests/bench/rules --nats "$NATS_URL" 2> "$B/h$p.log" &
    pids="$pids $!"
  done
  for _ in $(seq 36000); do
    total=0
    for p in "$@"; do
      left=$(sqlite3 "$B/h$p.db" 'select count(*) from nats_msgs' 2>/dev/null || echo 0)
      total=$((total + left))
    done
    [ "$total" -ge "$N" ] && break
    sleep 0.1
  done
  t1=$(now)
  kill -TERM $pids 2>/dev/null || true
  for p in $pids; do wait "$p" || { echo "  FAILED: a daemon exited $?; see $B/h*.log" >&2; failed=1; }; done
  rate=$(per_s "$N" "$(elapsed "$t0" "$t1")")
  got=0
  for p in "$@"; do got=$((got + $(alerts_in "h$p"))); done
  echo "  $total of $N messages stored in $(elapsed "$t0" "$t1") s: $rate entries/s"
  [ "$total" -eq "$N" ] || { echo "  FAILED: $total of $N stored" >&2; failed=1; }
}

say "(h) JetStream: vigil publish, then one daemon"
nats_start
publish
row "(h) vigil publish to JetStream" "$rate" "-" "-" "acked by the server, file store"
consume ""
check "JetStream, one daemon" "$got"
ratio=$(awk -v a="$rate" -v b="$rate_d1" 'BEGIN { printf "%.2f", a / b }')
row "(h) daemon, from JetStream" "$rate" "-" "$verdict" "JetStream / socket (d) = $ratio"
say "(h) JetStream: two daemons on two partitions (by region)"
nats_start
publish --partition-by region --partitions 2
consume 0 1
check "JetStream, two partitions" "$got"
ratio=$(awk -v a="$rate" -v b="$rate_d1" 'BEGIN { printf "%.2f", a / b }')
row "(h) 2 daemons, 2 partitions, from JetStream" "$rate" "-" "$verdict" "together; / socket (d) = $ratio"
nats_stop
fresh h; fresh h0; fresh h1
rm -rf "$B/nats"

# ---- (i) the outbox's cost ----
# (c) with and without alerts_file, twice each, in turns: run to run, this
# machine varies more than the outbox costs; the best of each pair is kept.
say "(i) (c) again, with and without every alert through the outbox to a file sink"
{ cat "$CONF"; echo "alerts_file = \"$B/i-alerts.jsonl\""; } > "$B/i.conf.lua"
CONF_SAVED=$CONF
best_plain=0; best_outbox=0; rss_outbox=0
for round in 1 2; do
  fresh ip
  ingest ip "$N" "$B/entries.jsonl" --rules tests/bench/rules
  best_plain=$(awk -v a="$rate" -v b="$best_plain" 'BEGIN { print (a > b ? a : b) }')
  fresh i
  rm -f "$B/i-alerts.jsonl"
  CONF=$B/i.conf.lua
  ingest i "$N" "$B/entries.jsonl" --rules tests/bench/rules
  CONF=$CONF_SAVED
  check "ingest with the outbox" "$(alerts_in i)"
  best_outbox=$(awk -v a="$rate" -v b="$best_outbox" 'BEGIN { print (a > b ? a : b) }')
  rss_outbox=$rss
done
cost=$(awk -v a="$best_outbox" -v c="$best_plain" 'BEGIN { printf "%+.1f%%", (a / c - 1) * 100 }')
row "(i) (c) with alerts_file: the outbox" "$best_outbox" "$rss_outbox" "$verdict" \
  "$cost against (c) beside it ($best_plain); $(wc -l < "$B/i-alerts.jsonl") lines written"
fresh i; fresh ip

# ---- (k) the table formats ----
tables

# ---- the table ----
total=$SECONDS
{
  echo "vigil benchmark (make bench)"
  echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine:  $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory," \
       "$(. /etc/os-release && echo "$PRETTY_NAME")"
  echo "command:  make bench   (tests/bench/bench.sh; total $((total / 60)) min $((total % 60)) s)"
  echo "versions: $(./vigil --version 2>/dev/null | head -1 || true), SQLite $(sqlite3 --version | cut -d' ' -f1), SEC $sec_version"
  echo "input:    $(group "$N") JSON entries, seed $SEED, ~100 a day from 2000-01-01, 100 regions;"
  echo "          $(sed -n 's/^reference: [0-9]* entries, //p' "$B/reference.log");"
  echo "          one entry in ten dated 1-5 days early or late (out-of-order arrival)"
  echo "settings: the defaults (durability full: fsync at each commit), but alerts_file = \"\","
  echo "          no digests, no spool, no TCP; entries/s = entries / wall time of the whole command"
  echo "daemon:   vigil run --socket only (no TCP, no spool), rules tests/bench/rules;"
  echo "          flood (tests/bench/flood.c): $CONNS Unix-socket connections, the 1M lines dealt"
  echo "          round-robin; entries/s = replies / (first send to last reply); latency ="
  echo "          reply time - send time (paced: - time due); a fresh store each run;"
  echo "          HTTP: tests/bench/http_flood.py, $CONNS clients (threads, keep-alive), each"
  echo "          POSTing application/x-ndjson bodies of $HTTP_BODY lines, one at a time;"
  echo "          entries/s = lines answered / (first send to last reply), latency per body"
  echo "SEC:      sec --conf=tests/bench/sec.rules --input=FILE --notail --intevents --nochildterm"
  echo "          (--fromstart has no effect with --notail); event-time logic in Perl (lcall)"
  echo
  printf '%-46s %10s %8s %17s  %s\n' "workload" "entries/s" "RSS MB" "alerts exp / got" "notes"
  printf '%-46s %10s %8s %17s  %s\n' "--------" "---------" "------" "----------------" "-----"
  cat "$ROWS"
  echo
  echo "alerts: launch-then-exercise, counted with"
  echo "  sqlite3 DB 'select count(*) from alerts where rule = \"launch-then-exercise\"';"
  echo "  expected = tests/bench/reference.py over the same file"
  cat "$NOTES"
} > bench/results.txt
echo
cat bench/results.txt
if [ "$failed" -ne 0 ]; then
  echo "make bench: FAILED (see above)" >&2
  exit 1
fi

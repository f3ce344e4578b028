#!/usr/bin/env bash
# soak.sh — the long run: `vigil run` (the optimized ./vigil) with the shipped
# rules, fed over its Unix socket at a steady rate for a long time, printing
# once a minute the daemon's resident memory, its peak, its open file
# descriptors, the database's size and what the minute's client measured.
# Both the memory and the descriptors must stay flat; the table says whether
# they did. Not part of `make test`.
#
#   make soak                                  one hour at 20,000 entries/s
#   SOAK_MINUTES=10 SOAK_RATE=5000 make soak   shorter, slower
#
# The run is made of rounds: each is one run of tests/bench/flood.c (4
# connections, paced) over a fresh minute of generated entries at RATE
# (tests/bench/gen.c; no two rounds alike), so a round takes a minute when the
# daemon keeps up and longer when it does not (the client then waits: the
# daemon's backpressure). Rounds go on until MINUTES of wall time have
# passed. A round in which a line was not acknowledged "ok", or in which the
# daemon died, fails the run. The table, one line a round, goes to standard
# output and to bench/soak.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
MINUTES=${SOAK_MINUTES:-60}
RATE=${SOAK_RATE:-20000}
CONNS=4
B=${SOAK_DIR:-build/soak}
OUT=${SOAK_OUT:-bench/soak.txt}
PER_MINUTE=$((RATE * 60))

mkdir -p "$B" bench
rm -f "$B"/soak.db "$B"/soak.db-wal "$B"/soak.db-shm "$B"/soak.db-text* "$B"/vigil.sock "$B"/minute-*.jsonl
cc -std=c11 -O2 -Wall -Wextra -o "$B/gen" tests/bench/gen.c
cc -std=c11 -O2 -Wall -Wextra -pthread -o "$B/flood" tests/bench/flood.c
cat > "$B/soak.conf" <<'EOF'
-- make soak: the default settings, but for where alerts, digests and input go
alerts_file = ""
digests = {}
listen = ""
spool = ""
EOF

# gen_minute M: the entries of round M, in the background, dated after
# those of round M-1 (gen writes 100 entries a day), as a live feed would be.
gen_minute() {
  GEN_FIRST_DAY=$((($1 - 1) * PER_MINUTE / 100)) \
    "$B/gen" "$PER_MINUTE" "$((1000 + $1))" "m$1" "$B/minute-$1.jsonl" &
}

./vigil run --config "$B/soak.conf" --db "$B/soak.db" --socket "$B/vigil.sock" \
  --rules rules --log-level error 2> "$B/soak.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S "$B/vigil.sock" ] && break; sleep 0.1; done
[ -S "$B/vigil.sock" ] || { echo "soak: the daemon did not start; see $B/soak.log" >&2; exit 1; }

status() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$pid/status"; }
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$B/flood.out"; }

{
  echo "# make soak: $(date -u +%Y-%m-%dT%H:%MZ), $MINUTES minutes at $RATE entries/s offered,"
  echo "# $CONNS connections, shipped rules, default settings; $(nproc) cores, $(uname -m)"
  printf '%-6s %7s %9s %9s %8s %4s %7s %8s %8s %8s\n' round minute entries acked/s p99_ms fds \
    rss_mb peak_mb db_mb status
} | tee "$OUT"

gen_minute 1
wait "$!"
first_rss="" first_fds="" rc=0
start=$(date +%s)
m=0
while [ $(($(date +%s) - start)) -lt $((MINUTES * 60)) ]; do
  m=$((m + 1))
  gen_minute $((m + 1))
  genpid=$!
  frc=0
  "$B/flood" "$B/vigil.sock" "$B/minute-$m.jsonl" "$CONNS" "$RATE" > "$B/flood.out" || frc=$?
  rm -f "$B/minute-$m.jsonl"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "soak: the daemon died in minute $m; see $B/soak.log" | tee -a "$OUT" >&2
    exit 1
  fi
  rss=$(( $(status VmRSS) / 1024 )) peak=$(( $(status VmHWM) / 1024 )) nfd=$(fds)
  db=$(du -sm "$B"/soak.db* | awk '{ s += $1 } END { print s }')
  entries=$(sqlite3 "$B/soak.db" 'SELECT max(id) FROM entries' 2>/dev/null || echo '?')
  state=ok
  [ "$frc" -eq 0 ] || { state="flood-exit-$frc"; rc=1; }
  printf '%-6s %7.1f %9s %9.0f %8.0f %4s %7s %8s %8s %8s\n' "$m" \
    "$(awk -v s=$(($(date +%s) - start)) 'BEGIN { print s / 60 }')" "$entries" \
    "$(field acked_per_s)" "$(field p99_ms)" "$nfd" "$rss" "$peak" "$db" "$state" | tee -a "$OUT"
  [ -n "$first_rss" ] || { first_rss=$rss first_fds=$nfd; }
  wait "$genpid"
done
rm -f "$B"/minute-*.jsonl

kill -TERM "$pid"
drc=0
wait "$pid" || drc=$?
trap - EXIT
{
  echo "# memory: ${first_rss} MB after the first round, ${rss} MB after the last (peak ${peak} MB);"
  echo "# descriptors: ${first_fds} after the first round, ${nfd} after the last; daemon exit ${drc}"
} | tee -a "$OUT"
[ "$drc" -eq 0 ] || rc=1
exit $rc

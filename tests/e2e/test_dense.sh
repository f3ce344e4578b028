#!/bin/sh
# End-to-end: clustered events cost what one event costs. A thousand
# launches reported on one day, with the shipped rules (whose
# `repeated-launches` threshold has no key), go through `vigil ingest` in
# bounded time and memory and give one threshold alert for the day, counting
# every launch and naming at most a hundred. The same cluster sent to the
# daemon by one client does not hold up another client's reply, and SIGTERM
# in the middle of it stops the daemon cleanly.
#
# The bounds are far above what the work takes under the sanitizers on a
# busy machine, and far below what a cost that grows with the square or the
# cube of the cluster took (1,000 launches: about 97 s in an optimized build).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

N=1000
# The launches differ only in their numbers: worded so alike, a day's
# reports would be one event (event_similarity, 0.1 by default). Here they
# are a thousand launches, kept apart by asking for the same words; each is
# still compared with the launches of its day, at most 64 of them.
CONF=$T/dense.conf.lua
echo 'event_similarity = 1' >"$CONF"
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
  printf "2023-03-01: North Korea launches ballistic missile number %d into the sea\n", i }' \
  >"$T/cluster.txt"

# ---- vigil ingest ----

start=$(date +%s)
/usr/bin/time -f '%M' -o "$T/ingest.rss" \
  timeout 600 "$VIGIL" ingest --config "$CONF" --db "$DB" --rules "$RULES" "$T/cluster.txt" \
  >"$T/ingest.out" 2>"$T/ingest.err"
rc=$?
took=$(($(date +%s) - start))
is "vigil ingest of $N launches on one day exits 0" "$rc" 0
diag "ingest took $took s, peak $(cat "$T/ingest.rss" 2>/dev/null) kB"
if [ "$took" -le 120 ]; then
  ok "... within 120 s ($took s)"
else
  fail "... within 120 s" "it took $took s"
fi
rss=$(cat "$T/ingest.rss" 2>/dev/null || echo 0)
if [ "${rss:-0}" -gt 0 ] && [ "$rss" -le 1048576 ]; then
  ok "... in less than 1 GB ($rss kB)"
else
  fail "... in less than 1 GB" "peak $rss kB"
fi
is "one repeated-launches alert for the day, counting every launch" \
  "$(sq "select count(*) || ' ' || max(count) from alerts where rule = 'repeated-launches'")" \
  "1 $N"
is "... naming a hundred of them" \
  "$(sq "select count(*) from alert_entries ae join alerts a on a.id = ae.alert_id
         where a.rule = 'repeated-launches'")" 100

# ---- the daemon ----

DB=$T/daemon.db
start_daemon --config "$CONF" --rules "$RULES" || {
  done_testing
}
(timeout 600 socat -t 300 - "UNIX-CONNECT:$SOCK" <"$T/cluster.txt" >"$T/cluster.replies" \
  2>>"$T/socat.err") &
bg_started $!
# The cluster's first replies: its batches are under way.
check "the cluster's first lines are answered" wait_running 300 test -s "$T/cluster.replies"
reply=$(printf '2023-03-02: Officials in Seoul discuss the budget.\n' | send_unix)
like "another client is answered while the cluster goes in" "$reply" '^ok [0-9]+$'
check "every line of the cluster is answered" \
  wait_running 300 sh -c '[ "$(wc -l <"$1")" -ge "$2" ]' sh "$T/cluster.replies" "$N"
is "... each with ok" "$(grep -c '^ok ' "$T/cluster.replies")" "$N"
is "the daemon's store holds one repeated-launches alert for the day, counting them all" \
  "$(sq "select count(*) || ' ' || max(count) from alerts where rule = 'repeated-launches'")" \
  "1 $N"

# A second cluster, on another day, cut short by SIGTERM.
awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
  printf "2023-06-01: North Korea fires artillery shell number %d off its coast\n", i }' \
  >"$T/cluster2.txt"
(timeout 600 socat -t 300 - "UNIX-CONNECT:$SOCK" <"$T/cluster2.txt" >"$T/cluster2.replies" \
  2>>"$T/socat.err") &
bg_started $!
check "the second cluster's first lines are answered" wait_running 300 test -s "$T/cluster2.replies"
stop_daemon TERM
is "SIGTERM in the middle of it: the daemon stops with status 0" "$DRC" 0
check "... and says it stopped cleanly" grep -q 'stopped cleanly' "$DLOG"
acked=$(grep -c '^ok ' "$T/cluster2.replies")
is "... and every line it acknowledged is stored" \
  "$(sq "select count(*) from entries where text like 'North Korea fires artillery shell number %'")" \
  "$acked"
is "the database is sound" "$(sq 'PRAGMA integrity_check')" ok

check_sanitizers "no sanitizer report from vigil ingest" "$T/ingest.err"
done_testing

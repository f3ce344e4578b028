# tables.sh — the table formats' part of `make bench` (k), sourced by
# bench.sh, whose helpers (ingest, row, note, fresh, say, group, per_s) and
# settings (B, N, SEED, B_ENTRIES, CONF) it uses.
#
# tests/bench/gen_tables.c writes N rows of an ACLED-shaped CSV and N rows
# of GDELT 2.0 events (TSV), each with the same entries as JSON Lines. Then,
# each into a fresh store with the defaults:
#   vigil ingest --no-rules of the CSV, of its JSON Lines, of the TSV, of its
#   JSON Lines; the CSV again into its own store (every id known: N
#   duplicates); and B_ENTRIES rows of each, as a table and as JSON Lines,
#   with the shipped rules, the alerts of the two compared rule by rule.
# Each run must store every row (the run again: find every one a duplicate)
# with none rejected; each table's store must hold an id for every row; and
# one entry of each pair of stores must be its JSON line, verbatim.

# tables_pair NAME FORMAT TABLE JSONL ROWS ARGS...: ingests TABLE
# (--format FORMAT) into NAME.db and JSONL into NAME-json.db; checks their
# ids and one sampled entry of both; sets rate_t rss_t rate_j rss_j.
tables_pair() {
  local name=$1 format=$2 table=$3 jsonl=$4 rows=$5
  shift 5
  fresh "$name"
  fresh "$name-json"
  ingest "$name" "$rows" "$table" --format "$format" "$@"
  rate_t=$rate rss_t=$rss
  local keys
  keys=$(sqlite3 "$B/$name.db" 'select count(*) from row_keys')
  [ "$keys" = "$rows" ] ||
    { echo "  FAILED: $name: $keys ids in row_keys, not $rows" >&2; failed=1; }
  ingest "$name-json" "$rows" "$jsonl" "$@"
  rate_j=$rate rss_j=$rss
  local at
  if at=$(python3 tests/bench/same_entry.py "$jsonl" $((rows / 2)) "$B/$name.db" \
      "$B/$name-json.db"); then
    echo "  entry $at of both stores is line $at of $(basename "$jsonl"), verbatim"
    sampled="entry $at verbatim"
  else
    echo "  FAILED: entry $at of $name differs from its JSON line" >&2
    failed=1
    sampled="entry $at DIFFERS"
  fi
}

# The alerts of a store, rule by rule ("rule count, ...").
tables_alerts() {
  sqlite3 "$B/$1.db" 'select rule || " " || count(*) from alerts group by rule order by rule' |
    paste -sd, - | sed 's/,/, /g'
}

tables() {
  local rn
  rn=$(group "$B_ENTRIES")
  say "(k) table formats: $N ACLED rows (CSV) and GDELT events (TSV), and the same as JSON Lines"
  cc -std=c11 -O2 -Wall -Wextra -o "$B/gen_tables" tests/bench/gen_tables.c
  "$B/gen_tables" acled "$N" "$SEED" "$B/acled.csv" "$B/acled.jsonl"
  "$B/gen_tables" gdelt "$N" "$SEED" "$B/gdelt.tsv" "$B/gdelt.jsonl" scripts/cameo.lua
  "$B/gen_tables" acled "$B_ENTRIES" "$SEED" "$B/acled-r.csv" "$B/acled-r.jsonl"
  "$B/gen_tables" gdelt "$B_ENTRIES" "$SEED" "$B/gdelt-r.tsv" "$B/gdelt-r.jsonl" scripts/cameo.lua

  say "(k) vigil ingest --no-rules: the ACLED CSV, then its JSON Lines"
  tables_pair ka acled "$B/acled.csv" "$B/acled.jsonl" "$N" --no-rules
  row "(k) ingest --no-rules, ACLED CSV" "$rate_t" "$rss_t" "-" \
    "31 columns, quoted notes; $sampled"
  row "(k) ... the same entries as JSON Lines" "$rate_j" "$rss_j" "-" \
    "CSV / JSON Lines = $(awk -v a="$rate_t" -v b="$rate_j" 'BEGIN { printf "%.2f", a / b }')"
  fresh ka-json

  say "(k) the ACLED CSV again, into its own store: every id known"
  WANT="0 stored, $N duplicates, 0 rejected" ingest ka "$N" "$B/acled.csv" --format acled --no-rules
  row "(k) the ACLED CSV again: all duplicates" "$rate" "$rss" "-" \
    "$(group "$N") duplicates by id, nothing written"
  fresh ka

  say "(k) vigil ingest --no-rules: the GDELT TSV, then its JSON Lines"
  tables_pair kg gdelt "$B/gdelt.tsv" "$B/gdelt.jsonl" "$N" --no-rules
  row "(k) ingest --no-rules, GDELT 2.0 TSV" "$rate_t" "$rss_t" "-" \
    "61 columns, CAMEO code to text; $sampled"
  row "(k) ... the same entries as JSON Lines" "$rate_j" "$rss_j" "-" \
    "TSV / JSON Lines = $(awk -v a="$rate_t" -v b="$rate_j" 'BEGIN { printf "%.2f", a / b }')"
  fresh kg
  fresh kg-json

  local f label ext alerts_t alerts_j
  for f in acled gdelt; do
    [ "$f" = acled ] && label="ACLED CSV" ext=csv || label="GDELT TSV" ext=tsv
    say "(k) vigil ingest --rules rules (the shipped rules), $B_ENTRIES rows: the $label, then its JSON Lines"
    tables_pair "kr$f" "$f" "$B/$f-r.$ext" "$B/$f-r.jsonl" "$B_ENTRIES" --rules rules
    alerts_t=$(tables_alerts "kr$f")
    alerts_j=$(tables_alerts "kr$f-json")
    echo "  alerts: ${alerts_t:-none}"
    local n_t n_j verdict_k
    n_t=$(sqlite3 "$B/kr$f.db" 'select count(*) from alerts')
    n_j=$(sqlite3 "$B/kr$f-json.db" 'select count(*) from alerts')
    if [ "$alerts_t" = "$alerts_j" ]; then
      verdict_k="$n_j / $n_t ok"
    else
      echo "  MISMATCH: the JSON Lines raised ${alerts_j:-none}" >&2
      failed=1
      verdict_k="$n_j / $n_t DIFF"
    fi
    row "(k) ingest --rules rules, $label" "$rate_t" "$rss_t" "$verdict_k" \
      "$rn rows; alerts exp = its JSON Lines'"
    row "(k) ... the same entries as JSON Lines" "$rate_j" "$rss_j" "-" \
      "$(awk -v a="$rate_t" -v b="$rate_j" 'BEGIN { printf "%.2f", a / b }') as fast; $sampled"
    note "(k) the shipped rules on $rn $label rows: ${alerts_t:-no alerts}"
    fresh "kr$f"
    fresh "kr$f-json"
  done
  note "(k) the tables: tests/bench/gen_tables.c, seed $SEED, $(group "$N") rows each over"
  note "    2019-2022; ACLED: 4 countries, 24 places, notes quoted (1 in 40 with a newline);"
  note "    GDELT 2.0: 61 columns, 12 actors, 22 CAMEO codes, 14 places, no header. The JSON"
  note "    Lines hold the same entries (date, text, source, every other cell a member), so"
  note "    both stores end alike: every entry's date, text, source and fields the same."
  rm -f "$B/acled.csv" "$B/acled.jsonl" "$B/gdelt.tsv" "$B/gdelt.jsonl" "$B"/*-r.csv \
    "$B"/*-r.tsv "$B"/*-r.jsonl
}

#!/bin/sh
# End-to-end: hostile rules under `vigil ingest` — a rule that fills the
# rule state's memory and keeps it filled (catching its own memory errors in
# coroutines) must not take the process down, and the other rules go on once
# it is disabled; e:find over a long list of words on a long entry is held to
# the instruction budget; print() logs exactly its arguments.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# cli NAME SECONDS ARG...: runs `vigil ARG...`, killed after SECONDS, with its
# output in $T/NAME.out and $T/NAME.err; sets rc.
cli() {
  _name=$1
  _secs=$2
  shift 2
  timeout "$_secs" "$VIGIL" "$@" >"$T/$_name.out" 2>"$T/$_name.err"
  rc=$?
  _cli_errs="$_cli_errs $T/$_name.err"
}
_cli_errs=""

# tags_in DB TEXT: the tags of the entry whose text is TEXT, joined by spaces.
tags_in() {
  sq "$1" "select tag from tags join entries e on e.id = entry_id where e.text = '$2' order by tag" |
    tr '\n' ' ' | sed 's/ $//'
}

# ---- a rule that fills the memory and keeps it filled ----

mkdir "$T/hog"
cat >"$T/hog/00-hog.lua" <<'EOF'
cos = {}
head = false
rule "hog" {
  when = function(e)
    if e:find"FILL" then
      local co = coroutine.create(function() while true do head = {head} end end)
      cos[#cos + 1] = co
      coroutine.resume(co)
    end
    return false
  end,
  tags = { "hog-ran" },
}
EOF
cat >"$T/hog/50-plain.lua" <<'EOF'
rule "plain" { tags = { "plain" } }
EOF
cat >"$T/hog/60-seq.lua" <<'EOF'
sequence "seq" {
  steps = { function(e) return e:find"alpha" end, function(e) return e:find"beta" end },
  within = days(30),
}
EOF
cat >"$T/hog.conf" <<EOF
alerts_file = "$T/hog-alerts.jsonl"
rule_memory = 8388608
rule_budget = 5000000
rule_failures = 3
EOF
cat >"$T/hog.txt" <<'EOF'
2023-01-01: alpha opens
2023-01-02: FILL one
2023-01-02: FILL two
2023-01-02: FILL three
2023-01-02: FILL four
2023-01-02: FILL five
2023-01-03: beta closes
2023-01-04: quiet news
EOF
cli hog 300 ingest --rules "$T/hog" --db "$T/hog.db" --config "$T/hog.conf" "$T/hog.txt"
is "vigil ingest with a rule that fills the memory: exit status 0" "$rc" 0
is "... stores every line" "$(sq "$T/hog.db" 'select count(*) from entries')" 8
like "... disables the rule after its failures" "$(cat "$T/hog.err")" \
  "rule 'hog' .* disabled after 3 failures"
is "... the other rules still tag the entries after it" "$(tags_in "$T/hog.db" 'quiet news')" plain
is "... and the sequence still raises its alert" \
  "$(sq "$T/hog.db" "select count(*) from alerts where rule = 'seq'")" 1
is "... which goes to the alerts file" "$(count_matching '"seq"' "$T/hog-alerts.jsonl")" 1

# ---- e:find over a long list of words ----
# The word is absent, but each pair of its letters is in the text, so that
# every one of the 100000 is a scan of it.

mkdir "$T/scan"
cat >"$T/scan/scan.lua" <<'EOF'
local words = {}
for i = 1, 100000 do words[i] = "absenews" end
rule "scan" { when = function(e) return e:find(words) end, tags = { "scanned" } }
rule "good" { tags = { "good" } }
EOF
cat >"$T/scan.conf" <<EOF
alerts_file = "$T/scan-alerts.jsonl"
rule_budget = 2000000
EOF
awk 'BEGIN {
  printf "{\"date\":\"2023-01-01\",\"text\":\"long news "
  for (i = 0; i < 40000; i++) printf "absen "
  print "\"}"
}' >"$T/scan.jsonl"
started=$(date +%s)
cli scan 300 ingest --rules "$T/scan" --db "$T/scan.db" --config "$T/scan.conf" "$T/scan.jsonl"
took=$(($(date +%s) - started))
is "vigil ingest of a 240 KB entry with e:find over 100000 words: exit status 0" "$rc" 0
is "... the entry is stored" "$(sq "$T/scan.db" 'select count(*) from entries')" 1
is "... the scanning rule failed, the other tagged it" \
  "$(sq "$T/scan.db" 'select tag from tags order by tag' | tr '\n' ' ')" "good "
# The budget of a call is rule_budget plus 8 per byte of the entry's text
# (240009 bytes, the blank at its end trimmed).
like "... stopped by the instruction budget" "$(cat "$T/scan.err")" \
  "rule 'scan' .*instruction budget of $((2000000 + 8 * 240009)) exceeded"
# A second here, and minutes if the scans were not charged: the bound leaves
# a machine several times slower, or busy, plenty of room.
if [ "$took" -le 60 ]; then
  ok "... within seconds ($took s)"
else
  fail "... within seconds" "took $took s"
fi

# ---- print ----

mkdir "$T/print"
cat >"$T/print/p.lua" <<'EOF'
rule "p" {
  when = function(e)
    print("hi")
    print("several", 1, nil, true)
    return false
  end,
  tags = { "never" },
}
EOF
printf '2023-01-01: news\n' >"$T/print.txt"
cli print 300 ingest --rules "$T/print" --db "$T/print.db" --config "$T/scan.conf" "$T/print.txt"
is "vigil ingest with a rule that prints: exit status 0" "$rc" 0
like "... logs the rule's file and line and what it printed" \
  "$(grep 'print: hi' "$T/print.err")" "p\.lua:3: print: hi$"
like "... every argument, separated by tabs" \
  "$(grep 'print: several' "$T/print.err")" "p\.lua:4: print: several	1	nil	true$"
is "... and nothing else" "$(count_matching 'userdata' "$T/print.err")" 0

# shellcheck disable=SC2086
check_sanitizers "no sanitizer report from the commands" $_cli_errs

done_testing

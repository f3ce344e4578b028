#!/bin/sh
# End-to-end: a feed item without a date of its own is dated at the poll,
# but says nothing of event time. One poll of a feed that holds a dated
# launch and an undated item must not fire the launch's absence rule
# ("no allied show of force within 7 days") at once: the undated item moves
# no watermark. A later dated entry does, and the absence fires then. The
# feed comes from a local server (tests/e2e/feedserver.py, 127.0.0.1 only).
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v python3 >/dev/null 2>&1; then
  echo "Bail out! python3 is needed for the feed server (make test-deps installs it)"
  exit 1
fi

WWW=$T/www
mkdir -p "$WWW"
cat >"$WWW/mixed.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>Peninsula desk</title>
    <item>
      <title>North Korea launches a ballistic missile toward the East Sea</title>
      <guid>desk-2023-11-21-launch</guid>
      <pubDate>Tue, 21 Nov 2023 22:43:00 +0900</pubDate>
    </item>
    <item>
      <title>Analysts weigh what the silence from Pyongyang means</title>
      <guid>desk-undated-analysis</guid>
    </item>
  </channel>
</rss>
EOF
python3 "$E2E/feedserver.py" "$WWW" "$T/port" 2>"$T/server.err" &
bg_started $!
if ! wait_for 60 test -s "$T/port"; then
  echo "Bail out! the feed server did not start: $(cat "$T/server.err")"
  exit 1
fi
URL=http://127.0.0.1:$(cat "$T/port")/feed/mixed.xml

timeout 120 "$VIGIL" poll --db "$DB" --rules "$RULES" --source desk "$URL" \
  >"$T/poll.out" 2>"$T/poll.err"
is "vigil poll of a feed with a dated and an undated item exits 0" "$?" 0
is "both items are stored" "$(sq "select count(*) from entries where source = 'desk'")" 2
like "the undated item is dated at the poll, with date_from poll" \
  "$(sq "select json_extract(fields, '$.date_from') || ' ' || date from entries
         where text like 'Analysts weigh%'")" '^poll [0-9]{4}-[0-9]{2}-[0-9]{2}T'
is "the launch raises its own alert" \
  "$(sq "select count(*) from alerts where rule = 'dprk-launch'")" 1
is "the launch's absence rule does not fire on the poll that brought it" \
  "$(sq "select count(*) from alerts where rule = 'launch-without-response'")" 0
is "the watermark is the launch's day, not the poll's" \
  "$(sq "select value = (select day_last from entries where text like 'North Korea launches%')
         from state where name = 'max_day'")" 1

# A dated entry three weeks later closes the launch's window (7 days, and 3
# of lateness): now the absence fires.
printf '2023-12-12: Officials in Seoul discuss the budget.\n' >"$T/later.txt"
"$VIGIL" ingest --db "$DB" --rules "$RULES" "$T/later.txt" >"$T/later.out" 2>"$T/later.err"
is "a later dated entry is ingested" "$?" 0
is "... and the launch's absence fires then, naming the launch" \
  "$(sq "select e.text from alerts a join alert_entries ae on ae.alert_id = a.id
         join entries e on e.id = ae.entry_id where a.rule = 'launch-without-response'")" \
  "North Korea launches a ballistic missile toward the East Sea"

check_sanitizers "no sanitizer report" "$T/poll.err" "$T/later.err"
done_testing

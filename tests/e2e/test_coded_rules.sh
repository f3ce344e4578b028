#!/bin/sh
# End-to-end: the shipped rules for CAMEO-coded events (rules/coded.lua) on
# JSON records shaped as a GDELT row becomes: the codebook's columns as
# strings, leading zeros kept, empty ones left out, source "gdelt". `vigil
# ingest` stores them with the shipped rules; sqlite3 reads the tags and
# alerts: the root code and quad class of each coded entry, material
# conflict between the two Koreas, a North Korean threat followed by force
# within 7 days (and not 8 days, nor against another party), a burst of
# clashes, and a plain chronology line left alone by these rules. The same
# records in the reverse order raise the same threat-then-force alerts.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DB=$T/coded.db
CAMEO=$E2E/../../scripts/cameo.lua
REC=$T/coded.jsonl

# coded ID DATE CODE ACTOR1 ACTOR2 QUAD NAME1 NAME2 PLACE GOLDSTEIN: one
# record as a GDELT row becomes, its text "<Actor1Name> — <what the code
# means, from scripts/cameo.lua> — <place>".
coded() {
  _base=$(printf '%s' "$3" | cut -c1-3)
  _root=$(printf '%s' "$3" | cut -c1-2)
  _day=$(printf '%s' "$2" | tr -d -)
  _what=$(sed -n "s/^  \\[\"$3\"\\] = \"\\(.*\\)\",\$/\\1/p" "$CAMEO")
  printf '{"date":"%s","text":"%s — %s — %s","source":"gdelt",' "$2" "$7" "$_what" "$9"
  printf '"GLOBALEVENTID":"%s","MonthYear":"%s","Year":"%s",' "$1" "$(printf '%s' "$_day" | cut -c1-6)" \
    "$(printf '%s' "$_day" | cut -c1-4)"
  printf '"Actor1Code":"%s","Actor1Name":"%s","Actor1CountryCode":"%s",' "$4" "$7" "$4"
  printf '"Actor2Code":"%s","Actor2Name":"%s","Actor2CountryCode":"%s",' "$5" "$8" "$5"
  printf '"IsRootEvent":"1","EventCode":"%s","EventBaseCode":"%s","EventRootCode":"%s",' "$3" "$_base" "$_root"
  printf '"QuadClass":"%s","GoldsteinScale":"%s","NumMentions":"4","NumSources":"1",' "$6" "${10}"
  printf '"NumArticles":"4","AvgTone":"-6.25","ActionGeo_Type":"4","ActionGeo_FullName":"%s",' "$9"
  printf '"DATEADDED":"%s"}\n' "$_day"
}

PANMUNJOM="Panmunjom, Kyonggi-do, South Korea"
YEONCHEON="Yeoncheon, Kyonggi-do, South Korea"
{
  # August 2015 at the DMZ: a threat over the loudspeakers, then shelling
  # five days later.
  coded 101 2015-08-15 1384 PRK KOR 3 "NORTH KOREA" "SOUTH KOREA" "$PANMUNJOM" -7.0
  coded 102 2015-08-20 194 PRK KOR 4 "NORTH KOREA" "SOUTH KOREA" "$YEONCHEON" -10.0
  # A threat, and force eight days later: too late.
  coded 201 2016-01-01 138 PRK KOR 3 "PYONGYANG" "SEOUL" "$PANMUNJOM" -7.0
  coded 202 2016-01-09 190 PRK KOR 4 "PYONGYANG" "SEOUL" "$YEONCHEON" -10.0
  # A threat to the US, then force against the South: another pair.
  coded 301 2017-08-08 138 PRK USA 3 "NORTH KOREA" "UNITED STATES" "Guam, Guam" -7.0
  coded 302 2017-08-10 193 PRK KOR 4 "NORTH KOREA" "SOUTH KOREA" "$PANMUNJOM" -10.0
  # A code with its leading zero: a ceasefire, verbal cooperation... and
  # material cooperation (quad 2).
  coded 401 2018-04-27 0871 PRK KOR 2 "KIM JONG UN" "MOON JAE-IN" "$PANMUNJOM" 9.0
  # November 2010: five clashes in three days around Yeonpyeong.
  coded 501 2010-11-23 194 PRK KOR 4 "NORTH KOREA" "SOUTH KOREA" "Yeonpyeong, Inch'on-jikhalsi, South Korea" -10.0
  coded 502 2010-11-23 194 KOR PRK 4 "SOUTH KOREA" "NORTH KOREA" "Kaemori, Hwanghae-namdo, North Korea" -10.0
  coded 503 2010-11-24 190 PRK KOR 4 "PYONGYANG" "SEOUL" "Yellow Sea" -10.0
  coded 504 2010-11-25 152 KOR PRK 4 "SEOUL" "PYONGYANG" "Seoul, Soul-t'ukpyolsi, South Korea" -7.2
  coded 505 2010-11-25 154 PRK KOR 4 "NORTH KOREAN MILITARY" "SOUTH KOREA" "Pyongyang, P'yongyang-si, North Korea" -7.2
  # A chronology line: no codes.
  echo "2015-08-21: North Korea declares a quasi-state of war along the border."
} >"$REC"
NREC=$(line_count "$REC")

"$VIGIL" ingest --rules "$RULES" --db "$DB" "$REC" >"$T/ingest.out" 2>"$T/ingest.err"
is "vigil ingest with the shipped rules stores every record" "$?" 0
is "every record is an entry" "$(sq "select count(*) from entries")" "$NREC"
is "the source is the records' own" "$(sq "select count(*) from entries where source = 'gdelt'")" \
  "$((NREC - 1))"

# tags_on ID: the tags of this file on the entry of that GLOBALEVENTID, sorted,
# on one line.
tags_on() {
  sq "select t.tag from tags t join entries e on e.id = t.entry_id
      where json_extract(e.fields, '\$.GLOBALEVENTID') = '$1'
        and (t.tag like 'cameo:%' or t.tag like 'quad:%' or t.tag = 'koreas-material-conflict')
      order by t.tag" | tr '\n' ' '
}

is "a threat: its root code and quad class" "$(tags_on 101)" "cameo:13 quad:3 "
is "shelling of the South: material conflict between the Koreas" "$(tags_on 102)" \
  "cameo:19 koreas-material-conflict quad:4 "
is "the South's fire on the North counts too" "$(tags_on 502)" \
  "cameo:19 koreas-material-conflict quad:4 "
is "the North against the South, but cooperation: no conflict tag" "$(tags_on 401)" "cameo:08 quad:2 "
is "the code keeps its leading zero in the fields" \
  "$(sq "select json_extract(fields, '\$.EventCode') from entries
         where json_extract(fields, '\$.GLOBALEVENTID') = '401'")" "0871"
is "the chronology line gets no tag of these rules" \
  "$(sq "select count(*) from tags t join entries e on e.id = t.entry_id
         where e.source <> 'gdelt'
           and (t.tag like 'cameo:%' or t.tag like 'quad:%' or t.tag = 'koreas-material-conflict')")" 0

# threat_alerts DB: each threat-then-force alert as date|key|the
# GLOBALEVENTIDs of its entries.
threat_alerts() {
  sq "$1" "select a.date || '|' || a.key || '|' || (select group_concat(id, ',') from
             (select json_extract(e.fields, '\$.GLOBALEVENTID') id from alert_entries ae
              join entries e on e.id = ae.entry_id where ae.alert_id = a.id order by id))
           from alerts a where a.rule = 'threat-then-force' order by a.date"
}
is "one threat-then-force alert: the threat and the shelling five days later" \
  "$(threat_alerts "$DB")" "2015-08-20|PRK>KOR|101,102"
msg=$(sq "select severity || ' ' || message from alerts where rule = 'threat-then-force'")
like "its message names both dates and actors" "$msg" \
  '^warn 2015-08-15: NORTH KOREA against SOUTH KOREA \(Threaten conventional attack\), then 2015-08-20: NORTH KOREA against SOUTH KOREA \(Fight with artillery and tanks\)$'
is "eight days apart raise no alert" \
  "$(sq "select count(*) from alerts where date = '2016-01-09'")" 0
is "a threat to the US does not pair with force against the South" \
  "$(sq "select count(*) from alerts where rule = 'threat-then-force' and date = '2017-08-10'")" 0

is "five clashes in three days: one burst alert, on the third day" \
  "$(sq "select date || ' ' || severity || ' ' || count from alerts where rule = 'koreas-conflict-burst'")" \
  "2010-11-25 crit 5"

# The same records in the reverse order: the late threats pair all the same.
tac "$REC" >"$T/reversed.jsonl"
"$VIGIL" ingest --rules "$RULES" --db "$T/reversed.db" "$T/reversed.jsonl" >"$T/reversed.out" \
  2>"$T/reversed.err"
is "the records in the reverse order are stored too" "$?" 0
is "and raise the same threat-then-force alerts" "$(threat_alerts "$T/reversed.db")" \
  "$(threat_alerts "$DB")"

check_sanitizers "no sanitizer report" "$T/ingest.err" "$T/reversed.err"
done_testing

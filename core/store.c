/* store.c — SQLite: schema migrations, entry and reject inserts, queries.
 *
 * All SQL text lives in the statement table below, prepared once at open
 * and bound by parameter; nothing outside this file holds a sqlite3 handle. */
#include "store.h"
#include "date.h"

#include "embedded.h"
#include "vigil.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
  S_BEGIN,
  S_COMMIT,
  S_ROLLBACK,
  S_INSERT,
  S_FIND,
  S_REJECT,
  S_QUERY,
  S_TAG,
  S_CLEAR_TAGS,
  S_ENTRY_TAGS,
  S_ALERT,
  S_ALERT_FIND,
  S_ALERT_ENTRY,
  S_ALERTS,
  S_ALERTS_NEWEST,
  S_MARK,
  S_MARKS,
  S_MARKS_DESC,
  S_SPAN,
  S_CLEAR_MARKS,
  S_ENTRY,
  S_ENTRY_UNTAGGED,
  S_ALERT_NEAR,
  S_ABSENCE_ADD,
  S_ABSENCE_SET,
  S_ABSENCES_DUE,
  S_STATE_GET,
  S_STATE_MAX,
  S_COUNT_TAG,
  S_ENTRIES_TAG,
  S_ALERT_MOVE,
  S_ALERT_NAMED,
  S_ALERT_UNNAME_ONE,
  S_ALERT_BUMP,
  S_ALERT_STAMP,
  S_ALERT_REVIVE,
  S_ALERT_RETRACT,
  S_ALERT_LOG_FIX,
  S_ALERT_ONE,
  S_ALERT_ADOPT,
  S_ALERT_LAST,
  S_ALERT_LOG,
  S_ALERT_LOG_LAST,
  S_TAG_COUNTS,
  S_RUN_ADD,
  S_RUN_LAST,
  S_ITEM_GET,
  S_ITEM_PUT,
  S_ROW_KEY_GET,
  S_ROW_KEY_PUT,
  S_FEED_GET,
  S_FEED_PUT,
  S_FEEDS,
  S_MARK_EVENT,
  S_SPAN_ADD,
  S_MARKS_OF,
  S_SPAN_DROP,
  S_SPAN_GONE,
  S_REPORTS,
  S_MARKS_EVENTS,
  S_SPANS,
  S_SPAN_EVENTS,
  S_ABSENCE_STATE,
  S_SPOOL_GET,
  S_SPOOL_PUT,
  S_SPOOL_FORGET,
  S_SPOOL_NAMES,
  S_LAST_REJECT,
  S_REJECTS_OF,
  S_FEED_REJECT_GET,
  S_FEED_REJECT_PUT,
  S_ARCHIVE_SEEN,
  S_ARCHIVE_PUT,
  S_ENTRY_UPDATES,
  S_ENTRY_MARKS,
  S_ENTRY_ALERTS,
  S_EVENT_FIRST,
  S_EVENT_PUT,
  S_EVENT_FORGET,
  S_EVENT_CANDIDATES,
  S_EVENT_TRIPLES,
  S_EVENT_MARKS_MOVE,
  S_EVENT_MOVE,
  S_EVENT_OF,
  S_EVENT_MEMBERS,
  S_SPANS_KEPT,
  S_SILENCE_ADD,
  S_SILENCE_EXPIRE,
  S_SILENCES,
  S_SILENCE_ONE,
  S_SILENCES_ACTIVE,
  S_NATS_SEEN,
  S_NATS_PUT,
  S_NATS_LAST,
  S_META_GET,
  S_META_SET,
  S_NATS_RETIRE,
  S_OUTBOX_ADD,
  S_OUTBOX_DUE,
  S_OUTBOX_TAKE,
  S_OUTBOX_DONE,
  S_OUTBOX_FAILED,
  S_OUTBOX_LATER,
  S_OUTBOX_RENEW,
  S_OUTBOX_NEXT,
  S_OUTBOX_COUNT,
  S_OUTBOX_RESET,
  S_OUTBOX_ADOPT,
  S_OUTBOX_RELEASE,
  S_ENTRY_STATE,
  S_ENTRY_FIELDS_SAME,
  S_CORRECTION_TEXT,
  S_VERSION_KEEP,
  S_ENTRY_AMEND,
  S_ENTRY_RETRACT,
  S_ENTRY_VERSIONS,
  S_ABSENCE_DROP,
  S_ABSENCE_FORCE,
  S_ABSENCES_FIRED,
  S_MARK_SPAN_MAX,
  S_ALERTS_HELD,
  S_WATERMARK,
  S_STATE_SET,
  S_DIGEST_ABSENT,
  S_DIGEST_CHANGES,
  S_DIGEST_BOUNDS,
  S_ALERT_HISTORY,
  S_MARKS_NEAR,
  S_COUNT
};

/* An entry in force that is dated by its source (not on arrival: rules.c),
 * as the watermark counts it. The latest day of those lies among the ones
 * that start within a year of the latest start, as no date spans more. */
#define IN_FORCE_DATED                                                                           \
  "retracted_at IS NULL AND (fields IS NULL OR json_extract(fields, '$.date_from') IS NOT 'poll')"

/* Optional filters are bound as NULL when unset, so one statement serves. */
#define QUERY_FILTERS                                                                            \
  " (?1 IS NULL OR e.day_last >= ?1) AND (?2 IS NULL OR e.day_first <= ?2)"                     \
  " AND (?3 IS NULL OR e.source = ?3)"                                                           \
  " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.entry_id = e.id AND t.tag = ?4))"    \
  " AND (?7 IS NULL OR (e.day_first, e.id) > (?7, ?8))"                                         \
  " AND (?9 = 1 OR e.retracted_at IS NULL)"
#define QUERY_COLUMNS                                                                            \
  "SELECT e.id, e.date, e.precision, e.text, e.source, e.ingested_at, e.fields,"                 \
  " (SELECT group_concat(tag, ',') FROM (SELECT tag FROM tags WHERE entry_id = e.id ORDER BY tag)),"\
  " e.day_first, e.day_last"
/* What vg_store_query and vg_store_entry add: the latest update of entry e
 * (u.text, u.seen_at; NULL when it has none), after QUERY_COLUMNS and the
 * FROM clause respectively. */
#define UPDATE_COLUMNS ", u.text, u.seen_at, e.version, e.retracted_at, e.retract_reason"
#define LATEST_UPDATE                                                                            \
  " LEFT JOIN entry_updates u ON u.id = (SELECT max(id) FROM entry_updates WHERE entry_id = e.id" \
  " AND version IS NULL) AND u.text IS NOT e.text"

/* The columns of vg_alert_row, for the statements that list alerts. */
#define ALERT_COLUMNS                                                                            \
  "SELECT a.id, a.rule, a.key, a.severity, a.message, a.date, a.created_at,"                     \
  " (SELECT group_concat(entry_id, ',') FROM (SELECT entry_id FROM alert_entries"               \
  " WHERE alert_id = a.id ORDER BY entry_id)), a.count, a.version, a.day, a.silence_id," \
  " a.state, a.retract_reason, a.rule_file, a.rule_hash, a.cause FROM alerts a"
/* Whether alert a is silenced, for the state filter (?8: 1 silenced, 0
 * active). */
#define ALERT_SILENCED "(a.silence_id IS NOT NULL)"
/* The filters of vg_alert_query; severity ?7 is a list such as ",warn,crit,". */
#define ALERT_FILTERS                                                                            \
  " WHERE (?1 IS NULL OR a.day >= ?1) AND (?2 IS NULL OR a.day <= ?2)"                          \
  " AND (?3 IS NULL OR a.rule = ?3) AND (?7 IS NULL OR instr(?7, ',' || a.severity || ',') > 0)" \
  " AND (?8 IS NULL OR ?8 = " ALERT_SILENCED ")"                                                \
  " AND (?11 IS NULL OR ?11 = (a.state = 'retracted'))"

static const char *const sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_INSERT] = "INSERT INTO entries (date, precision, day_first, day_last, text, source,"
                 " ingested_at, fields, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                 " ON CONFLICT (day_first, hash) DO NOTHING",
    [S_FIND] = "SELECT id FROM entries WHERE day_first = ? AND hash = ?",
    [S_REJECT] = "INSERT INTO rejects (source, line, reason, raw, raw_length, received_at, origin)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)",
    [S_QUERY] = QUERY_COLUMNS UPDATE_COLUMNS " FROM entries e" LATEST_UPDATE " WHERE" QUERY_FILTERS
                " ORDER BY e.day_first, e.id LIMIT ?6",
    [S_TAG] = "INSERT OR IGNORE INTO tags (entry_id, tag, rule) VALUES (?, ?, ?)",
    [S_CLEAR_TAGS] = "DELETE FROM tags WHERE entry_id = ?",
    [S_ENTRY_TAGS] = "SELECT tag, rule FROM tags WHERE entry_id = ? ORDER BY tag",
    [S_ALERT] = "INSERT INTO alerts (rule, key, dedup_key, date, day, severity, message,"
                " created_at, count, silence_id, rule_file, rule_hash, cause)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (dedup_key) DO NOTHING",
    [S_ALERT_FIND] = "SELECT id, state = 'retracted' FROM alerts WHERE dedup_key = ?",
    [S_ALERT_ENTRY] = "INSERT OR IGNORE INTO alert_entries (alert_id, entry_id) VALUES (?, ?)",
    /* The cursor (?9, ?10) is always bound (from the first or the last
     * possible alert when there is none), so that a page starts with a seek
     * on alerts_by_day rather than a scan of the pages before it. */
    [S_ALERTS] = ALERT_COLUMNS ALERT_FILTERS " AND (a.day, a.id) > (?9, ?10)"
                 " ORDER BY a.day, a.id LIMIT ?4",
    [S_ALERTS_NEWEST] = ALERT_COLUMNS ALERT_FILTERS " AND (a.day, a.id) < (?9, ?10)"
                        " ORDER BY a.day DESC, a.id DESC LIMIT ?4",
    [S_ALERT_ONE] = ALERT_COLUMNS " WHERE a.id = ?5",
    /* A threshold alert stored before windows were counted by day (no count,
     * a dedup key of its own) takes the dedup key of its day's alert. */
    [S_ALERT_ADOPT] = "UPDATE alerts SET dedup_key = ?4 WHERE id = (SELECT id FROM alerts"
                      " WHERE rule = ?1 AND day = ?3 AND key = ?2 AND count IS NULL"
                      " ORDER BY id LIMIT 1)"
                      " AND NOT EXISTS (SELECT 1 FROM alerts WHERE dedup_key = ?4)",
    [S_MARK] = "INSERT OR IGNORE INTO marks (rule, step, key, day_first, day_last, entry_id,"
               " event) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [S_MARKS] = "SELECT entry_id, day_first, day_last, event FROM marks WHERE rule = ? AND step = ?"
                " AND key = ? AND day_first BETWEEN ? AND ? ORDER BY day_first, entry_id",
    [S_MARKS_DESC] = "SELECT entry_id, day_first, day_last, event FROM marks WHERE rule = ?"
                     " AND step = ? AND key = ? AND day_first BETWEEN ? AND ?"
                     " ORDER BY day_first DESC, entry_id DESC",
    [S_SPAN] = "SELECT day_first, day_last FROM entries WHERE id = ?",
    [S_CLEAR_MARKS] = "DELETE FROM marks WHERE entry_id = ?1 AND (?2 IS NULL OR rule = ?2)",
    [S_ENTRY] = QUERY_COLUMNS UPDATE_COLUMNS " FROM entries e" LATEST_UPDATE " WHERE e.id = ?",
    [S_ENTRY_UNTAGGED] = "SELECT e.id, e.date, e.precision, e.text, e.source, e.ingested_at,"
                         " e.fields, NULL, e.day_first, e.day_last FROM entries e WHERE e.id = ?",
    [S_ALERT_NEAR] = "SELECT count(*) FROM alerts WHERE rule = ? AND key = ? AND day BETWEEN ? AND ?"
                     " AND dedup_key <> ? AND state = 'active'",
    [S_ABSENCE_ADD] = "INSERT OR IGNORE INTO absences (rule, key, entry_id, deadline) VALUES (?, ?, ?, ?)",
    [S_ABSENCE_SET] = "UPDATE absences SET state = ? WHERE rule = ? AND entry_id = ? AND state = 'waiting'",
    [S_ABSENCES_DUE] = "SELECT rule, key, entry_id, deadline FROM absences"
                       " WHERE state = 'waiting' AND deadline < ? ORDER BY deadline, entry_id",
    [S_STATE_GET] = "SELECT value FROM state WHERE name = ?",
    [S_STATE_MAX] = "INSERT INTO state (name, value) VALUES (?1, ?2)"
                    " ON CONFLICT (name) DO UPDATE SET value = max(value, ?2)",
    [S_COUNT_TAG] = "SELECT count(*) FROM tags t JOIN entries e ON e.id = t.entry_id"
                    " WHERE t.tag = ?1 AND e.day_first >= ?2 AND e.day_last <= ?3",
    [S_ENTRIES_TAG] = QUERY_COLUMNS " FROM tags t JOIN entries e ON e.id = t.entry_id"
                      " WHERE t.tag = ?1 AND e.day_first >= ?2 AND e.day_last <= ?3"
                      " ORDER BY e.day_first, e.id LIMIT ?4",
    /* Changes nothing (sqlite3_changes says 0) when the alert is so already. */
    [S_ALERT_MOVE] = "UPDATE alerts SET date = ?1, day = ?2, message = ?3, count = ?4,"
                     " key = ?6, state = 'active', retract_reason = NULL WHERE id = ?5"
                     " AND (date IS NOT ?1 OR day IS NOT ?2 OR message IS NOT ?3"
                     " OR count IS NOT ?4 OR key IS NOT ?6 OR state <> 'active')",
    [S_ALERT_NAMED] = "SELECT entry_id FROM alert_entries WHERE alert_id = ? ORDER BY entry_id",
    [S_ALERT_UNNAME_ONE] = "DELETE FROM alert_entries WHERE alert_id = ? AND entry_id = ?",
    [S_ALERT_BUMP] = "UPDATE alerts SET version = version + 1 WHERE id = ?",
    /* What a new version of an alert rests on: the rule's file as loaded,
     * and the entry that changed it; a retracted alert written again is
     * in force again. */
    [S_ALERT_STAMP] = "UPDATE alerts SET rule_file = coalesce(?1, rule_file),"
                      " rule_hash = coalesce(?2, rule_hash), cause = ?3, state = 'active',"
                      " retract_reason = NULL WHERE id = ?4",
    /* A retracted alert raised again says what it is raised with now. */
    [S_ALERT_REVIVE] = "UPDATE alerts SET date = ?1, day = ?2, severity = ?3, message = ?4,"
                       " count = ?5 WHERE id = ?6",
    [S_ALERT_RETRACT] = "UPDATE alerts SET state = 'retracted', retract_reason = ?1, cause = ?2"
                        " WHERE id = ?3 AND state = 'active'",
    /* An alert changed again in the transaction that logged its change:
     * the one log row says what the commit leaves. */
    [S_ALERT_LOG_FIX] = "UPDATE alert_log SET"
                        " kind = (SELECT CASE WHEN state = 'retracted' THEN 'retract' ELSE 'amend'"
                        " END FROM alerts WHERE id = ?1),"
                        " entry_id = (SELECT cause FROM alerts WHERE id = ?1)"
                        " WHERE seq = (SELECT max(seq) FROM alert_log WHERE alert_id = ?1)"
                        " AND kind <> 'alert'",
    [S_ALERT_LAST] = "SELECT coalesce(max(id), 0) FROM alerts",
    /* The changes after a seq, each with its alert as it is now (NULLs when
     * the alert is no longer stored). */
    [S_ALERT_LOG] = "SELECT a.id, a.rule, a.key, a.severity, a.message, a.date, a.created_at,"
                    " (SELECT group_concat(entry_id, ',') FROM (SELECT entry_id FROM"
                    " alert_entries WHERE alert_id = a.id ORDER BY entry_id)), a.count,"
                    " a.version, l.seq, l.kind, a.silence_id, a.day, a.state, a.retract_reason,"
                    " a.rule_file, a.rule_hash, a.cause FROM alert_log l"
                    " LEFT JOIN alerts a"
                    " ON a.id = l.alert_id WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2",
    [S_ALERT_LOG_LAST] = "SELECT coalesce(max(seq), 0) FROM alert_log",
    /* An event counts once: the reports grouped into one (entry_events)
     * share a key; any other entry is its own. */
    [S_TAG_COUNTS] = "SELECT t.tag,"
                     " count(DISTINCT CASE WHEN e.day_last >= ?1 AND e.day_first <= ?2"
                     " THEN coalesce('e' || x.event, 'n' || e.id) END),"
                     " count(DISTINCT CASE WHEN e.day_last >= ?3 AND e.day_first <= ?4"
                     " THEN coalesce('e' || x.event, 'n' || e.id) END)"
                     " FROM tags t JOIN entries e ON e.id = t.entry_id"
                     " LEFT JOIN entry_events x ON x.entry_id = e.id"
                     " WHERE e.day_last >= min(?1, ?3) AND e.day_first <= max(?2, ?4)"
                     " GROUP BY t.tag ORDER BY t.tag",
    [S_RUN_ADD] = "INSERT OR IGNORE INTO digest_runs (name, period_first, period_last, ran_at, files)"
                  " VALUES (?, ?, ?, ?, ?)",
    [S_RUN_LAST] = "SELECT period_last, ran_at FROM digest_runs WHERE name = ?"
                   " ORDER BY period_last DESC LIMIT 1",
    [S_ITEM_GET] = "SELECT entry_id, content FROM feed_items WHERE feed = ? AND guid = ?",
    [S_ROW_KEY_GET] = "SELECT entry_id, edited FROM row_keys WHERE format = ? AND key = ?",
    [S_ROW_KEY_PUT] = "INSERT OR REPLACE INTO row_keys (format, key, entry_id, edited) "
                      "VALUES (?1, ?2, ?3, ?4)",
    [S_ITEM_PUT] = "INSERT INTO feed_items (feed, guid, entry_id, content) VALUES (?1, ?2, ?3, ?4)"
                   " ON CONFLICT (feed, guid) DO UPDATE SET content = ?4",
    [S_FEED_GET] = "SELECT etag, last_modified, failures FROM feeds WHERE url = ?",
    [S_FEED_PUT] = "INSERT INTO feeds (url, source, etag, last_modified, last_success, last_error,"
                   " last_error_at, failures, polls, items_seen, next_poll)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10)"
                   " ON CONFLICT (url) DO UPDATE SET source = ?2, etag = coalesce(?3, etag),"
                   " last_modified = coalesce(?4, last_modified),"
                   " last_success = coalesce(?5, last_success), last_error = ?6,"
                   " last_error_at = coalesce(?7, last_error_at), failures = ?8,"
                   " polls = polls + 1, items_seen = items_seen + ?9,"
                   " next_poll = coalesce(?10, next_poll)",
    [S_FEEDS] = "SELECT url, source, last_success, last_error, last_error_at, failures, polls,"
                " items_seen, next_poll, (SELECT name FROM feed_archives WHERE feed = url"
                " ORDER BY fetched_at DESC, name DESC LIMIT 1) FROM feeds ORDER BY url",
    [S_MARK_EVENT] = "SELECT event FROM marks WHERE rule = ? AND step = ? AND key = ?"
                     " AND day_first = ? AND entry_id = ?",
    [S_SPAN_ADD] = "INSERT INTO mark_spans (rule, step, key, day_last, day_first, events, entry)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                   " ON CONFLICT (rule, step, key, day_last, day_first)"
                   " DO UPDATE SET events = events + ?6, entry = min(coalesce(entry, ?7), ?7)",
    [S_MARKS_OF] = "SELECT rule, step, key, day_first, day_last, event FROM marks"
                   " WHERE entry_id = ?1 AND (?2 IS NULL OR rule = ?2)",
    [S_SPAN_DROP] = "UPDATE mark_spans SET events = events - ?6, entry = CASE WHEN entry = ?7"
                    " THEN (SELECT min(entry_id) FROM marks WHERE rule = ?1 AND step = ?2"
                    " AND key = ?3 AND day_first = ?5 AND day_last = ?4) ELSE entry END"
                    " WHERE rule = ?1 AND step = ?2 AND key = ?3 AND day_last = ?4"
                    " AND day_first = ?5",
    /* A span goes with its last mark; it may hold marks and count no event
     * (their events are counted in the span of their first reports). */
    [S_SPAN_GONE] = "DELETE FROM mark_spans WHERE rule = ?1 AND step = ?2 AND key = ?3"
                    " AND day_last = ?4 AND day_first = ?5 AND NOT EXISTS (SELECT 1 FROM marks"
                    " WHERE rule = ?1 AND step = ?2 AND key = ?3 AND day_first = ?5"
                    " AND day_last = ?4)",
    /* The reports of an event: those of a grouped event through its
     * members (on a few days; CROSS JOIN: members first, then each one's
     * mark by its key), and those of an event reported word for word on day
     * ?4; by day, then entry. */
    [S_REPORTS] = "SELECT m.entry_id, m.day_first FROM entry_events x CROSS JOIN marks m"
                  " ON m.rule = ?1 AND m.step = ?2 AND m.key = ?3 AND m.day_first = x.day_first"
                  " AND m.entry_id = x.entry_id WHERE x.event = ?5 AND m.event = ?5"
                  " UNION SELECT entry_id, day_first FROM marks INDEXED BY marks_by_event"
                  " WHERE rule = ?1 AND step = ?2 AND key = ?3 AND day_first = ?4 AND event = ?5"
                  " ORDER BY 2, 1",
    [S_MARKS_EVENTS] = "SELECT entry_id, day_first, day_last, event FROM marks"
                       " INDEXED BY marks_by_event WHERE rule = ? AND step = ? AND key = ?"
                       " AND day_first BETWEEN ? AND ?"
                       " ORDER BY day_first DESC, event DESC, day_last DESC, entry_id DESC",
    [S_SPANS] = "SELECT day_last, day_first, events, entry FROM mark_spans WHERE rule = ?"
                " AND step = ? AND key = ? AND day_last BETWEEN ? AND ?"
                " ORDER BY day_last, day_first",
    [S_SPAN_EVENTS] = "SELECT coalesce(sum(events), 0) FROM mark_spans WHERE rule = ?1"
                      " AND step = ?2 AND key = ?3 AND day_last BETWEEN ?4 AND ?5"
                      " AND day_first >= ?4",
    [S_ABSENCE_STATE] = "SELECT state FROM absences WHERE rule = ? AND entry_id = ?",
    [S_SPOOL_GET] = "SELECT identity, offset, line, stored, duplicates, rejected, first_reject"
                    " FROM spool_files WHERE name = ?",
    [S_SPOOL_PUT] = "INSERT OR REPLACE INTO spool_files (name, identity, offset, line, stored,"
                    " duplicates, rejected, first_reject) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [S_SPOOL_FORGET] = "DELETE FROM spool_files WHERE name = ?",
    [S_SPOOL_NAMES] = "SELECT name FROM spool_files ORDER BY name",
    [S_LAST_REJECT] = "SELECT coalesce(max(id), 0) FROM rejects",
    [S_REJECTS_OF] = "SELECT line, reason FROM rejects WHERE origin = ? AND id > ? ORDER BY id",
    [S_FEED_REJECT_GET] = "SELECT content = ?3 FROM feed_rejects WHERE feed = ?1 AND key = ?2",
    [S_FEED_REJECT_PUT] = "INSERT INTO feed_rejects (feed, key, content) VALUES (?1, ?2, ?3)"
                          " ON CONFLICT (feed, key) DO UPDATE SET content = ?3",
    [S_ARCHIVE_SEEN] = "SELECT 1 FROM feed_archives WHERE feed = ? AND name = ?",
    [S_ARCHIVE_PUT] = "INSERT INTO feed_archives (feed, name, size, md5, fetched_at, stored,"
                      " duplicates, rejected) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [S_ENTRY_UPDATES] = "SELECT id, seen_at, text, fields FROM entry_updates WHERE entry_id = ?"
                        " AND version IS NULL"
                        " ORDER BY id",
    [S_ENTRY_MARKS] = "SELECT rule, step, key FROM marks WHERE entry_id = ?"
                      " ORDER BY rule, step, key",
    /* alert_entries has no index by entry: this reads all of it, which a
     * look-up by hand (vigil show) can afford. */
    [S_ENTRY_ALERTS] = ALERT_COLUMNS " WHERE a.id IN (SELECT alert_id FROM alert_entries"
                       " WHERE entry_id = ?6) ORDER BY a.day, a.id",
    /* The first report of an event under (rule, step, key), found as
     * S_REPORTS finds them: its span counts it. */
    [S_EVENT_FIRST] = "SELECT m.day_first, m.day_last, m.entry_id FROM entry_events x CROSS JOIN marks m"
                      " ON m.rule = ?1 AND m.step = ?2 AND m.key = ?3"
                      " AND m.day_first = x.day_first AND m.entry_id = x.entry_id"
                      " WHERE x.event = ?5 AND m.event = ?5"
                      " UNION ALL SELECT day_first, day_last, entry_id FROM marks"
                      " INDEXED BY marks_by_event WHERE rule = ?1 AND step = ?2 AND key = ?3"
                      " AND day_first = ?4 AND event = ?5"
                      " ORDER BY 1, 2, 3 LIMIT 1",
    [S_EVENT_PUT] = "INSERT OR REPLACE INTO entry_events (entry_id, kind, day_first, day_last, own,"
                    " event, words) VALUES (?, ?, ?, ?, ?, ?, ?)",
    [S_EVENT_FORGET] = "DELETE FROM entry_events WHERE entry_id = ?",
    /* Same kind, first day within [?2, ?3]: the nearest days first, then the
     * latest stored, at most ?6 of them. */
    /* Same kind, first day ?2, the latest stored first, at most ?4 of
     * them: read in the primary key's order, so that a day dense with one
     * kind costs no sort. */
    [S_EVENT_CANDIDATES] = "SELECT x.entry_id, x.day_first, x.day_last, x.own, x.event, x.words,"
                           " e.source FROM entry_events x JOIN entries e ON e.id = x.entry_id"
                           " WHERE x.kind = ?1 AND x.day_first = ?2 AND x.entry_id <> ?3"
                           " ORDER BY x.entry_id DESC LIMIT ?4",
    [S_EVENT_TRIPLES] = "SELECT DISTINCT m.rule, m.step, m.key FROM entry_events x"
                        " JOIN marks m ON m.entry_id = x.entry_id WHERE x.event = ?"
                        " ORDER BY 1, 2, 3",
    [S_EVENT_MARKS_MOVE] = "UPDATE marks SET event = ?2 WHERE event = ?1 AND entry_id IN"
                           " (SELECT entry_id FROM entry_events WHERE event = ?1)",
    [S_EVENT_MOVE] = "UPDATE entry_events SET event = ?2 WHERE event = ?1",
    [S_EVENT_OF] = "SELECT event FROM entry_events WHERE entry_id = ?",
    [S_EVENT_MEMBERS] = "SELECT x.entry_id FROM entry_events x JOIN entries e ON e.id = x.entry_id"
                        " WHERE x.event = ? ORDER BY e.day_first, e.id",
    [S_SPANS_KEPT] = "SELECT 1 FROM mark_spans WHERE rule = ? AND step = ? AND key = ? LIMIT 1",
    [S_NATS_SEEN] = "SELECT entry_id FROM nats_msgs WHERE stream = ?1 AND seq = ?2",
    [S_NATS_PUT] = "INSERT INTO nats_msgs (stream, seq, entry_id) VALUES (?1, ?2, ?3)",
    [S_NATS_LAST] = "SELECT coalesce(max(seq), 0) FROM nats_msgs WHERE stream = ?1",
    [S_META_GET] = "SELECT value FROM meta WHERE name = ?1",
    [S_META_SET] = "INSERT INTO meta (name, value) VALUES (?1, ?2)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_NATS_RETIRE] = "UPDATE nats_msgs SET stream = ?2 WHERE stream = ?1",
    [S_OUTBOX_ADD] = "INSERT INTO outbox (sink, alert_id, version, rule, payload, due, owner, lease,"
                     " created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    /* The rows of owner ?1 (NULL: the daemon's) due at ?2 and not in flight. */
    [S_OUTBOX_DUE] = "SELECT id, sink, alert_id, version, rule, payload, attempts FROM outbox"
                     " WHERE owner IS ?1 AND taken IS NULL AND due <= ?2 ORDER BY due, id LIMIT ?3",
    [S_OUTBOX_TAKE] = "UPDATE outbox SET taken = ?2, lease = ?3 WHERE id = ?1",
    /* A result counts only for the row's owner still: a one-shot's row the
     * daemon took over (its lease ran out) is the daemon's to finish. */
    [S_OUTBOX_DONE] = "DELETE FROM outbox WHERE id = ?1 AND owner IS ?2",
    [S_OUTBOX_FAILED] = "UPDATE outbox SET attempts = attempts + 1, due = ?2, error = ?3,"
                        " taken = NULL WHERE id = ?1 AND owner IS ?4",
    [S_OUTBOX_LATER] = "UPDATE outbox SET due = ?2, taken = NULL WHERE id = ?1 AND owner IS ?3",
    [S_OUTBOX_RENEW] = "UPDATE outbox SET lease = ?2 WHERE owner = ?1",
    /* -2 for none: scalar() says -1 for an error. */
    [S_OUTBOX_NEXT] = "SELECT coalesce(min(due), -2) FROM outbox WHERE owner IS ?1 AND taken IS NULL",
    [S_OUTBOX_COUNT] = "SELECT count(*) FROM outbox",
    [S_OUTBOX_RESET] = "UPDATE outbox SET taken = NULL WHERE owner IS NULL AND taken IS NOT NULL",
    [S_OUTBOX_ADOPT] = "UPDATE outbox SET owner = NULL, lease = NULL, taken = NULL"
                       " WHERE owner IS NOT NULL AND lease < ?1",
    [S_OUTBOX_RELEASE] = "UPDATE outbox SET owner = NULL, lease = NULL, taken = NULL"
                         " WHERE owner = ?1",
    /* ---- corrections and retractions (db/017_corrections.sql) ---- */
    [S_ENTRY_STATE] = "SELECT version, retracted_at IS NOT NULL FROM entries WHERE id = ?",
    [S_ENTRY_FIELDS_SAME] = "SELECT fields IS ?2 FROM entries WHERE id = ?1",
    /* The text entry ?1 says now, as an update naming its version. */
    [S_CORRECTION_TEXT] = "INSERT INTO entry_updates (entry_id, text, seen_at, version)"
                          " SELECT id, text, ?2, version FROM entries WHERE id = ?1",
    [S_VERSION_KEEP] = "INSERT INTO entry_versions (entry_id, version, date, precision, day_first,"
                       " day_last, text, source, fields, hash, replaced_at, reason, origin)"
                       " SELECT id, version, date, precision, day_first, day_last, text, source,"
                       " fields, hash, ?2, ?3, ?4 FROM entries WHERE id = ?1",
    [S_ENTRY_AMEND] = "UPDATE entries SET date = ?2, precision = ?3, day_first = ?4, day_last = ?5,"
                      " text = ?6, source = ?7, fields = ?8, hash = ?9, version = version + 1"
                      " WHERE id = ?1",
    [S_ENTRY_RETRACT] = "UPDATE entries SET retracted_at = ?2, retract_reason = ?3"
                        " WHERE id = ?1 AND retracted_at IS NULL",
    [S_ENTRY_VERSIONS] = "SELECT version, date, precision, text, source, fields, replaced_at,"
                         " reason, origin FROM entry_versions WHERE entry_id = ? ORDER BY version",
    [S_ABSENCE_DROP] = "DELETE FROM absences WHERE entry_id = ?",
    [S_ABSENCE_FORCE] = "UPDATE absences SET state = ?3 WHERE rule = ?1 AND entry_id = ?2",
    [S_MARK_SPAN_MAX] = "SELECT coalesce(max(day_last - day_first), 0) FROM marks WHERE rule = ?"
                        " AND step = ? AND key = ? AND day_first BETWEEN ? AND ?",
    [S_ABSENCES_FIRED] = "SELECT rule, key, entry_id, deadline FROM absences"
                         " WHERE state = 'fired' AND deadline >= ? ORDER BY deadline, entry_id",
    /* The alerts in force of a rule and key in a range of days, or (?2 NULL)
     * those naming entry ?5. */
    /* ?5 = 0 skips the second half, which reads all of alert_entries. */
    [S_ALERTS_HELD] = "SELECT id FROM alerts WHERE rule = ?1 AND key = ?2 AND day BETWEEN ?3 AND ?4"
                      " AND state = 'active' UNION"
                      " SELECT a.id FROM alert_entries x JOIN alerts a ON a.id = x.alert_id"
                      " WHERE ?5 > 0 AND x.entry_id = ?5 AND a.state = 'active'"
                      " AND (?1 IS NULL OR a.rule = ?1)",
    /* The latest day of the entries in force, but those dated on arrival
     * (they move no watermark: rules.c). */
    [S_WATERMARK] = "SELECT max(day_last) FROM entries WHERE " IN_FORCE_DATED " AND day_first >="
                    " (SELECT day_first FROM entries WHERE " IN_FORCE_DATED
                    " ORDER BY day_first DESC LIMIT 1) - 366",
    [S_STATE_SET] = "INSERT INTO state (name, value) VALUES (?1, ?2)"
                    " ON CONFLICT (name) DO UPDATE SET value = ?2",
    [S_SILENCE_ADD] = "INSERT INTO silences (rule, key, until, author, reason, created_at)"
                      " VALUES (?, ?, ?, ?, ?, ?)",
    /* Only an active silence expires: one expired or lapsed stays as it was. */
    [S_SILENCE_EXPIRE] = "UPDATE silences SET expired_at = ?1 WHERE id = ?2"
                         " AND expired_at IS NULL AND until > ?1",
    /* ?1: now; ?2: 1 for every silence, 0 for the active ones; after id ?3. */
    [S_SILENCES] = "SELECT id, rule, key, until, author, reason, created_at, expired_at"
                   " FROM silences WHERE id > ?3 AND (?2 OR (expired_at IS NULL AND until > ?1))"
                   " ORDER BY id LIMIT ?4",
    [S_SILENCE_ONE] = "SELECT id, rule, key, until, author, reason, created_at, expired_at"
                      " FROM silences WHERE id = ?",
    [S_SILENCES_ACTIVE] = "SELECT id, rule, key FROM silences INDEXED BY silences_active"
                          " WHERE expired_at IS NULL AND until > ? ORDER BY id",
    /* The absences whose window closed in [?1, ?2] with nothing in it, each
     * with the alert in force it raised (the lowest id of its rule that
     * names the first-step entry) and that entry, if it is not retracted. */
    [S_DIGEST_ABSENT] =
        "SELECT a.id, a.rule, a.severity, a.message, ab.deadline, e.id, e.date, e.text"
        " FROM absences ab JOIN entries e ON e.id = ab.entry_id"
        " JOIN alerts a ON a.id = (SELECT min(x.id) FROM alerts x"
        " JOIN alert_entries xe ON xe.alert_id = x.id"
        " WHERE xe.entry_id = ab.entry_id AND x.rule = ab.rule AND x.state = 'active')"
        " WHERE ab.state = 'fired' AND ab.deadline BETWEEN ?1 AND ?2 AND e.retracted_at IS NULL"
        " ORDER BY ab.deadline, e.day_first, a.id",
    /* The amendments and retractions logged from ?1 on (and up to ?2
     * unless NULL), with the alert as it is now and the entry that caused
     * each. */
    [S_DIGEST_CHANGES] =
        "SELECT l.seq, l.at, l.kind, l.version, l.alert_id, a.rule, a.severity, a.message,"
        " a.retract_reason, l.entry_id, e.date, e.text"
        " FROM alert_log l LEFT JOIN alerts a ON a.id = l.alert_id"
        " LEFT JOIN entries e ON e.id = l.entry_id"
        " WHERE l.kind IN ('amend', 'retract') AND l.at >= ?1 AND (?2 IS NULL OR l.at <= ?2)"
        " ORDER BY l.seq",
    [S_DIGEST_BOUNDS] =
        "SELECT (SELECT ran_at FROM digest_runs WHERE name = ?1 AND period_last < ?2"
        " ORDER BY period_last DESC LIMIT 1),"
        " (SELECT ran_at FROM digest_runs WHERE name = ?1 AND period_last = ?2)",    [S_ALERT_HISTORY] = "SELECT seq, version, kind, at, entry_id FROM alert_log"
                        " WHERE alert_id = ?1 ORDER BY seq",
    /* Nearest to day ?5 first, whatever the key. */
    [S_MARKS_NEAR] = "SELECT entry_id, day_first, day_last, event, key FROM marks"
                     " WHERE rule = ?1 AND step = ?2 AND day_first BETWEEN ?3 AND ?4"
                     " ORDER BY abs(day_first - ?5), day_first, entry_id LIMIT ?6",
};

/* The full-text index of entry text lives in a database of its own beside
 * the store's (<path>-text), attached as `ftx` when a search or an indexer
 * first needs it: ingest never writes it, so storing an entry costs no
 * tokenizing, and the indexer (core/indexer.c) brings it up to date on
 * another thread without taking the store's write lock. text_state says up
 * to which entry it is complete, and holds that entry's hash and the
 * database's own number, so that an index left beside another database (or
 * a newer one than this copy) is recognised and rebuilt rather than trusted.
 * The text of each update of an entry (entry_updates) is indexed beside it,
 * under the update's id, once every entry is: update_state says up to which
 * update, and an index that holds updates the database has not is rebuilt. */
enum {
  T_SEARCH,
  T_STATE,
  T_LOCK,
  T_HASH_OF,
  T_LAST,
  T_ADD,
  T_SET,
  T_CLEAR,
  T_UPD_STATE,
  T_UPD_LAST,
  T_UPD_ADD,
  T_UPD_SET,
  T_UPD_CLEAR,
  T_COUNT
};
/* The database's own number, which text_state must hold (db/010). */
#define STORE_ID "(SELECT value FROM main.state WHERE name = 'store_id')"
static const char *const text_sql[T_COUNT] = {
    /* The entries whose first text, or the text of one of whose updates,
     * holds the words; the matches lead (CROSS JOIN), then the filters. */
    [T_SEARCH] = QUERY_COLUMNS UPDATE_COLUMNS " FROM (SELECT rowid AS id FROM ftx.entries_text(?5)"
                 " UNION SELECT x.entry_id FROM ftx.updates_text(?5) f"
                 " JOIN entry_updates x ON x.id = f.rowid) m CROSS JOIN entries e ON e.id = m.id"
                 LATEST_UPDATE " WHERE" QUERY_FILTERS " ORDER BY e.day_first, e.id LIMIT ?6",
    [T_STATE] = "SELECT upto, hash, store IS " STORE_ID " FROM ftx.text_state WHERE id = 1",
    /* Takes the index's write lock first, so that the transaction never has
     * to upgrade a read of it (which fails at once when another wrote). */
    [T_LOCK] = "UPDATE ftx.text_state SET upto = upto WHERE id = 1",
    /* The hashes entry ?1 had: corrected since it was indexed, it is the
     * same entry still. */
    [T_HASH_OF] = "SELECT hash FROM entries WHERE id = ?1"
                  " UNION ALL SELECT hash FROM entry_versions WHERE entry_id = ?1",
    [T_LAST] = "SELECT max(id) FROM (SELECT id FROM entries WHERE id > ?1 ORDER BY id LIMIT ?2)",
    [T_ADD] = "INSERT INTO ftx.entries_text (rowid, text) SELECT id, text FROM entries"
              " WHERE id > ?1 AND id <= ?2",
    [T_SET] = "INSERT OR REPLACE INTO ftx.text_state (id, upto, hash, store)"
              " VALUES (1, ?1, (SELECT hash FROM entries WHERE id = ?1), " STORE_ID ")",
    [T_CLEAR] = "INSERT INTO ftx.entries_text (entries_text) VALUES ('delete-all')",
    /* Where the updates stand, and whether the database holds them all. */
    [T_UPD_STATE] = "SELECT upto, upto <= (SELECT coalesce(max(id), 0) FROM main.entry_updates)"
                    " FROM ftx.update_state WHERE id = 1",
    [T_UPD_LAST] = "SELECT max(id) FROM (SELECT id FROM entry_updates WHERE id > ?1 ORDER BY id"
                   " LIMIT ?2)",
    [T_UPD_ADD] = "INSERT INTO ftx.updates_text (rowid, text) SELECT id, text FROM entry_updates"
                  " WHERE id > ?1 AND id <= ?2",
    [T_UPD_SET] = "UPDATE ftx.update_state SET upto = ?1 WHERE id = 1",
    [T_UPD_CLEAR] = "INSERT INTO ftx.updates_text (updates_text) VALUES ('delete-all')",
};

/* Its schema (%1$s: the schema name and a dot, or nothing); the tokenizer
 * is FTS5's default, unicode61. Searches are matched and then ordered by
 * date, never ranked, so no sizes of documents are kept (columnsize=0: one
 * B-tree fewer to write per entry). */
#define TEXT_SCHEMA                                                                              \
  "PRAGMA %1$sjournal_mode = WAL; PRAGMA %1$ssynchronous = NORMAL;"                              \
  " CREATE VIRTUAL TABLE IF NOT EXISTS %1$sentries_text"                                         \
  " USING fts5(text, content = '', columnsize = 0);"                                             \
  " CREATE TABLE IF NOT EXISTS %1$stext_state (id INTEGER PRIMARY KEY CHECK (id = 1),"          \
  " upto INTEGER NOT NULL, hash BLOB, store INTEGER);"                                          \
  " INSERT OR IGNORE INTO %1$stext_state (id, upto) VALUES (1, 0);"                              \
  " CREATE VIRTUAL TABLE IF NOT EXISTS %1$supdates_text"                                         \
  " USING fts5(text, content = '', columnsize = 0);"                                             \
  " CREATE TABLE IF NOT EXISTS %1$supdate_state (id INTEGER PRIMARY KEY CHECK (id = 1),"        \
  " upto INTEGER NOT NULL);"                                                                    \
  " INSERT OR IGNORE INTO %1$supdate_state (id, upto) VALUES (1, 0);"

struct vg_store {
  sqlite3 *db;                 /* the connection */
  char *path;                  /* of the database, for the text index beside it */
  sqlite3_stmt *text[T_COUNT]; /* the text index's statements, once attached */
  int text_in_memory;          /* the one attached is in memory, not the file */
  int text_file_only;          /* VG_STORE_TEXT_FILE: never one in memory */
  int text_warned;             /* a failure of the text index was said, none since */
  dev_t text_dev;              /* the file attached, to notice it replaced */
  ino_t text_ino;
  unsigned long serial;        /* tells this store from any other opened in the process */
  sqlite3_stmt *stmt[S_COUNT]; /* prepared statements, by the enum above */
  char now[32];                /* ingestion time of the open transaction */
  int64_t alerts_before;       /* alerts above this id were raised in the open transaction */
  int64_t *bumped;             /* the alerts of earlier ones given a new version in it */
  void (*on_commit)(void *);   /* called after each commit; may be NULL */
  void *on_commit_ud;
  size_t nbumped, capbumped;
  uint64_t stored;      /* entries inserted by transactions that committed */
  uint64_t stored_open; /* entries inserted by the open transaction */
  /* The silences active when the open transaction began (db/013), read
   * once, at its first alert: no silence can be written meanwhile, since
   * the transaction holds the write lock. */
  struct silence {
    int64_t id;
    char *rule, *key; /* key NULL: any key */
  } *silences;
  size_t nsilences;
  int silences_read;    /* silences holds the open transaction's */
};

/* Pages the write-ahead log may hold before the writer checkpoints it
 * itself, when another thread does so after each commit (32 MB at 4 KiB). */
#define WAL_BOUND_PAGES 8192

/* A rejected line is kept up to this many bytes; raw_length says the rest. */
#define REJECT_KEEP 65536

const char *vg_store_errmsg(vg_store *st) { return sqlite3_errmsg(st->db); }

static unsigned long next_serial(void) {
  static unsigned long serials;
  return __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
}

static int exec(vg_store *st, const char *text, char *err, size_t cap) {
  char *msg = NULL;
  if (sqlite3_exec(st->db, text, NULL, NULL, &msg) == SQLITE_OK) return 0;
  snprintf(err, cap, "%s", msg ? msg : sqlite3_errmsg(st->db));
  sqlite3_free(msg);
  return VG_EDB;
}

int vg_store_schema_version(vg_store *st) {
  sqlite3_stmt *s;
  int v = -1;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* Applies each embedded migration newer than the database, one transaction
 * each, so a failure leaves the database at the last good version. */
/* The version a migration brings the schema to: the NNN of NNN_name.sql. */
static int migration_version(const vg_embedded *m) { return atoi(m->name); }

/* Applies each embedded migration newer than the database, one transaction
 * each, so a failure leaves the database at the last good version. */
static int migrate_all(vg_store *st, int readonly, char *err, size_t cap);

/* Migrations run with foreign keys off, so that one may rebuild a table
 * that others refer to (dropping the old one must not cascade). */
static int migrate(vg_store *st, int readonly, char *err, size_t cap) {
  sqlite3_exec(st->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
  int rc = migrate_all(st, readonly, err, cap);
  sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
  return rc;
}

static int migrate_all(vg_store *st, int readonly, char *err, size_t cap) {
  int have = vg_store_schema_version(st);
  int know = migration_version(&vg_migrations[vg_migrations_count - 1]);
  if (have < 0) {
    snprintf(err, cap, "cannot read the schema version: %s", sqlite3_errmsg(st->db));
    return VG_EDB;
  }
  if (have > know) {
    snprintf(err, cap,
             "the database has schema version %d, newer than this vigil knows (%d); "
             "use a newer vigil",
             have, know);
    return VG_EVERSION;
  }
  if (have < know && readonly && sqlite3_db_readonly(st->db, "main") == 1) {
    snprintf(err, cap, "the database has schema version %d and needs migrating to %d; "
             "open it once for writing (vigil ingest or vigil run)", have, know);
    return VG_EVERSION;
  }
  for (int i = 0; i < vg_migrations_count; i++) {
    const vg_embedded *m = &vg_migrations[i];
    int version = migration_version(m);
    if (version <= have) continue;
    char pragma[64], why[256];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    if (exec(st, "BEGIN IMMEDIATE", why, sizeof why) || exec(st, m->text, why, sizeof why) ||
        exec(st, pragma, why, sizeof why) || exec(st, "COMMIT", why, sizeof why)) {
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
      snprintf(err, cap, "migration %s failed: %s", m->name, why);
      return VG_EDB;
    }
    vg_info("database migrated to schema version %d (%s)", version, m->name);
  }
  return 0;
}

/* vigil_event(first, last, text): the event an entry reports, as
 * vg_entry_event makes it, for the migration that gives existing marks
 * theirs (db/009_events.sql). */
static void sql_event(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *text = (const char *)sqlite3_value_text(argv[2]);
  size_t n = (size_t)sqlite3_value_bytes(argv[2]);
  sqlite3_result_int64(cx, vg_entry_event(text ? text : "", text ? n : 0,
                                          sqlite3_value_int(argv[0]), sqlite3_value_int(argv[1])));
}

/* Says in out why the database at path cannot be written: the file itself,
 * or its directory, where SQLite must create the -wal and -shm files beside
 * it. `otherwise` is what it says when neither looks like the cause. */
static void why_unwritable(const char *path, const char *otherwise, char *out, size_t cap) {
  if (access(path, W_OK) != 0 && errno != ENOENT) {
    snprintf(out, cap, "the file is not writable: %s", strerror(errno));
    return;
  }
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
  if (access(dir, W_OK | X_OK) != 0) {
    snprintf(out, cap, "its directory %.200s is not writable: %s (the write-ahead log is kept"
             " beside the database)", dir, strerror(errno));
    return;
  }
  snprintf(out, cap, "%s", otherwise);
}

/* Before SQLite's first use: no global lock around its every allocation to
 * keep statistics vigil does not read. */
static void sqlite_setup(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

/* Opens st->db on path and sets the connection up (WAL, durability, foreign
 * keys, the functions migrations use). 0, or -1 with why in err. */
static int connect_db(vg_store *st, const char *path, int flags, char *err, size_t cap) {
  int readonly = flags & VG_STORE_READONLY;
  /* A reader still opens for writing when it may, so that a database left by
   * an older vigil is migrated rather than refused; it writes nothing else. */
  int oflags = readonly ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (readonly && sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sqlite3_close(st->db);
    st->db = NULL;
    oflags = SQLITE_OPEN_READONLY;
  }
  if (!st->db && sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    snprintf(err, cap, "cannot open database %s: %s", path,
             st->db ? sqlite3_errmsg(st->db) : "out of memory");
    return -1;
  }
  sqlite3_busy_timeout(st->db, VG_STORE_BUSY_MS);
  sqlite3_extended_result_codes(st->db, 1);
  char why[512];
  if (!readonly && sqlite3_db_readonly(st->db, "main") == 1) {
    /* SQLite fell back to reading: every write would fail later, one by one. */
    why_unwritable(path, "SQLite opened it read-only", why, sizeof why);
    snprintf(err, cap, "cannot write database %s: %s", path, why);
    return -1;
  }
  const char *setup = flags & VG_STORE_SYNC_NORMAL
                          ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                            " PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;"
                            " PRAGMA journal_size_limit = 67108864;"
                          : "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                            " PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;"
                            " PRAGMA journal_size_limit = 67108864;";
  if (!readonly && exec(st, setup, why, sizeof why)) {
    int code = sqlite3_errcode(st->db) & 0xff;
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN) {
      char sqlite_why[sizeof why];
      snprintf(sqlite_why, sizeof sqlite_why, "%s", why);
      why_unwritable(path, sqlite_why, why, sizeof why);
    }
    snprintf(err, cap, "cannot set up database %s: %s", path, why);
    return -1;
  }
  if (sqlite3_create_function(st->db, "vigil_event", 3, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                              sql_event, NULL, NULL) != SQLITE_OK) {
    snprintf(err, cap, "cannot set up database %s: %s", path, sqlite3_errmsg(st->db));
    return -1;
  }
  return 0;
}

vg_store *vg_store_open(const char *path, int flags, char *err, size_t cap) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, sqlite_setup);
  vg_store *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  st->serial = next_serial();
  if (!(st->path = strdup(path))) {
    snprintf(err, cap, "out of memory");
    free(st);
    return NULL;
  }
  int readonly = flags & VG_STORE_READONLY;
  st->text_file_only = (flags & VG_STORE_TEXT_FILE) != 0;
  if (connect_db(st, path, flags, err, cap)) goto fail;
  int had = vg_store_schema_version(st);
  if (migrate(st, readonly, err, cap)) goto fail;
  if (had != vg_store_schema_version(st) && strcmp(path, ":memory:") != 0) {
    /* Migrated: a connection of its own for the work, which does not carry
     * what rebuilding tables left in this one's schema (SQLite then compiles
     * the triggers of a rebuilt table again at every statement). A database
     * in memory is its connection: it stays. */
    sqlite3_close(st->db);
    st->db = NULL;
    if (connect_db(st, path, flags, err, cap)) goto fail;
  }
  for (int i = 0; i < S_COUNT; i++) {
    if (sqlite3_prepare_v3(st->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) !=
        SQLITE_OK) {
      snprintf(err, cap, "cannot prepare statement %d: %s", i, sqlite3_errmsg(st->db));
      goto fail;
    }
  }
  return st;
fail:
  vg_store_close(st);
  return NULL;
}

void vg_store_busy_timeout(vg_store *st, unsigned ms) {
  sqlite3_busy_timeout(st->db, ms > INT_MAX ? INT_MAX : (int)ms);
}

static void silences_drop(vg_store *st) {
  for (size_t i = 0; i < st->nsilences; i++) {
    free(st->silences[i].rule);
    free(st->silences[i].key);
  }
  free(st->silences);
  st->silences = NULL;
  st->nsilences = 0;
  st->silences_read = 0;
}

void vg_store_close(vg_store *st) {
  if (!st) return;
  for (int i = 0; i < S_COUNT; i++) sqlite3_finalize(st->stmt[i]);
  for (int i = 0; i < T_COUNT; i++) sqlite3_finalize(st->text[i]);
  if (st->db && sqlite3_close(st->db) != SQLITE_OK)
    vg_error("closing the database: %s", sqlite3_errmsg(st->db));
  silences_drop(st);
  free(st->bumped);
  free(st->path);
  free(st);
}

/* Runs a statement that returns no rows. */
static int run(vg_store *st, int which) {
  sqlite3_stmt *s = st->stmt[which];
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc == SQLITE_DONE) return 0;
  vg_error("database: %s: %s", sql[which], sqlite3_errmsg(st->db));
  return VG_EDB;
}

static long long scalar(vg_store *st, int which);

int vg_store_begin(vg_store *st) {
  vg_utc_iso((time_t)-1, st->now);
  if (run(st, S_BEGIN)) return VG_EDB;
  long long last = scalar(st, S_ALERT_LAST);
  if (last < 0) {
    run(st, S_ROLLBACK);
    return VG_EDB;
  }
  st->alerts_before = last;
  silences_drop(st); /* read again, if an alert comes, as of this transaction */
  st->nbumped = 0;
  st->stored_open = 0;
  return 0;
}

int vg_store_commit(vg_store *st) {
  if (run(st, S_COMMIT)) return VG_EDB;
  st->stored += st->stored_open;
  st->stored_open = 0;
  if (st->on_commit) st->on_commit(st->on_commit_ud);
  return 0;
}

void vg_store_on_commit(vg_store *st, void (*fn)(void *ud), void *ud) {
  st->on_commit = fn;
  st->on_commit_ud = ud;
  /* SQLite's own checkpoint, after a commit on this thread, then only
   * bounds the log: it copies what the other thread has not, and lets the
   * next transaction write the log from its start again. */
  sqlite3_wal_autocheckpoint(st->db, fn ? WAL_BOUND_PAGES : 1000);
}

int vg_store_checkpoint(vg_store *st) {
  int rc = sqlite3_wal_checkpoint_v2(st->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY) return 0;
  vg_error("database: checkpoint: %s", sqlite3_errmsg(st->db));
  return VG_EDB;
}

void vg_store_rollback(vg_store *st) {
  if (!sqlite3_get_autocommit(st->db)) run(st, S_ROLLBACK);
  /* What callers cached about this store may have been rolled back with
   * it: a new serial tells them to read it again. */
  st->serial = next_serial();
}

int vg_store_insert(vg_store *st, const vg_entry *e, int64_t *id) {
  sqlite3_stmt *s = st->stmt[S_INSERT];
  sqlite3_bind_text(s, 1, e->date_text, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, vg_precision_name(e->date.precision), -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, e->date.first);
  sqlite3_bind_int(s, 4, e->date.last);
  sqlite3_bind_text(s, 5, e->text, (int)e->text_len, SQLITE_STATIC);
  sqlite3_bind_text(s, 6, e->source, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, st->now, -1, SQLITE_STATIC);
  if (e->fields) sqlite3_bind_text(s, 8, e->fields, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 8);
  sqlite3_bind_blob(s, 9, e->hash, sizeof e->hash, SQLITE_STATIC);
  if (run(st, S_INSERT)) return VG_EDB;
  if (sqlite3_changes(st->db) == 1) {
    *id = sqlite3_last_insert_rowid(st->db);
    st->stored_open++;
    return VG_STORED;
  }
  sqlite3_stmt *f = st->stmt[S_FIND];
  sqlite3_bind_int(f, 1, e->date.first);
  sqlite3_bind_blob(f, 2, e->hash, sizeof e->hash, SQLITE_STATIC);
  int rc = sqlite3_step(f);
  if (rc == SQLITE_ROW) *id = sqlite3_column_int64(f, 0);
  sqlite3_reset(f);
  if (rc != SQLITE_ROW) {
    vg_error("database: duplicate entry not found again: %s", sqlite3_errmsg(st->db));
    return VG_EDB;
  }
  return VG_DUPLICATE;
}

int vg_store_reject(vg_store *st, const char *source, const char *origin, uint64_t line_no,
                    const char *reason, const char *raw, size_t len, uint64_t total) {
  sqlite3_stmt *s = st->stmt[S_REJECT];
  sqlite3_bind_text(s, 1, source, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)line_no);
  sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
  sqlite3_bind_blob(s, 4, raw, (int)(len > REJECT_KEEP ? REJECT_KEEP : len), SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, (sqlite3_int64)total);
  sqlite3_bind_text(s, 6, st->now, -1, SQLITE_STATIC);
  if (origin) sqlite3_bind_text(s, 7, origin, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 7);
  return run(st, S_REJECT);
}

/* Turns the user's words into an FTS5 query in which each word is a quoted
 * string, so "Hwasong-18" or a stray quote cannot be read as FTS syntax. */
static char *fts_words(const char *text) {
  size_t n = strlen(text);
  char *q = malloc(n * 2 + 8), *o = q;
  if (!q) return NULL;
  const char *p = text;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    if (!*p) break;
    if (o != q) *o++ = ' ';
    *o++ = '"';
    for (; *p && *p != ' ' && *p != '\t'; p++) {
      if (*p == '"') *o++ = '"';
      *o++ = *p;
    }
    *o++ = '"';
  }
  *o = '\0';
  return q;
}

/* Whether SQLite's last code says a file is not a sound database. */
static int damaged(int code) {
  code &= 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/* Attaches the text index at `file` and prepares its statements: 0, or
 * VG_EDB with the reason in err and SQLite's code in *code (the attachment
 * undone). */
static int text_open(vg_store *st, const char *file, char *err, size_t cap, int *code) {
  int in_memory = strcmp(file, ":memory:") == 0;
  *code = SQLITE_OK;
  if (!in_memory) {
    /* Made on a connection of its own: ATTACH opens a file with the flags
     * of the store's connection, which may not create one. */
    sqlite3 *db = NULL;
    char *msg = NULL;
    char schema[sizeof TEXT_SCHEMA];
    snprintf(schema, sizeof schema, TEXT_SCHEMA, "");
    int rc = sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_busy_timeout(db, VG_STORE_BUSY_MS);
      rc = sqlite3_exec(db, schema, NULL, NULL, &msg);
    }
    if (rc != SQLITE_OK) {
      snprintf(err, cap, "%s", msg ? msg : db ? sqlite3_errmsg(db) : "out of memory");
      *code = rc;
    }
    sqlite3_free(msg);
    sqlite3_close(db);
    if (rc != SQLITE_OK) return VG_EDB;
  }
  char *attach = sqlite3_mprintf("ATTACH %Q AS ftx", file);
  if (!attach) {
    snprintf(err, cap, "out of memory");
    return VG_ENOMEM;
  }
  int rc = exec(st, attach, err, cap);
  sqlite3_free(attach);
  if (rc) {
    *code = sqlite3_errcode(st->db);
    return rc;
  }
  if (in_memory) {
    char schema[sizeof TEXT_SCHEMA + 32];
    snprintf(schema, sizeof schema, TEXT_SCHEMA, "ftx.");
    if (exec(st, schema, err, cap)) goto fail;
  }
  for (int i = 0; i < T_COUNT; i++)
    if (sqlite3_prepare_v3(st->db, text_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->text[i],
                           NULL) != SQLITE_OK) {
      snprintf(err, cap, "%s", sqlite3_errmsg(st->db));
      goto fail;
    }
  st->text_in_memory = in_memory;
  return 0;
fail:
  *code = sqlite3_errcode(st->db);
  for (int i = 0; i < T_COUNT; i++) {
    sqlite3_finalize(st->text[i]);
    st->text[i] = NULL;
  }
  sqlite3_exec(st->db, "DETACH ftx", NULL, NULL, NULL);
  return VG_EDB;
}

/* Lets go of the text index; the next use attaches it again. */
static void text_detach(vg_store *st) {
  if (!st->text[0]) return;
  for (int i = 0; i < T_COUNT; i++) {
    sqlite3_finalize(st->text[i]);
    st->text[i] = NULL;
  }
  sqlite3_exec(st->db, "DETACH ftx", NULL, NULL, NULL);
}

/* The text index's file, for messages and for removing it (sqlite3_free). */
static char *text_file(const vg_store *st) { return sqlite3_mprintf("%s-text", st->path); }

/* Removes a damaged text index, its log and shared memory, for a new one. */
static void text_remove(const vg_store *st, const char *why) {
  char *file = text_file(st);
  if (!file) return;
  vg_warn("text index %s is damaged (%s); building it again", file, why);
  static const char *const tails[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < 3; i++) {
    char *f = sqlite3_mprintf("%s%s", file, tails[i]);
    if (f && unlink(f) != 0 && errno != ENOENT)
      vg_error("text index: cannot remove %s: %s", f, strerror(errno));
    sqlite3_free(f);
  }
  sqlite3_free(file);
}

/* Whether the file attached is no longer the one at its path (removed or
 * replaced while this connection held it). */
static int text_moved(const vg_store *st) {
  if (st->text_in_memory) return 0;
  char *file = text_file(st);
  struct stat sb;
  int moved = file && (stat(file, &sb) != 0 || sb.st_ino != st->text_ino ||
                       sb.st_dev != st->text_dev);
  sqlite3_free(file);
  return moved;
}

/* Attaches the text index: the file beside the database (made again when
 * it is damaged), or, when that cannot be, an index in memory that this
 * connection fills from the first entry (unless VG_STORE_TEXT_FILE). */
static int text_attach(vg_store *st) {
  if (st->text[0] && text_moved(st)) text_detach(st);
  if (st->text[0]) return 0;
  if (!sqlite3_get_autocommit(st->db)) {
    vg_error("database: the text index cannot be opened inside a transaction");
    return VG_EDB;
  }
  char err[512];
  int code, in_memory = !st->path[0] || strcmp(st->path, ":memory:") == 0;
  if (!in_memory) {
    char *file = text_file(st);
    if (!file) return VG_ENOMEM;
    int rc = text_open(st, file, err, sizeof err, &code);
    if (rc && damaged(code)) {
      text_remove(st, err);
      rc = text_open(st, file, err, sizeof err, &code);
    }
    struct stat sb;
    if (rc == 0 && stat(file, &sb) == 0) {
      st->text_ino = sb.st_ino;
      st->text_dev = sb.st_dev;
    }
    if (rc && st->text_file_only && !st->text_warned) vg_warn("text index %s: %s", file, err);
    else if (rc && !st->text_file_only)
      vg_warn("text index %s: %s; searching with an index in memory instead", file, err);
    st->text_warned |= rc != 0;
    sqlite3_free(file);
    if (rc == 0) return 0;
    if (st->text_file_only) return VG_EDB;
  }
  if (text_open(st, ":memory:", err, sizeof err, &code)) {
    vg_error("text index in memory: %s", err);
    return VG_EDB;
  }
  return 0;
}

/* One step of a catch-up: the result code of statement t, stepped once. */
static int text_step(vg_store *st, int t) {
  sqlite3_stmt *s = st->text[t];
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
  vg_debug("text index: %s: %s", text_sql[t], sqlite3_errmsg(st->db));
  sqlite3_reset(s);
  return rc;
}

/* Inside index_text's transaction: indexes up to `budget` (-1: all) of the
 * updates the index does not hold yet, after emptying what it holds of
 * them when `clear` (its entries are indexed again from the first) or when
 * it holds updates the database has not. How many it added, or -1. */
static long long index_updates(vg_store *st, long long budget, int clear) {
  sqlite3_stmt *s = st->text[T_UPD_STATE];
  if (text_step(st, T_UPD_STATE) != SQLITE_ROW) return -1;
  int64_t stored = sqlite3_column_int64(s, 0), upto = stored;
  int held = sqlite3_column_int(s, 1);
  sqlite3_reset(s);
  if (upto > 0 && (clear || !held)) {
    if (!held && !clear)
      vg_warn("text index of %s: holds updates the database has not; indexing them again",
              st->path);
    if (text_step(st, T_UPD_CLEAR) != SQLITE_DONE) return -1;
    sqlite3_reset(st->text[T_UPD_CLEAR]);
    upto = 0;
  }
  s = st->text[T_UPD_LAST];
  sqlite3_bind_int64(s, 1, upto);
  sqlite3_bind_int64(s, 2, budget);
  if (text_step(st, T_UPD_LAST) != SQLITE_ROW) return -1;
  int64_t last = sqlite3_column_type(s, 0) == SQLITE_NULL ? upto : sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (last > upto) {
    s = st->text[T_UPD_ADD];
    sqlite3_bind_int64(s, 1, upto);
    sqlite3_bind_int64(s, 2, last);
    if (text_step(st, T_UPD_ADD) != SQLITE_DONE) return -1;
    sqlite3_reset(s);
  }
  if (last != stored) {
    sqlite3_bind_int64(st->text[T_UPD_SET], 1, last);
    if (text_step(st, T_UPD_SET) != SQLITE_DONE) return -1;
    sqlite3_reset(st->text[T_UPD_SET]);
  }
  return last - upto;
}

/* One transaction of vg_store_index_text; on failure, *code is SQLite's. */
static int index_text(vg_store *st, long max, long long *indexed, int *code) {
  *indexed = 0;
  *code = SQLITE_OK;
  int rc = text_attach(st);
  if (rc) return rc;
  char why[256];
  if (exec(st, "BEGIN", why, sizeof why)) {
    vg_error("database: text index: %s", why);
    return VG_EDB;
  }
  sqlite3_stmt *s;
  int64_t upto = 0, last = 0;
  /* Where the index stands, and whether it belongs to these entries. */
  if (text_step(st, T_LOCK) != SQLITE_DONE) goto fail;
  sqlite3_reset(st->text[T_LOCK]);
  if (text_step(st, T_STATE) != SQLITE_ROW) goto fail;
  s = st->text[T_STATE];
  upto = sqlite3_column_int64(s, 0);
  const void *h = sqlite3_column_blob(s, 1);
  int hn = sqlite3_column_bytes(s, 1), same = 0;
  /* This database's index, up to an entry this database holds as it was. */
  if (upto > 0 && sqlite3_column_int(s, 2)) {
    sqlite3_bind_int64(st->text[T_HASH_OF], 1, upto);
    while (!same && text_step(st, T_HASH_OF) == SQLITE_ROW) {
      const void *g = sqlite3_column_blob(st->text[T_HASH_OF], 0);
      same = h && g && hn == sqlite3_column_bytes(st->text[T_HASH_OF], 0) &&
             memcmp(h, g, (size_t)hn) == 0;
    }
    sqlite3_reset(st->text[T_HASH_OF]);
  }
  sqlite3_reset(s);
  int cleared = upto > 0 && !same;
  if (cleared) {
    vg_warn("text index of %s: made for other entries; indexing again from the first",
            st->path);
    if (text_step(st, T_CLEAR) != SQLITE_DONE) goto fail;
    sqlite3_reset(st->text[T_CLEAR]);
    upto = 0;
  }
  s = st->text[T_LAST];
  sqlite3_bind_int64(s, 1, upto);
  sqlite3_bind_int64(s, 2, max > 0 ? max : -1);
  if (text_step(st, T_LAST) != SQLITE_ROW) goto fail;
  last = sqlite3_column_type(s, 0) == SQLITE_NULL ? upto : sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (last > upto) {
    s = st->text[T_ADD];
    sqlite3_bind_int64(s, 1, upto);
    sqlite3_bind_int64(s, 2, last);
    if (text_step(st, T_ADD) != SQLITE_DONE) goto fail;
    sqlite3_reset(s);
    sqlite3_bind_int64(st->text[T_SET], 1, last);
    if (text_step(st, T_SET) != SQLITE_DONE) goto fail;
    sqlite3_reset(st->text[T_SET]);
  }
  /* The updates with what is left of max, once every entry is indexed. */
  long long added = last - upto;
  long long more = index_updates(st, max <= 0 ? -1 : added < max ? max - added : 0, cleared);
  if (more < 0) goto fail;
  if (exec(st, "COMMIT", why, sizeof why)) {
    vg_error("database: text index: %s", why);
    goto fail;
  }
  *indexed = added + more;
  return 0;
fail:
  *code = sqlite3_errcode(st->db);
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return VG_EDB;
}

int vg_store_index_text(vg_store *st, long max, long long *indexed) {
  int code, rc = index_text(st, max, indexed, &code);
  if (rc == 0 || code == SQLITE_OK || (code & 0xff) == SQLITE_BUSY) return rc;
  /* Anything else may be the file's fault (damaged, removed, unwritable):
   * it is opened again, built anew when damaged, and tried once more. */
  int was_file = !st->text_in_memory;
  text_detach(st);
  if (was_file && damaged(code)) text_remove(st, sqlite3_errstr(code));
  if ((rc = index_text(st, max, indexed, &code)) == 0) {
    st->text_warned = 0;
  } else if (!st->text_warned) { /* once a spell of failures */
    char *file = text_file(st);
    vg_warn("text index %s: %s", file ? file : "", sqlite3_errstr(code));
    sqlite3_free(file);
    st->text_warned = 1;
  }
  return rc;
}

/* Brings the text index up to date for a search, one chunk a transaction,
 * so that another search or the indexer waiting for its lock waits for one
 * chunk at most. */
static int text_catch_up(vg_store *st) {
  long long n;
  int rc;
  while ((rc = vg_store_index_text(st, VG_TEXT_CHUNK, &n)) == 0 && n == VG_TEXT_CHUNK) {
  }
  return rc;
}

static const char *col(sqlite3_stmt *s, int i) { return (const char *)sqlite3_column_text(s, i); }

/* The entry of the row s stands on, from QUERY_COLUMNS (and UPDATE_COLUMNS
 * when s has them); its strings live until s steps again. */
static vg_row row_of(sqlite3_stmt *s) {
  vg_row r = {.id = sqlite3_column_int64(s, 0),
              .date = col(s, 1),
              .precision = col(s, 2),
              .text = col(s, 3),
              .source = col(s, 4),
              .ingested_at = col(s, 5),
              .fields = col(s, 6),
              .tags = col(s, 7),
              .day_first = sqlite3_column_int(s, 8),
              .day_last = sqlite3_column_int(s, 9),
              .text_len = (size_t)sqlite3_column_bytes(s, 3)};
  if (sqlite3_column_count(s) > 11) {
    r.update_text = col(s, 10);
    r.updated_at = col(s, 11);
    r.version = sqlite3_column_int(s, 12);
    r.retracted_at = col(s, 13);
    r.retract_reason = col(s, 14);
  }
  return r;
}

int vg_store_query(vg_store *st, const vg_query *q, vg_row_fn fn, void *ud) {
  char *words = NULL;
  if (q->text) {
    if (!(words = fts_words(q->text))) return VG_ENOMEM;
    if (!words[0]) { /* no words: no full-text condition */
      free(words);
      words = NULL;
    }
  }
  if (words) {
    int rc = text_catch_up(st);
    if (rc) {
      free(words);
      return rc;
    }
  }
  sqlite3_stmt *s = words ? st->text[T_SEARCH] : st->stmt[S_QUERY];
  if (q->has_since) sqlite3_bind_int(s, 1, q->since);
  if (q->has_until) sqlite3_bind_int(s, 2, q->until);
  if (q->source) sqlite3_bind_text(s, 3, q->source, -1, SQLITE_STATIC);
  if (q->tag) sqlite3_bind_text(s, 4, q->tag, -1, SQLITE_STATIC);
  if (words) sqlite3_bind_text(s, 5, words, -1, SQLITE_STATIC);
  if (q->has_after) {
    sqlite3_bind_int(s, 7, q->after_day);
    sqlite3_bind_int64(s, 8, q->after_id);
  }
  sqlite3_bind_int64(s, 6, q->limit > 0 ? q->limit : -1);
  if (q->retracted) sqlite3_bind_int(s, 9, 1);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_row r = row_of(s);
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  free(words);
  return out;
}

int vg_store_tag(vg_store *st, int64_t entry, const char *tag, const char *rule) {
  sqlite3_stmt *s = st->stmt[S_TAG];
  sqlite3_bind_int64(s, 1, entry);
  sqlite3_bind_text(s, 2, tag, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, rule, -1, SQLITE_STATIC);
  return run(st, S_TAG);
}

int vg_store_clear_tags(vg_store *st, int64_t entry) {
  sqlite3_bind_int64(st->stmt[S_CLEAR_TAGS], 1, entry);
  return run(st, S_CLEAR_TAGS);
}

int vg_store_entry_tags(vg_store *st, int64_t entry, vg_tag_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ENTRY_TAGS];
  sqlite3_bind_int64(s, 1, entry);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, col(s, 0), col(s, 1)))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_entry_updates(vg_store *st, int64_t entry, vg_update_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ENTRY_UPDATES];
  sqlite3_bind_int64(s, 1, entry);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_update_row u = {sqlite3_column_int64(s, 0), col(s, 1), col(s, 2), col(s, 3)};
    if ((out = fn(ud, &u))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_entry_marks(vg_store *st, int64_t entry, vg_entry_mark_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ENTRY_MARKS];
  sqlite3_bind_int64(s, 1, entry);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, col(s, 0), sqlite3_column_int(s, 1), col(s, 2)))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

/* One more version of alert id, changed: VG_AMENDED or VG_EDB. An alert
 * raised in the open transaction is still version 1: no sink has seen it. */
static int bump(vg_store *st, int64_t id) {
  if (id > st->alerts_before) return VG_AMENDED;
  /* One new version a transaction, however often it changes in it: the
   * sinks see what each commit left. */
  for (size_t i = 0; i < st->nbumped; i++)
    if (st->bumped[i] == id) {
      sqlite3_bind_int64(st->stmt[S_ALERT_LOG_FIX], 1, id);
      return run(st, S_ALERT_LOG_FIX) ? VG_EDB : VG_AMENDED;
    }
  if (st->nbumped == st->capbumped) {
    size_t cap = st->capbumped ? st->capbumped * 2 : 16;
    int64_t *v = realloc(st->bumped, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    st->bumped = v;
    st->capbumped = cap;
  }
  st->bumped[st->nbumped++] = id;
  sqlite3_bind_int64(st->stmt[S_ALERT_BUMP], 1, id);
  return run(st, S_ALERT_BUMP) ? VG_EDB : VG_AMENDED;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v) {
  if (v) sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, i);
}

/* A new version of alert id, as a wrote it: stamped with what it rests on,
 * in force, its version one more. VG_AMENDED, VG_EDB or VG_ENOMEM. */
static int stamp(vg_store *st, int64_t id, const vg_alert_in *a) {
  sqlite3_stmt *s = st->stmt[S_ALERT_STAMP];
  bind_text_or_null(s, 1, a->rule_file);
  bind_text_or_null(s, 2, a->rule_hash);
  if (a->cause > 0) sqlite3_bind_int64(s, 3, a->cause);
  else sqlite3_bind_null(s, 3);
  sqlite3_bind_int64(s, 4, id);
  return run(st, S_ALERT_STAMP) ? VG_EDB : bump(st, id);
}

int vg_store_alert(vg_store *st, const vg_alert_in *a, int64_t *id) {
  int64_t silence = 0;
  if (vg_store_silence_match(st, a->rule, a->key, &silence) < 0) return VG_EDB;
  sqlite3_stmt *s = st->stmt[S_ALERT];
  sqlite3_bind_text(s, 1, a->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, a->key ? a->key : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, a->dedup, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, a->date, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 5, a->day);
  sqlite3_bind_text(s, 6, a->severity, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, a->message, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 8, st->now, -1, SQLITE_STATIC);
  if (a->count >= 0) sqlite3_bind_int64(s, 9, a->count);
  else sqlite3_bind_null(s, 9);
  if (silence) sqlite3_bind_int64(s, 10, silence);
  else sqlite3_bind_null(s, 10);
  bind_text_or_null(s, 11, a->rule_file);
  bind_text_or_null(s, 12, a->rule_hash);
  if (a->cause > 0) sqlite3_bind_int64(s, 13, a->cause);
  else sqlite3_bind_null(s, 13);
  if (run(st, S_ALERT)) return VG_EDB;
  int status = VG_STORED, retracted = 0;
  if (sqlite3_changes(st->db) == 1) {
    *id = sqlite3_last_insert_rowid(st->db);
  } else {
    sqlite3_stmt *f = st->stmt[S_ALERT_FIND];
    sqlite3_bind_text(f, 1, a->dedup, -1, SQLITE_STATIC);
    int rc = sqlite3_step(f);
    if (rc == SQLITE_ROW) {
      *id = sqlite3_column_int64(f, 0);
      retracted = sqlite3_column_int(f, 1);
    }
    sqlite3_reset(f);
    if (rc != SQLITE_ROW) return VG_EDB;
    status = VG_DUPLICATE;
  }
  sqlite3_stmt *e = st->stmt[S_ALERT_ENTRY];
  int added = 0;
  for (size_t i = 0; i < a->nentries; i++) {
    sqlite3_bind_int64(e, 1, *id);
    sqlite3_bind_int64(e, 2, a->entries[i]);
    if (run(st, S_ALERT_ENTRY)) return VG_EDB;
    added += sqlite3_changes(st->db);
  }
  if (retracted) {
    sqlite3_stmt *r = st->stmt[S_ALERT_REVIVE];
    sqlite3_bind_text(r, 1, a->date, -1, SQLITE_STATIC);
    sqlite3_bind_int(r, 2, a->day);
    sqlite3_bind_text(r, 3, a->severity, -1, SQLITE_STATIC);
    sqlite3_bind_text(r, 4, a->message, -1, SQLITE_STATIC);
    if (a->count >= 0) sqlite3_bind_int64(r, 5, a->count);
    else sqlite3_bind_null(r, 5);
    sqlite3_bind_int64(r, 6, *id);
    if (run(st, S_ALERT_REVIVE)) return VG_EDB;
  }
  if (status == VG_DUPLICATE && (added || retracted)) return stamp(st, *id, a);
  return status;
}

int vg_store_alert_retract(vg_store *st, int64_t id, const char *reason, int64_t cause) {
  sqlite3_stmt *s = st->stmt[S_ALERT_RETRACT];
  sqlite3_bind_text(s, 1, reason, -1, SQLITE_STATIC);
  if (cause > 0) sqlite3_bind_int64(s, 2, cause);
  else sqlite3_bind_null(s, 2);
  sqlite3_bind_int64(s, 3, id);
  if (run(st, S_ALERT_RETRACT)) return VG_EDB;
  return sqlite3_changes(st->db) ? bump(st, id) : 0;
}

/* Reads the columns of ALERT_COLUMNS into *r: 0-9 in order, then day and
 * silence_id at `day` and `day` + 1 (or at `silence` when the log's seq and
 * kind lie between), then from `more` on: state, retract_reason, rule_file,
 * rule_hash, cause. */
static void alert_row(sqlite3_stmt *s, int day, int silence, int more, vg_alert_row *r) {
  *r = (vg_alert_row){sqlite3_column_int64(s, 0), col(s, 1), col(s, 2), col(s, 3), col(s, 4),
                      col(s, 5), col(s, 6), col(s, 7),
                      sqlite3_column_type(s, 8) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 8),
                      sqlite3_column_int(s, 9), sqlite3_column_int64(s, silence),
                      sqlite3_column_int(s, day), 0, NULL, NULL, NULL, 0};
  const char *state = col(s, more);
  r->retracted = state && strcmp(state, "retracted") == 0;
  r->retract_reason = col(s, more + 1);
  r->rule_file = col(s, more + 2);
  r->rule_hash = col(s, more + 3);
  r->cause = sqlite3_column_int64(s, more + 4);
}

int vg_store_alerts(vg_store *st, const vg_alert_query *q, vg_alert_row_fn fn, void *ud) {
  char sev[64]; /* the severities as ",warn,crit,": each found between commas */
  if (q->severity && snprintf(sev, sizeof sev, ",%s,", q->severity) >= (int)sizeof sev)
    return VG_EINVAL;
  /* One alert by its id: a look-up of the rowid, not a scan by day. */
  sqlite3_stmt *s = st->stmt[q->entry > 0  ? S_ENTRY_ALERTS
                             : q->id > 0     ? S_ALERT_ONE
                             : q->newest_first ? S_ALERTS_NEWEST
                                               : S_ALERTS];
  if (q->has_since) sqlite3_bind_int(s, 1, q->since);
  if (q->has_until) sqlite3_bind_int(s, 2, q->until);
  if (q->rule) sqlite3_bind_text(s, 3, q->rule, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, q->limit > 0 ? q->limit : -1);
  if (q->id > 0) sqlite3_bind_int64(s, 5, q->id);
  if (q->entry > 0) sqlite3_bind_int64(s, 6, q->entry);
  if (q->entry <= 0 && q->id <= 0) {
    if (q->severity) sqlite3_bind_text(s, 7, sev, -1, SQLITE_STATIC);
    if (q->state) sqlite3_bind_int(s, 8, q->state == VG_ALERT_SILENCED);
    if (q->retracted != VG_ALERT_ANY) sqlite3_bind_int(s, 11, q->retracted == VG_ALERT_RETRACTED);
    if (q->has_after) {
      sqlite3_bind_int(s, 9, q->after_day);
      sqlite3_bind_int64(s, 10, q->after_id);
    } else { /* before the first alert, or after the last, in the order asked */
      sqlite3_bind_int(s, 9, q->newest_first ? INT32_MAX : INT32_MIN);
      sqlite3_bind_int64(s, 10, q->newest_first ? INT64_MAX : INT64_MIN);
    }
  }
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_alert_row r;
    alert_row(s, 10, 11, 12, &r);
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return out;
}

int vg_store_alert_log(vg_store *st, int64_t after, long limit, vg_alert_log_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ALERT_LOG];
  sqlite3_bind_int64(s, 1, after);
  sqlite3_bind_int64(s, 2, limit > 0 ? limit : -1);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_alert_row r;
    alert_row(s, 13, 12, 14, &r);
    int stored = sqlite3_column_type(s, 0) != SQLITE_NULL;
    const char *kind = col(s, 11);
    if ((out = fn(ud, sqlite3_column_int64(s, 10), kind ? kind : "", stored ? &r : NULL))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return out;
}

int64_t vg_store_alert_log_last(vg_store *st) {
  long long v = scalar(st, S_ALERT_LOG_LAST);
  return v < 0 ? VG_EDB : v;
}

/* ---- correlation state ---- */

/* Binds rule, step and key to the first three parameters of statement which. */
static sqlite3_stmt *bind_marks(vg_store *st, int which, const char *rule, int step,
                                const char *key) {
  sqlite3_stmt *s = st->stmt[which];
  sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, step);
  sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
  return s;
}

/* The span of the first report of event under (rule, step, key), by day
 * then entry: 1 with it in *f (its entry too), 0 when the event has no
 * mark there, or VG_EDB. That span is the one that counts the event. Its
 * reports are those of its grouped members and those marked on `day` (a
 * day of one of its marks, for an event reported word for word). */
typedef struct {
  int32_t first, last;
  int64_t entry;
} first_span;

static int event_first(vg_store *st, const char *rule, int step, const char *key, int32_t day,
                       int64_t event, first_span *f) {
  sqlite3_stmt *s = bind_marks(st, S_EVENT_FIRST, rule, step, key);
  sqlite3_bind_int(s, 4, day);
  sqlite3_bind_int64(s, 5, event);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found)
    *f = (first_span){sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
                      sqlite3_column_int64(s, 2)};
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

/* Adds `events` (1 or 0) to the tally of the span (first, last) of (rule,
 * step, key), with entry among its marks now; or, with `drop`, takes them
 * away as entry's mark goes, removing a span left without marks. */
static int tally(vg_store *st, const char *rule, int step, const char *key, int32_t first,
                 int32_t last, int events, int64_t entry, int drop) {
  int which = drop ? S_SPAN_DROP : S_SPAN_ADD;
  sqlite3_stmt *s = bind_marks(st, which, rule, step, key);
  sqlite3_bind_int(s, 4, last);
  sqlite3_bind_int(s, 5, first);
  sqlite3_bind_int(s, 6, events);
  sqlite3_bind_int64(s, 7, entry);
  if (run(st, which)) return VG_EDB;
  if (!drop) return 0;
  s = bind_marks(st, S_SPAN_GONE, rule, step, key);
  sqlite3_bind_int(s, 4, last);
  sqlite3_bind_int(s, 5, first);
  return run(st, S_SPAN_GONE);
}

/* Inserts the mark: 1 when added, 0 when there already, or VG_EDB. */
static int insert_mark(vg_store *st, const char *rule, int step, const char *key,
                       const vg_mark *m) {
  sqlite3_stmt *s = bind_marks(st, S_MARK, rule, step, key);
  sqlite3_bind_int(s, 4, m->first);
  sqlite3_bind_int(s, 5, m->last);
  sqlite3_bind_int64(s, 6, m->entry);
  sqlite3_bind_int64(s, 7, m->event);
  if (run(st, S_MARK)) return VG_EDB;
  return sqlite3_changes(st->db) == 1;
}

/* Moves the count of event from span `was` (its first report's before a
 * change; had: whether it had one) to the span of its first report now
 * (day: as event_first takes it). */
static int recount(vg_store *st, const char *rule, int step, const char *key, int32_t day,
                   int64_t event, int had, const first_span *was) {
  first_span now;
  int has = event_first(st, rule, step, key, day, event, &now);
  if (has < 0) return has;
  if (had && has && now.first == was->first && now.last == was->last) return 0;
  if (had && tally(st, rule, step, key, was->first, was->last, 1, 0, 1)) return VG_EDB;
  if (has && tally(st, rule, step, key, now.first, now.last, 1, now.entry, 0)) return VG_EDB;
  return 0;
}

int vg_store_mark(vg_store *st, const char *rule, int step, const char *key, const vg_mark *m) {
  first_span was;
  int had = event_first(st, rule, step, key, m->first, m->event, &was);
  if (had < 0) return had;
  int added = insert_mark(st, rule, step, key, m);
  if (added <= 0) return added; /* there already, or failed */
  /* The new mark's span holds it (with no event of its own to count, when
   * its event's first report lies elsewhere), then the event is counted
   * where its first report is now. */
  if (tally(st, rule, step, key, m->first, m->last, 0, m->entry, 0)) return VG_EDB;
  return recount(st, rule, step, key, m->first, m->event, had, &was);
}

int vg_store_mark_untallied(vg_store *st, const char *rule, int step, const char *key,
                            const vg_mark *m) {
  int added = insert_mark(st, rule, step, key, m);
  return added < 0 ? added : 0;
}

/* Steps s, a look-up of marks, calling fn with each row. */
static int each_mark(sqlite3_stmt *s, vg_mark_fn fn, void *ud) {
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_mark m = {sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1), sqlite3_column_int(s, 2),
                 sqlite3_column_int64(s, 3)};
    if ((out = fn(ud, &m))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_marks(vg_store *st, const char *rule, int step, const char *key, int32_t from,
                   int32_t to, int latest_first, vg_mark_fn fn, void *ud) {
  sqlite3_stmt *s = bind_marks(st, latest_first ? S_MARKS_DESC : S_MARKS, rule, step, key);
  sqlite3_bind_int(s, 4, from);
  sqlite3_bind_int(s, 5, to);
  return each_mark(s, fn, ud);
}

int vg_store_marks_by_event(vg_store *st, const char *rule, int step, const char *key,
                            int32_t from, int32_t to, vg_mark_fn fn, void *ud) {
  sqlite3_stmt *s = bind_marks(st, S_MARKS_EVENTS, rule, step, key);
  sqlite3_bind_int(s, 4, from);
  sqlite3_bind_int(s, 5, to);
  return each_mark(s, fn, ud);
}

int vg_store_mark_event(vg_store *st, const char *rule, int step, const char *key, int32_t first,
                        int64_t entry, int64_t *event) {
  sqlite3_stmt *s = bind_marks(st, S_MARK_EVENT, rule, step, key);
  sqlite3_bind_int(s, 4, first);
  sqlite3_bind_int64(s, 5, entry);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) *event = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_event_reports(vg_store *st, const char *rule, int step, const char *key,
                           int32_t first, int64_t event, vg_id_fn fn, void *ud) {
  sqlite3_stmt *s = bind_marks(st, S_REPORTS, rule, step, key);
  sqlite3_bind_int(s, 4, first);
  sqlite3_bind_int64(s, 5, event);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, sqlite3_column_int64(s, 0)))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_spans(vg_store *st, const char *rule, int step, const char *key, int32_t from,
                   int32_t to, vg_span_fn fn, void *ud) {
  sqlite3_stmt *s = bind_marks(st, S_SPANS, rule, step, key);
  sqlite3_bind_int(s, 4, from);
  sqlite3_bind_int(s, 5, to);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, sqlite3_column_int(s, 0), sqlite3_column_int(s, 1),
                  sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3))))
      break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_entry_span(vg_store *st, int64_t id, int32_t *first, int32_t *last) {
  sqlite3_stmt *s = st->stmt[S_SPAN];
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) {
    *first = sqlite3_column_int(s, 0);
    *last = sqlite3_column_int(s, 1);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

/* Whether (rule, step, key) has its spans tallied: a threshold's marks. */
static int spans_kept(vg_store *st, const char *rule, int step, const char *key) {
  sqlite3_stmt *s = bind_marks(st, S_SPANS_KEPT, rule, step, key);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_ROW;
}

/* Removes the marks of entry (of rule alone, when not NULL), keeping the
 * tally of events per span true. 0, VG_ENOMEM or VG_EDB. */
static int clear_marks(vg_store *st, int64_t entry, const char *rule) {
  /* Read the marks first: each one's span is tallied again once it is gone. */
  typedef struct {
    char *rule, *key;
    int step;
    int32_t first, last;
    int64_t event;
  } gone;
  gone *v = NULL;
  size_t n = 0, cap = 0;
  sqlite3_stmt *s = st->stmt[S_MARKS_OF];
  sqlite3_bind_int64(s, 1, entry);
  if (rule) sqlite3_bind_text(s, 2, rule, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 2);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      gone *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof *v);
      if (!nv) {
        out = VG_ENOMEM;
        break;
      }
      v = nv;
    }
    v[n] = (gone){strdup(col(s, 0)), strdup(col(s, 2)), sqlite3_column_int(s, 1),
                  sqlite3_column_int(s, 3), sqlite3_column_int(s, 4),
                  sqlite3_column_int64(s, 5)};
    if (!v[n].rule || !v[n].key) out = VG_ENOMEM;
    n++;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  /* Where each mark's event was counted before the marks go (an entry has
   * one mark per rule, step and key, so each is an event's of its own). */
  first_span *was = n ? calloc(n, sizeof *was) : NULL;
  int *had = n ? calloc(n, sizeof *had) : NULL;
  if (!out && n && (!was || !had)) out = VG_ENOMEM;
  for (size_t i = 0; i < n && !out; i++) {
    had[i] = event_first(st, v[i].rule, v[i].step, v[i].key, v[i].first, v[i].event, &was[i]);
    if (had[i] < 0) out = had[i];
  }
  if (!out) {
    sqlite3_bind_int64(st->stmt[S_CLEAR_MARKS], 1, entry);
    if (rule) sqlite3_bind_text(st->stmt[S_CLEAR_MARKS], 2, rule, -1, SQLITE_STATIC);
    else sqlite3_bind_null(st->stmt[S_CLEAR_MARKS], 2);
    out = run(st, S_CLEAR_MARKS);
  }
  for (size_t i = 0; i < n; i++) {
    /* Only a threshold's marks are tallied: the others have no span rows. */
    if (!out && spans_kept(st, v[i].rule, v[i].step, v[i].key)) {
      out = tally(st, v[i].rule, v[i].step, v[i].key, v[i].first, v[i].last, 0, entry, 1);
      if (!out)
        out = recount(st, v[i].rule, v[i].step, v[i].key, v[i].first, v[i].event, had[i],
                      &was[i]);
    }
    free(v[i].rule);
    free(v[i].key);
  }
  free(was);
  free(had);
  free(v);
  return out;
}

int vg_store_clear_marks(vg_store *st, int64_t entry) { return clear_marks(st, entry, NULL); }

int vg_store_clear_rule_marks(vg_store *st, int64_t entry, const char *rule) {
  return clear_marks(st, entry, rule);
}

/* ---- events grouped across reports (db/012_event_groups.sql) ---- */

int vg_store_event_put(vg_store *st, int64_t entry, const char *kind, int32_t first,
                       int32_t last, int64_t own, int64_t event, const void *words,
                       size_t words_len) {
  sqlite3_stmt *s = st->stmt[S_EVENT_PUT];
  sqlite3_bind_int64(s, 1, entry);
  sqlite3_bind_text(s, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, first);
  sqlite3_bind_int(s, 4, last);
  sqlite3_bind_int64(s, 5, own);
  sqlite3_bind_int64(s, 6, event);
  sqlite3_bind_blob(s, 7, words_len ? words : "", (int)words_len, SQLITE_STATIC);
  return run(st, S_EVENT_PUT);
}

int vg_store_event_forget(vg_store *st, int64_t entry) {
  sqlite3_bind_int64(st->stmt[S_EVENT_FORGET], 1, entry);
  return run(st, S_EVENT_FORGET);
}

int vg_store_event_candidates(vg_store *st, const char *kind, int32_t day, int64_t except,
                              int limit, vg_event_candidate_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_EVENT_CANDIDATES];
  int out = 0, left = limit;
  /* The day itself first, then the day before and the day after. */
  const int32_t days[] = {day, day - 1, day + 1};
  for (int d = 0; d < 3 && out == 0 && left > 0; d++) {
    sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, days[d]);
    sqlite3_bind_int64(s, 3, except);
    sqlite3_bind_int(s, 4, left);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      left--;
      const unsigned char *source = sqlite3_column_text(s, 6);
      vg_event_candidate c = {sqlite3_column_int64(s, 0),
                              sqlite3_column_int(s, 1),
                              sqlite3_column_int(s, 2),
                              sqlite3_column_int64(s, 3),
                              sqlite3_column_int64(s, 4),
                              sqlite3_column_blob(s, 5),
                              (size_t)sqlite3_column_bytes(s, 5),
                              source ? (const char *)source : ""};
      if ((out = fn(ud, &c))) break;
    }
    if (!out && rc != SQLITE_DONE) out = VG_EDB;
    sqlite3_reset(s);
  }
  return out;
}

/* A (rule, step, key) that holds marks of an event being merged, with
 * where each of the two events was counted before. */
typedef struct {
  char *rule, *key;
  int step;
  first_span was_from, was_to;
  int had_from, had_to;
} merged;

int vg_store_event_merge(vg_store *st, int64_t from, int64_t to) {
  if (from == to) return 0;
  merged *v = NULL;
  size_t n = 0, cap = 0;
  int rc, out = 0;
  /* The tallied rules, steps and keys that hold marks of `from`: where the
   * two events are counted there now. */
  sqlite3_stmt *s = st->stmt[S_EVENT_TRIPLES];
  sqlite3_bind_int64(s, 1, from);
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      merged *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof *v);
      if (!nv) {
        out = VG_ENOMEM;
        break;
      }
      v = nv;
    }
    merged *m = &v[n++];
    memset(m, 0, sizeof *m);
    m->rule = strdup(col(s, 0));
    m->step = sqlite3_column_int(s, 1);
    m->key = strdup(col(s, 2));
    if (!m->rule || !m->key) out = VG_ENOMEM;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  for (size_t i = 0; i < n && !out; i++) {
    merged *m = &v[i];
    if (!spans_kept(st, m->rule, m->step, m->key)) continue;
    /* Both are grouped events: their members find their marks. */
    m->had_from = event_first(st, m->rule, m->step, m->key, INT32_MIN, from, &m->was_from);
    m->had_to = event_first(st, m->rule, m->step, m->key, INT32_MIN, to, &m->was_to);
    if (m->had_from < 0 || m->had_to < 0) out = VG_EDB;
  }
  /* Every mark of every rule moves to the merged event, then so do the
   * entries; each event is then counted once, at its first report. */
  if (!out) {
    sqlite3_bind_int64(st->stmt[S_EVENT_MARKS_MOVE], 1, from);
    sqlite3_bind_int64(st->stmt[S_EVENT_MARKS_MOVE], 2, to);
    out = run(st, S_EVENT_MARKS_MOVE);
  }
  if (!out) {
    sqlite3_bind_int64(st->stmt[S_EVENT_MOVE], 1, from);
    sqlite3_bind_int64(st->stmt[S_EVENT_MOVE], 2, to);
    out = run(st, S_EVENT_MOVE);
  }
  for (size_t i = 0; i < n && !out; i++) {
    merged *m = &v[i];
    if (m->had_from && tally(st, m->rule, m->step, m->key, m->was_from.first, m->was_from.last,
                             1, 0, 1))
      out = VG_EDB;
    if (!out && (m->had_from || m->had_to))
      out = recount(st, m->rule, m->step, m->key, INT32_MIN, to, m->had_to, &m->was_to);
  }
  for (size_t i = 0; i < n; i++) {
    free(v[i].rule);
    free(v[i].key);
  }
  free(v);
  return out;
}

int vg_store_entry_event(vg_store *st, int64_t entry, int64_t *event) {
  sqlite3_stmt *s = st->stmt[S_EVENT_OF];
  sqlite3_bind_int64(s, 1, entry);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) *event = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_event_members(vg_store *st, int64_t event, vg_id_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_EVENT_MEMBERS];
  sqlite3_bind_int64(s, 1, event);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, sqlite3_column_int64(s, 0)))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

/* One entry by id, with its tags or (untagged) without them. */
static int entry_by_id(vg_store *st, int which, int64_t id, vg_row_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[which];
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s), out;
  if (rc == SQLITE_ROW) {
    vg_row r = row_of(s);
    out = fn(ud, &r);
  } else {
    out = rc == SQLITE_DONE ? VG_EINVAL : VG_EDB;
  }
  sqlite3_reset(s);
  return out;
}

int vg_store_entry(vg_store *st, int64_t id, vg_row_fn fn, void *ud) {
  return entry_by_id(st, S_ENTRY, id, fn, ud);
}

int vg_store_entry_untagged(vg_store *st, int64_t id, vg_row_fn fn, void *ud) {
  return entry_by_id(st, S_ENTRY_UNTAGGED, id, fn, ud);
}

/* Runs a one-row, one-integer statement; -1 on error. */
static long long scalar(vg_store *st, int which) {
  sqlite3_stmt *s = st->stmt[which];
  long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_reset(s);
  return v;
}

int vg_store_alerts_near(vg_store *st, const char *rule, const char *key, int32_t from,
                         int32_t to, const char *except_dedup) {
  sqlite3_stmt *s = st->stmt[S_ALERT_NEAR];
  sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, from);
  sqlite3_bind_int(s, 4, to);
  sqlite3_bind_text(s, 5, except_dedup, -1, SQLITE_STATIC);
  long long n = scalar(st, S_ALERT_NEAR);
  return n < 0 ? VG_EDB : (int)(n > 0x7fffffff ? 0x7fffffff : n);
}

long long vg_store_span_events(vg_store *st, const char *rule, int step, const char *key,
                               int32_t from, int32_t to) {
  sqlite3_stmt *s = bind_marks(st, S_SPAN_EVENTS, rule, step, key);
  sqlite3_bind_int(s, 4, from);
  sqlite3_bind_int(s, 5, to);
  return scalar(st, S_SPAN_EVENTS);
}

int vg_store_absence_add(vg_store *st, const char *rule, const char *key, int64_t entry,
                         int32_t deadline) {
  sqlite3_stmt *s = st->stmt[S_ABSENCE_ADD];
  sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, entry);
  sqlite3_bind_int(s, 4, deadline);
  return run(st, S_ABSENCE_ADD);
}

int vg_store_absence_set(vg_store *st, const char *rule, int64_t entry, const char *state) {
  sqlite3_stmt *s = st->stmt[S_ABSENCE_SET];
  sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, rule, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, entry);
  return run(st, S_ABSENCE_SET);
}

int vg_store_absence_state(vg_store *st, const char *rule, int64_t entry, char state[16]) {
  sqlite3_stmt *s = st->stmt[S_ABSENCE_STATE];
  sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, entry);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) snprintf(state, 16, "%s", col(s, 0) ? col(s, 0) : "");
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

/* The absences statement `which` selects, given `day`, read whole before fn
 * runs on each. */
static int absences_of(vg_store *st, int which, int32_t day, vg_absence_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[which];
  sqlite3_bind_int(s, 1, day);
  /* Collect first: the callback writes to the same table. */
  typedef struct { char *rule, *key; int64_t entry; int32_t deadline; } due;
  due *v = NULL;
  size_t n = 0, cap = 0;
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      due *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof *v);
      if (!nv) { out = VG_ENOMEM; break; }
      v = nv;
    }
    v[n].rule = strdup(col(s, 0));
    v[n].key = strdup(col(s, 1));
    v[n].entry = sqlite3_column_int64(s, 2);
    v[n].deadline = sqlite3_column_int(s, 3);
    n++;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  for (size_t i = 0; i < n; i++) {
    if (!out && v[i].rule && v[i].key) out = fn(ud, v[i].rule, v[i].key, v[i].entry, v[i].deadline);
    free(v[i].rule);
    free(v[i].key);
  }
  free(v);
  return out;
}

int vg_store_absences_due(vg_store *st, int32_t watermark, vg_absence_fn fn, void *ud) {
  return absences_of(st, S_ABSENCES_DUE, watermark, fn, ud);
}

int vg_store_absences_fired(vg_store *st, int32_t from, vg_absence_fn fn, void *ud) {
  return absences_of(st, S_ABSENCES_FIRED, from, fn, ud);
}

int vg_store_state_get(vg_store *st, const char *name, int64_t *value) {
  sqlite3_stmt *s = st->stmt[S_STATE_GET];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) *value = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_state_max(vg_store *st, const char *name, int64_t value) {
  sqlite3_stmt *s = st->stmt[S_STATE_MAX];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, value);
  return run(st, S_STATE_MAX);
}

long long vg_store_count_tag(vg_store *st, const char *tag, int32_t from, int32_t to) {
  sqlite3_stmt *s = st->stmt[S_COUNT_TAG];
  sqlite3_bind_text(s, 1, tag, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, from);
  sqlite3_bind_int(s, 3, to);
  return scalar(st, S_COUNT_TAG);
}

int vg_store_entries_tag(vg_store *st, const char *tag, int32_t from, int32_t to, long limit,
                         vg_row_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ENTRIES_TAG];
  sqlite3_bind_text(s, 1, tag, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, from);
  sqlite3_bind_int(s, 3, to);
  sqlite3_bind_int64(s, 4, limit > 0 ? limit : -1);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_row r = row_of(s);
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

unsigned long vg_store_serial(const vg_store *st) { return st->serial; }

uint64_t vg_store_stored(const vg_store *st) { return st->stored; }

int vg_store_alert_adopt(vg_store *st, const vg_alert_in *a) {
  sqlite3_stmt *s = st->stmt[S_ALERT_ADOPT];
  sqlite3_bind_text(s, 1, a->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, a->key ? a->key : "", -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 3, a->day);
  sqlite3_bind_text(s, 4, a->dedup, -1, SQLITE_STATIC);
  return run(st, S_ALERT_ADOPT) ? VG_EDB : sqlite3_changes(st->db) > 0;
}

int vg_store_alert_find(vg_store *st, const char *dedup, int64_t *id) {
  sqlite3_stmt *f = st->stmt[S_ALERT_FIND];
  sqlite3_bind_text(f, 1, dedup, -1, SQLITE_STATIC);
  int rc = sqlite3_step(f);
  if (rc == SQLITE_ROW) *id = sqlite3_column_int64(f, 0);
  sqlite3_reset(f);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : VG_EDB;
}

static int by_id(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Makes alert id name exactly the n entries of want (sorted in place),
 * writing only what differs from what it names now; adds to *changed the
 * entries it named or unnamed. 0, VG_ENOMEM or VG_EDB. */
static int rename_alert(vg_store *st, int64_t id, int64_t *want, size_t n, int *changed) {
  qsort(want, n, sizeof *want, by_id);
  int64_t *had = NULL;
  size_t nhad = 0, cap = 0;
  sqlite3_stmt *s = st->stmt[S_ALERT_NAMED];
  sqlite3_bind_int64(s, 1, id);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (nhad == cap) {
      int64_t *v = realloc(had, (cap = cap ? cap * 2 : 128) * sizeof *v);
      if (!v) {
        out = VG_ENOMEM;
        break;
      }
      had = v;
    }
    had[nhad++] = sqlite3_column_int64(s, 0);
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  size_t i = 0, k = 0;
  while (!out && (i < nhad || k < n)) {
    if (k < n && k > 0 && want[k] == want[k - 1]) {
      k++;
    } else if (k == n || (i < nhad && had[i] < want[k])) { /* named no longer */
      sqlite3_bind_int64(st->stmt[S_ALERT_UNNAME_ONE], 1, id);
      sqlite3_bind_int64(st->stmt[S_ALERT_UNNAME_ONE], 2, had[i++]);
      if (run(st, S_ALERT_UNNAME_ONE)) out = VG_EDB;
      (*changed)++;
    } else if (i == nhad || want[k] < had[i]) { /* named now */
      sqlite3_bind_int64(st->stmt[S_ALERT_ENTRY], 1, id);
      sqlite3_bind_int64(st->stmt[S_ALERT_ENTRY], 2, want[k++]);
      if (run(st, S_ALERT_ENTRY)) out = VG_EDB;
      (*changed)++;
    } else { /* named before and now */
      i++;
      k++;
    }
  }
  free(had);
  return out;
}

int vg_store_alert_move(vg_store *st, int64_t id, const vg_alert_in *a) {
  sqlite3_stmt *s = st->stmt[S_ALERT_MOVE];
  sqlite3_bind_text(s, 1, a->date, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, a->day);
  sqlite3_bind_text(s, 3, a->message, -1, SQLITE_STATIC);
  if (a->count >= 0) sqlite3_bind_int64(s, 4, a->count);
  else sqlite3_bind_null(s, 4);
  sqlite3_bind_int64(s, 5, id);
  sqlite3_bind_text(s, 6, a->key ? a->key : "", -1, SQLITE_STATIC);
  if (run(st, S_ALERT_MOVE)) return VG_EDB;
  int changed = sqlite3_changes(st->db);
  int64_t *want = malloc((a->nentries + 1) * sizeof *want);
  if (!want) return VG_ENOMEM;
  memcpy(want, a->entries, a->nentries * sizeof *want);
  int rc = rename_alert(st, id, want, a->nentries, &changed);
  free(want);
  return rc ? rc : changed ? stamp(st, id, a) : 0;
}

/* ---- digests ---- */

int vg_store_tag_counts(vg_store *st, int32_t from, int32_t to, int32_t before_from,
                        int32_t before_to, vg_count_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_TAG_COUNTS];
  sqlite3_bind_int(s, 1, from);
  sqlite3_bind_int(s, 2, to);
  sqlite3_bind_int(s, 3, before_from);
  sqlite3_bind_int(s, 4, before_to);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, col(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_digest_ran(vg_store *st, const char *name, const char *first, const char *last,
                        const char *files) {
  char now[VG_UTC_ISO_MAX];
  vg_utc_iso((time_t)-1, now);
  sqlite3_stmt *s = st->stmt[S_RUN_ADD];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, first, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, last, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, files, -1, SQLITE_STATIC);
  return run(st, S_RUN_ADD);
}

int vg_store_digest_last(vg_store *st, const char *name, char last[11], char ran_at[32]) {
  sqlite3_stmt *s = st->stmt[S_RUN_LAST];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) {
    snprintf(last, 11, "%s", col(s, 0));
    snprintf(ran_at, 32, "%s", col(s, 1));
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

/* ---- feeds ---- */


int vg_store_feed_item(vg_store *st, const char *feed, const char *guid, int64_t *entry,
                       uint8_t content[16]) {
  sqlite3_stmt *s = st->stmt[S_ITEM_GET];
  sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, guid, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) {
    *entry = sqlite3_column_int64(s, 0);
    memset(content, 0, 16);
    if (sqlite3_column_bytes(s, 1) == 16) memcpy(content, sqlite3_column_blob(s, 1), 16);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_feed_item_put(vg_store *st, const char *feed, const char *guid, int64_t entry,
                           const uint8_t content[16]) {
  sqlite3_stmt *s = st->stmt[S_ITEM_PUT];
  sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, guid, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, entry);
  sqlite3_bind_blob(s, 4, content, 16, SQLITE_STATIC);
  return run(st, S_ITEM_PUT);
}

int vg_store_row_key(vg_store *st, const char *format, const char *key, int64_t *entry,
                     char *edited, size_t cap) {
  sqlite3_stmt *s = st->stmt[S_ROW_KEY_GET];
  sqlite3_bind_text(s, 1, format, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) {
    *entry = sqlite3_column_int64(s, 0);
    snprintf(edited, cap, "%s", col(s, 1) ? col(s, 1) : "");
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_row_key_put(vg_store *st, const char *format, const char *key, int64_t entry,
                         const char *edited) {
  sqlite3_stmt *s = st->stmt[S_ROW_KEY_PUT];
  sqlite3_bind_text(s, 1, format, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, entry);
  if (edited) sqlite3_bind_text(s, 4, edited, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 4);
  return run(st, S_ROW_KEY_PUT);
}

/* Binds feed, key and content to the three parameters of statement i. */
static sqlite3_stmt *bind_feed_reject(vg_store *st, int i, const char *feed, const uint8_t key[16],
                                      const uint8_t content[16]) {
  sqlite3_stmt *s = st->stmt[i];
  sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
  sqlite3_bind_blob(s, 2, key, 16, SQLITE_STATIC);
  sqlite3_bind_blob(s, 3, content, 16, SQLITE_STATIC);
  return s;
}

int vg_store_feed_reject_seen(vg_store *st, const char *feed, const uint8_t key[16],
                              const uint8_t content[16]) {
  sqlite3_stmt *s = bind_feed_reject(st, S_FEED_REJECT_GET, feed, key, content);
  int rc = sqlite3_step(s), same = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? same : VG_EDB;
}

int vg_store_feed_reject_put(vg_store *st, const char *feed, const uint8_t key[16],
                             const uint8_t content[16]) {
  bind_feed_reject(st, S_FEED_REJECT_PUT, feed, key, content);
  return run(st, S_FEED_REJECT_PUT);
}

int vg_store_feed_get(vg_store *st, const char *url, char **etag, char **modified,
                      int *failures) {
  sqlite3_stmt *s = st->stmt[S_FEED_GET];
  sqlite3_bind_text(s, 1, url, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  *etag = *modified = NULL;
  *failures = 0;
  if (found) {
    if (col(s, 0)) *etag = strdup(col(s, 0));
    if (col(s, 1)) *modified = strdup(col(s, 1));
    *failures = sqlite3_column_int(s, 2);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_feed_put(vg_store *st, const vg_feed_health *h) {
  char now[32];
  vg_utc_iso((time_t)-1, now);
  sqlite3_stmt *s = st->stmt[S_FEED_PUT];
  sqlite3_bind_text(s, 1, h->url, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, h->source, -1, SQLITE_STATIC);
  if (h->etag) sqlite3_bind_text(s, 3, h->etag, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 3);
  if (h->last_modified) sqlite3_bind_text(s, 4, h->last_modified, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 4);
  if (!h->error) sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 5);
  if (h->error) {
    sqlite3_bind_text(s, 6, h->error, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, now, -1, SQLITE_STATIC);
  } else {
    sqlite3_bind_null(s, 6);
    sqlite3_bind_null(s, 7);
  }
  sqlite3_bind_int(s, 8, h->failures);
  sqlite3_bind_int64(s, 9, (sqlite3_int64)h->items);
  if (h->next_poll[0]) sqlite3_bind_text(s, 10, h->next_poll, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 10);
  return run(st, S_FEED_PUT);
}

int vg_store_feeds(vg_store *st, vg_feed_row_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_FEEDS];
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_feed_row r = {col(s, 0), col(s, 1), col(s, 2), col(s, 3), col(s, 4),
                     sqlite3_column_int(s, 5), sqlite3_column_int64(s, 6),
                     sqlite3_column_int64(s, 7), col(s, 8), col(s, 9)};
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

/* ---- spool files ---- */

int vg_store_spool_get(vg_store *st, const char *name, vg_spool_mark *m) {
  sqlite3_stmt *s = st->stmt[S_SPOOL_GET];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  memset(m, 0, sizeof *m);
  if (found) {
    snprintf(m->identity, sizeof m->identity, "%s", col(s, 0) ? col(s, 0) : "");
    m->offset = (uint64_t)sqlite3_column_int64(s, 1);
    m->line = (uint64_t)sqlite3_column_int64(s, 2);
    m->stored = (uint64_t)sqlite3_column_int64(s, 3);
    m->duplicates = (uint64_t)sqlite3_column_int64(s, 4);
    m->rejected = (uint64_t)sqlite3_column_int64(s, 5);
    m->first_reject = sqlite3_column_int64(s, 6);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_spool_put(vg_store *st, const char *name, const vg_spool_mark *m) {
  sqlite3_stmt *s = st->stmt[S_SPOOL_PUT];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, m->identity, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)m->offset);
  sqlite3_bind_int64(s, 4, (sqlite3_int64)m->line);
  sqlite3_bind_int64(s, 5, (sqlite3_int64)m->stored);
  sqlite3_bind_int64(s, 6, (sqlite3_int64)m->duplicates);
  sqlite3_bind_int64(s, 7, (sqlite3_int64)m->rejected);
  sqlite3_bind_int64(s, 8, m->first_reject);
  return run(st, S_SPOOL_PUT);
}

int vg_store_spool_forget(vg_store *st, const char *name) {
  sqlite3_bind_text(st->stmt[S_SPOOL_FORGET], 1, name, -1, SQLITE_STATIC);
  return run(st, S_SPOOL_FORGET);
}

int vg_store_spool_names(vg_store *st, int (*fn)(void *ud, const char *name), void *ud) {
  sqlite3_stmt *s = st->stmt[S_SPOOL_NAMES];
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, col(s, 0) ? col(s, 0) : ""))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_last_reject(vg_store *st, int64_t *id) {
  sqlite3_stmt *s = st->stmt[S_LAST_REJECT];
  int rc = sqlite3_step(s);
  *id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : VG_EDB;
}

int vg_store_rejects_of(vg_store *st, const char *origin, int64_t after, vg_reject_row_fn fn,
                        void *ud) {
  sqlite3_stmt *s = st->stmt[S_REJECTS_OF];
  sqlite3_bind_text(s, 1, origin, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, after);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    if ((out = fn(ud, (uint64_t)sqlite3_column_int64(s, 0), col(s, 1) ? col(s, 1) : ""))) break;
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

/* ---- silences (db/013_silences.sql) ---- */


/* Reads the silences active at the open transaction's start (or now,
 * outside one) into st->silences. 0, VG_ENOMEM or VG_EDB. */
static int silences_read(vg_store *st) {
  silences_drop(st);
  char now[32];
  if (st->now[0] && !sqlite3_get_autocommit(st->db)) snprintf(now, sizeof now, "%s", st->now);
  else vg_utc_iso((time_t)-1, now);
  sqlite3_stmt *s = st->stmt[S_SILENCES_ACTIVE];
  sqlite3_bind_text(s, 1, now, -1, SQLITE_TRANSIENT);
  int rc, out = 0;
  size_t cap = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (st->nsilences == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      struct silence *v = realloc(st->silences, ncap * sizeof *v);
      if (!v) {
        out = VG_ENOMEM;
        break;
      }
      st->silences = v;
      cap = ncap;
    }
    struct silence *x = &st->silences[st->nsilences];
    x->id = sqlite3_column_int64(s, 0);
    x->rule = strdup(col(s, 1));
    x->key = sqlite3_column_type(s, 2) == SQLITE_NULL ? NULL : strdup(col(s, 2));
    st->nsilences++;
    if (!x->rule || (sqlite3_column_type(s, 2) != SQLITE_NULL && !x->key)) {
      out = VG_ENOMEM;
      break;
    }
  }
  if (!out && rc != SQLITE_DONE) {
    vg_error("database: reading the silences: %s", sqlite3_errmsg(st->db));
    out = VG_EDB;
  }
  sqlite3_reset(s);
  if (out) silences_drop(st);
  else st->silences_read = !sqlite3_get_autocommit(st->db); /* outside one: read each time */
  return out;
}

int vg_store_silence_match(vg_store *st, const char *rule, const char *key, int64_t *id) {
  *id = 0;
  if (!st->silences_read) {
    int rc = silences_read(st);
    if (rc) return rc;
  }
  const char *k = key ? key : "";
  for (size_t i = 0; i < st->nsilences; i++) {
    const struct silence *x = &st->silences[i];
    if (strcmp(x->rule, rule) == 0 && (!x->key || strcmp(x->key, k) == 0)) {
      *id = x->id;
      return 1;
    }
  }
  return 0;
}

int vg_store_silence_add(vg_store *st, const vg_silence_in *in, int64_t *id) {
  if (!in->rule || !in->rule[0] || (in->key && !in->key[0]) || !in->until || !in->author ||
      !in->author[0] || !in->reason || !in->reason[0])
    return VG_EINVAL;
  if (vg_store_begin(st)) return VG_EDB;
  if (strcmp(in->until, st->now) <= 0) {
    vg_store_rollback(st);
    return VG_EINVAL;
  }
  sqlite3_stmt *s = st->stmt[S_SILENCE_ADD];
  sqlite3_bind_text(s, 1, in->rule, -1, SQLITE_STATIC);
  if (in->key) sqlite3_bind_text(s, 2, in->key, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 2);
  sqlite3_bind_text(s, 3, in->until, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, in->author, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, in->reason, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 6, st->now, -1, SQLITE_STATIC);
  if (run(st, S_SILENCE_ADD)) {
    vg_store_rollback(st);
    return VG_EDB;
  }
  *id = sqlite3_last_insert_rowid(st->db);
  if (vg_store_commit(st)) {
    vg_store_rollback(st);
    return VG_EDB;
  }
  return 0;
}

int vg_store_silence_expire(vg_store *st, int64_t id) {
  if (vg_store_begin(st)) return VG_EDB;
  sqlite3_stmt *s = st->stmt[S_SILENCE_EXPIRE];
  sqlite3_bind_text(s, 1, st->now, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, id);
  if (run(st, S_SILENCE_EXPIRE)) {
    vg_store_rollback(st);
    return VG_EDB;
  }
  int changed = sqlite3_changes(st->db);
  if (vg_store_commit(st)) {
    vg_store_rollback(st);
    return VG_EDB;
  }
  return changed ? 1 : 0;
}

/* Calls fn with each row of the silences statement s (bound), then resets it. */
static int silence_rows(vg_store *st, sqlite3_stmt *s, const char *now, vg_silence_row_fn fn,
                        void *ud, int *found) {
  int rc, out = 0;
  *found = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *until = col(s, 3);
    vg_silence_row r = {.id = sqlite3_column_int64(s, 0),
                        .rule = col(s, 1),
                        .key = col(s, 2),
                        .until = until,
                        .author = col(s, 4),
                        .reason = col(s, 5),
                        .created_at = col(s, 6),
                        .expired_at = col(s, 7)};
    r.active = !r.expired_at && strcmp(until, now) > 0;
    (*found)++;
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) {
    vg_error("database: reading the silences: %s", sqlite3_errmsg(st->db));
    out = VG_EDB;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return out;
}

int vg_store_silences(vg_store *st, int all, int64_t after, long limit, vg_silence_row_fn fn,
                      void *ud) {
  char now[32];
  vg_utc_iso((time_t)-1, now);
  sqlite3_stmt *s = st->stmt[S_SILENCES];
  sqlite3_bind_text(s, 1, now, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(s, 2, all ? 1 : 0);
  sqlite3_bind_int64(s, 3, after);
  sqlite3_bind_int64(s, 4, limit > 0 ? limit : -1);
  int found;
  return silence_rows(st, s, now, fn, ud, &found);
}

int vg_store_silence(vg_store *st, int64_t id, vg_silence_row_fn fn, void *ud) {
  char now[32];
  vg_utc_iso((time_t)-1, now);
  sqlite3_stmt *s = st->stmt[S_SILENCE_ONE];
  sqlite3_bind_int64(s, 1, id);
  int found, rc = silence_rows(st, s, now, fn, ud, &found);
  return rc ? rc : found ? 1 : 0;
}

/* ---- JetStream messages (db/015_nats.sql) ---- */

int vg_store_nats_seen(vg_store *st, const char *stream, uint64_t seq, int64_t *entry_id) {
  sqlite3_stmt *s = st->stmt[S_NATS_SEEN];
  sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found && entry_id)
    *entry_id = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_nats_put(vg_store *st, const char *stream, uint64_t seq, int64_t entry_id) {
  sqlite3_stmt *s = st->stmt[S_NATS_PUT];
  sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
  if (entry_id > 0) sqlite3_bind_int64(s, 3, entry_id);
  else sqlite3_bind_null(s, 3);
  return run(st, S_NATS_PUT);
}

int64_t vg_store_nats_last(vg_store *st, const char *stream) {
  sqlite3_bind_text(st->stmt[S_NATS_LAST], 1, stream, -1, SQLITE_STATIC);
  long long v = scalar(st, S_NATS_LAST);
  return v < 0 ? VG_EDB : v;
}

int vg_store_meta(vg_store *st, const char *name, char *out, size_t cap) {
  sqlite3_stmt *s = st->stmt[S_META_GET];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s), found = rc == SQLITE_ROW;
  if (found) snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_reset(s);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? found : VG_EDB;
}

int vg_store_meta_set(vg_store *st, const char *name, const char *value) {
  sqlite3_stmt *s = st->stmt[S_META_SET];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
  return run(st, S_META_SET);
}

int64_t vg_store_nats_retire(vg_store *st, const char *stream, const char *as) {
  sqlite3_stmt *s = st->stmt[S_NATS_RETIRE];
  sqlite3_bind_text(s, 1, stream, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, as, -1, SQLITE_STATIC);
  int rc = run(st, S_NATS_RETIRE);
  return rc ? rc : (int64_t)sqlite3_changes(st->db);
}

/* ---- the outbox (db/016_outbox.sql) ---- */

static void bind_owner(sqlite3_stmt *s, int i, const char *owner) {
  if (owner) sqlite3_bind_text(s, i, owner, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, i);
}

int vg_store_outbox_add(vg_store *st, const vg_outbox_row *r, int64_t due, const char *owner,
                        int64_t lease) {
  sqlite3_stmt *s = st->stmt[S_OUTBOX_ADD];
  sqlite3_bind_text(s, 1, r->sink, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, r->alert_id);
  sqlite3_bind_int(s, 3, r->version);
  sqlite3_bind_text(s, 4, r->rule, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, r->payload, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, due);
  bind_owner(s, 7, owner);
  if (owner) sqlite3_bind_int64(s, 8, lease);
  else sqlite3_bind_null(s, 8);
  char now[VG_UTC_ISO_MAX];
  vg_utc_iso((time_t)-1, now);
  sqlite3_bind_text(s, 9, now, -1, SQLITE_TRANSIENT);
  return run(st, S_OUTBOX_ADD);
}

int vg_store_outbox_take(vg_store *st, const char *owner, int64_t now, int64_t lease,
                         size_t limit, int (*fn)(void *ud, const vg_outbox_row *r), void *ud) {
  if (limit == 0) return 0;
  int64_t *ids = malloc(limit * sizeof *ids);
  if (!ids) return VG_ENOMEM;
  sqlite3_stmt *s = st->stmt[S_OUTBOX_DUE];
  bind_owner(s, 1, owner);
  sqlite3_bind_int64(s, 2, now);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)limit);
  size_t n = 0;
  int rc, err = 0;
  while (!err && n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_outbox_row r = {.id = sqlite3_column_int64(s, 0),
                       .sink = (const char *)sqlite3_column_text(s, 1),
                       .alert_id = sqlite3_column_int64(s, 2),
                       .version = sqlite3_column_int(s, 3),
                       .rule = (const char *)sqlite3_column_text(s, 4),
                       .payload = (const char *)sqlite3_column_text(s, 5),
                       .attempts = (unsigned)sqlite3_column_int(s, 6)};
    err = fn(ud, &r);
    if (!err) ids[n++] = r.id;
  }
  if (!err && n < limit && rc != SQLITE_DONE) err = VG_EDB;
  sqlite3_reset(s);
  /* Marked once the reading is over: no row changes under the SELECT. */
  sqlite3_stmt *t = st->stmt[S_OUTBOX_TAKE];
  for (size_t i = 0; i < n && !err; i++) {
    sqlite3_bind_int64(t, 1, ids[i]);
    sqlite3_bind_int64(t, 2, now);
    if (owner) sqlite3_bind_int64(t, 3, lease);
    else sqlite3_bind_null(t, 3);
    err = run(st, S_OUTBOX_TAKE);
  }
  free(ids);
  return err ? err : (int)n;
}

int vg_store_outbox_done(vg_store *st, int64_t id, const char *owner) {
  sqlite3_bind_int64(st->stmt[S_OUTBOX_DONE], 1, id);
  bind_owner(st->stmt[S_OUTBOX_DONE], 2, owner);
  return run(st, S_OUTBOX_DONE);
}

int vg_store_outbox_failed(vg_store *st, int64_t id, int64_t due, const char *error,
                           const char *owner) {
  sqlite3_stmt *s = st->stmt[S_OUTBOX_FAILED];
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, due);
  sqlite3_bind_text(s, 3, error ? error : "", -1, SQLITE_STATIC);
  bind_owner(s, 4, owner);
  return run(st, S_OUTBOX_FAILED);
}

int vg_store_outbox_later(vg_store *st, int64_t id, int64_t due, const char *owner) {
  sqlite3_stmt *s = st->stmt[S_OUTBOX_LATER];
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_int64(s, 2, due);
  bind_owner(s, 3, owner);
  return run(st, S_OUTBOX_LATER);
}

int vg_store_outbox_renew(vg_store *st, const char *owner, int64_t lease) {
  sqlite3_stmt *s = st->stmt[S_OUTBOX_RENEW];
  sqlite3_bind_text(s, 1, owner, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, lease);
  return run(st, S_OUTBOX_RENEW);
}

int64_t vg_store_outbox_next(vg_store *st, const char *owner) {
  bind_owner(st->stmt[S_OUTBOX_NEXT], 1, owner);
  long long v = scalar(st, S_OUTBOX_NEXT);
  return v == -2 ? -1 : v < 0 ? VG_EDB : v;
}

int64_t vg_store_outbox_count(vg_store *st) {
  long long v = scalar(st, S_OUTBOX_COUNT);
  return v < 0 ? VG_EDB : v;
}

/* Runs one of the statements that give rows back; how many it changed. */
static int64_t outbox_change(vg_store *st, int which) {
  if (run(st, which)) return VG_EDB;
  return sqlite3_changes(st->db);
}

int64_t vg_store_outbox_reset(vg_store *st) { return outbox_change(st, S_OUTBOX_RESET); }

int64_t vg_store_outbox_adopt(vg_store *st, int64_t now) {
  sqlite3_bind_int64(st->stmt[S_OUTBOX_ADOPT], 1, now);
  return outbox_change(st, S_OUTBOX_ADOPT);
}

int64_t vg_store_outbox_release(vg_store *st, const char *owner) {
  sqlite3_bind_text(st->stmt[S_OUTBOX_RELEASE], 1, owner, -1, SQLITE_STATIC);
  return outbox_change(st, S_OUTBOX_RELEASE);
}

/* ---- corrections and retractions ---- */

int vg_store_entry_state(vg_store *st, int64_t id, int *version, int *retracted) {
  sqlite3_stmt *s = st->stmt[S_ENTRY_STATE];
  sqlite3_bind_int64(s, 1, id);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *version = sqlite3_column_int(s, 0);
    *retracted = sqlite3_column_int(s, 1);
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : VG_EDB;
}

int vg_store_entry_amend(vg_store *st, int64_t id, const vg_entry *e, const char *reason,
                         const char *origin, int64_t *other) {
  *other = 0;
  sqlite3_stmt *f = st->stmt[S_FIND];
  sqlite3_bind_int(f, 1, e->date.first);
  sqlite3_bind_blob(f, 2, e->hash, sizeof e->hash, SQLITE_STATIC);
  int rc = sqlite3_step(f);
  if (rc == SQLITE_ROW) *other = sqlite3_column_int64(f, 0);
  sqlite3_reset(f);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return VG_EDB;
  if (*other && *other != id) return VG_DUPLICATE;
  if (*other == id) { /* the same date, source and text: the same entry, unless its fields differ */
    sqlite3_stmt *q = st->stmt[S_ENTRY_FIELDS_SAME];
    sqlite3_bind_int64(q, 1, id);
    bind_text_or_null(q, 2, e->fields);
    int same = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    *other = 0;
    if (same) return 0;
  }
  /* Both texts are found by a search, as the texts of updates are: the one
   * it said (the text index may not have reached the entry yet), then the
   * one it says now (below). */
  sqlite3_stmt *o = st->stmt[S_CORRECTION_TEXT];
  sqlite3_bind_int64(o, 1, id);
  sqlite3_bind_text(o, 2, st->now, -1, SQLITE_STATIC);
  if (run(st, S_CORRECTION_TEXT)) return VG_EDB;
  sqlite3_stmt *k = st->stmt[S_VERSION_KEEP];
  sqlite3_bind_int64(k, 1, id);
  sqlite3_bind_text(k, 2, st->now, -1, SQLITE_STATIC);
  bind_text_or_null(k, 3, reason);
  sqlite3_bind_text(k, 4, origin, -1, SQLITE_STATIC);
  if (run(st, S_VERSION_KEEP)) return VG_EDB;
  sqlite3_stmt *s = st->stmt[S_ENTRY_AMEND];
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, e->date_text, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, vg_precision_name(e->date.precision), -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 4, e->date.first);
  sqlite3_bind_int(s, 5, e->date.last);
  sqlite3_bind_text(s, 6, e->text, (int)e->text_len, SQLITE_STATIC);
  sqlite3_bind_text(s, 7, e->source, -1, SQLITE_STATIC);
  bind_text_or_null(s, 8, e->fields);
  sqlite3_bind_blob(s, 9, e->hash, sizeof e->hash, SQLITE_STATIC);
  if (run(st, S_ENTRY_AMEND)) return VG_EDB;
  sqlite3_stmt *u = st->stmt[S_CORRECTION_TEXT];
  sqlite3_bind_int64(u, 1, id);
  sqlite3_bind_text(u, 2, st->now, -1, SQLITE_STATIC);
  return run(st, S_CORRECTION_TEXT) ? VG_EDB : VG_AMENDED;
}

int vg_store_entry_retract(vg_store *st, int64_t id, const char *reason) {
  sqlite3_stmt *s = st->stmt[S_ENTRY_RETRACT];
  sqlite3_bind_int64(s, 1, id);
  sqlite3_bind_text(s, 2, st->now, -1, SQLITE_STATIC);
  bind_text_or_null(s, 3, reason);
  if (run(st, S_ENTRY_RETRACT)) return VG_EDB;
  if (!sqlite3_changes(st->db)) return 0;
  sqlite3_bind_int64(st->stmt[S_ABSENCE_DROP], 1, id);
  return run(st, S_ABSENCE_DROP) ? VG_EDB : 1;
}

int vg_store_entry_versions(vg_store *st, int64_t id, vg_version_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ENTRY_VERSIONS];
  sqlite3_bind_int64(s, 1, id);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_version_row v = {sqlite3_column_int(s, 0), col(s, 1), col(s, 2), col(s, 3), col(s, 4),
                        col(s, 5), col(s, 6), col(s, 7), col(s, 8)};
    if ((out = fn(ud, &v))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_absence_drop(vg_store *st, int64_t entry) {
  sqlite3_bind_int64(st->stmt[S_ABSENCE_DROP], 1, entry);
  return run(st, S_ABSENCE_DROP) ? VG_EDB : 0;
}

int vg_store_absence_force(vg_store *st, const char *rule, int64_t entry, const char *state) {
  sqlite3_stmt *s = st->stmt[S_ABSENCE_FORCE];
  sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 2, entry);
  sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
  return run(st, S_ABSENCE_FORCE) ? VG_EDB : 0;
}

int vg_store_alerts_held(vg_store *st, const char *rule, const char *key, int32_t from,
                         int32_t to, int64_t entry, vg_id_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ALERTS_HELD];
  bind_text_or_null(s, 1, rule);
  bind_text_or_null(s, 2, key);
  sqlite3_bind_int(s, 3, from);
  sqlite3_bind_int(s, 4, to);
  sqlite3_bind_int64(s, 5, entry);
  int64_t *ids = NULL;
  size_t n = 0, cap = 0;
  int rc, out = 0;
  /* Read whole before fn runs: fn writes the alerts read here. */
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (n == cap) {
      int64_t *v = realloc(ids, (cap = cap ? cap * 2 : 64) * sizeof *v);
      if (!v) {
        out = VG_ENOMEM;
        break;
      }
      ids = v;
    }
    ids[n++] = sqlite3_column_int64(s, 0);
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  for (size_t i = 0; i < n && !out; i++) out = fn(ud, ids[i]);
  free(ids);
  return out;
}

int32_t vg_store_mark_span_max(vg_store *st, const char *rule, int step, const char *key,
                               int32_t from, int32_t to) {
  sqlite3_stmt *s = bind_marks(st, S_MARK_SPAN_MAX, rule, step, key);
  sqlite3_bind_int(s, 4, from);
  sqlite3_bind_int(s, 5, to);
  int rc = sqlite3_step(s);
  int32_t v = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? v : VG_EDB;
}

int vg_store_watermark(vg_store *st, int32_t *day) {
  sqlite3_stmt *s = st->stmt[S_WATERMARK];
  int rc = sqlite3_step(s), found = 0;
  if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
    *day = sqlite3_column_int(s, 0);
    found = 1;
  }
  sqlite3_reset(s);
  if (rc != SQLITE_ROW) return VG_EDB;
  sqlite3_stmt *w = st->stmt[S_STATE_SET];
  sqlite3_bind_text(w, 1, "max_day", -1, SQLITE_STATIC);
  if (found) {
    sqlite3_bind_int(w, 2, *day);
    return run(st, S_STATE_SET) ? VG_EDB : 1;
  }
  return 0;
}

/* ---- what a digest says did not happen, and what changed ---- */

int vg_store_absences_closed(vg_store *st, int32_t from, int32_t to, vg_absence_closed_fn fn,
                             void *ud) {
  sqlite3_stmt *s = st->stmt[S_DIGEST_ABSENT];
  sqlite3_bind_int(s, 1, from);
  sqlite3_bind_int(s, 2, to);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_absence_closed r = {
        .alert_id = sqlite3_column_int64(s, 0), .rule = col(s, 1), .severity = col(s, 2),
        .message = col(s, 3), .deadline = sqlite3_column_int(s, 4),
        .entry = sqlite3_column_int64(s, 5), .date = col(s, 6), .text = col(s, 7)};
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_alert_changes(vg_store *st, const char *after, const char *until,
                           vg_alert_change_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_DIGEST_CHANGES];
  sqlite3_bind_text(s, 1, after, -1, SQLITE_STATIC);
  if (until) sqlite3_bind_text(s, 2, until, -1, SQLITE_STATIC);
  else sqlite3_bind_null(s, 2);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_alert_change r = {
        .seq = sqlite3_column_int64(s, 0), .at = col(s, 1), .kind = col(s, 2),
        .version = sqlite3_column_int(s, 3), .alert_id = sqlite3_column_int64(s, 4),
        .rule = col(s, 5), .severity = col(s, 6), .message = col(s, 7), .reason = col(s, 8),
        .entry = sqlite3_column_int64(s, 9), .date = col(s, 10), .text = col(s, 11)};
    if ((out = fn(ud, &r))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  return out;
}

int vg_store_digest_bounds(vg_store *st, const char *name, const char *last,
                           char before[VG_UTC_ISO_MAX], char own[VG_UTC_ISO_MAX]) {
  sqlite3_stmt *s = st->stmt[S_DIGEST_BOUNDS];
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, last, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  before[0] = own[0] = '\0';
  if (rc == SQLITE_ROW) {
    if (col(s, 0)) snprintf(before, VG_UTC_ISO_MAX, "%s", col(s, 0));
    if (col(s, 1)) snprintf(own, VG_UTC_ISO_MAX, "%s", col(s, 1));
  }
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 0 : VG_EDB;
}

int vg_alert_state_parse(const char *name, vg_alert_query *q) {
  if (!strcmp(name, "active")) q->state = VG_ALERT_ACTIVE, q->retracted = VG_ALERT_IN_FORCE;
  else if (!strcmp(name, "silenced")) q->state = VG_ALERT_SILENCED, q->retracted = VG_ALERT_IN_FORCE;
  else if (!strcmp(name, "retracted")) q->state = 0, q->retracted = VG_ALERT_RETRACTED;
  else if (!strcmp(name, "all")) q->state = 0, q->retracted = VG_ALERT_ANY;
  else return -1;
  return 0;
}

/* ---- what explanations read (core/explain.c) ---- */

int vg_store_alert_history(vg_store *st, int64_t alert, vg_alert_history_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_ALERT_HISTORY];
  sqlite3_bind_int64(s, 1, alert);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *kind = col(s, 2), *at = col(s, 3);
    if ((out = fn(ud, sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1), kind ? kind : "",
                  at ? at : "", sqlite3_column_int64(s, 4))))
      break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return out;
}

int vg_store_marks_near(vg_store *st, const char *rule, int step, int32_t day, int32_t from,
                        int32_t to, long limit, vg_keyed_mark_fn fn, void *ud) {
  sqlite3_stmt *s = st->stmt[S_MARKS_NEAR];
  sqlite3_bind_text(s, 1, rule, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, step);
  sqlite3_bind_int(s, 3, from);
  sqlite3_bind_int(s, 4, to);
  sqlite3_bind_int(s, 5, day);
  sqlite3_bind_int64(s, 6, limit > 0 ? limit : -1);
  int rc, out = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    vg_mark m = {sqlite3_column_int64(s, 0), sqlite3_column_int(s, 1), sqlite3_column_int(s, 2),
                 sqlite3_column_int64(s, 3)};
    const char *key = col(s, 4);
    if ((out = fn(ud, &m, key ? key : ""))) break;
  }
  if (!out && rc != SQLITE_DONE) out = VG_EDB;
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return out;
}

/* ---- the archives a feed's listing named ---- */

int vg_store_feed_archive_seen(vg_store *st, const char *feed, const char *name) {
  sqlite3_stmt *s = st->stmt[S_ARCHIVE_SEEN];
  sqlite3_bind_text(s, 1, feed, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : VG_EDB;
}

int vg_store_feed_archive_put(vg_store *st, const vg_feed_archive *a) {
  char now[32];
  vg_utc_iso((time_t)-1, now);
  sqlite3_stmt *s = st->stmt[S_ARCHIVE_PUT];
  sqlite3_bind_text(s, 1, a->feed, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, a->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, (sqlite3_int64)a->size);
  sqlite3_bind_text(s, 4, a->md5, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, now, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 6, (sqlite3_int64)a->stored);
  sqlite3_bind_int64(s, 7, (sqlite3_int64)a->duplicates);
  sqlite3_bind_int64(s, 8, (sqlite3_int64)a->rejected);
  return run(st, S_ARCHIVE_PUT);
}

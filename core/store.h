/* store.h — the module that talks to SQLite (with scratch.c, its companion
 * for the scratch copy of `vigil replay --dry-run`, which needs SQLite's
 * backup API).
 *
 * ingest.c hands it parsed entries inside a transaction it opens with
 * vg_store_begin; the CLI reads through vg_store_query. Every statement is
 * prepared once at open. A store is used by one thread at a time. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include "entry.h"

#include <stdint.h>

typedef struct vg_store vg_store;

enum {
  VG_STORE_READONLY = 1,    /* open for reading only; no migration */
  VG_STORE_SYNC_NORMAL = 2, /* commit without fsync of the WAL (survives a crash, not a power cut) */
  VG_STORE_TEXT_FILE = 4,   /* the text index in its file only, never in memory (an indexer) */
};

/* How long a write waits by default for another process's lock. */
#define VG_STORE_BUSY_MS 10000

/* Opens or creates the database at path, in WAL mode, and brings its schema
 * up to date. Returns NULL with the reason in err (cap bytes); refuses a
 * database whose schema is newer than this binary knows, and, unless
 * VG_STORE_READONLY, one it cannot write (the reason names the file or its
 * directory), rather than failing each write later. */
vg_store *vg_store_open(const char *path, int flags, char *err, size_t cap);
/* Sets how long a statement waits for a lock another connection holds
 * before it fails with "database is locked" (VG_STORE_BUSY_MS at open). */
void vg_store_busy_timeout(vg_store *st, unsigned ms);
/* Finishes statements and closes; NULL does nothing. */
void vg_store_close(vg_store *st);
/* The schema version of the open database. */
int vg_store_schema_version(vg_store *st);
/* A number no other store opened by this process has; it changes on every
 * rollback, so that what a caller cached about the store is read again. */
unsigned long vg_store_serial(const vg_store *st);
/* The entries this store inserted in transactions that committed, since it
 * was opened (duplicates not counted). */
uint64_t vg_store_stored(const vg_store *st);
/* The last error SQLite reported on this store. */
const char *vg_store_errmsg(vg_store *st);

/* A write transaction. begin also fixes the ingestion time stamped on what
 * the transaction stores. Each returns 0 or VG_EDB (logged). */
int vg_store_begin(vg_store *st);
int vg_store_commit(vg_store *st);
void vg_store_rollback(vg_store *st);
/* Calls fn(ud) after each successful commit (an indexer's poke); NULL: none.
 * Whoever fn wakes also checkpoints the write-ahead log (vg_store_checkpoint
 * on a connection of its own), so that commits here mostly do not: this
 * store then checkpoints itself once the log passes 32 MB. The log starts
 * over only when a checkpoint finds no reader on an older snapshot, so it
 * can grow past that while searches run; once it starts over, its file is
 * cut back to 64 MB. */
void vg_store_on_commit(vg_store *st, void (*fn)(void *ud), void *ud);
/* Copies what the write-ahead log holds into the database, as far as it
 * can without waiting for anyone. 0 or VG_EDB. */
int vg_store_checkpoint(vg_store *st);

enum { VG_STORED = 1, VG_DUPLICATE = 2, VG_AMENDED = 3 };

/* Inserts e unless an entry with its hash exists. Returns VG_STORED or
 * VG_DUPLICATE with the entry's id in *id, or VG_EDB. */
int vg_store_insert(vg_store *st, const vg_entry *e, int64_t *id);

/* Keeps a rejected line: its source, the file or connection it came from
 * (origin, may be NULL), its line number there, why, and its first bytes. */
int vg_store_reject(vg_store *st, const char *source, const char *origin, uint64_t line_no,
                    const char *reason,
                    const char *raw, size_t len, uint64_t total);

/* What vg_store_query selects; zero fields select everything. */
typedef struct {
  int has_since, has_until; /* whether since/until are set */
  int32_t since, until;     /* day numbers: entries whose span overlaps them */
  const char *source;       /* exact source, or NULL */
  const char *tag;          /* entries carrying this tag, or NULL */
  const char *text;         /* words that must all occur (full-text), or NULL */
  long limit;               /* at most this many; <= 0 for no limit */
  int has_after;            /* resume after the entry (after_day, after_id) */
  int32_t after_day;
  int64_t after_id;
  int retracted;            /* also the retracted entries (left out by default) */
} vg_query;

/* One entry as the query returns it; strings live until the callback returns. */
typedef struct {
  int64_t id;
  const char *date, *precision, *text, *source, *ingested_at;
  const char *fields;        /* JSON text or NULL */
  const char *tags;          /* the tags joined by ',' or NULL */
  int32_t day_first, day_last; /* the span of the date */
  size_t text_len;           /* bytes of text */
  /* The entry's latest update (a feed item that changed, db/005_feeds.sql),
   * filled by vg_store_query and vg_store_entry only; NULL when it has none.
   * text stays what the entry first said, which is what its rules saw. */
  const char *update_text;   /* the text the item says now */
  const char *updated_at;    /* UTC, when that was seen */
  /* Filled by vg_store_query and vg_store_entry only (db/017_corrections.sql). */
  int version;               /* 1 as first stored; one more for each correction */
  const char *retracted_at;  /* UTC, when it was retracted; NULL while in force */
  const char *retract_reason;
} vg_row;

typedef int (*vg_row_fn)(void *ud, const vg_row *row);

/* Calls fn for each matching entry in date order (then id). Returns 0, what
 * fn returned if non-zero, or VG_EDB (message in vg_store_errmsg). The text
 * filter finds an updated entry by its first text and by the text of each
 * of its updates: an entry matches when one of them holds all the words. */
int vg_store_query(vg_store *st, const vg_query *q, vg_row_fn fn, void *ud);

/* ---- the full-text index ----
 * Kept in a database of its own beside the store's (<path>-text), never by
 * ingest: vg_store_query brings it up to date before a text search, so a
 * search is always exact, and an indexer thread (indexer.h) keeps it so in
 * the daemon. An index that cannot be written there is kept in memory. It
 * holds the text of each entry and of each of its updates. */

/* Indexes up to max (0: all) of the entries, then of the updates, that the
 * index does not hold yet (max counts both), in
 * a transaction of its own on the text index alone (the store's write lock
 * is not taken; call it outside a transaction). An index made for other
 * entries is emptied and built again; a damaged file is removed and made
 * again; a file removed or replaced meanwhile is opened again. Sets
 * *indexed to how many it added; returns 0, or VG_EDB / VG_ENOMEM (nothing
 * added). */
int vg_store_index_text(vg_store *st, long max, long long *indexed);
/* Entries a search or the indexer adds to the text index per transaction. */
#define VG_TEXT_CHUNK 20000

/* ---- tags and alerts, written by the rules inside the caller's transaction ---- */

/* Sets tag on entry, as set by rule; a tag already there is kept. 0 or VG_EDB. */
int vg_store_tag(vg_store *st, int64_t entry, const char *tag, const char *rule);
/* Removes every tag of entry (before its rules run again). 0 or VG_EDB. */
int vg_store_clear_tags(vg_store *st, int64_t entry);

typedef int (*vg_tag_fn)(void *ud, const char *tag, const char *rule);
/* Calls fn for each tag of entry, by tag name. 0, fn's non-zero, or VG_EDB. */
int vg_store_entry_tags(vg_store *st, int64_t entry, vg_tag_fn fn, void *ud);

/* One later version of an entry (db/005_feeds.sql). */
typedef struct {
  int64_t id;          /* its own id, in the order they were seen */
  const char *seen_at; /* UTC, when the changed item was polled */
  const char *text;    /* the entry's text as the item then said it */
  const char *fields;  /* the item as its JSON record (date, text, title, url...), or NULL */
} vg_update_row;
typedef int (*vg_update_fn)(void *ud, const vg_update_row *u);
/* Calls fn for each update of entry, oldest first. 0, fn's non-zero, or
 * VG_EDB. */
int vg_store_entry_updates(vg_store *st, int64_t entry, vg_update_fn fn, void *ud);

typedef int (*vg_entry_mark_fn)(void *ud, const char *rule, int step, const char *key);
/* Calls fn for each correlation mark of entry (a step of a rule it matched,
 * under a key), by rule, step and key. 0, fn's non-zero, or VG_EDB. */
int vg_store_entry_marks(vg_store *st, int64_t entry, vg_entry_mark_fn fn, void *ud);

/* An alert to store. */
typedef struct {
  const char *rule;      /* the rule that raised it */
  const char *key;       /* its correlation key, or NULL */
  const char *dedup;     /* equal dedup keys: one alert */
  const char *severity;  /* info, warn or crit */
  const char *message;
  const char *date;      /* the event date of the entry that raised it */
  int32_t day;           /* its first day */
  const int64_t *entries; /* the entries it concerns */
  size_t nentries;
  long long count;       /* how many events a threshold's window held; -1 for none */
  const char *rule_file, *rule_hash; /* the rule's file and its XXH3-128 (hex), or NULL */
  int64_t cause;         /* the entry whose arrival or change writes it; 0: none */
} vg_alert_in;

typedef int (*vg_id_fn)(void *ud, int64_t id);

/* Stores a, or finds the alert with its dedup key and adds any entry it
 * did not name yet. Returns VG_STORED (new), VG_AMENDED (it existed and now
 * names more entries: its version went up) or VG_DUPLICATE (it existed and
 * nothing changed), with its id; or VG_EDB. A new alert is marked with the
 * silence vg_store_silence_match gives for its rule and key (an alert that
 * existed keeps the silence it had, or none). */
int vg_store_alert(vg_store *st, const vg_alert_in *a, int64_t *id);

/* Re-points alert id at a's date, day, message and count, naming a's
 * entries only (a first occurrence found earlier than the one first seen, a
 * window that changed). Returns VG_AMENDED when that changed anything (its
 * version went up), 0 when the alert was so already, or VG_EDB / VG_ENOMEM. */
int vg_store_alert_move(vg_store *st, int64_t id, const vg_alert_in *a);
/* Takes back alert id (db/017_corrections.sql): it stays stored, with state
 * 'retracted', the reason and the entry whose change caused it (0: none).
 * A retracted alert written again by vg_store_alert or vg_store_alert_move
 * is in force again. VG_AMENDED when it was in force (its version went up,
 * logged as 'retract'), 0 when it was retracted already, or VG_EDB. */
int vg_store_alert_retract(vg_store *st, int64_t id, const char *reason, int64_t cause);

/* ---- corrections and retractions (db/017_corrections.sql) ----
 * The entry row holds an entry's current version; the versions before it
 * are kept in entry_versions. A retracted entry stays, out of
 * consideration: vg_store_query leaves it out unless asked. The callers
 * (core/correct.c) work out again what depended on it. */

/* The entry's version and whether it is retracted: 1, 0 when there is no
 * such entry, or VG_EDB. */
int vg_store_entry_state(vg_store *st, int64_t id, int *version, int *retracted);
/* Makes e the current version of entry id, keeping the one it replaces in
 * entry_versions with the reason (may be NULL) and origin. VG_AMENDED; 0
 * when e says what the entry says already (nothing written); VG_DUPLICATE
 * with the id in *other when another entry says what e says (nothing
 * written); or VG_EDB. */
int vg_store_entry_amend(vg_store *st, int64_t id, const vg_entry *e, const char *reason,
                         const char *origin, int64_t *other);
/* Retracts entry id now, with the reason (may be NULL), and drops its
 * absence waits: 1, 0 when it was retracted already, or VG_EDB. */
int vg_store_entry_retract(vg_store *st, int64_t id, const char *reason);
/* One earlier version of an entry; strings live until fn returns. */
typedef struct {
  int version;
  const char *date, *precision, *text, *source, *fields;
  const char *replaced_at, *reason, *origin;
} vg_version_row;
typedef int (*vg_version_fn)(void *ud, const vg_version_row *v);
/* Calls fn with each earlier version of entry id, oldest first. 0, fn's
 * non-zero, or VG_EDB. */
int vg_store_entry_versions(vg_store *st, int64_t id, vg_version_fn fn, void *ud);
/* Drops the absence waits of entry (of every rule). 0 or VG_EDB. */
int vg_store_absence_drop(vg_store *st, int64_t entry);
/* Sets the state of the absence of entry under rule, whatever it was. */
int vg_store_absence_force(vg_store *st, const char *rule, int64_t entry, const char *state);
/* Calls fn with the id of each alert in force of rule (NULL: any) and key
 * (NULL: none of these) whose day lies in [from, to], and of each naming
 * entry (of rule, when given), read whole first: fn may write alerts. 0,
 * fn's non-zero, VG_ENOMEM or VG_EDB. */
int vg_store_alerts_held(vg_store *st, const char *rule, const char *key, int32_t from,
                         int32_t to, int64_t entry, vg_id_fn fn, void *ud);
/* The longest span of days (last - first) among the marks of (rule, step,
 * key) whose first day lies in [from, to]: 0 for dates to the day, or
 * VG_EDB. */
int32_t vg_store_mark_span_max(vg_store *st, const char *rule, int step, const char *key,
                               int32_t from, int32_t to);
/* Sets the watermark (state max_day) to the latest day of the entries in
 * force, but those dated on arrival: 1 with it in *day, 0 when there are
 * none (left as it was), or VG_EDB. */
int vg_store_watermark(vg_store *st, int32_t *day);
/* Gives a's dedup key to the oldest alert of a's rule, key and day that has
 * no count (a threshold alert stored by a version of vigil that counted its
 * windows per entry), unless an alert holds that key already; the alert then
 * goes on as the day's alert instead of a second one beside it. 1 when one
 * was adopted, 0, or VG_EDB. */
int vg_store_alert_adopt(vg_store *st, const vg_alert_in *a);
/* Whether an alert with this dedup key exists: 1 with its id, 0, or VG_EDB. */
int vg_store_alert_find(vg_store *st, const char *dedup, int64_t *id);

/* Which alerts vg_alert_query.state selects (0: all). */
enum { VG_ALERT_ACTIVE = 1, VG_ALERT_SILENCED = 2 };

typedef struct {
  int has_since, has_until;
  int32_t since, until; /* day numbers, on the alert's day */
  const char *rule;     /* or NULL */
  const char *severity; /* the severities listed, joined by ',' ("warn,crit"), or NULL: all */
  int state;            /* VG_ALERT_ACTIVE or VG_ALERT_SILENCED alone; 0: both */
  int newest_first;     /* the latest day first (then the highest id), not date order */
  int has_after;        /* resume after the alert (after_day, after_id), in the order asked */
  int32_t after_day;
  int64_t after_id;
  long limit;           /* <= 0: no limit */
  int64_t id;           /* > 0: that alert only */
  int64_t entry;        /* > 0: the alerts that name this entry only (the other
                           filters then do not apply) */
  int retracted;        /* VG_ALERT_IN_FORCE (0): the alerts in force only;
                           VG_ALERT_RETRACTED: the retracted ones only; VG_ALERT_ANY: both.
                           An alert asked for by id or by entry is found either way. */
} vg_alert_query;

enum { VG_ALERT_IN_FORCE = 0, VG_ALERT_RETRACTED = 1, VG_ALERT_ANY = 2 };

/* Sets q's state and retracted filters from a state's name: "active"
 * (in force, not silenced), "silenced", "retracted" or "all". 0, or -1
 * for another word (q unchanged). */
int vg_alert_state_parse(const char *name, vg_alert_query *q);

typedef struct {
  int64_t id;
  const char *rule, *key, *severity, *message, *date, *created_at;
  const char *entries; /* entry ids joined by ',' */
  long long count;     /* how many events its window held (a threshold), or -1 */
  int version;         /* 1, and one more each time it was amended */
  int64_t silence_id;  /* the silence active when it was raised; 0: none */
  int32_t day;         /* the day number of date's first day */
  int retracted;       /* taken back: nothing holds it up any more (db/017_corrections.sql) */
  const char *retract_reason; /* why, when retracted; else NULL */
  const char *rule_file, *rule_hash; /* the rule's file and its XXH3-128 when last written, or
                                        NULL (an alert from before they were kept) */
  int64_t cause;       /* the entry whose arrival or change wrote this version; 0: unknown */
} vg_alert_row;

typedef int (*vg_alert_row_fn)(void *ud, const vg_alert_row *row);
/* Calls fn for each matching alert in date order (the day, then the id), or
 * the reverse with newest_first. 0, fn's non-zero, VG_EINVAL (a severity
 * list too long to be one), or VG_EDB. */
int vg_store_alerts(vg_store *st, const vg_alert_query *q, vg_alert_row_fn fn, void *ud);

/* ---- silences (db/013_silences.sql) ----
 * A silence keeps the alerts of a rule (of one key, or of any) from the
 * daemon's sinks until a time; they are still stored, marked with it. It
 * is active while it is not expired and its `until` is after the wall
 * clock (UTC): silences are about the operators' time, not the entries'
 * dates. Inside a write transaction "now" is the time it began (the same
 * instant as the ingestion time it stamps). Times are ISO 8601 UTC text,
 * "YYYY-MM-DDTHH:MM:SSZ", as the callers normalise them. */

/* A silence to add. */
typedef struct {
  const char *rule;   /* not empty */
  const char *key;    /* NULL: any key; else not empty */
  const char *until;  /* UTC, "YYYY-MM-DDTHH:MM:SSZ", after now */
  const char *author, *reason; /* not empty */
} vg_silence_in;

/* A stored silence; strings live until the callback returns. */
typedef struct {
  int64_t id;
  const char *rule, *key; /* key NULL: any key */
  const char *until, *author, *reason, *created_at;
  const char *expired_at; /* NULL until expired by hand */
  int active;             /* not expired, and until is after the wall clock now */
} vg_silence_row;
typedef int (*vg_silence_row_fn)(void *ud, const vg_silence_row *row);

/* Adds a silence in a transaction of its own (call it outside one), made
 * now: 0 with its id, VG_EINVAL (a field empty, or until not after now:
 * nothing written) or VG_EDB. */
int vg_store_silence_add(vg_store *st, const vg_silence_in *in, int64_t *id);
/* Expires silence id now, in a transaction of its own: 1 when it did, 0
 * when there is no active silence of that id (absent, expired already, or
 * lapsed: nothing changes), or VG_EDB. */
int vg_store_silence_expire(vg_store *st, int64_t id);
/* Calls fn for the silences whose id is above `after`, by id, at most
 * limit (<= 0: all): the active ones, or every one when `all`. 0, fn's
 * non-zero, or VG_EDB. */
int vg_store_silences(vg_store *st, int all, int64_t after, long limit, vg_silence_row_fn fn,
                      void *ud);
/* Calls fn with silence id: 1, 0 when there is none, fn's non-zero, or VG_EDB. */
int vg_store_silence(vg_store *st, int64_t id, vg_silence_row_fn fn, void *ud);
/* The first (lowest id) silence active for an alert of rule and key (NULL
 * or "" for none): 1 with its id, 0 with *id = 0 when none, or VG_EDB /
 * VG_ENOMEM. Inside a transaction the active silences are read once, at
 * its first call, and kept until the next begins: no query per alert. */
int vg_store_silence_match(vg_store *st, const char *rule, const char *key, int64_t *id);

/* Calls fn for each alert change (db/014_alert_log.sql) with a seq after
 * `after`, in seq order, at most limit (<= 0: no limit): kind is "alert"
 * (new) or "amend", row the alert as it is now, or NULL when it is no
 * longer stored. 0, fn's non-zero, or VG_EDB. */
typedef int (*vg_alert_log_fn)(void *ud, int64_t seq, const char *kind, const vg_alert_row *row);
int vg_store_alert_log(vg_store *st, int64_t after, long limit, vg_alert_log_fn fn, void *ud);
/* The seq of the last alert change, 0 when there is none, or VG_EDB. */
int64_t vg_store_alert_log_last(vg_store *st);

/* ---- correlation state (see db/002_marks.sql) ---- */

/* A mark: entry, with the span of its date, matched a step of a rule. */
typedef struct {
  int64_t entry;
  int32_t first, last; /* the span of days of its date */
  int64_t event;       /* the event it reports (vg_entry_event): its reports share it */
} vg_mark;

/* Records that m's entry matched step `step` of rule under key. 0 or VG_EDB.
 * The count of events of its span (below) follows, as it does when marks
 * are cleared and events merged: an event is counted once, in the span of
 * its first report (by first day, last day, then entry), since the reports
 * of a grouped event may lie on different days. */
int vg_store_mark(vg_store *st, const char *rule, int step, const char *key, const vg_mark *m);
/* The same, for a rule that never counts spans (all but thresholds): the
 * mark alone, with no tally of its span. */
int vg_store_mark_untallied(vg_store *st, const char *rule, int step, const char *key,
                            const vg_mark *m);
typedef int (*vg_mark_fn)(void *ud, const vg_mark *m);
/* Calls fn for each mark of (rule, step, key) whose first day lies in
 * [from, to], by day then entry (or the latest first). 0, fn's non-zero,
 * or VG_EDB. */
int vg_store_marks(vg_store *st, const char *rule, int step, const char *key, int32_t from,
                   int32_t to, int latest_first, vg_mark_fn fn, void *ud);
/* The same marks, latest day first and the reports of one event one after
 * the other: by day, event, then entry, all descending. */
int vg_store_marks_by_event(vg_store *st, const char *rule, int step, const char *key,
                            int32_t from, int32_t to, vg_mark_fn fn, void *ud);
/* The event of the mark of entry at (rule, step, key), whose first day is
 * `first`: 1 with it in *event, 0 when there is no such mark, or VG_EDB. */
int vg_store_mark_event(vg_store *st, const char *rule, int step, const char *key, int32_t first,
                        int64_t entry, int64_t *event);
/* Calls fn with each entry that reports `event` among the marks of (rule,
 * step, key), by first day then id: the first one is the event's first
 * report. They are the reports of a grouped event (vg_store_event_merge),
 * whatever their days, and the marks of `event` whose first day is
 * `first` (the day of one of its marks: an event reported word for word
 * has all its reports on that day). 0, fn's non-zero, or VG_EDB. */
int vg_store_event_reports(vg_store *st, const char *rule, int step, const char *key,
                           int32_t first, int64_t event, vg_id_fn fn, void *ud);
typedef int (*vg_span_fn)(void *ud, int32_t last, int32_t first, long long events,
                          int64_t entry);
/* Calls fn for each span of days of the marks of (rule, step, key) whose
 * last day lies in [from, to], by last day then first day, with the count
 * of events its marks report and `entry` the first entry stored with it (0
 * when unknown). Reads a row per span, not per mark. 0, fn's non-zero, or
 * VG_EDB. */
int vg_store_spans(vg_store *st, const char *rule, int step, const char *key, int32_t from,
                   int32_t to, vg_span_fn fn, void *ud);
/* How many distinct events the marks of (rule, step, key) lying wholly in
 * [from, to] report, reading a row per span of days, not per mark; -1 on
 * error. */
long long vg_store_span_events(vg_store *st, const char *rule, int step, const char *key,
                               int32_t from, int32_t to);
/* ---- events grouped across reports (db/012_event_groups.sql, core/events.c) ---- */

/* Records that entry, of event kind `kind` (its event tags joined by ','),
 * dated first..last, with vg_entry_event value own and its text's words
 * (words_len bytes, kept as given), reports `event` (replacing what was
 * recorded for it). 0 or VG_EDB. */
int vg_store_event_put(vg_store *st, int64_t entry, const char *kind, int32_t first,
                       int32_t last, int64_t own, int64_t event, const void *words,
                       size_t words_len);
/* Forgets the event of entry (before its rules run again); the other
 * reports of its event keep it. 0 or VG_EDB. */
int vg_store_event_forget(vg_store *st, int64_t entry);
/* An entry that may report the same event as a new one. */
typedef struct {
  int64_t entry;
  int32_t first, last;
  int64_t own, event;
  const void *words; /* as recorded, valid until the callback returns */
  size_t words_len;  /* its bytes */
  const char *source; /* the entry's, valid until the callback returns */
} vg_event_candidate;
typedef int (*vg_event_candidate_fn)(void *ud, const vg_event_candidate *c);
/* Calls fn for each recorded entry of kind `kind` other than `except`
 * whose first day lies within a day of `day`: those of that day first, then
 * of the day before, then of the day after, the latest stored first within
 * a day, at most `limit` of them. 0, fn's non-zero, or VG_EDB. */
int vg_store_event_candidates(vg_store *st, const char *kind, int32_t day, int64_t except,
                              int limit, vg_event_candidate_fn fn, void *ud);
/* Merges event `from` into `to`: the entries and the marks (of every rule)
 * of `from` report `to` from now on, and the per-span counts of events
 * follow. Alerts stay as they were. 0, VG_ENOMEM or VG_EDB. */
int vg_store_event_merge(vg_store *st, int64_t from, int64_t to);
/* The event recorded for entry: 1 with it, 0 when none (the entry has no
 * event tag, or was stored before events were grouped), or VG_EDB. */
int vg_store_entry_event(vg_store *st, int64_t entry, int64_t *event);
/* Calls fn with each entry recorded as reporting event, by date then id. */
int vg_store_event_members(vg_store *st, int64_t event, vg_id_fn fn, void *ud);

/* The span of days of a stored entry: 1, 0 if there is none, or VG_EDB. */
int vg_store_entry_span(vg_store *st, int64_t id, int32_t *first, int32_t *last);
/* Removes every mark of entry (before its rules run again). */
int vg_store_clear_marks(vg_store *st, int64_t entry);
/* Removes the marks of entry left by one rule. 0 or VG_EDB. */
int vg_store_clear_rule_marks(vg_store *st, int64_t entry, const char *rule);
/* Calls fn with the stored entry id: fn's result, VG_EINVAL if there is no
 * such entry, or VG_EDB. */
int vg_store_entry(vg_store *st, int64_t id, vg_row_fn fn, void *ud);
/* The same without the tags (the row's tags are NULL): a narrower look-up. */
int vg_store_entry_untagged(vg_store *st, int64_t id, vg_row_fn fn, void *ud);
/* How many alerts of rule and key have a day in [from, to], other than the
 * one with dedup key except_dedup; or VG_EDB. */
int vg_store_alerts_near(vg_store *st, const char *rule, const char *key, int32_t from,
                         int32_t to, const char *except_dedup);

/* Absence rules: an entry waits until `deadline` for a later step. */
int vg_store_absence_add(vg_store *st, const char *rule, const char *key, int64_t entry,
                         int32_t deadline);
/* The state of the absence of entry under rule ("waiting", "satisfied" or
 * "fired"): 1 with it in state, 0 when there is none, or VG_EDB. */
int vg_store_absence_state(vg_store *st, const char *rule, int64_t entry, char state[16]);
/* Moves a waiting absence to state "satisfied" or "fired". */
int vg_store_absence_set(vg_store *st, const char *rule, int64_t entry, const char *state);
typedef int (*vg_absence_fn)(void *ud, const char *rule, const char *key, int64_t entry,
                             int32_t deadline);
/* Calls fn for each waiting absence whose deadline is before watermark. */
int vg_store_absences_due(vg_store *st, int32_t watermark, vg_absence_fn fn, void *ud);
/* The same for the absences that fired with a deadline from `from` on (a
 * watermark moved back by a correction may leave them not due yet). */
int vg_store_absences_fired(vg_store *st, int32_t from, vg_absence_fn fn, void *ud);

/* Named integers kept across runs: get returns 1 (found), 0, or VG_EDB;
 * max raises the stored value to value if it is lower. */
int vg_store_state_get(vg_store *st, const char *name, int64_t *value);
int vg_store_state_max(vg_store *st, const char *name, int64_t value);

/* The history rules may read: entries carrying tag whose whole span lies in
 * [from, to]. count returns -1 on error. */
long long vg_store_count_tag(vg_store *st, const char *tag, int32_t from, int32_t to);
int vg_store_entries_tag(vg_store *st, const char *tag, int32_t from, int32_t to, long limit,
                         vg_row_fn fn, void *ud);

/* ---- digests ---- */

typedef int (*vg_count_fn)(void *ud, const char *tag, long long count, long long before);
/* Calls fn for each tag, by name, with how many events carrying it overlap
 * [from, to] and how many overlap [before_from, before_to] (the reports
 * grouped into one event count once, vg_store_event_merge). 0, fn's
 * non-zero, or VG_EDB. */
int vg_store_tag_counts(vg_store *st, int32_t from, int32_t to, int32_t before_from,
                        int32_t before_to, vg_count_fn fn, void *ud);
/* Records that digest `name` was written for the period first..last (ISO
 * days), listing its files; a period already recorded is kept. 0 or VG_EDB. */
int vg_store_digest_ran(vg_store *st, const char *name, const char *first, const char *last,
                        const char *files);
/* The last period a digest was written for: 1 with its last day and when it
 * ran, 0 if never, or VG_EDB. */
int vg_store_digest_last(vg_store *st, const char *name, char last[11], char ran_at[32]);

/* An absence whose window closed with nothing in it (db/002_marks.sql),
 * with the alert in force it raised and its first-step entry. Strings are
 * valid until the callback returns. */
typedef struct {
  int64_t alert_id;
  const char *rule, *severity, *message; /* the alert's */
  int32_t deadline;                      /* the last day an answer could fall on */
  int64_t entry;                         /* the first-step entry, */
  const char *date, *text;               /* its date and text */
} vg_absence_closed;
typedef int (*vg_absence_closed_fn)(void *ud, const vg_absence_closed *a);
/* Calls fn for each fired absence whose deadline lies in [from, to] and
 * whose alert is in force (state 'active'), by deadline, then the entry's
 * first day. 0, fn's non-zero, or VG_EDB. */
int vg_store_absences_closed(vg_store *st, int32_t from, int32_t to, vg_absence_closed_fn fn,
                             void *ud);

/* An amendment or retraction of an alert, from the alert log. The alert's
 * fields are as it is now (NULL when its row is gone); date and text are
 * the causing entry's (NULL when entry is 0 or the entry is gone). */
typedef struct {
  int64_t seq;
  const char *at;   /* when, ISO 8601 UTC */
  const char *kind; /* "amend" or "retract" */
  int version;      /* the alert's version after the change */
  int64_t alert_id;
  const char *rule, *severity, *message, *reason; /* reason: alerts.retract_reason */
  int64_t entry;                                  /* the entry that caused it; 0: unknown */
  const char *date, *text;
} vg_alert_change;
typedef int (*vg_alert_change_fn)(void *ud, const vg_alert_change *c);
/* Calls fn for each 'amend' and 'retract' logged at or after `after` and,
 * when until is not NULL, at or before it (ISO 8601 UTC times, to the
 * second), in log order. Both ends are inclusive: a change logged in the
 * second a digest ran is told by that digest and the next rather than by
 * neither. 0, fn's non-zero, or VG_EDB. */
int vg_store_alert_changes(vg_store *st, const char *after, const char *until,
                           vg_alert_change_fn fn, void *ud);
/* When digest `name` last ran for a period before the one ending on last
 * (before) and for that period itself (own); "" for never. 0 or VG_EDB. */
int vg_store_digest_bounds(vg_store *st, const char *name, const char *last,
                           char before[VG_UTC_ISO_MAX], char own[VG_UTC_ISO_MAX]);

/* ---- feeds (see db/005_feeds.sql) ---- */

/* The entry an item of a feed became and the hash of what it said: 1, 0 if
 * the item is new, or VG_EDB. */
int vg_store_feed_item(vg_store *st, const char *feed, const char *guid, int64_t *entry,
                       uint8_t content[16]);
/* Records (or updates the content hash of) an item of a feed. 0 or VG_EDB. */
int vg_store_feed_item_put(vg_store *st, const char *feed, const char *guid, int64_t entry,
                           const uint8_t content[16]);

/* The entry the row of table format `format` with id `key` became, in
 * *entry, and its last-edit mark ("" for none) in edited (cap bytes).
 * Returns 1 when the id is known, 0 when not, or VG_EDB. */
int vg_store_row_key(vg_store *st, const char *format, const char *key, int64_t *entry,
                     char *edited, size_t cap);
/* Records (or moves) the id `key` of format `format` as entry's, with its
 * last-edit mark (NULL: none). 0 or VG_EDB. */
int vg_store_row_key_put(vg_store *st, const char *format, const char *key, int64_t entry,
                         const char *edited);
/* Whether a reject of a feed was kept already with this content: key names
 * the item or line (a hash of its guid or bytes), content hashes what it
 * said (db/008_feed_rejects.sql). 1 when it was, 0 when not (or when it
 * said something else then), or VG_EDB. */
int vg_store_feed_reject_seen(vg_store *st, const char *feed, const uint8_t key[16],
                              const uint8_t content[16]);
/* Notes that a reject of a feed was kept with this content (replacing what
 * was noted for key). 0 or VG_EDB. */
int vg_store_feed_reject_put(vg_store *st, const char *feed, const uint8_t key[16],
                             const uint8_t content[16]);

/* What a poll of a feed leaves behind. */
typedef struct {
  const char *url, *source;
  const char *etag, *last_modified; /* NULL: keep the stored ones */
  const char *error;                /* NULL after a good poll */
  int failures;                     /* consecutive failures now */
  uint64_t items;                   /* items ingested by this poll */
  char next_poll[32];               /* UTC, or "": keep the stored one (none for a new feed) */
} vg_feed_health;
/* The stored validators and failure count of a feed (strings malloc'd, or
 * NULL): 1, 0 if never polled, or VG_EDB. */
int vg_store_feed_get(vg_store *st, const char *url, char **etag, char **modified,
                      int *failures);
int vg_store_feed_put(vg_store *st, const vg_feed_health *h);

typedef struct {
  const char *url, *source, *last_success, *last_error, *last_error_at;
  int failures;
  long long polls, items_seen;
  const char *next_poll;
  const char *last_archive; /* the archive its listing named that was ingested last, or NULL */
} vg_feed_row;
typedef int (*vg_feed_row_fn)(void *ud, const vg_feed_row *row);
int vg_store_feeds(vg_store *st, vg_feed_row_fn fn, void *ud);

/* An archive a feed's listing named, ingested (db/019_feed_archives.sql). */
typedef struct {
  const char *feed, *name, *md5;
  uint64_t size;
  uint64_t stored, duplicates, rejected; /* what its rows became */
} vg_feed_archive;
/* Whether feed ingested the archive `name` already: 1, 0, or VG_EDB. */
int vg_store_feed_archive_seen(vg_store *st, const char *feed, const char *name);
/* Records an archive ingested, in the transaction of its entries. 0, or
 * VG_EDB (one recorded already among them). */
int vg_store_feed_archive_put(vg_store *st, const vg_feed_archive *a);

/* ---- spool files: how far each was read ---- */

/* One spool file's progress, written in the transaction of the lines it
 * covers (db/006_spool.sql). */
typedef struct {
  char identity[128];            /* of the file it describes: inode, size, mtime */
  uint64_t offset;               /* bytes read, to the end of the last line committed */
  uint64_t line;                 /* lines committed */
  uint64_t stored, duplicates, rejected; /* what they became */
  int64_t first_reject;          /* the file's rejects have ids above this */
} vg_spool_mark;

/* Reads the mark of spool file `name` into m: 1 when there is one, 0 when
 * not (m zeroed), VG_EDB. */
int vg_store_spool_get(vg_store *st, const char *name, vg_spool_mark *m);
/* Writes it, inside the caller's open transaction. 0 or VG_EDB. */
int vg_store_spool_put(vg_store *st, const char *name, const vg_spool_mark *m);
/* Deletes it once the file has moved on. 0 or VG_EDB. */
int vg_store_spool_forget(vg_store *st, const char *name);
/* Calls fn with the name of each mark, in order; stops at fn's first
 * non-zero return, which it returns; VG_EDB on a database error. */
int vg_store_spool_names(vg_store *st, int (*fn)(void *ud, const char *name), void *ud);
/* The largest reject id so far (0 when none) into *id. 0 or VG_EDB. */
int vg_store_last_reject(vg_store *st, int64_t *id);
/* Calls fn with the line and reason of each reject of `origin` whose id is
 * above `after`, in order; stops at fn's first non-zero return, which it
 * returns; VG_EDB on a database error. */
typedef int (*vg_reject_row_fn)(void *ud, uint64_t line, const char *reason);
int vg_store_rejects_of(vg_store *st, const char *origin, int64_t after, vg_reject_row_fn fn,
                        void *ud);

/* ---- JetStream messages (db/015_nats.sql) ---- */

/* Whether message seq of stream was taken before: 1 with the entry it
 * stored or duplicated in *entry_id (0 when its line was rejected; may be
 * NULL), 0 when not, or VG_EDB. */
int vg_store_nats_seen(vg_store *st, const char *stream, uint64_t seq, int64_t *entry_id);
/* Notes that message seq of stream was taken, as entry_id (<= 0: its line
 * was rejected), inside the caller's transaction. 0 or VG_EDB (a message
 * noted twice is VG_EDB: ask vg_store_nats_seen first). */
int vg_store_nats_put(vg_store *st, const char *stream, uint64_t seq, int64_t entry_id);
/* The highest seq of stream taken, 0 for none, or VG_EDB. */
int64_t vg_store_nats_last(vg_store *st, const char *stream);
/* Renames the rows of stream to `as`, inside the caller's transaction: a
 * stream made anew numbers from 1 again, and the messages taken from the
 * one before must not be taken for its. The rows renamed, or VG_EDB. */
int64_t vg_store_nats_retire(vg_store *st, const char *stream, const char *as);

/* The value of the database's fact `name` (table meta: "db_id", a random
 * name made once for the database) into out: 1, 0 when there is none, or
 * VG_EDB. */
int vg_store_meta(vg_store *st, const char *name, char *out, size_t cap);
/* Sets the fact `name` to value (inside the caller's transaction, if any):
 * 0 or VG_EDB. */
int vg_store_meta_set(vg_store *st, const char *name, const char *value);

/* ---- the outbox (db/016_outbox.sql): deliveries of alerts not yet over ---- */

/* One delivery: an alert change for one sink. Loaded rows point into the
 * store, valid during the callback only. */
typedef struct {
  int64_t id;           /* the row's id (0 until written) */
  const char *sink;     /* the sink's name */
  int64_t alert_id;
  int version;          /* the alert's version */
  const char *rule;     /* the alert's rule */
  const char *payload;  /* the alert's JSON at that version */
  unsigned attempts;    /* tries that failed so far */
} vg_outbox_row;

/* Writes a delivery, due at `due` (unix ms), for owner (NULL: the
 * daemon's) holding it until `lease` (unix ms; ignored without owner);
 * inside the caller's transaction. 0 or VG_EDB. */
int vg_store_outbox_add(vg_store *st, const vg_outbox_row *r, int64_t due, const char *owner,
                        int64_t lease);
/* Takes up to limit rows of owner (NULL: the daemon's) due at `now` and not
 * taken, oldest due first: calls fn on each (a non-zero return stops, and
 * is returned), then marks those it took as taken at now (an owner's lease
 * renewed to `lease`). Returns how many it took, or VG_EDB / VG_ENOMEM. */
int vg_store_outbox_take(vg_store *st, const char *owner, int64_t now, int64_t lease,
                         size_t limit, int (*fn)(void *ud, const vg_outbox_row *r), void *ud);
/* The results of a delivery of row id by owner (NULL: the daemon). Each
 * changes the row only while owner still owns it: one the daemon took over
 * from a one-shot command is the daemon's to finish. 0 or VG_EDB. */
/* The row was delivered: deleted. */
int vg_store_outbox_done(vg_store *st, int64_t id, const char *owner);
/* The try failed: one more attempt, the error kept, due again at `due`,
 * no longer taken. */
int vg_store_outbox_failed(vg_store *st, int64_t id, int64_t due, const char *error,
                           const char *owner);
/* The row was not tried (its sink was busy or closing): due again at
 * `due`, no longer taken, its attempts unchanged. */
int vg_store_outbox_later(vg_store *st, int64_t id, int64_t due, const char *owner);
/* A one-shot command is still at work: its rows' lease runs to `lease`.
 * 0 or VG_EDB. */
int vg_store_outbox_renew(vg_store *st, const char *owner, int64_t lease);
/* The earliest due time of owner's rows not taken, -1 when none, or VG_EDB. */
int64_t vg_store_outbox_next(vg_store *st, const char *owner);
/* The rows of the outbox, or VG_EDB. */
int64_t vg_store_outbox_count(vg_store *st);
/* The daemon starts: its rows still marked taken (by a daemon that died)
 * wait again. How many, or VG_EDB. */
int64_t vg_store_outbox_reset(vg_store *st);
/* Rows of one-shot owners whose lease ended before now become the
 * daemon's. How many, or VG_EDB. */
int64_t vg_store_outbox_adopt(vg_store *st, int64_t now);
/* A one-shot owner exits: its rows become the daemon's. How many, or VG_EDB. */
int64_t vg_store_outbox_release(vg_store *st, const char *owner);

/* ---- what explanations read (core/explain.c) ---- */

/* One change of an alert (db/017_corrections.sql's alert_log): its seq,
 * the version it made, kind "alert", "amend" or "retract", when (UTC), and
 * the entry whose arrival, correction or retraction made it (0: unknown). */
typedef int (*vg_alert_history_fn)(void *ud, int64_t seq, int version, const char *kind,
                                   const char *at, int64_t entry);
/* Calls fn for each change of alert `alert`, oldest first. 0, fn's
 * non-zero, or VG_EDB. */
int vg_store_alert_history(vg_store *st, int64_t alert, vg_alert_history_fn fn, void *ud);
typedef int (*vg_keyed_mark_fn)(void *ud, const vg_mark *m, const char *key);
/* Calls fn for the marks of (rule, step), whatever their key, whose first
 * day lies in [from, to], nearest to `day` first (then by day and entry),
 * at most limit (<= 0: all). 0, fn's non-zero, or VG_EDB. */
int vg_store_marks_near(vg_store *st, const char *rule, int step, int32_t day, int32_t from,
                        int32_t to, long limit, vg_keyed_mark_fn fn, void *ud);

#endif

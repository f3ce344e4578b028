/* test_store.c — the SQLite store: open and migrate, insert, dedup, rejects, queries.
 *
 * Each test runs on a fresh database file in its own temporary directory.
 * Covers that opening creates the schema at the newest migration, that the
 * same entry is stored once, that a rollback keeps nothing, that rejected
 * lines are kept (read back with SQLite directly, as the API has no reader
 * for them), every query filter (date window overlap, source, limit,
 * full-text words) and the date order of results, and the refusals of a
 * newer schema and of a read-only open of a missing file; that a database
 * of schema 6 gets the events of its marks and their count per span of
 * days on migrating, and that the count follows marks cleared. Also what another
 * process can do to the database: hold its write lock (a write waits up to
 * the busy timeout, then fails saying the database is locked, and works
 * again once the lock is gone), or leave it unwritable (a writer's open is
 * refused, naming the file or its directory; run as root, that case drops
 * to the nobody user in a child process, since root ignores file modes).
 * And what `vigil show` and `vigil query` read of one entry: its latest
 * update beside its first text, its updates oldest first, its marks and the
 * alerts that name it; a text search finds an entry by any version of its
 * text, and an index holding updates of another database is rebuilt.
 * Silences: added (a time past or an empty field refused), listed (active,
 * or all, by pages), expired once and kept; a new alert is marked with the
 * first active silence of its rule and key (or any key), one added by
 * another connection is seen at the next transaction, and an amended alert
 * keeps the silence it had. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "entry.h"
#include "store.h"
#include "vigil.h"

#include "support.h"

#define assert_contains(hay, needle)                                                               \
  do {                                                                                             \
    if (!strstr((hay), (needle))) fail_msg("expected \"%s\" in \"%s\"", (needle), (hay));          \
  } while (0)

/* One test's temporary directory, database path and open store. */
typedef struct {
  char dir[64];
  char path[128];
  vg_store *st;
} fixture;

static int setup(void **state) {
  fixture *fx = calloc(1, sizeof *fx);
  if (!fx) return -1;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/vigil-store-XXXXXX");
  if (!mkdtemp(fx->dir)) {
    free(fx);
    return -1;
  }
  snprintf(fx->path, sizeof fx->path, "%s/vigil.db", fx->dir);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture *fx = *state;
  vg_store_close(fx->st);
  support_remove_dir(fx->dir);
  free(fx);
  return 0;
}

/* Opens the fixture's database for writing, failing the test on error. */
static vg_store *open_store(fixture *fx) {
  char err[256] = "";
  fx->st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!fx->st) fail_msg("cannot open %s: %s", fx->path, err);
  return fx->st;
}

/* Parses a line (format detected) from `source` and inserts it; returns
 * VG_STORED or VG_DUPLICATE and the id in *id. */
static int add(vg_store *st, const char *line, const char *source, int64_t *id) {
  vg_entry e;
  char why[VG_REASON_MAX] = "";
  if (vg_entry_parse(line, strlen(line), VG_FORMAT_AUTO, source, &e, why) != 0)
    fail_msg("fixture line refused: \"%s\": %s", line, why);
  int64_t got = -1;
  int rc = vg_store_insert(st, &e, &got);
  vg_entry_clear(&e);
  if (id) *id = got;
  return rc;
}

/* Adds lines in one transaction, expecting each to be stored. */
static void add_all(vg_store *st, const char *const *lines, size_t n, const char *source) {
  assert_int_equal(vg_store_begin(st), 0);
  for (size_t i = 0; i < n; i++) {
    int rc = add(st, lines[i], source, NULL);
    if (rc != VG_STORED) fail_msg("\"%s\" gave %d, not VG_STORED", lines[i], rc);
  }
  assert_int_equal(vg_store_commit(st), 0);
}

#define MAX_ROWS 16

/* What a query returned, copied out of the callback. */
typedef struct {
  size_t n;
  int64_t id[MAX_ROWS];
  char date[MAX_ROWS][40];
  char text[MAX_ROWS][160];
  char source[MAX_ROWS][40];
  char precision[MAX_ROWS][8];
  char ingested_at[MAX_ROWS][40];
  int has_fields[MAX_ROWS];
  char fields[MAX_ROWS][160];
  char update_text[MAX_ROWS][160]; /* "" when it has no update */
  char updated_at[MAX_ROWS][40];
} rows;

static int collect(void *ud, const vg_row *r) {
  rows *out = ud;
  if (out->n == MAX_ROWS) return -100;
  size_t i = out->n++;
  out->id[i] = r->id;
  snprintf(out->date[i], sizeof out->date[i], "%s", r->date);
  snprintf(out->text[i], sizeof out->text[i], "%s", r->text);
  snprintf(out->source[i], sizeof out->source[i], "%s", r->source);
  snprintf(out->precision[i], sizeof out->precision[i], "%s", r->precision);
  snprintf(out->ingested_at[i], sizeof out->ingested_at[i], "%s", r->ingested_at);
  out->has_fields[i] = r->fields != NULL;
  snprintf(out->fields[i], sizeof out->fields[i], "%s", r->fields ? r->fields : "");
  snprintf(out->update_text[i], sizeof out->update_text[i], "%s",
           r->update_text ? r->update_text : "");
  snprintf(out->updated_at[i], sizeof out->updated_at[i], "%s", r->updated_at ? r->updated_at : "");
  return 0;
}

/* Runs q, failing the test unless it returns 0. */
static void query(vg_store *st, const vg_query *q, rows *out) {
  memset(out, 0, sizeof *out);
  int rc = vg_store_query(st, q, collect, out);
  if (rc != 0) fail_msg("query returned %d: %s", rc, vg_store_errmsg(st));
}

static int query_count_text(vg_store *st, const char *text) {
  rows r;
  vg_query q = {0};
  q.text = text;
  query(st, &q, &r);
  return (int)r.n;
}

/* One integer from SQL run on the database file through its own connection. */
static long long sql_int(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  long long v = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    fail_msg("cannot open %s directly", path);
  }
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

/* The directory db/ of the project, found next to this source file. */
static void migrations_dir(char dir[PATH_MAX]) {
  snprintf(dir, PATH_MAX, "%s", __FILE__);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, PATH_MAX, ".");
  strncat(dir, "/../../db", PATH_MAX - strlen(dir) - 1);
}

/* The highest NNN of db/NNN_name.sql. */
static int highest_migration(void) {
  char dir[PATH_MAX];
  migrations_dir(dir);
  DIR *d = opendir(dir);
  if (!d) fail_msg("cannot read the migrations in %s (run from the project root)", dir);
  int high = -1;
  struct dirent *de;
  while ((de = readdir(d))) {
    int v;
    char rest[2];
    size_t len = strlen(de->d_name);
    if (len > 4 && strcmp(de->d_name + len - 4, ".sql") == 0 &&
        sscanf(de->d_name, "%d%1[_]", &v, rest) == 2 && v > high)
      high = v;
  }
  closedir(d);
  return high;
}

static void test_open_creates_and_migrates(void **state) {
  fixture *fx = *state;
  assert_int_not_equal(access(fx->path, F_OK), 0);
  int want = highest_migration();
  assert_true(want >= 1);
  vg_store *st = open_store(fx);
  assert_int_equal(access(fx->path, F_OK), 0);
  assert_int_equal(vg_store_schema_version(st), want);
  assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), want);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE name IN"
                                     " ('entries', 'rejects', 'entries_by_day')"),
                   3);
  /* Ingest writes no full-text index: it lives in a file of its own. */
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%fts%'"),
                   0);
}

static void test_reopen_keeps_version_and_entries(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  int version = vg_store_schema_version(st);
  const char *lines[] = {"Nov. 21, 2023: North Korea puts a reconnaissance satellite into orbit."};
  add_all(st, lines, 1, "desk");
  vg_store_close(st);
  fx->st = NULL;
  st = open_store(fx);
  assert_int_equal(vg_store_schema_version(st), version);
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 1);
}

static void test_insert_then_duplicate_gives_same_id(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *line = "Nov. 21, 2023: North Korea puts a reconnaissance satellite into orbit.";
  int64_t first = 0, again = 0, other = 0;
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, line, "desk", &first), VG_STORED);
  assert_true(first > 0);
  assert_int_equal(add(st, line, "desk", &again), VG_DUPLICATE);
  assert_int_equal(again, first);
  assert_int_equal(vg_store_commit(st), 0);
  /* In a later transaction, and with the date written another way. */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2023-11-21: North Korea puts a reconnaissance satellite into orbit.",
                       "desk", &again),
                   VG_DUPLICATE);
  assert_int_equal(again, first);
  /* Another source is another entry. */
  assert_int_equal(add(st, line, "desk-2", &other), VG_STORED);
  assert_int_not_equal(other, first);
  assert_int_equal(vg_store_commit(st), 0);
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 2);
}

/* The version of alert id, read back through vg_store_alerts. */
static int version_cb(void *ud, const vg_alert_row *row) {
  *(int *)ud = row->version;
  return 0;
}
static int alert_version(vg_store *st, int64_t id) {
  int v = 0;
  vg_alert_query q = {.id = id};
  assert_int_equal(vg_store_alerts(st, &q, version_cb, &v), 0);
  return v;
}

static void test_alert_amended_only_when_it_changes(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *lines[] = {"2023-11-21: North Korea launches a missile.",
                         "2023-11-25: North Korea launches another missile.",
                         "2023-12-01: The allies hold a drill."};
  int64_t e[3];
  assert_int_equal(vg_store_begin(st), 0);
  for (int i = 0; i < 3; i++) assert_int_equal(add(st, lines[i], "desk", &e[i]), VG_STORED);
  int64_t two[] = {e[0], e[2]}, three[] = {e[2], e[1], e[0]};
  vg_alert_in a = {"seq", "", "seq\x1f", "warn", "a launch, then a drill", "2023-12-01",
                   0,     two, 2,      -1, NULL, NULL, 0};
  int64_t id = 0, again = 0;
  assert_int_equal(vg_store_alert(st, &a, &id), VG_STORED);
  assert_int_equal(alert_version(st, id), 1);
  /* Amended in the transaction that raised it: no sink has seen it yet, so
   * it is still version 1. */
  a.entries = three;
  a.nentries = 3;
  assert_int_equal(vg_store_alert(st, &a, &again), VG_AMENDED);
  assert_int_equal(alert_version(st, id), 1);
  assert_int_equal(vg_store_alert_move(st, id, &a), 0);
  a.entries = two;
  a.nentries = 2;
  assert_int_equal(vg_store_alert_move(st, id, &a), VG_AMENDED);
  assert_int_equal(alert_version(st, id), 1);
  assert_int_equal(vg_store_commit(st), 0);
  /* In a later transaction: the same entries again, nothing changes. */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_alert(st, &a, &again), VG_DUPLICATE);
  assert_int_equal(again, id);
  assert_int_equal(alert_version(st, id), 1);
  /* One entry more: amended, one version up. */
  a.entries = three;
  a.nentries = 3;
  assert_int_equal(vg_store_alert(st, &a, &again), VG_AMENDED);
  assert_int_equal(again, id);
  assert_int_equal(alert_version(st, id), 2);
  /* Moved to what it already is (in another order): no new version. */
  assert_int_equal(vg_store_alert_move(st, id, &a), 0);
  assert_int_equal(alert_version(st, id), 2);
  /* Changed again in the same transaction: still one new version. */
  a.message = "the late launch, then a drill";
  a.entries = two;
  a.nentries = 2;
  assert_int_equal(vg_store_alert_move(st, id, &a), VG_AMENDED);
  assert_int_equal(alert_version(st, id), 2);
  assert_int_equal(vg_store_commit(st), 0);
  /* In the next transaction, a change is the next version. */
  assert_int_equal(vg_store_begin(st), 0);
  a.message = "a launch, then a drill, said again";
  assert_int_equal(vg_store_alert_move(st, id, &a), VG_AMENDED);
  assert_int_equal(alert_version(st, id), 3);
  assert_int_equal(vg_store_commit(st), 0);
}

static void test_old_threshold_alert_is_adopted_by_its_day(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  int64_t e = 0;
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2023-11-21: North Korea launches a missile.", "desk", &e), VG_STORED);
  int64_t one[] = {e};
  /* As an older vigil stored it: a dedup key of its trigger, no count. */
  vg_alert_in old = {"thr", "", "thr\x1f" "7\x1f", "crit", "3 launches", "2023-11-21", 19682,
                     one,   1,  -1, NULL, NULL, 0};
  int64_t id = 0, found = 0;
  assert_int_equal(vg_store_alert(st, &old, &id), VG_STORED);
  vg_alert_in day = old;
  day.dedup = "thr\x1f" "day\x1f" "19682\x1f\x1f";
  day.count = 3;
  assert_int_equal(vg_store_alert_adopt(st, &day), 1);
  assert_int_equal(vg_store_alert_find(st, day.dedup, &found), 1);
  assert_int_equal(found, id);
  assert_int_equal(vg_store_alert_adopt(st, &day), 0); /* once */
  /* Another day, or an alert that has a count, is not taken. */
  day.day = 19683;
  day.dedup = "thr\x1f" "day\x1f" "19683\x1f\x1f";
  assert_int_equal(vg_store_alert_adopt(st, &day), 0);
  assert_int_equal(vg_store_commit(st), 0);
}

static void test_query_row_holds_the_entry(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *lines[] = {
      "{\"date\": \"December 2023\", \"text\": \"Drills near the border.\","
      " \"source\": \"wire\", \"url\": \"https://example.org/d\"}",
  };
  add_all(st, lines, 1, "desk");
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.date[0], "2023-12");
  assert_string_equal(r.precision[0], "month");
  assert_string_equal(r.text[0], "Drills near the border.");
  assert_string_equal(r.source[0], "wire");
  assert_true(r.has_fields[0]);
  assert_contains(r.fields[0], "https://example.org/d");
  /* Stamped with a UTC time like 2024-01-02T03:04:05Z. */
  assert_int_equal(strlen(r.ingested_at[0]), 20);
  assert_int_equal(r.ingested_at[0][10], 'T');
  assert_int_equal(r.ingested_at[0][19], 'Z');
}

static void test_rollback_keeps_nothing(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  int64_t id;
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2023-07-12: North Korea tests a Hwasong-18 ICBM.", "desk", &id),
                   VG_STORED);
  vg_store_rollback(st);
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 0);
  assert_int_equal(query_count_text(st, "Hwasong-18"), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 0);
  /* The same entry can then be stored for real. */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2023-07-12: North Korea tests a Hwasong-18 ICBM.", "desk", &id),
                   VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(query_count_text(st, "Hwasong-18"), 1);
}

static void test_reject_is_kept(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char raw[] = "Pyongyang, no date on this line";
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(
      vg_store_reject(st, "desk", NULL, 7, "no date at the start of the line", raw, sizeof raw - 1, 500),
      0);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects"), 1);
  assert_int_equal(sql_int(fx->path, "SELECT line FROM rejects"), 7);
  assert_int_equal(sql_int(fx->path, "SELECT raw_length FROM rejects"), 500);
  assert_int_equal(sql_int(fx->path, "SELECT length(raw) FROM rejects"), sizeof raw - 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE source = 'desk' AND"
                                     " reason = 'no date at the start of the line' AND"
                                     " CAST(raw AS TEXT) = 'Pyongyang, no date on this line'"),
                   1);
  /* Rejects are not entries. */
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 0);
}

static void test_rejected_empty_line_is_kept(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_reject(st, "desk", NULL, 3, "empty line", "", 0, 0), 0);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM rejects WHERE line = 3"), 1);
}

static void test_long_reject_is_capped_with_full_length(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  size_t n = 300000;
  char *raw = malloc(n);
  assert_non_null(raw);
  memset(raw, 'z', n);
  assert_int_equal(vg_store_begin(st), 0);
  int rc = vg_store_reject(st, "desk", NULL, 1, "too long", raw, n, n);
  free(raw);
  assert_int_equal(rc, 0);
  assert_int_equal(vg_store_commit(st), 0);
  long long kept = sql_int(fx->path, "SELECT length(raw) FROM rejects");
  assert_true(kept > 0 && kept < (long long)n);
  assert_int_equal(sql_int(fx->path, "SELECT raw_length FROM rejects"), n);
}

/* The entries the window tests share: a day, a month and a later day. */
static void add_window_entries(vg_store *st) {
  const char *lines[] = {
      "Nov. 21, 2023: A satellite is put into orbit.",
      "December 2023: Artillery drills along the coast.",
      "Jan. 5, 2024: Shells land near Yeonpyeong island.",
  };
  add_all(st, lines, 3, "desk");
}

/* The dates of the entries whose span overlaps [since, until] (either may be unset). */
static void window(vg_store *st, const char *since, const char *until, rows *r) {
  vg_query q = {0};
  vg_date d;
  char err[128];
  if (since) {
    assert_int_equal(vg_date_parse(since, strlen(since), &d, err, sizeof err), 0);
    q.has_since = 1;
    q.since = d.first;
  }
  if (until) {
    assert_int_equal(vg_date_parse(until, strlen(until), &d, err, sizeof err), 0);
    q.has_until = 1;
    q.until = d.last;
  }
  query(st, &q, r);
}

static void test_query_since_includes_month_that_overlaps(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_window_entries(st);
  rows r;
  window(st, "2023-12-15", NULL, &r);
  assert_int_equal(r.n, 2);
  assert_string_equal(r.date[0], "2023-12");
  assert_string_equal(r.date[1], "2024-01-05");
  window(st, "2023-12-31", NULL, &r); /* the month's last day still overlaps */
  assert_int_equal(r.n, 2);
  window(st, "2024-01-01", NULL, &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.date[0], "2024-01-05");
}

static void test_query_until_includes_month_that_overlaps(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_window_entries(st);
  rows r;
  window(st, NULL, "2023-12-01", &r); /* the month's first day already overlaps */
  assert_int_equal(r.n, 2);
  assert_string_equal(r.date[0], "2023-11-21");
  assert_string_equal(r.date[1], "2023-12");
  window(st, NULL, "2023-11-30", &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.date[0], "2023-11-21");
}

static void test_query_window_inside_month(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_window_entries(st);
  rows r;
  window(st, "2023-12-10", "2023-12-12", &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.date[0], "2023-12");
  window(st, "2023-11-22", "2023-11-30", &r); /* between entries */
  assert_int_equal(r.n, 0);
  window(st, "2023-11-21", "2024-01-05", &r); /* bounds are inclusive */
  assert_int_equal(r.n, 3);
}

static void test_query_by_source(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *a[] = {"2023-11-21: Launch reported by the desk."};
  const char *b[] = {"2023-11-21: Launch reported by the wire.",
                     "2023-11-22: Wire follow-up on the launch."};
  add_all(st, a, 1, "desk");
  add_all(st, b, 2, "wire");
  rows r;
  vg_query q = {0};
  q.source = "wire";
  query(st, &q, &r);
  assert_int_equal(r.n, 2);
  assert_string_equal(r.source[0], "wire");
  assert_string_equal(r.source[1], "wire");
  q.source = "nobody";
  query(st, &q, &r);
  assert_int_equal(r.n, 0);
  q.source = "Wire"; /* exact, so case matters */
  query(st, &q, &r);
  assert_int_equal(r.n, 0);
}

static void test_query_limit(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *lines[] = {"2023-03-03: third", "2023-01-01: first", "2023-02-02: second"};
  add_all(st, lines, 3, "desk");
  rows r;
  vg_query q = {0};
  q.limit = 2;
  query(st, &q, &r);
  assert_int_equal(r.n, 2);
  assert_string_equal(r.text[0], "first");
  assert_string_equal(r.text[1], "second");
  q.limit = 0;
  query(st, &q, &r);
  assert_int_equal(r.n, 3);
}

static void test_query_in_date_order(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *lines[] = {
      "2024-01-05: e", "2023-11-21T22:00:00+09:00: c", "2023: a", "mid-November 2023: b",
      "2023-11-21: d",
  };
  add_all(st, lines, 5, "desk");
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 5);
  /* By first day: 2023-01-01, 11-11, 11-21 (c, stored first), 11-21 (d), 2024-01-05. */
  const char *want = "abcde";
  for (size_t i = 0; i < 5; i++)
    if (r.text[i][0] != want[i])
      fail_msg("row %zu is \"%s\" (%s), expected \"%c\"", i, r.text[i], r.date[i], want[i]);
  assert_true(r.id[2] < r.id[3]);
}

/* Entries for the full-text tests. */
static void add_text_entries(vg_store *st) {
  const char *lines[] = {
      "2023-07-12: North Korea launches a Hwasong-18 solid-fuel ICBM.",
      "2023-08-21: South Korea and the United States begin joint drills.",
      "2023-11-21: North Korea puts a reconnaissance satellite into orbit.",
  };
  add_all(st, lines, 3, "desk");
}

static void test_query_text_needs_every_word(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  assert_int_equal(query_count_text(st, "korea north"), 2);
  assert_int_equal(query_count_text(st, "North satellite"), 1);
  assert_int_equal(query_count_text(st, "North drills"), 0);
  assert_int_equal(query_count_text(st, "  satellite \t orbit "), 1);
}

static void test_query_text_with_hyphen(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  rows r;
  vg_query q = {0};
  q.text = "Hwasong-18";
  query(st, &q, &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.date[0], "2023-07-12");
  assert_int_equal(query_count_text(st, "solid-fuel ICBM"), 1);
}

/* Closes the fixture's store and removes its database (and log), leaving
 * what lies beside it; opens a new, empty one under the same name. */
static vg_store *new_database(fixture *fx) {
  vg_store_close(fx->st);
  fx->st = NULL;
  unlink(fx->path);
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", fx->path);
  unlink(wal);
  return open_store(fx);
}

/* The text index's file beside the fixture's database. */
static void text_file(const fixture *fx, char *out, size_t cap) {
  snprintf(out, cap, "%s-text", fx->path);
}

static void test_text_index_follows_entries_stored_after_it(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  char file[160];
  text_file(fx, file, sizeof file);
  assert_int_equal(access(file, F_OK), 0);
  assert_int_equal(sql_int(file, "SELECT upto FROM text_state"), 3);
  const char *more[] = {"2024-01-14: North Korea fires a solid-fuel missile with a glide vehicle."};
  add_all(st, more, 1, "desk");
  /* Stored after the index was last brought up to date: found all the same. */
  assert_int_equal(query_count_text(st, "Korea"), 4);
  assert_int_equal(query_count_text(st, "glide vehicle"), 1);
  assert_int_equal(sql_int(file, "SELECT upto FROM text_state"), 4);
}

static void test_text_index_goes_by_chunks(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  long long n = -1;
  assert_int_equal(vg_store_index_text(st, 2, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(vg_store_index_text(st, 2, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(vg_store_index_text(st, 2, &n), 0);
  assert_int_equal(n, 0);
  /* Each entry once: a word of the last appears once. */
  assert_int_equal(query_count_text(st, "satellite"), 1);
}

static void test_text_index_of_other_entries_is_rebuilt(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  /* A new database under the same name, beside the old one's index. */
  st = new_database(fx);
  const char *lines[] = {"2024-03-04: Allied forces begin the Freedom Shield exercise.",
                         "2024-03-18: North Korea fires short-range ballistic missiles.",
                         "2024-04-02: A hypersonic missile is launched from Pyongyang."};
  add_all(st, lines, 3, "desk");
  /* The old index said ids 1-3 hold "Korea" three times: it must not be trusted. */
  assert_int_equal(query_count_text(st, "Korea"), 1);
  assert_int_equal(query_count_text(st, "missile"), 1);
  assert_int_equal(query_count_text(st, "Freedom Shield"), 1);
  assert_int_equal(query_count_text(st, "satellite"), 0);
}

static void test_text_index_in_memory_when_its_file_cannot_be_made(void **state) {
  fixture *fx = *state;
  char file[160];
  text_file(fx, file, sizeof file);
  assert_int_equal(mkdir(file, 0700), 0); /* a directory where the file would go */
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  assert_int_equal(query_count_text(st, "korea north"), 2);
  assert_int_equal(rmdir(file), 0);
}

/* A new database under the old name whose last entry is the old one's last:
 * the index beside it is still not its own. */
static void test_text_index_of_a_new_database_ending_alike_is_rebuilt(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *old[] = {"2023-01-01: the volcano erupts", "2023-01-02: talks resume in Geneva"};
  add_all(st, old, 2, "desk");
  assert_int_equal(query_count_text(st, "volcano"), 1);
  st = new_database(fx);
  const char *now[] = {"2023-01-01: the earthquake strikes", "2023-01-02: talks resume in Geneva"};
  add_all(st, now, 2, "desk");
  assert_int_equal(query_count_text(st, "volcano"), 0);
  assert_int_equal(query_count_text(st, "earthquake"), 1);
  assert_int_equal(query_count_text(st, "Geneva"), 1);
}

static void test_text_index_damaged_is_built_again(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  vg_store_close(st);
  fx->st = NULL;
  char file[160];
  text_file(fx, file, sizeof file);
  FILE *f = fopen(file, "r+b"); /* its header and first pages overwritten */
  assert_non_null(f);
  char junk[8192];
  memset(junk, 'x', sizeof junk);
  assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
  assert_int_equal(fclose(f), 0);
  st = open_store(fx);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  assert_int_equal(query_count_text(st, "satellite"), 1);
  assert_int_equal(sql_int(file, "SELECT upto FROM text_state"), 3);
}

static void test_text_index_removed_while_open_is_made_again(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "Korea"), 3);
  char file[160];
  text_file(fx, file, sizeof file);
  assert_int_equal(unlink(file), 0);
  const char *more[] = {"2024-01-14: North Korea fires a missile with a glide vehicle."};
  add_all(st, more, 1, "desk");
  assert_int_equal(query_count_text(st, "Korea"), 4);
  assert_int_equal(access(file, F_OK), 0);
  assert_int_equal(sql_int(file, "SELECT upto FROM text_state"), 4);
}

static void test_text_index_file_only_never_in_memory(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  vg_store_close(st);
  fx->st = NULL;
  char file[160];
  text_file(fx, file, sizeof file);
  assert_int_equal(mkdir(file, 0700), 0);
  char err[256];
  st = vg_store_open(fx->path, VG_STORE_READONLY | VG_STORE_TEXT_FILE, err, sizeof err);
  assert_non_null(st);
  long long n = -1;
  assert_int_equal(vg_store_index_text(st, 0, &n), VG_EDB);
  assert_int_equal(n, 0);
  vg_store_close(st);
  assert_int_equal(rmdir(file), 0);
}

static void test_query_text_with_stray_quote(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  /* None of these may be an error; a quote is just punctuation. */
  assert_int_equal(query_count_text(st, "\"satellite"), 1);
  assert_int_equal(query_count_text(st, "North \"Korea"), 2);
  assert_int_equal(query_count_text(st, "\""), 0);
}

static void test_query_blank_text_is_not_an_error(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  /* Text without any word must not reach FTS as an empty, invalid query. */
  const char *blank[] = {"", "   \t "};
  for (size_t i = 0; i < 2; i++) {
    rows r;
    vg_query q = {0};
    q.text = blank[i];
    memset(&r, 0, sizeof r);
    int rc = vg_store_query(st, &q, collect, &r);
    if (rc != 0) fail_msg("text \"%s\" gave %d: %s", blank[i], rc, vg_store_errmsg(st));
  }
}

static void test_query_text_with_fts_operators(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  /* Words that are operators in FTS syntax are searched as words. */
  assert_int_equal(query_count_text(st, "NOT satellite"), 0);
  assert_int_equal(query_count_text(st, "Korea OR drills"), 0);
  assert_int_equal(query_count_text(st, "satellite AND orbit"), 0);
}

static void test_query_text_combines_with_filters(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  rows r;
  vg_query q = {0};
  q.text = "Korea";
  q.has_since = 1;
  q.since = vg_days_from_civil(2023, 8, 1);
  q.limit = 1;
  query(st, &q, &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.date[0], "2023-08-21");
}

/* Runs SQL on the database file through its own connection. */
static void sql_exec(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  char *msg = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) fail_msg("%s: %s", sql, msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  sqlite3_close(db);
}

/* Brings a new database file to schema `version` with db/'s own migrations,
 * as an older vigil left it. */
static void make_schema(const char *path, int version) {
  char dir[PATH_MAX];
  migrations_dir(dir);
  for (int v = 1; v <= version; v++) {
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot read the migrations in %s", dir);
    struct dirent *de;
    char file[PATH_MAX * 2] = "";
    while ((de = readdir(d)))
      if (atoi(de->d_name) == v && strstr(de->d_name, ".sql"))
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
    closedir(d);
    if (!file[0]) fail_msg("no migration %03d in %s", v, dir);
    FILE *f = fopen(file, "r");
    if (!f) fail_msg("cannot read %s", file);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    sql_exec(path, text);
  }
  char pragma[64];
  snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
  sql_exec(path, pragma);
}

static int sum_ids(void *ud, int64_t id) {
  *(int64_t *)ud += id;
  return 0;
}

/* The marks an older vigil left are given their events: two reports of one
 * launch (from two sources, worded apart by case and punctuation) count as
 * one event of their span, a third launch as another. */
static void test_migration_gives_old_marks_their_events(void **state) {
  fixture *fx = *state;
  make_schema(fx->path, 6);
  int32_t day = vg_days_from_civil(2023, 3, 1);
  char sql[2048];
  snprintf(sql, sizeof sql,
           "INSERT INTO entries (id, date, precision, day_first, day_last, text, source,"
           " ingested_at, hash) VALUES"
           " (1, '2023-03-01', 'day', %d, %d, 'North Korea fires a missile.', 'spool', 'x', x'01'),"
           " (2, '2023-03-01', 'day', %d, %d, 'north korea FIRES a missile', 'cli', 'x', x'02'),"
           " (3, '2023-03-01', 'day', %d, %d, 'North Korea fires two missiles', 'cli', 'x', x'03');"
           "INSERT INTO marks (rule, step, key, day_first, day_last, entry_id) VALUES"
           " ('thr', 0, '', %d, %d, 1), ('thr', 0, '', %d, %d, 2), ('thr', 0, '', %d, %d, 3);",
           day, day, day, day, day, day, day, day, day, day, day, day);
  sql_exec(fx->path, sql);

  vg_store *st = open_store(fx);
  assert_int_equal(vg_store_schema_version(st), highest_migration());
  int64_t e1 = 0, e2 = 0, e3 = 0;
  assert_int_equal(vg_store_mark_event(st, "thr", 0, "", day, 1, &e1), 1);
  assert_int_equal(vg_store_mark_event(st, "thr", 0, "", day, 2, &e2), 1);
  assert_int_equal(vg_store_mark_event(st, "thr", 0, "", day, 3, &e3), 1);
  const char *text = "North Korea fires a missile.";
  assert_true(e1 == vg_entry_event(text, strlen(text), day, day));
  assert_true(e1 == e2);
  assert_true(e1 != e3);
  int64_t ids = 0;
  assert_int_equal(vg_store_event_reports(st, "thr", 0, "", day, e1, sum_ids, &ids), 0);
  assert_int_equal(ids, 1 + 2);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day - 30, day), 2);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day + 1, day + 30), 0);
  assert_int_equal(sql_int(fx->path, "SELECT entry FROM mark_spans WHERE rule = 'thr'"), 1);

  /* The count follows marks as they come and go. */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_clear_marks(st, 1), 0);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day, day), 2); /* 2 reports it still */
  assert_int_equal(vg_store_clear_marks(st, 2), 0);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day, day), 1);
  vg_mark m = {2, day, day, e2};
  assert_int_equal(vg_store_mark(st, "thr", 0, "", &m), 0);
  assert_int_equal(vg_store_mark(st, "thr", 0, "", &m), 0); /* a mark is kept once */
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day, day), 2);
  /* Clearing one rule's marks of an entry counts too, and leaves the others. */
  vg_mark other = {3, day, day, e3};
  assert_int_equal(vg_store_mark(st, "other", 0, "", &other), 0);
  assert_int_equal(vg_store_clear_rule_marks(st, 3, "thr"), 0);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day, day), 1);
  assert_int_equal(vg_store_span_events(st, "other", 0, "", day, day), 1);
  vg_mark back = {3, day, day, e3};
  assert_int_equal(vg_store_mark(st, "thr", 0, "", &back), 0);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day, day), 2);
  /* A mark of a rule that counts no spans is kept without a tally; clearing
   * it leaves the tallies of the others as they were. */
  assert_int_equal(vg_store_mark_untallied(st, "seq", 0, "", &m), 0);
  assert_int_equal(vg_store_mark_untallied(st, "seq", 0, "", &m), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM marks WHERE rule = 'seq'"), 0); /* uncommitted */
  assert_int_equal(vg_store_span_events(st, "seq", 0, "", day, day), 0);
  assert_int_equal(vg_store_clear_rule_marks(st, 2, "seq"), 0);
  assert_int_equal(vg_store_span_events(st, "thr", 0, "", day, day), 2);
  assert_int_equal(vg_store_mark_untallied(st, "seq", 0, "", &m), 0);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM marks WHERE rule = 'seq'"), 1);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM mark_spans WHERE rule = 'seq'"), 0);
  assert_int_equal(sql_int(fx->path, "SELECT entry FROM mark_spans WHERE rule = 'thr'"), 2);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM pragma_integrity_check"
                                     " WHERE integrity_check <> 'ok'"),
                   0);
}

static void test_newer_schema_is_refused(void **state) {
  fixture *fx = *state;
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
  int ok = sqlite3_exec(db, "PRAGMA user_version = 9999", NULL, NULL, NULL) == SQLITE_OK;
  sqlite3_close(db);
  assert_true(ok);
  char err[256] = "";
  vg_store *st = vg_store_open(fx->path, 0, err, sizeof err);
  if (st) vg_store_close(st);
  assert_null(st);
  assert_contains(err, "newer");
  assert_contains(err, "9999");
  /* The database was left as it was. */
  assert_int_equal(sql_int(fx->path, "PRAGMA user_version"), 9999);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM sqlite_master"), 0);
}

static void test_readonly_open_of_missing_file_fails(void **state) {
  fixture *fx = *state;
  char err[256] = "";
  vg_store *st = vg_store_open(fx->path, VG_STORE_READONLY, err, sizeof err);
  if (st) vg_store_close(st);
  assert_null(st);
  assert_true(strlen(err) > 0);
  assert_contains(err, fx->path);
  assert_int_not_equal(access(fx->path, F_OK), 0); /* not created */
}

static void test_readonly_open_reads_entries(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  vg_store_close(st);
  char err[256] = "";
  fx->st = vg_store_open(fx->path, VG_STORE_READONLY, err, sizeof err);
  if (!fx->st) fail_msg("read-only open failed: %s", err);
  assert_int_equal(query_count_text(fx->st, "satellite"), 1);
}

/* ---- another process in the way ---- */

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_lock_past_the_busy_timeout_is_refused_then_clears(void **state) {
  fixture *fx = *state;
  vg_store *holder = open_store(fx);
  char err[256] = "";
  vg_store *st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!st) fail_msg("second open: %s", err);
  vg_store_busy_timeout(st, 200);
  assert_int_equal(vg_store_begin(holder), 0);
  double t0 = seconds_now();
  int rc = vg_store_begin(st);
  double waited = seconds_now() - t0;
  assert_int_equal(rc, VG_EDB);
  assert_contains(vg_store_errmsg(st), "database is locked");
  /* Not before the timeout; after it, as soon as a busy machine lets it. */
  if (waited < 0.15 || waited > 30)
    fail_msg("the refused begin took %.3f s, not about 0.2 s", waited);
  vg_store_rollback(st); /* nothing open: does nothing */
  assert_int_equal(vg_store_commit(holder), 0);
  /* The lock is gone: the same store writes again. */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "Jan. 2, 2024: written once the lock is gone", "desk", NULL), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  vg_store_close(st);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 1);
}

/* Ends the transaction of the store it is given after 150 ms. */
static void *commit_later(void *arg) {
  struct timespec pause = {0, 150 * 1000 * 1000};
  nanosleep(&pause, NULL);
  return (void *)(intptr_t)vg_store_commit(arg);
}

static void test_lock_shorter_than_the_busy_timeout_is_waited_for(void **state) {
  fixture *fx = *state;
  vg_store *holder = open_store(fx);
  char err[256] = "";
  vg_store *st = vg_store_open(fx->path, 0, err, sizeof err);
  if (!st) fail_msg("second open: %s", err);
  vg_store_busy_timeout(st, 60000); /* far longer than the holder's 150 ms, busy machine or not */
  assert_int_equal(vg_store_begin(holder), 0);
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, commit_later, holder), 0);
  double t0 = seconds_now();
  int rc = vg_store_begin(st);
  double waited = seconds_now() - t0;
  void *holder_rc;
  pthread_join(t, &holder_rc);
  assert_int_equal((intptr_t)holder_rc, 0);
  assert_int_equal(rc, 0);
  if (waited < 0.1) fail_msg("the begin took %.3f s: it did not wait for the lock", waited);
  assert_int_equal(add(st, "Jan. 3, 2024: written after a short wait", "desk", NULL), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  vg_store_close(st);
}

#define NOBODY 65534

/* Opens fx->path for writing in a child process that file modes bind (root
 * becomes nobody first) and copies what vg_store_open said into err: ""
 * when it opened. Returns 0, or -1 when the child could not do it. */
static int open_unprivileged(const fixture *fx, char *err, size_t cap) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fds[0]);
    char why[512] = "";
    int status = 0;
    if (geteuid() == 0 && (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))) {
      status = 1;
    } else {
      vg_store *st = vg_store_open(fx->path, 0, why, sizeof why);
      if (st) why[0] = '\0';
      vg_store_close(st);
    }
    status |= write(fds[1], why, strlen(why)) != (ssize_t)strlen(why);
    _exit(status);
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t got;
  while (n + 1 < cap && (got = read(fds[0], err + n, cap - 1 - n)) > 0) n += (size_t)got;
  err[n] = '\0';
  close(fds[0]);
  int status;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Makes the fixture's database, with one entry, and hands it and its
 * directory to nobody when running as root. */
static void make_database_for_nobody(fixture *fx) {
  vg_store *st = open_store(fx);
  add_all(st, (const char *const[]){"Jan. 4, 2024: stored before the file was locked down"}, 1,
          "desk");
  vg_store_close(st);
  fx->st = NULL;
  if (geteuid() == 0) {
    assert_int_equal(chown(fx->dir, NOBODY, NOBODY), 0);
    assert_int_equal(chown(fx->path, NOBODY, NOBODY), 0);
  }
}

static void test_open_refuses_a_file_it_cannot_write(void **state) {
  fixture *fx = *state;
  make_database_for_nobody(fx);
  assert_int_equal(chmod(fx->path, 0444), 0);
  char err[512];
  assert_int_equal(open_unprivileged(fx, err, sizeof err), 0);
  assert_contains(err, "cannot write database");
  assert_contains(err, fx->path);
  assert_contains(err, "the file is not writable: Permission denied");
  assert_int_not_equal(access(fx->path, R_OK), -1);
  /* Refused before anything was made beside it. */
  char wal[160];
  snprintf(wal, sizeof wal, "%s-wal", fx->path);
  assert_int_not_equal(access(wal, F_OK), 0);
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM entries"), 1);
}

static void test_open_refuses_a_directory_it_cannot_write_in(void **state) {
  fixture *fx = *state;
  make_database_for_nobody(fx);
  assert_int_equal(chmod(fx->dir, 0555), 0);
  char err[512];
  int rc = open_unprivileged(fx, err, sizeof err);
  assert_int_equal(chmod(fx->dir, 0700), 0); /* for the teardown */
  assert_int_equal(rc, 0);
  assert_contains(err, fx->path);
  char want[200];
  snprintf(want, sizeof want, "its directory %s is not writable: Permission denied", fx->dir);
  assert_contains(err, want);
}

/* ---- updates, marks and alerts of one entry ---- */

/* Keeps a later version of entry's text as an older vigil kept a feed item
 * that changed (db/005_feeds.sql): the entry as it was, the update beside it. */
static void add_update(const fixture *fx, int64_t entry, const char *text) {
  char *sql = sqlite3_mprintf(
      "INSERT INTO entry_updates (entry_id, text, fields, seen_at) VALUES (%lld, %Q,"
      " '{\"date\":\"2023-03-16\",\"text\":' || json_quote(%Q) || ',\"guid\":\"g-%lld\"}',"
      " strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'))",
      (long long)entry, text, text, (long long)entry);
  sql_exec(fx->path, sql);
  sqlite3_free(sql);
}

/* What vg_store_entry_updates gave, copied out. */
typedef struct {
  size_t n;
  char text[4][80];
  char fields[4][160];
  int has_seen_at[4];
} updates;

static int collect_update(void *ud, const vg_update_row *u) {
  updates *out = ud;
  if (out->n == 4) return -100;
  snprintf(out->text[out->n], sizeof out->text[0], "%s", u->text);
  snprintf(out->fields[out->n], sizeof out->fields[0], "%s", u->fields ? u->fields : "");
  out->has_seen_at[out->n++] = u->seen_at && strlen(u->seen_at) == 20;
  return 0;
}

static int first_row(void *ud, const vg_row *r) { return collect(ud, r); }

static void test_updated_entry_shows_its_latest_text(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *lines[] = {"2023-03-16: The missile flew for about 70 minutes.",
                         "2023-03-17: The allies condemn the launch."};
  add_all(st, lines, 2, "feed");
  add_update(fx, 1, "The missile flew for about 69 minutes.");
  add_update(fx, 1, "The missile flew for 69 minutes and fell west of Oshima.");
  rows r;
  vg_query q = {0};
  query(st, &q, &r);
  assert_int_equal(r.n, 2);
  /* The entry keeps what it first said; the row adds the latest update. */
  assert_string_equal(r.text[0], "The missile flew for about 70 minutes.");
  assert_string_equal(r.update_text[0], "The missile flew for 69 minutes and fell west of Oshima.");
  assert_int_equal(strlen(r.updated_at[0]), 20);
  assert_string_equal(r.update_text[1], "");
  assert_string_equal(r.updated_at[1], "");
  /* One entry by id says the same. */
  rows one = {0};
  assert_int_equal(vg_store_entry(st, 1, first_row, &one), 0);
  assert_string_equal(one.update_text[0], r.update_text[0]);
  /* Every update, oldest first, with the item's record. */
  updates u = {0};
  assert_int_equal(vg_store_entry_updates(st, 1, collect_update, &u), 0);
  assert_int_equal(u.n, 2);
  assert_string_equal(u.text[0], "The missile flew for about 69 minutes.");
  assert_string_equal(u.text[1], "The missile flew for 69 minutes and fell west of Oshima.");
  assert_contains(u.fields[0], "\"guid\":\"g-1\"");
  assert_true(u.has_seen_at[0] && u.has_seen_at[1]);
  memset(&u, 0, sizeof u);
  assert_int_equal(vg_store_entry_updates(st, 2, collect_update, &u), 0);
  assert_int_equal(u.n, 0);
}

static void test_text_search_finds_each_version_of_an_entry(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(query_count_text(st, "satellite"), 1); /* indexed before the update */
  add_update(fx, 3, "North Korea says Malligyong-1 reached orbit on the third try.");
  /* Its first text and its update's; the words of one version, not spread over two. */
  assert_int_equal(query_count_text(st, "reconnaissance satellite"), 1);
  assert_int_equal(query_count_text(st, "Malligyong-1 orbit"), 1);
  assert_int_equal(query_count_text(st, "Malligyong-1 satellite"), 0);
  /* Found once, though both versions hold the word, and shown as it is now. */
  rows r;
  vg_query q = {0};
  q.text = "orbit";
  query(st, &q, &r);
  assert_int_equal(r.n, 1);
  assert_string_equal(r.update_text[0], "North Korea says Malligyong-1 reached orbit on the third try.");
  char file[160];
  snprintf(file, sizeof file, "%s-text", fx->path);
  assert_int_equal(sql_int(file, "SELECT upto FROM update_state"), 1);
  /* The other filters still apply to a match by an update. */
  q.text = "Malligyong-1";
  q.source = "elsewhere";
  query(st, &q, &r);
  assert_int_equal(r.n, 0);
}

static void test_text_index_takes_updates_within_its_chunk(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  add_update(fx, 1, "North Korea launches a Hwasong-18 missile, its second.");
  long long n = -1;
  assert_int_equal(vg_store_index_text(st, 2, &n), 0);
  assert_int_equal(n, 2); /* entries first */
  assert_int_equal(vg_store_index_text(st, 2, &n), 0);
  assert_int_equal(n, 2); /* the last entry, then the update */
  assert_int_equal(vg_store_index_text(st, 2, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(query_count_text(st, "second"), 1);
}

static void test_text_index_of_other_updates_is_rebuilt(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  add_update(fx, 2, "South Korea and the United States end the volcano drills.");
  assert_int_equal(query_count_text(st, "volcano"), 1);
  /* A new database under the same name, whose update has the old one's id. */
  st = new_database(fx);
  add_text_entries(st);
  add_update(fx, 1, "North Korea launches a Hwasong-18 again.");
  assert_int_equal(query_count_text(st, "volcano"), 0);
  assert_int_equal(query_count_text(st, "again"), 1);
}

/* Copies file from to file to; fails the test on error. */
static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  if (!in || !out) fail_msg("cannot copy %s to %s", from, to);
  char buf[8192];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
  fclose(in);
  assert_int_equal(fclose(out), 0);
}

static void test_text_index_ahead_of_its_database_updates_is_rebuilt(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  vg_store_close(st); /* the log goes into the file */
  fx->st = NULL;
  char backup[160];
  snprintf(backup, sizeof backup, "%s/backup.db", fx->dir);
  copy_file(fx->path, backup);
  st = open_store(fx);
  add_update(fx, 2, "South Korea and the United States end the volcano drills.");
  assert_int_equal(query_count_text(st, "volcano"), 1);
  vg_store_close(st);
  fx->st = NULL;
  /* The database as it was before its update, beside the index made after. */
  copy_file(backup, fx->path);
  st = open_store(fx);
  assert_int_equal(query_count_text(st, "drills"), 1);
  /* Its next update takes the id the index holds another text under. */
  add_update(fx, 1, "North Korea launches a Hwasong-18 again.");
  assert_int_equal(query_count_text(st, "volcano"), 0);
  assert_int_equal(query_count_text(st, "again"), 1);
}

/* Marks and alerts of an entry, as strings. */
static int collect_mark(void *ud, const char *rule, int step, const char *key) {
  char *out = ud;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%s/%d/%s;", rule, step, key);
  return 0;
}
static int collect_alert(void *ud, const vg_alert_row *a) {
  char *out = ud;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%lld:%s:%s:v%d;", (long long)a->id, a->rule, a->entries, a->version);
  return 0;
}

static void test_marks_and_alerts_of_an_entry(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  assert_int_equal(vg_store_begin(st), 0);
  vg_mark m1 = {1, 0, 0, 11}, m3 = {3, 0, 0, 33};
  assert_int_equal(vg_store_mark(st, "pair", 0, "korea", &m1), 0);
  assert_int_equal(vg_store_mark(st, "pair", 1, "korea", &m3), 0);
  assert_int_equal(vg_store_mark_untallied(st, "first", 0, "", &m1), 0);
  int64_t one[] = {1}, both[] = {1, 3}, id = 0;
  vg_alert_in a = {"launch", "", "launch\x1f" "1", "warn", "a launch", "2023-07-12", 0, one, 1, -1, NULL, NULL, 0};
  assert_int_equal(vg_store_alert(st, &a, &id), VG_STORED);
  vg_alert_in p = {"pair", "korea", "pair\x1f" "3", "info", "a pair", "2023-11-21", 0, both, 2, -1, NULL, NULL, 0};
  assert_int_equal(vg_store_alert(st, &p, &id), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  char got[256] = "";
  assert_int_equal(vg_store_entry_marks(st, 1, collect_mark, got), 0);
  assert_string_equal(got, "first/0/;pair/0/korea;");
  got[0] = '\0';
  assert_int_equal(vg_store_entry_marks(st, 2, collect_mark, got), 0);
  assert_string_equal(got, "");
  got[0] = '\0';
  vg_alert_query q = {.entry = 1};
  assert_int_equal(vg_store_alerts(st, &q, collect_alert, got), 0);
  assert_string_equal(got, "1:launch:1:v1;2:pair:1,3:v1;");
  got[0] = '\0';
  q.entry = 3;
  assert_int_equal(vg_store_alerts(st, &q, collect_alert, got), 0);
  assert_string_equal(got, "2:pair:1,3:v1;");
  got[0] = '\0';
  q.entry = 2;
  assert_int_equal(vg_store_alerts(st, &q, collect_alert, got), 0);
  assert_string_equal(got, "");
}

/* ---- silences (db/013_silences.sql) ---- */

static int silence_cb(void *ud, const vg_alert_row *row) {
  *(int64_t *)ud = row->silence_id;
  return 0;
}
/* The silence alert id was marked with (0: none). */
static int64_t alert_silence(vg_store *st, int64_t id) {
  int64_t v = -1;
  vg_alert_query q = {.id = id};
  assert_int_equal(vg_store_alerts(st, &q, silence_cb, &v), 0);
  return v;
}

/* What a listing of silences gave, copied out of the callback. */
typedef struct {
  size_t n;
  int64_t id[8];
  int active[8];
  int expired[8]; /* expired_at is set */
  int any_key[8];
  char author[8][32];
} silences_seen;

static int silence_row_cb(void *ud, const vg_silence_row *r) {
  silences_seen *s = ud;
  if (s->n == 8) return 1;
  s->id[s->n] = r->id;
  s->active[s->n] = r->active;
  s->expired[s->n] = r->expired_at != NULL;
  s->any_key[s->n] = r->key == NULL;
  snprintf(s->author[s->n], sizeof s->author[0], "%s", r->author);
  s->n++;
  return 0;
}

/* A UTC time `secs` from now, as silences keep them. */
static void from_now(long secs, char out[32]) {
  time_t t = time(NULL) + secs;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void test_silences_added_listed_and_expired(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  char hour[32], past[32];
  from_now(3600, hour);
  from_now(-60, past);
  vg_silence_in a = {"border-incident", "Panmunjom", hour, "duty officer", "a drill"};
  int64_t id = 0;
  assert_int_equal(vg_store_silence_add(st, &a, &id), 0);
  assert_int_equal(id, 1);
  vg_silence_in any = {"border-incident", NULL, hour, "kim", "every key"};
  assert_int_equal(vg_store_silence_add(st, &any, &id), 0);
  assert_int_equal(id, 2);
  /* Refused, nothing written: a time past, an empty author or key. */
  vg_silence_in bad = a;
  bad.until = past;
  assert_int_equal(vg_store_silence_add(st, &bad, &id), VG_EINVAL);
  bad = a;
  bad.author = "";
  assert_int_equal(vg_store_silence_add(st, &bad, &id), VG_EINVAL);
  bad = a;
  bad.key = "";
  assert_int_equal(vg_store_silence_add(st, &bad, &id), VG_EINVAL);

  silences_seen s = {0};
  assert_int_equal(vg_store_silences(st, 0, 0, 0, silence_row_cb, &s), 0);
  assert_int_equal(s.n, 2);
  assert_int_equal(s.id[0], 1);
  assert_true(s.active[0] && !s.expired[0] && !s.any_key[0]);
  assert_true(s.any_key[1]);
  assert_string_equal(s.author[0], "duty officer");

  /* Expired: once; again, or one absent, changes nothing. */
  assert_int_equal(vg_store_silence_expire(st, 1), 1);
  assert_int_equal(vg_store_silence_expire(st, 1), 0);
  assert_int_equal(vg_store_silence_expire(st, 99), 0);
  memset(&s, 0, sizeof s);
  assert_int_equal(vg_store_silences(st, 0, 0, 0, silence_row_cb, &s), 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.id[0], 2);
  /* Every one, kept for the record; by pages. */
  memset(&s, 0, sizeof s);
  assert_int_equal(vg_store_silences(st, 1, 0, 0, silence_row_cb, &s), 0);
  assert_int_equal(s.n, 2);
  assert_true(!s.active[0] && s.expired[0]);
  memset(&s, 0, sizeof s);
  assert_int_equal(vg_store_silences(st, 1, 1, 1, silence_row_cb, &s), 0);
  assert_int_equal(s.n, 1);
  assert_int_equal(s.id[0], 2);
  memset(&s, 0, sizeof s);
  assert_int_equal(vg_store_silence(st, 1, silence_row_cb, &s), 1);
  assert_true(s.expired[0]);
  assert_int_equal(vg_store_silence(st, 99, silence_row_cb, &s), 0);

  /* A silence that lapsed (until passed, never expired by hand) is not
   * active, and expiring it changes nothing. */
  sqlite3 *db;
  assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
  char sql[256];
  snprintf(sql, sizeof sql, "UPDATE silences SET until = '%s' WHERE id = 2", past);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  memset(&s, 0, sizeof s);
  assert_int_equal(vg_store_silences(st, 0, 0, 0, silence_row_cb, &s), 0);
  assert_int_equal(s.n, 0);
  assert_int_equal(vg_store_silence_expire(st, 2), 0);
  memset(&s, 0, sizeof s);
  assert_int_equal(vg_store_silence(st, 2, silence_row_cb, &s), 1);
  assert_true(!s.active[0] && !s.expired[0]);
}

static void test_silence_marks_new_alerts_of_its_rule_and_key(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  char hour[32];
  from_now(3600, hour);
  int64_t e[2];
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2024-03-03: Soldiers cross the border at Panmunjom.", "desk", &e[0]),
                   VG_STORED);
  assert_int_equal(add(st, "2024-03-04: Warning shots at Cheorwon.", "desk", &e[1]), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);

  /* Added by another connection, as `vigil silence add` does beside the
   * daemon: the next transaction here sees it. */
  char err[256];
  vg_store *cli = vg_store_open(fx->path, 0, err, sizeof err);
  assert_non_null(cli);
  vg_silence_in s = {"border", "Panmunjom", hour, "duty officer", "a drill"};
  int64_t sid;
  assert_int_equal(vg_store_silence_add(cli, &s, &sid), 0);
  assert_int_equal(sid, 1);

  int64_t one[] = {e[0]}, both[] = {e[0], e[1]}, id[4];
  vg_alert_in a = {"border", "Panmunjom", "border\x1f" "1", "warn", "a crossing", "2024-03-03",
                   0, one, 1, -1, NULL, NULL, 0};
  vg_alert_in other_key = {"border", "Cheorwon", "border\x1f" "2", "warn", "shots", "2024-03-04",
                           0, one, 1, -1, NULL, NULL, 0};
  vg_alert_in no_key = {"border", NULL, "border\x1f" "3", "warn", "shots", "2024-03-04",
                        0, one, 1, -1, NULL, NULL, 0};
  vg_alert_in other_rule = {"shots", "Panmunjom", "shots\x1f" "1", "warn", "shots", "2024-03-04",
                            0, one, 1, -1, NULL, NULL, 0};
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_alert(st, &a, &id[0]), VG_STORED);
  assert_int_equal(vg_store_alert(st, &other_key, &id[1]), VG_STORED);
  assert_int_equal(vg_store_alert(st, &no_key, &id[2]), VG_STORED);
  assert_int_equal(vg_store_alert(st, &other_rule, &id[3]), VG_STORED);
  int64_t match = -1;
  assert_int_equal(vg_store_silence_match(st, "border", "Panmunjom", &match), 1);
  assert_int_equal(match, 1);
  assert_int_equal(vg_store_silence_match(st, "border", "", &match), 0);
  assert_int_equal(match, 0);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(alert_silence(st, id[0]), 1);
  assert_int_equal(alert_silence(st, id[1]), 0);
  assert_int_equal(alert_silence(st, id[2]), 0);
  assert_int_equal(alert_silence(st, id[3]), 0);

  /* A silence of any key, then the first one expired: a new alert takes
   * the silence still active; the amended one keeps the one it had. */
  vg_silence_in any = {"border", NULL, hour, "kim", "every key"};
  assert_int_equal(vg_store_silence_add(cli, &any, &sid), 0);
  assert_int_equal(sid, 2);
  assert_int_equal(vg_store_silence_expire(cli, 1), 1);
  vg_alert_in later = {"border", "Panmunjom", "border\x1f" "4", "warn", "again", "2024-03-05",
                       0, one, 1, -1, NULL, NULL, 0};
  assert_int_equal(vg_store_begin(st), 0);
  a.entries = both;
  a.nentries = 2;
  int64_t again;
  assert_int_equal(vg_store_alert(st, &a, &again), VG_AMENDED);
  assert_int_equal(again, id[0]);
  assert_int_equal(vg_store_alert(st, &later, &id[1]), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(alert_silence(st, id[0]), 1);
  assert_int_equal(alert_silence(st, id[1]), 2);

  /* Both expired: alerts go unsilenced again. */
  assert_int_equal(vg_store_silence_expire(cli, 2), 1);
  vg_alert_in last = {"border", "Panmunjom", "border\x1f" "5", "warn", "once more", "2024-03-06",
                      0, one, 1, -1, NULL, NULL, 0};
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_alert(st, &last, &id[2]), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(alert_silence(st, id[2]), 0);
  vg_store_close(cli);
}

/* The ids (and days) of the alerts q selects, as "ID@DAY;...". */
static int collect_alert_day(void *ud, const vg_alert_row *a) {
  char *out = ud;
  size_t n = strlen(out);
  snprintf(out + n, 256 - n, "%lld@%d;", (long long)a->id, (int)a->day);
  return 0;
}
static const char *alerts_of(vg_store *st, const vg_alert_query *q) {
  static char got[256];
  got[0] = '\0';
  assert_int_equal(vg_store_alerts(st, q, collect_alert_day, got), 0);
  return got;
}

static void test_alerts_latest_first_filtered_and_paged(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  add_text_entries(st);
  int64_t one[] = {1}, id;
  static const struct { const char *rule, *dedup, *severity; int32_t day; } in[] = {
      {"r1", "a1", "warn", 100}, {"r1", "a2", "crit", 300}, {"r2", "a3", "info", 200},
      {"r1", "a4", "warn", 300}, {"r2", "a5", "warn", 50}};
  assert_int_equal(vg_store_begin(st), 0);
  for (size_t i = 0; i < 5; i++) {
    vg_alert_in a = {in[i].rule, "", in[i].dedup, in[i].severity, "m", "1970-01-01",
                     in[i].day, one, 1, -1, NULL, NULL, 0};
    assert_int_equal(vg_store_alert(st, &a, &id), VG_STORED);
    assert_int_equal(id, (int64_t)i + 1);
  }
  assert_int_equal(vg_store_commit(st), 0);
  vg_alert_query q = {0};
  assert_string_equal(alerts_of(st, &q), "5@50;1@100;3@200;2@300;4@300;");
  q.newest_first = 1;
  assert_string_equal(alerts_of(st, &q), "4@300;2@300;3@200;1@100;5@50;");
  q.severity = "warn";
  assert_string_equal(alerts_of(st, &q), "4@300;1@100;5@50;");
  q.severity = "warn,crit";
  assert_string_equal(alerts_of(st, &q), "4@300;2@300;1@100;5@50;");
  q.severity = "info";
  q.rule = "r2";
  assert_string_equal(alerts_of(st, &q), "3@200;");
  q.severity = "info,warn,crit,info,warn,crit,info,warn,crit,info,warn,crit,info,warn,crit";
  char got[256] = "";
  assert_int_equal(vg_store_alerts(st, &q, collect_alert_day, got), VG_EINVAL);
  q.severity = NULL;
  assert_string_equal(alerts_of(st, &q), "3@200;5@50;"); /* nothing of it stays bound */
  q.rule = NULL;
  q.state = VG_ALERT_SILENCED; /* none is, before silences exist */
  assert_string_equal(alerts_of(st, &q), "");
  q.state = VG_ALERT_ACTIVE;
  assert_string_equal(alerts_of(st, &q), "4@300;2@300;3@200;1@100;5@50;");
  /* Pages of two: each resumes after the last alert of the one before. */
  q.limit = 2;
  assert_string_equal(alerts_of(st, &q), "4@300;2@300;");
  q.has_after = 1;
  q.after_day = 300;
  q.after_id = 2;
  assert_string_equal(alerts_of(st, &q), "3@200;1@100;");
  q.after_day = 100;
  q.after_id = 1;
  assert_string_equal(alerts_of(st, &q), "5@50;");
  q.after_day = 50;
  q.after_id = 5;
  assert_string_equal(alerts_of(st, &q), "");
  /* In date order, after comes later. */
  q.newest_first = 0;
  q.after_day = 200;
  q.after_id = 3;
  assert_string_equal(alerts_of(st, &q), "2@300;4@300;");
  q.has_since = 1;
  q.since = 300;
  q.limit = 0;
  assert_string_equal(alerts_of(st, &q), "2@300;4@300;");
}

static int collect_change(void *ud, int64_t seq, const char *kind, const vg_alert_row *a) {
  char *out = ud;
  size_t n = strlen(out);
  if (a) snprintf(out + n, 256 - n, "%lld:%s:%lld:v%d;", (long long)seq, kind, (long long)a->id,
                  a->version);
  else snprintf(out + n, 256 - n, "%lld:%s:gone;", (long long)seq, kind);
  return 0;
}

/* Each new alert and each new version of one is a change in the alert log,
 * in the transaction that makes it: none when it rolls back. */
static void test_alert_log_holds_new_and_amended_alerts(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  assert_int_equal(vg_store_alert_log_last(st), 0);
  int64_t e[3];
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2023-11-21: North Korea launches a missile.", "desk", &e[0]),
                   VG_STORED);
  assert_int_equal(add(st, "2023-12-01: The allies hold a drill.", "desk", &e[1]), VG_STORED);
  int64_t one[] = {e[0]}, two[] = {e[0], e[1]};
  vg_alert_in a = {"launch", "", "launch\x1f", "warn", "a launch", "2023-11-21", 0, one, 1, -1, NULL, NULL, 0};
  vg_alert_in b = {"seq", "", "seq\x1f", "warn", "a launch, then a drill", "2023-12-01", 0,
                   one, 1, -1, NULL, NULL, 0};
  int64_t ida = 0, idb = 0;
  assert_int_equal(vg_store_alert(st, &a, &ida), VG_STORED);
  assert_int_equal(vg_store_alert(st, &b, &idb), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  /* Amended in a later transaction: a change of its own. */
  assert_int_equal(vg_store_begin(st), 0);
  b.entries = two;
  b.nentries = 2;
  assert_int_equal(vg_store_alert(st, &b, &idb), VG_AMENDED);
  assert_int_equal(vg_store_alert(st, &b, &idb), VG_DUPLICATE);
  assert_int_equal(vg_store_commit(st), 0);
  /* Rolled back: no change. */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2023-12-02: North Korea launches again.", "desk", &e[2]), VG_STORED);
  vg_alert_in c = {"launch", "", "launch\x1f" "2", "warn", "again", "2023-12-02", 0, e + 2, 1, -1, NULL, NULL, 0};
  int64_t idc = 0;
  assert_int_equal(vg_store_alert(st, &c, &idc), VG_STORED);
  vg_store_rollback(st);

  char got[256] = "", want[256];
  assert_int_equal(vg_store_alert_log(st, 0, 0, collect_change, got), 0);
  /* The alert as it is now: version 2 for the second even at its first change. */
  snprintf(want, sizeof want, "1:alert:%lld:v1;2:alert:%lld:v2;3:amend:%lld:v2;",
           (long long)ida, (long long)idb, (long long)idb);
  assert_string_equal(got, want);
  got[0] = '\0';
  assert_int_equal(vg_store_alert_log(st, 1, 1, collect_change, got), 0);
  snprintf(want, sizeof want, "2:alert:%lld:v2;", (long long)idb);
  assert_string_equal(got, want);
  assert_int_equal(vg_store_alert_log_last(st), 3);
  assert_int_equal(sql_int(fx->path, "SELECT version FROM alert_log WHERE seq = 2"), 1);
  assert_int_equal(sql_int(fx->path, "SELECT version FROM alert_log WHERE seq = 3"), 2);
  /* A change whose alert is no longer stored is still given, without it. */
  sql_exec(fx->path, "PRAGMA foreign_keys = ON; DELETE FROM alerts WHERE rule = 'launch'");
  got[0] = '\0';
  assert_int_equal(vg_store_alert_log(st, 0, 2, collect_change, got), 0);
  snprintf(want, sizeof want, "1:alert:gone;2:alert:%lld:v2;", (long long)idb);
  assert_string_equal(got, want);
}

static int log_silence(void *ud, int64_t seq, const char *kind, const vg_alert_row *a) {
  (void)seq, (void)kind;
  char *out = ud;
  size_t n = strlen(out);
  if (a) snprintf(out + n, 256 - n, "%lld:s%lld:d%d;", (long long)a->id, (long long)a->silence_id,
                  (int)a->day);
  return 0;
}

/* The log gives each alert whole, as a listing does: its day, and the
 * silence it was raised under (what the live stream says of it). */
static void test_alert_log_gives_day_and_silence(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  char hour[32];
  from_now(3600, hour);
  vg_silence_in s = {"reactor", NULL, hour, "duty officer", "known maintenance"};
  int64_t sid = 0;
  assert_int_equal(vg_store_silence_add(st, &s, &sid), 0);
  int64_t e = 0, ida = 0, idb = 0;
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(add(st, "2024-03-09: Steam rises at Yongbyon.", "desk", &e), VG_STORED);
  vg_alert_in a = {"launch", "", "launch\x1f", "warn", "loud", "2024-03-09", 19791, &e, 1, -1, NULL, NULL, 0};
  vg_alert_in b = {"reactor", "", "reactor\x1f", "crit", "quiet", "2024-03-09", 19791, &e, 1, -1, NULL, NULL, 0};
  assert_int_equal(vg_store_alert(st, &a, &ida), VG_STORED);
  assert_int_equal(vg_store_alert(st, &b, &idb), VG_STORED);
  assert_int_equal(vg_store_commit(st), 0);
  char got[256] = "", want[256];
  assert_int_equal(vg_store_alert_log(st, 0, 0, log_silence, got), 0);
  snprintf(want, sizeof want, "%lld:s0:d19791;%lld:s%lld:d19791;", (long long)ida,
           (long long)idb, (long long)sid);
  assert_string_equal(got, want);
}

/* The alerts a database holds when the log comes in are its first changes,
 * in id order, at their version. */
static void test_migration_logs_the_alerts_there(void **state) {
  fixture *fx = *state;
  vg_store_close(open_store(fx)); /* then as vigil left it before the log */
  fx->st = NULL;
  sql_exec(fx->path, "DROP TRIGGER alert_log_new; DROP TRIGGER alert_log_amend;"
                     "DROP TABLE alert_log; DROP TABLE nats_msgs; DROP TABLE meta;"
                     "DROP TABLE outbox; DROP TABLE entry_versions; DROP TABLE row_keys;"
                     "DROP TABLE feed_archives;"
                     "ALTER TABLE entries DROP COLUMN version;"
                     "DROP INDEX entry_updates_of_items; DROP INDEX alert_entries_by_entry;"
                     "ALTER TABLE entry_updates DROP COLUMN version;"
                     "ALTER TABLE entries DROP COLUMN retracted_at;"
                     "ALTER TABLE entries DROP COLUMN retract_reason;"
                     "ALTER TABLE alerts DROP COLUMN rule_file; ALTER TABLE alerts DROP COLUMN rule_hash;"
                     "ALTER TABLE alerts DROP COLUMN cause; ALTER TABLE alerts DROP COLUMN state;"
                     "ALTER TABLE alerts DROP COLUMN retract_reason;"
                     " PRAGMA user_version = 13;"
                     "DELETE FROM sqlite_sequence WHERE name = 'alert_log'");
  sql_exec(fx->path,
           "INSERT INTO alerts (id, rule, dedup_key, date, day, severity, message, created_at,"
           " version) VALUES"
           " (7, 'b', 'b', '2023-03-02', 0, 'info', 'later', '2023-03-02T10:00:00Z', 2),"
           " (4, 'a', 'a', '2023-03-01', 0, 'warn', 'earlier', '2023-03-01T10:00:00Z', 1)");
  vg_store *st = open_store(fx);
  char got[256] = "";
  assert_int_equal(vg_store_alert_log(st, 0, 0, collect_change, got), 0);
  assert_string_equal(got, "1:alert:4:v1;2:alert:7:v2;");
  assert_int_equal(sql_int(fx->path, "SELECT count(*) FROM alert_log WHERE seq = 1"
                                     " AND at = '2023-03-01T10:00:00Z' AND version = 1"), 1);
  assert_int_equal(vg_store_alert_log_last(st), 2);
}

/* JetStream messages taken are remembered per stream, in the caller's
 * transaction: a rollback forgets them; the database names itself. */
static void test_nats_messages_remembered_per_stream(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  int64_t entry = -1;
  assert_int_equal(vg_store_nats_last(st, "VIGIL_ENTRIES"), 0);
  assert_int_equal(vg_store_nats_seen(st, "VIGIL_ENTRIES", 7, &entry), 0);
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_nats_put(st, "VIGIL_ENTRIES", 7, 42), 0);
  assert_int_equal(vg_store_nats_put(st, "VIGIL_ENTRIES", 9, 0), 0);
  assert_int_equal(vg_store_nats_put(st, "OTHER", 30, 1), 0);
  assert_int_equal(vg_store_nats_put(st, "VIGIL_ENTRIES", 7, 43), VG_EDB); /* once only */
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(vg_store_nats_seen(st, "VIGIL_ENTRIES", 7, &entry), 1);
  assert_int_equal(entry, 42);
  assert_int_equal(vg_store_nats_seen(st, "VIGIL_ENTRIES", 9, &entry), 1);
  assert_int_equal(entry, 0); /* rejected */
  assert_int_equal(vg_store_nats_seen(st, "OTHER", 7, NULL), 0);
  assert_int_equal(vg_store_nats_last(st, "VIGIL_ENTRIES"), 9);
  assert_int_equal(vg_store_nats_last(st, "OTHER"), 30);
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_nats_put(st, "VIGIL_ENTRIES", 12, 5), 0);
  vg_store_rollback(st);
  assert_int_equal(vg_store_nats_last(st, "VIGIL_ENTRIES"), 9);
  char id[64] = "", again[64] = "";
  assert_int_equal(vg_store_meta(st, "db_id", id, sizeof id), 1);
  assert_int_equal(strlen(id), 16);
  assert_int_equal(vg_store_meta(st, "no such fact", again, sizeof again), 0);
}

/* An archive a feed's listing named is recorded in the caller's
 * transaction, once; the feed's row names the latest. */
static int last_archive_of(void *ud, const vg_feed_row *row) {
  snprintf(ud, 64, "%s", row->last_archive ? row->last_archive : "(none)");
  return 0;
}

static void test_feed_archives_recorded_once(void **state) {
  fixture *fx = *state;
  vg_store *st = open_store(fx);
  const char *feed = "http://data.example.org/gdeltv2/lastupdate.txt";
  vg_feed_archive a = {feed, "20180427013000.export.CSV.zip", "a1e0045a33d51b93d751c63a5f617f02",
                       578, 4, 0, 0};
  vg_feed_health h = {feed, "gdelt", NULL, NULL, NULL, 0, 4, ""};
  char last[64] = "";
  assert_int_equal(vg_store_feed_archive_seen(st, feed, a.name), 0);
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_feed_archive_put(st, &a), 0);
  vg_store_rollback(st);
  assert_int_equal(vg_store_feed_archive_seen(st, feed, a.name), 0); /* rolled back */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_feed_archive_put(st, &a), 0);
  assert_int_equal(vg_store_feed_put(st, &h), 0);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(vg_store_feed_archive_seen(st, feed, a.name), 1);
  assert_int_equal(vg_store_feed_archive_seen(st, "http://other.example.org/", a.name), 0);
  assert_int_equal(vg_store_feeds(st, last_archive_of, last), 0);
  assert_string_equal(last, a.name);
  /* the same name again is refused; a later one is the latest */
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_feed_archive_put(st, &a), VG_EDB);
  vg_store_rollback(st);
  a.name = "20180612014500.export.CSV.zip";
  assert_int_equal(vg_store_begin(st), 0);
  assert_int_equal(vg_store_feed_archive_put(st, &a), 0);
  assert_int_equal(vg_store_commit(st), 0);
  assert_int_equal(vg_store_feeds(st, last_archive_of, last), 0);
  assert_string_equal(last, a.name);
}

int main(void) {
  vg_log_set_level(VG_LOG_WARN);
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_open_creates_and_migrates),
      T(test_migration_gives_old_marks_their_events),
      T(test_reopen_keeps_version_and_entries),
      T(test_insert_then_duplicate_gives_same_id),
      T(test_alert_amended_only_when_it_changes),
      T(test_alert_log_holds_new_and_amended_alerts),
      T(test_alert_log_gives_day_and_silence),
      T(test_migration_logs_the_alerts_there),
      T(test_old_threshold_alert_is_adopted_by_its_day),
      T(test_query_row_holds_the_entry),
      T(test_rollback_keeps_nothing),
      T(test_reject_is_kept),
      T(test_rejected_empty_line_is_kept),
      T(test_long_reject_is_capped_with_full_length),
      T(test_query_since_includes_month_that_overlaps),
      T(test_query_until_includes_month_that_overlaps),
      T(test_query_window_inside_month),
      T(test_query_by_source),
      T(test_query_limit),
      T(test_query_in_date_order),
      T(test_query_text_needs_every_word),
      T(test_query_text_with_hyphen),
      T(test_query_text_with_stray_quote),
      T(test_text_index_follows_entries_stored_after_it),
      T(test_text_index_goes_by_chunks),
      T(test_text_index_of_other_entries_is_rebuilt),
      T(test_text_index_in_memory_when_its_file_cannot_be_made),
      T(test_text_index_of_a_new_database_ending_alike_is_rebuilt),
      T(test_text_index_damaged_is_built_again),
      T(test_text_index_removed_while_open_is_made_again),
      T(test_text_index_file_only_never_in_memory),
      T(test_query_blank_text_is_not_an_error),
      T(test_query_text_with_fts_operators),
      T(test_query_text_combines_with_filters),
      T(test_newer_schema_is_refused),
      T(test_readonly_open_of_missing_file_fails),
      T(test_readonly_open_reads_entries),
      T(test_lock_past_the_busy_timeout_is_refused_then_clears),
      T(test_lock_shorter_than_the_busy_timeout_is_waited_for),
      T(test_open_refuses_a_file_it_cannot_write),
      T(test_open_refuses_a_directory_it_cannot_write_in),
      T(test_updated_entry_shows_its_latest_text),
      T(test_text_search_finds_each_version_of_an_entry),
      T(test_text_index_takes_updates_within_its_chunk),
      T(test_text_index_of_other_updates_is_rebuilt),
      T(test_text_index_ahead_of_its_database_updates_is_rebuilt),
      T(test_marks_and_alerts_of_an_entry),
      T(test_silences_added_listed_and_expired),
      T(test_silence_marks_new_alerts_of_its_rule_and_key),
      T(test_alerts_latest_first_filtered_and_paged),
      T(test_nats_messages_remembered_per_stream),
      T(test_feed_archives_recorded_once),
  };
#undef T
  return cmocka_run_group_tests(tests, NULL, NULL);
}

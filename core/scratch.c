/* scratch.c — the scratch copy of a database for `vigil replay --dry-run`
 * (see scratch.h): the copy made with the online backup API, the stored
 * state in force kept aside in it, and the comparison of that with what
 * the replay left. Its tables (dry_*) live in the copy only. */
#include "scratch.h"

#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct vg_scratch {
  char *dir;          /* the private directory the copy lives in */
  char *path;         /* the copy: dir/scratch.db */
  sqlite3 *db;        /* the scratch's own connection, after vg_scratch_prepare */
  int has_since;      /* whether the range starts at since */
  int32_t since;      /* its first day */
  int64_t *retracted; /* ids of the retracted entries, ascending */
  size_t nretracted;
};

/* The statements, each run once or a few times: prepared when used. ?1 is
 * the first day of the range, NULL for all. */
enum {
  Q_TABLES,
  Q_KEEP_ALERTS,
  Q_KEEP_TAGS,
  Q_CLEAR_ABSENCES,
  Q_CLEAR_ALERT_ENTRIES,
  Q_CLEAR_ALERTS,
  Q_FORGET_WATERMARK,
  Q_WATERMARK,
  Q_RETRACTED,
  Q_AFTER,
  Q_ADDED,
  Q_REMOVED,
  Q_CHANGED,
  Q_TAG_COUNTS,
  Q_TAG_EXAMPLES,
};

/* The alerts of ?1's range in force, as compared: identity, fields, and
 * the entries named, ascending. */
#define ALERTS_IN_FORCE                                                                            \
  "SELECT a.dedup_key, a.rule, a.date, a.day, a.severity, a.message, coalesce(a.count, -1),"       \
  " coalesce((SELECT group_concat(id, ',') FROM (SELECT e.id FROM alert_entries ae"                \
  " JOIN entries e ON e.id = ae.entry_id WHERE ae.alert_id = a.id ORDER BY e.day_first, e.id)),"   \
  " '')"                                                                                           \
  " FROM alerts a WHERE a.state = 'active' AND (?1 IS NULL OR a.day >= ?1)"
/* The tags of the entries of ?1's range. */
#define TAGS_OF_RANGE                                                                              \
  "SELECT t.entry_id, t.tag FROM tags t JOIN entries e ON e.id = t.entry_id"                       \
  " WHERE ?1 IS NULL OR e.day_last >= ?1"
#define ALERT_COLUMNS "key, rule, date, day, severity, message, count, entries"

static const char *const sql[] = {
    [Q_TABLES] = "CREATE TABLE dry_alerts_before (" ALERT_COLUMNS ");"
                 "CREATE TABLE dry_alerts_after (" ALERT_COLUMNS ");"
                 "CREATE TABLE dry_tags_before (entry_id, tag);"
                 "CREATE TABLE dry_tag_changes (entry_id, tag, added);",
    [Q_KEEP_ALERTS] = "INSERT INTO dry_alerts_before " ALERTS_IN_FORCE,
    [Q_KEEP_TAGS] = "INSERT INTO dry_tags_before " TAGS_OF_RANGE,
    [Q_CLEAR_ABSENCES] = "DELETE FROM absences WHERE entry_id IN"
                         " (SELECT id FROM entries WHERE ?1 IS NULL OR day_last >= ?1)",
    [Q_CLEAR_ALERT_ENTRIES] = "DELETE FROM alert_entries WHERE alert_id IN"
                              " (SELECT id FROM alerts WHERE ?1 IS NULL OR day >= ?1)",
    [Q_CLEAR_ALERTS] = "DELETE FROM alerts WHERE ?1 IS NULL OR day >= ?1",
    [Q_FORGET_WATERMARK] = "DELETE FROM state WHERE name = 'max_day'",
    /* The watermark as the entries before the range left it: an entry
     * dated on arrival (a feed item without a date) moves none (rules.c). */
    [Q_WATERMARK] = "INSERT INTO state (name, value) SELECT 'max_day', max(day_last)"
                    " FROM entries WHERE ?1 IS NOT NULL AND day_last < ?1"
                    " AND retracted_at IS NULL AND (fields IS NULL OR NOT json_valid(fields)"
                    " OR json_extract(fields, '$.date_from') IS NOT 'poll')"
                    " HAVING max(day_last) IS NOT NULL",
    [Q_RETRACTED] = "SELECT id FROM entries WHERE retracted_at IS NOT NULL ORDER BY id",
    [Q_AFTER] = "INSERT INTO dry_alerts_after " ALERTS_IN_FORCE,
    [Q_ADDED] = "SELECT " ALERT_COLUMNS " FROM dry_alerts_after WHERE key NOT IN"
                " (SELECT key FROM dry_alerts_before) ORDER BY day, rule, key",
    [Q_REMOVED] = "SELECT " ALERT_COLUMNS " FROM dry_alerts_before WHERE key NOT IN"
                  " (SELECT key FROM dry_alerts_after) ORDER BY day, rule, key",
    [Q_CHANGED] = "SELECT b.key, b.rule, b.date, b.day, b.severity, b.message, b.count, b.entries,"
                  " a.key, a.rule, a.date, a.day, a.severity, a.message, a.count, a.entries"
                  " FROM dry_alerts_before b JOIN dry_alerts_after a ON a.key = b.key"
                  " WHERE a.message IS NOT b.message OR a.severity IS NOT b.severity"
                  " OR a.date IS NOT b.date OR a.count IS NOT b.count"
                  " OR a.entries IS NOT b.entries ORDER BY a.day, a.rule, a.key",
    [Q_TAG_COUNTS] = "SELECT tag, sum(added), sum(NOT added) FROM dry_tag_changes"
                     " GROUP BY tag ORDER BY tag",
    [Q_TAG_EXAMPLES] = "SELECT c.entry_id, e.date, e.text FROM dry_tag_changes c"
                       " JOIN entries e ON e.id = c.entry_id WHERE c.tag = ?1 AND c.added = ?2"
                       " ORDER BY e.day_first, e.id LIMIT ?3",
};

static void say(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, cap, fmt, ap);
  va_end(ap);
}

/* Runs a statement without rows (or a script) with ?1 bound to the range. */
static int exec(vg_scratch *s, int which, char *err, size_t cap) {
  const char *tail = sql[which];
  while (tail && *tail) {
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, tail, -1, &st, &tail) != SQLITE_OK) {
      say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
      return -1;
    }
    if (!st) break;
    if (s->has_since && sqlite3_bind_parameter_count(st) >= 1) sqlite3_bind_int(st, 1, s->since);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
      say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
      return -1;
    }
  }
  return 0;
}

static sqlite3_stmt *prepare(vg_scratch *s, int which, char *err, size_t cap) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql[which], -1, &st, NULL) != SQLITE_OK) {
    say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
    return NULL;
  }
  return st;
}

/* Removes every file of dir, then dir. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d))) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      char file[4096];
      snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
      unlink(file);
    }
    closedir(d);
  }
  rmdir(dir);
}

void vg_scratch_remove(vg_scratch *s) {
  if (!s) return;
  if (s->db) sqlite3_close(s->db);
  if (s->dir) remove_dir(s->dir);
  free(s->dir);
  free(s->path);
  free(s->retracted);
  free(s);
}

const char *vg_scratch_path(const vg_scratch *s) { return s->path; }

vg_scratch *vg_scratch_copy(const char *src, const char *tmpdir, const atomic_int *stop, char *err,
                            size_t cap) {
  vg_scratch *s = calloc(1, sizeof *s);
  if (!s) {
    say(err, cap, "out of memory");
    return NULL;
  }
  if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
  if (asprintf(&s->dir, "%s/vigil-dry-run.XXXXXX", tmpdir) < 0) s->dir = NULL;
  if (!s->dir || !mkdtemp(s->dir)) {
    say(err, cap, "cannot make a scratch directory under %s: %s", tmpdir,
        s->dir ? strerror(errno) : "out of memory");
    free(s->dir);
    s->dir = NULL;
    vg_scratch_remove(s);
    return NULL;
  }
  if (asprintf(&s->path, "%s/scratch.db", s->dir) < 0) {
    s->path = NULL;
    say(err, cap, "out of memory");
    vg_scratch_remove(s);
    return NULL;
  }
  sqlite3 *from = NULL, *to = NULL;
  int rc = sqlite3_open_v2(src, &from, SQLITE_OPEN_READONLY, NULL);
  if (rc != SQLITE_OK) {
    say(err, cap, "%s: cannot open the database: %s", src,
        from ? sqlite3_errmsg(from) : "out of memory");
  } else if ((rc = sqlite3_open_v2(s->path, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   NULL)) != SQLITE_OK) {
    say(err, cap, "%s: cannot make the scratch copy: %s", s->path,
        to ? sqlite3_errmsg(to) : "out of memory");
  } else {
    sqlite3_busy_timeout(from, 10000);
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b) {
      say(err, cap, "%s: cannot copy the database: %s", src, sqlite3_errmsg(to));
      rc = SQLITE_ERROR;
    } else {
      /* In steps, so that a writer of the real database is not held up for
       * long, and an interrupt is honoured; a page another connection
       * changes meanwhile makes the copy start over from a consistent state. */
      do {
        rc = sqlite3_backup_step(b, 1024);
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
      } while ((rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
               !(stop && atomic_load(stop)));
      sqlite3_backup_finish(b);
      if (rc != SQLITE_DONE) {
        if (stop && atomic_load(stop))
          say(err, cap, "interrupted");
        else
          say(err, cap, "%s: cannot copy the database: %s", src, sqlite3_errstr(rc));
      } else {
        rc = SQLITE_OK;
      }
    }
  }
  sqlite3_close(from);
  sqlite3_close(to);
  if (rc != SQLITE_OK) {
    vg_scratch_remove(s);
    return NULL;
  }
  return s;
}

int vg_scratch_prepare(vg_scratch *s, int has_since, int32_t since, char *err, size_t cap) {
  s->has_since = has_since;
  s->since = since;
  if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    say(err, cap, "%s: cannot open the scratch copy: %s", s->path,
        s->db ? sqlite3_errmsg(s->db) : "out of memory");
    return -1;
  }
  sqlite3_busy_timeout(s->db, 10000);
  if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
    return -1;
  }
  static const int steps[] = {
      Q_TABLES,       Q_KEEP_ALERTS,      Q_KEEP_TAGS, Q_CLEAR_ABSENCES, Q_CLEAR_ALERT_ENTRIES,
      Q_CLEAR_ALERTS, Q_FORGET_WATERMARK, Q_WATERMARK};
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    if (exec(s, steps[i], err, cap)) {
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  }
  sqlite3_stmt *st = prepare(s, Q_RETRACTED, err, cap);
  int rc = st ? SQLITE_ROW : SQLITE_ERROR;
  size_t room = 0;
  while (st && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (s->nretracted == room) {
      room = room ? room * 2 : 16;
      int64_t *v = realloc(s->retracted, room * sizeof *v);
      if (!v) {
        rc = SQLITE_NOMEM;
        break;
      }
      s->retracted = v;
    }
    s->retracted[s->nretracted++] = sqlite3_column_int64(st, 0);
  }
  if (st && rc != SQLITE_DONE)
    say(err, cap, "scratch copy: %s", rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(s->db));
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE || sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    if (rc == SQLITE_DONE) say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

int vg_scratch_retracted(const vg_scratch *s, int64_t id) {
  size_t lo = 0, hi = s->nretracted;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->retracted[mid] == id) return 1;
    if (s->retracted[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

/* Reads the alert of columns at..at+7 of st into a. */
static void alert_at(sqlite3_stmt *st, int at, vg_scratch_alert *a) {
  a->key = (const char *)sqlite3_column_text(st, at);
  a->rule = (const char *)sqlite3_column_text(st, at + 1);
  a->date = (const char *)sqlite3_column_text(st, at + 2);
  a->severity = (const char *)sqlite3_column_text(st, at + 4);
  a->message = (const char *)sqlite3_column_text(st, at + 5);
  a->count = sqlite3_column_int64(st, at + 6);
  a->entries = (const char *)sqlite3_column_text(st, at + 7);
}

int vg_scratch_alerts(vg_scratch *s, vg_scratch_alert_fn fn, void *ud, char *err, size_t cap) {
  if (exec(s, Q_AFTER, err, cap)) return -1;
  static const struct {
    int which, kind;
  } passes[] = {{Q_ADDED, VG_SCRATCH_ADDED},
                {Q_REMOVED, VG_SCRATCH_REMOVED},
                {Q_CHANGED, VG_SCRATCH_CHANGED}};
  for (size_t p = 0; p < sizeof passes / sizeof passes[0]; p++) {
    sqlite3_stmt *st = prepare(s, passes[p].which, err, cap);
    if (!st) return -1;
    int rc, out = 0;
    while (!out && (rc = sqlite3_step(st)) == SQLITE_ROW) {
      vg_scratch_alert one, two;
      alert_at(st, 0, &one);
      if (passes[p].kind == VG_SCRATCH_CHANGED) alert_at(st, 8, &two);
      if (passes[p].kind == VG_SCRATCH_ADDED)
        out = fn(ud, passes[p].kind, NULL, &one);
      else if (passes[p].kind == VG_SCRATCH_REMOVED)
        out = fn(ud, passes[p].kind, &one, NULL);
      else
        out = fn(ud, passes[p].kind, &one, &two);
    }
    if (!out && rc != SQLITE_DONE) say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    if (out) return out;
    if (rc != SQLITE_DONE) return -1;
  }
  return 0;
}

int vg_scratch_tags(vg_scratch *s, int examples, vg_scratch_tag_fn tag_fn,
                    vg_scratch_example_fn example_fn, void *ud, char *err, size_t cap) {
  /* The pairs (entry, tag) of the range now, against those kept aside. */
  static const char changes[] =
      "INSERT INTO dry_tag_changes (entry_id, tag, added)"
      " SELECT entry_id, tag, 1 FROM (" TAGS_OF_RANGE " EXCEPT SELECT entry_id, tag FROM"
      " dry_tags_before) UNION ALL SELECT entry_id, tag, 0 FROM (SELECT entry_id, tag FROM"
      " dry_tags_before EXCEPT " TAGS_OF_RANGE ")";
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, changes, -1, &st, NULL) != SQLITE_OK) {
    say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
    return -1;
  }
  if (s->has_since) sqlite3_bind_int(st, 1, s->since);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
    return -1;
  }
  sqlite3_stmt *counts = prepare(s, Q_TAG_COUNTS, err, cap);
  sqlite3_stmt *ex = counts ? prepare(s, Q_TAG_EXAMPLES, err, cap) : NULL;
  int out = 0;
  rc = ex ? SQLITE_DONE : SQLITE_ERROR;
  while (ex && !out && (rc = sqlite3_step(counts)) == SQLITE_ROW) {
    vg_scratch_tag t = {(const char *)sqlite3_column_text(counts, 0),
                        sqlite3_column_int64(counts, 1), sqlite3_column_int64(counts, 2)};
    out = tag_fn(ud, &t);
    for (int added = 1; added >= 0 && !out && example_fn; added--) {
      sqlite3_bind_text(ex, 1, t.tag, -1, SQLITE_STATIC);
      sqlite3_bind_int(ex, 2, added);
      sqlite3_bind_int(ex, 3, examples);
      int erc = SQLITE_DONE;
      while (!out && (erc = sqlite3_step(ex)) == SQLITE_ROW)
        out = example_fn(ud, t.tag, added, sqlite3_column_int64(ex, 0),
                         (const char *)sqlite3_column_text(ex, 1),
                         (const char *)sqlite3_column_text(ex, 2));
      sqlite3_reset(ex);
      if (!out && erc != SQLITE_DONE) {
        rc = erc;
        break;
      }
    }
    if (rc != SQLITE_ROW) break;
  }
  if (ex && !out && rc != SQLITE_DONE) say(err, cap, "scratch copy: %s", sqlite3_errmsg(s->db));
  sqlite3_finalize(ex);
  sqlite3_finalize(counts);
  if (out) return out;
  return rc == SQLITE_DONE ? 0 : -1;
}

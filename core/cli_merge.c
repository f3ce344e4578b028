/* cli_merge.c — several databases read as one (cli_merge.h). */
#include "cli_merge.h"

#include "vigil.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

/* Records a cursor reads at a time. */
#define PAGE 256

const char *vg_cli_store_path(const vg_config *cfg, size_t i) {
  return vg_cli.ndbs > 1 ? vg_cli.dbs[i] : cfg->db;
}

void vg_cli_close_stores(vg_store **sts, size_t n) {
  for (size_t i = 0; sts && i < n; i++)
    vg_store_close(sts[i]);
  free(sts);
}

vg_store **vg_cli_open_stores(const char *cmd, const vg_config *cfg, int flags, size_t *n) {
  size_t count = vg_cli.ndbs > 1 ? vg_cli.ndbs : 1;
  vg_store **sts = calloc(count, sizeof *sts);
  if (!sts) {
    fprintf(stderr, "%s: out of memory\n", cmd);
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    vg_config one = *cfg; /* a shallow copy: only its db differs, nothing is freed */
    one.db = (char *)vg_cli_store_path(cfg, i);
    /* One database named twice (by another path too) would list each of
     * its records twice. */
    struct stat a, b;
    for (size_t k = 0; k < i && count > 1 && stat(one.db, &a) == 0; k++)
      if (stat(vg_cli_store_path(cfg, k), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        fprintf(stderr, "%s: --db %s and --db %s are one database\n", cmd, vg_cli_store_path(cfg, k),
                one.db);
        vg_cli_close_stores(sts, i);
        return NULL;
      }
    if (!(sts[i] = vg_cli_open_store(cmd, &one, flags))) { /* it says which, and why */
      vg_cli_close_stores(sts, i);
      return NULL;
    }
  }
  *n = count;
  return sts;
}

/* ---- the merge ---- */

/* A record read and not yet handed on. */
typedef struct {
  void *rec;   /* a vg_row or vg_alert_row with its strings, one allocation (owned) */
  int32_t day; /* what the merge orders by, */
  int64_t id;  /* and what the cursor resumes after */
} item;

/* One database's place in the merge. */
typedef struct {
  vg_store *st;
  item v[PAGE]; /* the page read last */
  size_t n, at; /* records in it; the next to hand on */
  int end;      /* the database has nothing after this page */
  int started;  /* a page was read: day and id say where the next one starts */
  int32_t day;  /* the last record read */
  int64_t id;
  int err; /* VG_ENOMEM when a record could not be copied */
} cursor;

/* What the caller asked for. */
typedef struct {
  vg_cli_entry_fn entry;
  vg_cli_alert_fn alert;
  void *ud;
} sink;

/* What differs between entries and alerts. */
typedef struct {
  /* Reads into c the records q selects after c's last (from the first when
   * !c->started), at most limit. 0 or the store's error. */
  int (*read)(const void *q, cursor *c, long limit);
  /* Hands rec, of database db, to the caller. */
  int (*emit)(const sink *s, size_t db, const void *rec);
} kind;

/* A copy of the struct rec (size bytes) and of the strings at offs[0..n)
 * in it (each may be NULL), in one allocation, the copy's pointers moved
 * to the copied strings. NULL when out of memory. */
static void *copy_rec(const void *rec, size_t size, const size_t *offs, size_t n) {
  size_t total = size;
  for (size_t i = 0; i < n; i++) {
    const char *s = *(const char *const *)(const void *)((const char *)rec + offs[i]);
    if (s) total += strlen(s) + 1;
  }
  char *buf = malloc(total);
  if (!buf) return NULL;
  memcpy(buf, rec, size);
  char *p = buf + size;
  for (size_t i = 0; i < n; i++) {
    const char **s = (const char **)(void *)(buf + offs[i]);
    if (!*s) continue;
    size_t len = strlen(*s) + 1;
    memcpy(p, *s, len);
    *s = p;
    p += len;
  }
  return buf;
}

/* Adds a copied record to c's page; VG_ENOMEM stops the store's query. */
static int keep(cursor *c, void *rec, int32_t day, int64_t id) {
  if (!rec) return c->err = VG_ENOMEM;
  c->v[c->n++] = (item){rec, day, id};
  c->started = 1;
  c->day = day;
  c->id = id;
  return 0;
}

static const size_t row_strings[] = {
    offsetof(vg_row, date),   offsetof(vg_row, precision),   offsetof(vg_row, text),
    offsetof(vg_row, source), offsetof(vg_row, ingested_at), offsetof(vg_row, fields),
    offsetof(vg_row, tags),   offsetof(vg_row, update_text), offsetof(vg_row, updated_at),
    offsetof(vg_row, retracted_at), offsetof(vg_row, retract_reason)};

static int keep_entry(void *ud, const vg_row *r) {
  void *rec = copy_rec(r, sizeof *r, row_strings, sizeof row_strings / sizeof row_strings[0]);
  return keep(ud, rec, r->day_first, r->id);
}

static int read_entries(const void *query, cursor *c, long limit) {
  vg_query q = *(const vg_query *)query;
  q.limit = limit;
  q.has_after = c->started;
  q.after_day = c->day;
  q.after_id = c->id;
  return vg_store_query(c->st, &q, keep_entry, c);
}

static int emit_entry(const sink *s, size_t db, const void *rec) {
  return s->entry(s->ud, db, rec);
}

static const size_t alert_strings[] = {
    offsetof(vg_alert_row, rule),     offsetof(vg_alert_row, key),
    offsetof(vg_alert_row, severity), offsetof(vg_alert_row, message),
    offsetof(vg_alert_row, date),     offsetof(vg_alert_row, created_at),
    offsetof(vg_alert_row, entries),  offsetof(vg_alert_row, retract_reason),
    offsetof(vg_alert_row, rule_file), offsetof(vg_alert_row, rule_hash)};

static int keep_alert(void *ud, const vg_alert_row *a) {
  void *rec = copy_rec(a, sizeof *a, alert_strings, sizeof alert_strings / sizeof alert_strings[0]);
  return keep(ud, rec, a->day, a->id);
}

static int read_alerts(const void *query, cursor *c, long limit) {
  vg_alert_query q = *(const vg_alert_query *)query;
  q.limit = limit;
  q.has_after = c->started;
  q.after_day = c->day;
  q.after_id = c->id;
  return vg_store_alerts(c->st, &q, keep_alert, c);
}

static int emit_alert(const sink *s, size_t db, const void *rec) {
  return s->alert(s->ud, db, rec);
}

static void drop_page(cursor *c) {
  for (size_t i = 0; i < c->n; i++)
    free(c->v[i].rec);
  c->n = c->at = 0;
}

/* The k-way merge. The databases are few (a daemon's partitions): the
 * earliest head is found by looking at each, the first named winning a
 * tie, which keeps the order stable. */
static int merge(vg_store **sts, size_t n, const void *q, long limit, const kind *k, const sink *s,
                 size_t *failed) {
  cursor *cs = calloc(n, sizeof *cs);
  if (!cs) {
    *failed = 0;
    return VG_ENOMEM;
  }
  long page = limit > 0 && limit < PAGE ? limit : PAGE, emitted = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    cs[i].st = sts[i];
  while (limit <= 0 || emitted < limit) {
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
      cursor *c = &cs[i];
      if (c->at == c->n && !c->end) {
        drop_page(c);
        rc = k->read(q, c, page);
        if (!rc) rc = c->err;
        if (rc) {
          *failed = i;
          goto out;
        }
        c->end = c->n < (size_t)page;
      }
      if (c->at < c->n && (best == n || c->v[c->at].day < cs[best].v[cs[best].at].day)) best = i;
    }
    if (best == n) break; /* every database is done */
    if ((rc = k->emit(s, best, cs[best].v[cs[best].at++].rec))) goto out;
    emitted++;
  }
out:
  for (size_t i = 0; i < n; i++)
    drop_page(&cs[i]);
  free(cs);
  return rc;
}

/* One database: the store's query as it is. */
static int one_entry(void *ud, const vg_row *r) {
  const sink *s = ud;
  return s->entry(s->ud, 0, r);
}

static int one_alert(void *ud, const vg_alert_row *a) {
  const sink *s = ud;
  return s->alert(s->ud, 0, a);
}

int vg_cli_merge_entries(vg_store **sts, size_t n, const vg_query *q, vg_cli_entry_fn fn, void *ud,
                         size_t *failed) {
  static const kind entries = {read_entries, emit_entry};
  sink s = {.entry = fn, .ud = ud};
  *failed = 0;
  if (n == 1) return vg_store_query(sts[0], q, one_entry, &s);
  return merge(sts, n, q, q->limit, &entries, &s, failed);
}

int vg_cli_merge_alerts(vg_store **sts, size_t n, const vg_alert_query *q, vg_cli_alert_fn fn,
                        void *ud, size_t *failed) {
  static const kind alerts = {read_alerts, emit_alert};
  sink s = {.alert = fn, .ud = ud};
  *failed = 0;
  if (n == 1) return vg_store_alerts(sts[0], q, one_alert, &s);
  return merge(sts, n, q, q->limit, &alerts, &s, failed);
}

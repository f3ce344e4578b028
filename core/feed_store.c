/* feed_store.c — a fetch into the store; see feed_store.h. */
#include "feed_store.h"

#include "batch.h"
#include "gdelt.h"
#include "tabular.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long parsing one feed may hold the thread that stores it: a feed of
 * the largest size allowed parses in well under a second. */
#define PARSE_SECONDS 10

typedef struct {
  vg_store *st;
  const vg_feed_health *h;
} health_job;

/* The feed's health goes in the transaction of its items. */
static int put_health(void *ud) {
  health_job *j = ud;
  return vg_store_feed_put(j->st, j->h);
}

/* What the body of a feed in a table format comes to before anything is
 * stored: the table to ingest and, when the body was GDELT's update
 * listing, the archive it came in. */
typedef struct {
  vg_format fmt;      /* the table format */
  int listing;        /* the body was an update listing */
  vg_gdelt_archive a; /* the export archive it named */
  int seen;           /* the feed ingested that archive before: nothing fetched */
  const char *table;  /* the table to ingest, or NULL */
  size_t len;         /* its bytes */
  char *owned;        /* what table points into when it is not the body */
  const char *origin; /* what its rejects name: the archive's URL, or the feed's */
} table_body;

/* The table format feed f is read in, into fmt: 1 when its format names
 * one (tabular.h), 0 when it is a feed format (rss, json...). */
static int table_format(const vg_feed_conf *f, vg_format *fmt) {
  vg_feed_format ff;
  return vg_feed_format_parse(f->format, &ff) != 0 && vg_format_parse(f->format, fmt) == 0 &&
         *fmt >= VG_FORMAT_TABLE;
}

/* Fetches the archive g->a names for feed f and unpacks it into g; the
 * fetch is cut when *stop is set (may be NULL). Returns 0, or -1 with why
 * in err. */
static int fetch_archive(const vg_feed_conf *f, size_t max_archive, const atomic_int *stop,
                         table_body *g, char *err, size_t cap) {
  const vg_gdelt_archive *a = &g->a;
  if (a->size > max_archive) {
    snprintf(err, cap, "archive %s: the listing gives %llu bytes, over the %zu-byte cap "
             "(feed_max_archive)", a->name, (unsigned long long)a->size, max_archive);
    return -1;
  }
  /* Held to the size listed: a larger body is no longer that archive. */
  vg_fetch *x = vg_feed_get(f, a->url, a->size ? (size_t)a->size : 1, stop);
  char md5[33], why[300];
  int rc = -1;
  if (!x) {
    snprintf(err, cap, "archive %s: out of memory", a->name);
  } else if (x->error[0]) {
    snprintf(err, cap, "archive %.100s: %.280s", a->name, x->error);
  } else if (x->len != a->size) {
    snprintf(err, cap, "archive %s: %zu bytes, not the %llu the listing gives; not stored",
             a->name, x->len, (unsigned long long)a->size);
  } else if (vg_md5_hex(x->body, x->len, md5), strcmp(md5, a->md5) != 0) {
    snprintf(err, cap, "archive %s: MD5 %s, not the %s the listing gives; not stored", a->name,
             md5, a->md5);
  } else if (vg_gdelt_unzip(x->body, x->len, max_archive, &g->owned, &g->len, NULL, why,
                            sizeof why)) {
    snprintf(err, cap, "archive %.100s: %.250s; not stored", a->name, why);
  } else {
    g->table = g->owned;
    g->origin = a->url;
    rc = 0;
  }
  vg_fetch_free(x);
  return rc;
}

/* Reads the body of fetch x, of a feed in a table format, into g. When
 * the format is gdelt, a body that is GDELT's update listing is followed to
 * the archive it names (unless st records it for the feed already), and a
 * body that is a zip archive is unpacked (the fetch cut when ig->stop is
 * set). Returns 0, -1 with why in err (the poll failed), or VG_EDB. */
static int table_read(const vg_ingest *ig, const vg_fetch *x, size_t max_archive, table_body *g,
                      char *err, size_t cap) {
  vg_store *st = ig->st;
  const vg_feed_conf *f = x->feed;
  g->origin = f->url;
  g->table = x->body;
  g->len = x->len;
  if (strcmp(f->format, "gdelt") != 0) return 0;
  int rc = vg_gdelt_listing(x->body, x->len, &g->a, err, cap);
  if (rc < 0) return -1;
  if (rc == 1) {
    g->listing = 1;
    g->table = NULL;
    if ((g->seen = vg_store_feed_archive_seen(st, f->url, g->a.name)) < 0) {
      snprintf(err, cap, "not stored: database error: %s", vg_store_errmsg(st));
      return VG_EDB;
    }
    if (g->seen) {
      vg_debug("feed %s: archive %s was ingested before; nothing fetched", f->url, g->a.name);
      return 0;
    }
    vg_debug("feed %s: fetching archive %s", f->url, g->a.url);
    return fetch_archive(f, max_archive, ig->stop, g, err, cap);
  }
  if (vg_gdelt_is_zip(x->body, x->len)) {
    char why[300];
    g->table = NULL;
    if (vg_gdelt_unzip(x->body, x->len, max_archive, &g->owned, &g->len, NULL, why, sizeof why)) {
      snprintf(err, cap, "%s", why);
      return -1;
    }
    g->table = g->owned;
  }
  return 0;
}

/* Ingests the table g holds for feed f through b, and records the archive
 * it came in, in b's open transaction. Returns as vg_ingest_feed_table. */
static int table_ingest(vg_batch *b, const vg_feed_conf *f, const table_body *g, size_t max_line,
                        vg_feed_result *r) {
  if (!g->table) return 0; /* an archive ingested before */
  if (g->listing) {
    /* Another process may have ingested it since it was looked up. */
    int seen = vg_store_feed_archive_seen(b->ig.st, f->url, g->a.name);
    if (seen) return seen < 0 ? VG_EDB : 0;
  }
  int rc = vg_ingest_feed_table(&b->ig, f, g->fmt, g->origin, g->table, g->len, max_line,
                                &r->counts, &r->items);
  if (rc == 0 && g->listing) {
    vg_feed_archive a = {f->url, g->a.name, g->a.md5, g->a.size, r->counts.stored,
                         r->counts.duplicates, r->counts.rejected};
    rc = vg_store_feed_archive_put(b->ig.st, &a);
    r->archive_new = rc == 0;
  }
  return rc;
}

int vg_feed_store(const vg_ingest *ig, const vg_fetch *x, size_t max_line, size_t max_archive,
                  int scheduled, vg_feed_result *r) {
  const vg_feed_conf *f = x->feed;
  memset(r, 0, sizeof *r);
  vg_feed_items items = {0};
  table_body g = {0};
  vg_feed_format fmt = VG_FEED_AUTO;
  vg_feed_format_parse(f->format, &fmt);
  int table = table_format(f, &g.fmt), rc = 0;
  if (x->error[0]) {
    snprintf(r->error, sizeof r->error, "%s", x->error);
  } else if (x->status == 304) {
    r->ok = 1;
  } else if (table) {
    rc = table_read(ig, x, max_archive, &g, r->error, sizeof r->error);
    r->ok = rc == 0;
    if (rc && vg_ingest_stopped(ig)) { /* the fetch was cut: no failure of the feed's */
      snprintf(r->error, sizeof r->error, "stopping: archive %.200s not fetched", g.a.name);
      rc = VG_ESTOPPED;
    }
    if (rc == VG_EDB || rc == VG_ESTOPPED) goto done;
    rc = 0;
    if (g.listing) snprintf(r->archive, sizeof r->archive, "%s", g.a.name);
  } else {
    /* What the parser makes of the body is held to caps too: each part of an
     * item to max_line, all of them to twice the body cap, entities
     * expanded; and the parse to a time. */
    vg_feed_limits lim = {max_line, 2 * x->max_body, PARSE_SECONDS * UINT64_C(1000000000)};
    r->ok = vg_feed_parse(x->body, x->len, x->content_type, fmt, &lim, &items, r->error,
                          sizeof r->error) == 0;
  }
  r->failures = r->ok ? 0 : x->failures + 1;
  r->delay = vg_feed_backoff(f->interval, r->failures);
  time_t next = time(NULL) + r->delay;
  vg_feed_health h = {f->url, f->source, r->ok ? x->etag : NULL, r->ok ? x->last_modified : NULL,
                      r->ok ? NULL : r->error, r->failures, 0, ""};
  struct tm tm;
  if (scheduled && gmtime_r(&next, &tm))
    strftime(h.next_poll, sizeof h.next_poll, "%Y-%m-%dT%H:%M:%SZ", &tm);
  vg_batch b;
  vg_batch_init(&b, ig);
  rc = vg_batch_begin(&b);
  if (rc == 0 && r->ok && x->status != 304) {
    if (table) rc = table_ingest(&b, f, &g, max_line, r);
    else rc = vg_ingest_feed(&b.ig, f, &items, time(NULL), max_line, &r->counts, &r->items);
  }
  h.items = r->counts.stored;
  rc = vg_batch_end(&b, rc, put_health, &(health_job){ig->st, &h});
  if (rc) {
    snprintf(r->error, sizeof r->error, "not stored: %s", b.err);
    r->archive_new = 0;
  }
  vg_batch_free(&b);
done:
  vg_feed_items_free(&items);
  free(g.owned);
  return rc;
}

/* feed_store.c — a fetch into the store; see feed_store.h. */
#include "feed_store.h"

#include "batch.h"
#include "tabular.h"
#include "vigil.h"

#include <stdio.h>
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

int vg_feed_store(const vg_ingest *ig, const vg_fetch *x, size_t max_line, int scheduled,
                  vg_feed_result *r) {
  const vg_feed_conf *f = x->feed;
  memset(r, 0, sizeof *r);
  vg_feed_items items = {0};
  vg_feed_format fmt = VG_FEED_AUTO;
  vg_feed_format_parse(f->format, &fmt);
  /* A table format's body is CSV or TSV: its rows are cut when stored. */
  const vg_tabular_format *tf = f->format ? vg_tabular_find(f->format) : NULL;
  if (x->error[0]) {
    snprintf(r->error, sizeof r->error, "%s", x->error);
  } else if (x->status == 304 || tf) {
    r->ok = 1;
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
  int rc = vg_batch_begin(&b);
  if (rc == 0 && r->ok && x->status != 304 && tf)
    rc = vg_ingest_feed_table(&b.ig, f, vg_tabular_fmt(tf), NULL, x->body, x->len, max_line,
                              &r->counts, &r->items);
  else if (rc == 0 && r->ok && x->status != 304)
    rc = vg_ingest_feed(&b.ig, f, &items, time(NULL), max_line, &r->counts, &r->items);
  h.items = r->counts.stored;
  rc = vg_batch_end(&b, rc, put_health, &(health_job){ig->st, &h});
  if (rc) snprintf(r->error, sizeof r->error, "not stored: %s", b.err);
  vg_batch_free(&b);
  vg_feed_items_free(&items);
  return rc;
}

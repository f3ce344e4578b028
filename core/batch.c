/* batch.c — one transaction of ingestion; see batch.h. */
#include "batch.h"
#include "metrics.h"

#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vg_batch_init(vg_batch *b, const vg_ingest *from) {
  memset(b, 0, sizeof *b);
  b->ig = *from;
  b->out = from->alerts;
  b->ig.alerts = from->alerts ? &b->raised : NULL; /* nobody wants them: none are made */
}

/* Keeps why rc happened, from the store when it is the store's doing. */
static void say_why(vg_batch *b, int rc) {
  snprintf(b->err, sizeof b->err, "%s", rc == VG_EDB ? vg_store_errmsg(b->ig.st) : vg_strerror(rc));
}

int vg_batch_begin(vg_batch *b) {
  int rc = vg_store_begin(b->ig.st);
  if (rc) {
    say_why(b, VG_EDB);
    return VG_EDB;
  }
  b->open = 1;
  vg_metrics_rollback(); /* nothing counted outside a transaction carries into it */
  return 0;
}

/* Moves the alerts of the committed transaction to b->out. An alert that
 * finds no room there is stored all the same; only the sinks miss it. */
static void hand_over(vg_batch *b) {
  vg_alert_list *from = &b->raised, *to = b->out;
  for (size_t i = 0; to && i < from->n; i++) {
    if (to->n == to->cap) {
      size_t cap = to->cap ? to->cap * 2 : 16;
      vg_alert *v = realloc(to->v, cap * sizeof *v);
      if (!v) {
        vg_error("alert %lld: out of memory for its sinks", (long long)from->v[i].id);
        continue;
      }
      to->v = v;
      to->cap = cap;
    }
    to->v[to->n++] = from->v[i];
    memset(&from->v[i], 0, sizeof from->v[i]);
  }
  vg_alert_list_clear(from);
}

int vg_batch_end(vg_batch *b, int rc, int (*before_commit)(void *ud), void *ud) {
  if (b->open && rc == 0) rc = vg_ingest_flush(&b->ig);
  /* The deliveries are written with their alerts, or not at all. */
  if (b->open && rc == 0 && b->ig.outbox && b->raised.n)
    rc = vg_outbox_write(b->ig.outbox, b->ig.st, &b->raised);
  if (b->open && rc == 0 && before_commit) rc = before_commit(ud);
  if (b->open && rc == 0) {
    uint64_t t0 = vg_metrics_now_ns();
    rc = vg_store_commit(b->ig.st);
    if (rc == 0) vg_metrics_commit_seconds((double)(vg_metrics_now_ns() - t0) / 1e9);
  }
  if (rc == 0) {
    b->open = 0;
    vg_metrics_commit(); /* the lines it counted count now */
    hand_over(b);
    return 0;
  }
  say_why(b, rc); /* first: the rollback would replace the store's message */
  if (b->open) vg_store_rollback(b->ig.st);
  b->open = 0;
  vg_metrics_rollback();
  vg_alert_list_clear(&b->raised);
  return rc;
}

void vg_batch_free(vg_batch *b) {
  if (!b) return;
  if (b->open) vg_batch_end(b, VG_ESTOPPED, NULL, NULL);
  vg_alert_list_clear(&b->raised);
  free(b->raised.v);
  b->raised.v = NULL;
  b->raised.cap = 0;
}

void vg_batch_why(const vg_batch *b, int rc, char *why, size_t cap) {
  if (rc == VG_ENOMEM) snprintf(why, cap, "not stored: out of memory");
  else snprintf(why, cap, "not stored: database error: %.120s", b->err);
}

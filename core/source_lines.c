/* source_lines.c — lines from the clients (listen.c queues them in
 * srv->pending). A batch closes after batch_max lines, or once its oldest
 * line has waited batch_ms, whichever comes first; its lines are stored in
 * one transaction on the worker, and each is answered only after that
 * commit: "ok ID", "duplicate ID", or "error line N: reason". Lines that
 * come while a batch is stored wait for the next one; the replies of a
 * batch are written while the next batch is stored. See daemon.h. */
#include "daemon.h"
#include "metrics.h"
#include "vigil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Marks a line that the daemon stops before storing (a line refused by the
 * parser too: it is neither stored nor kept in rejects, and its client is
 * to send it again). */
static void not_stored(item *it) {
  it->status = VG_ESTOPPED;
  free(it->reason);
  it->reason = NULL;
}

static void work(server *srv) {
  item_vec *b = &srv->batch;
  vg_batch *t = &srv->txn;
  t->ig.rules = srv->rules; /* a reload may have changed them */
  int rc = vg_batch_begin(t);
  size_t done = 0;
  /* A stop is honoured between two entries: those done are committed and
   * answered, the rest are answered "not stored" for their clients to send
   * again. */
  for (; rc == 0 && done < b->n && !vg_ingest_stopped(&t->ig); done++) {
    item *it = &b->v[done];
    vg_line line = {it->data,      it->len,       it->total,        it->line_no, it->flags,
                    srv->js.format, SOCKET_SOURCE, srv->js.max_line, it->from->name, NULL};
    vg_result res = {.status = it->header ? VG_HEADER : VG_REJECTED};
    if (!it->parsed) snprintf(res.reason, sizeof res.reason, "%s", it->reason);
    rc = vg_ingest_parsed(&t->ig, &line, it->parsed ? &it->e : NULL, &res, NULL);
    it->status = res.status;
    it->id = res.id;
    /* A parsed line refused by the store (a correction of an entry that is
     * retracted, say): its reply says why, as a parse failure's does. */
    if (it->parsed && res.status == VG_REJECTED && !it->reason) it->reason = strdup(res.reason);
  }
  for (size_t k = done; rc == 0 && k < b->n; k++) not_stored(&b->v[k]);
  if ((rc = vg_batch_end(t, rc, NULL, NULL))) {
    char why[VG_REASON_MAX];
    vg_batch_why(t, rc, why, sizeof why);
    vg_error("a batch of %zu lines was not stored: %s", b->n, why + 12);
    for (size_t i = 0; i < b->n; i++) { /* said whole, or in short when out of memory */
      b->v[i].status = rc == VG_ENOMEM ? VG_ENOMEM : VG_EDB;
      free(b->v[i].reason);
      b->v[i].reason = strdup(why);
    }
  }
}

/* Answers each line of b, in order on its connection, then sends the
 * replies and frees or finishes the clients that waited only for them. */
static void answer(server *srv, item_vec *b) {
  uint64_t stored = 0, dups = 0, bad = 0, left = 0, now = uv_hrtime();
  for (size_t i = 0; i < b->n; i++) {
    item *it = &b->v[i];
    vg_metrics_ack_seconds((double)(now - it->arrived) / 1e9); /* its reply is written below */
    client *c = it->from;
    left += it->status == VG_ESTOPPED;
    char reason[4 * VG_REASON_MAX], reply[sizeof reason + 48], said[VG_REASON_MAX];
    int n;
    if (it->reason) snprintf(said, sizeof said, "%s", it->reason);
    else snprintf(said, sizeof said, "not stored: %s", vg_strerror(it->status));
    /* One reply a line, whatever the reason quotes. */
    vg_escape_line(reason, sizeof reason, said, strnlen(said, sizeof said));
    switch (it->status) {
    case VG_STORED: n = snprintf(reply, sizeof reply, "ok %lld\n", (long long)it->id); stored++; break;
    case VG_DUPLICATE: n = snprintf(reply, sizeof reply, "duplicate %lld\n", (long long)it->id); dups++; break;
    case VG_CORRECTION:
    case VG_RETRACTION:
      n = snprintf(reply, sizeof reply, "%s %lld\n",
                   it->status == VG_CORRECTION ? "corrected" : "retracted", (long long)it->id);
      break;
    case VG_HEADER: n = snprintf(reply, sizeof reply, "header\n"); break;
    case VG_REJECTED:
      n = snprintf(reply, sizeof reply, "error line %llu: %s\n", (unsigned long long)it->line_no,
                   reason);
      vg_info("%s: line %llu rejected: %s", c->name, (unsigned long long)it->line_no, reason);
      bad++;
      break;
    default: n = snprintf(reply, sizeof reply, "error: %s\n", reason); bad++; break;
    }
    if (!c->closing) vg_listen_append(&c->out, &c->out_len, &c->out_cap, reply, (size_t)n);
    vg_listen_touch(srv, c);
    if (it->parsed) vg_entry_clear(&it->e);
    free(it->reason);
    free(it->data);
    c->inflight--;
  }
  vg_debug("batch of %zu lines: %llu stored, %llu duplicates, %llu not stored", b->n,
           (unsigned long long)stored, (unsigned long long)dups, (unsigned long long)bad);
  srv->unstored += left;
  /* Send the replies, then free or finish the clients that were waiting
   * only for this batch. */
  for (size_t i = 0; i < srv->ntouched; i++) {
    client *c = srv->touched[i];
    vg_listen_flush(c);
    if (c->inflight) continue;
    if (c->closed) vg_listen_client_free(c);
    else if (c->eof) vg_listen_client_finish(c);
  }
  srv->ntouched = 0;
  b->n = 0;
}

/* Moves up to batch_max waiting lines into the job's batch; 0, or -1 when
 * out of memory (nothing moved, no job). */
static int start_lines(server *srv) {
  item_vec *p = &srv->pending, *b = &srv->batch;
  size_t take = p->n < srv->cfg.batch_max ? p->n : srv->cfg.batch_max;
  /* Swap buffers when taking everything; otherwise copy the front out. */
  if (take == p->n) {
    item_vec t = *b;
    *b = *p;
    *p = t;
    p->n = 0;
  } else {
    if (b->cap < take) {
      item *nv = realloc(b->v, take * sizeof *nv);
      if (!nv) return -1;
      b->v = nv;
      b->cap = take;
    }
    memcpy(b->v, p->v, take * sizeof *p->v);
    memmove(p->v, p->v + take, (p->n - take) * sizeof *p->v);
    b->n = take;
    p->n -= take;
  }
  for (size_t i = 0; i < b->n; i++) srv->pending_bytes -= b->v[i].len;
  return 0;
}

/* Stopping: the lines still waiting are answered "not stored" at once,
 * without a job, for their clients to send again. */
static void answer_stopped(server *srv) {
  while (srv->pending.n && start_lines(srv) == 0) {
    for (size_t i = 0; i < srv->batch.n; i++) not_stored(&srv->batch.v[i]);
    answer(srv, &srv->batch);
  }
}

static void on_batch_timer(uv_timer_t *t) {
  server *srv = t->data;
  srv->lines_due = 1;
  vg_daemon_kick(srv);
}

static int take(server *srv) {
  if (!srv->pending.n) return SOURCE_NONE;
  if (srv->stopping) {
    answer_stopped(srv);
    if (!srv->pending.n) return SOURCE_NONE;
    uv_timer_start(&srv->batch_timer, on_batch_timer, 100, 0); /* out of memory: again soon */
    return SOURCE_WAIT;
  }
  if (vg_source_http_first(srv, srv->pending_since)) return SOURCE_NONE; /* a body came first */
  uint64_t waited = uv_now(srv->loop) - srv->pending_since;
  if (srv->pending.n >= srv->cfg.batch_max || waited >= srv->cfg.batch_ms || srv->lines_due) {
    uv_timer_stop(&srv->batch_timer);
    srv->lines_due = 0;
    if (start_lines(srv) == 0) return SOURCE_TAKEN;
    uv_timer_start(&srv->batch_timer, on_batch_timer, 100, 0); /* out of memory: again soon */
  } else if (!uv_is_active((uv_handle_t *)&srv->batch_timer)) {
    uv_timer_start(&srv->batch_timer, on_batch_timer, srv->cfg.batch_ms - waited, 0);
  }
  return SOURCE_WAIT; /* nothing else starts while lines wait */
}

/* The lines are answered once the next job is under way: swap them out of
 * the way of the next batch. */
static void done(server *srv) {
  item_vec t = srv->answering;
  srv->answering = srv->batch;
  srv->batch = t;
}

static void reply(server *srv) { answer(srv, &srv->answering); }

const vg_source vg_source_lines = {
    .name = "lines", .take = take, .work = work, .done = done, .reply = reply};

/* source_outbox.c — the daemon's deliveries of alerts from the outbox
 * (outbox.h). Its job, on the worker, records the results the sinks
 * reported and takes the rows due (up to VG_OUTBOX_INFLIGHT in flight);
 * its done(), on the loop, hands them to the sinks, whose results come
 * back on the loop and ask for another job. A job is asked for when
 * results wait, when a commit wrote rows, at the start, when the next row
 * not taken falls due (a timer), and once a minute at least (for the rows
 * of one-shot commands whose lease ran out). server.c calls the functions
 * below. */
#include "daemon.h"
#include "metrics.h"

#include "vigil.h"

#include <stdio.h>

#define OUTBOX_RETRY_MS 1000 /* after the store failed a step */
/* How long the daemon goes without looking at the outbox at most: the rows
 * of a one-shot command whose lease ran out (it was killed) become the
 * daemon's at its next look. */
#define OUTBOX_LOOK_MS 60000

static void on_poke(uv_timer_t *t) { vg_daemon_kick(t->data); }

static void on_due(uv_timer_t *t) {
  server *srv = t->data;
  srv->outbox_wanted = 1;
  vg_daemon_kick(srv);
}

/* A sink reported a result: a job records it, once the loop is free. */
static void on_result(void *ud) {
  server *srv = ud;
  if (srv->have_outbox && !uv_is_closing((uv_handle_t *)&srv->outbox_poke) &&
      !uv_is_active((uv_handle_t *)&srv->outbox_poke))
    uv_timer_start(&srv->outbox_poke, on_poke, 0, 0);
}

int vg_source_outbox_start(server *srv) {
  if (!(srv->outbox = vg_sinks_outbox(srv->sinks, srv->store, 0))) {
    vg_error("outbox: out of memory");
    return -1;
  }
  vg_outbox_on_result(srv->outbox, on_result, srv);
  srv->txn.ig.outbox = srv->outbox; /* made before: its transactions write rows from now on */
  uv_timer_init(srv->loop, &srv->outbox_timer);
  uv_timer_init(srv->loop, &srv->outbox_poke);
  srv->outbox_timer.data = srv->outbox_poke.data = srv;
  srv->have_outbox = 1;
  /* What the outbox holds from before goes first, as soon as the loop runs. */
  uv_timer_start(&srv->outbox_timer, on_due, 0, 0);
  return 0;
}

void vg_source_outbox_stop(server *srv) {
  if (!srv->have_outbox) return;
  if (!uv_is_closing((uv_handle_t *)&srv->outbox_timer))
    uv_close((uv_handle_t *)&srv->outbox_timer, NULL);
  if (!uv_is_closing((uv_handle_t *)&srv->outbox_poke))
    uv_close((uv_handle_t *)&srv->outbox_poke, NULL);
}

void vg_source_outbox_finish(server *srv) {
  if (!srv->outbox) return;
  int64_t left = vg_outbox_finish(srv->outbox, srv->store);
  vg_metrics_outbox(left);
  if (left > 0)
    vg_info("outbox: %lld alert deliveries are left in the outbox, delivered at the next start",
            (long long)left);
  else if (left < 0)
    vg_error("outbox: the last results could not be recorded: those deliveries are made again at"
             " the next start");
  vg_outbox_batch_free(&srv->outbox_rows);
  vg_outbox_free(srv->outbox);
  srv->outbox = NULL;
}

static int outbox_take(server *srv) {
  if (!srv->outbox || srv->stopping) return SOURCE_NONE;
  if (!srv->outbox_wanted && !vg_outbox_has_results(srv->outbox)) return SOURCE_NONE;
  srv->outbox_wanted = 0;
  return SOURCE_TAKEN;
}

static void outbox_work(server *srv) {
  srv->outbox_rc = vg_outbox_step(srv->outbox, srv->store, 1, &srv->outbox_rows);
}

static void outbox_done(server *srv) {
  vg_outbox_batch *b = &srv->outbox_rows;
  if (srv->outbox_rc) {
    vg_error("outbox: %s; trying again in %d ms", vg_strerror(srv->outbox_rc), OUTBOX_RETRY_MS);
    uv_timer_start(&srv->outbox_timer, on_due, OUTBOX_RETRY_MS, 0);
    return;
  }
  vg_metrics_outbox(b->pending);
  for (size_t i = 0; i < b->n; i++)
    vg_sinks_deliver(srv->sinks, srv->outbox, &b->v[i]);
  vg_outbox_batch_clear(b);
  int64_t wait = b->next_due < 0 ? OUTBOX_LOOK_MS : b->next_due - vg_outbox_now_ms();
  if (wait > OUTBOX_LOOK_MS) wait = OUTBOX_LOOK_MS;
  if (wait <= 0 && vg_outbox_in_flight(srv->outbox) < VG_OUTBOX_INFLIGHT)
    srv->outbox_wanted = 1;
  else /* all in flight: their results ask for the next job sooner */
    uv_timer_start(&srv->outbox_timer, on_due, (uint64_t)(wait > 0 ? wait : OUTBOX_LOOK_MS), 0);
}

const vg_source vg_source_outbox = {
    .name = "outbox", .take = outbox_take, .work = outbox_work, .done = outbox_done};

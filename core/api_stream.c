/* api_stream.c — GET /v1/alerts/stream: alert changes as Server-Sent
 * Events, with resume. Routed by api.c; the hub is started and stopped by
 * vg_api_start / vg_api_stop, and poked by server.c each time a job
 * committed alerts.
 *
 * Each change of an alert has a durable seq (the alert_log table, filled by
 * triggers: db/014_alert_log.sql) and goes out as
 *   id: SEQ\nevent: alert|amend\ndata: ALERT JSON\n\n
 * with the alert as vg_api_alert_json gives it when the change is read.
 *
 * The hub keeps `last`, the seq of the last change it broadcast. After a
 * poke, and every sse_heartbeat_ms (which finds what other processes
 * stored), a read job on a worker fetches the changes after `last`, makes
 * their events there, and the hub sends them to every subscriber from the
 * loop. One fetch runs at a time; pokes meanwhile make one more after it.
 *
 * A subscriber that resumes (Last-Event-ID, or ?since) is on the hub's
 * list from the start: while its own reads catch up on the changes after
 * its seq, page by page, what the hub broadcasts is held for it; once
 * caught up, the held changes follow, each change only when its seq is past
 * the last one sent: no gap and no duplicate. Its reads start only after
 * the hub knows `last` (the hub's first read), so what they miss the hub
 * fetches. A subscriber without a seq starts at the hub's `last`; one
 * whose seq is past the last change (the database was made anew) starts
 * from the first.
 *
 * A client may leave SSE_MAX_QUEUED bytes unread. Past that its subscriber
 * is paused: nothing more is sent or held for it; once its client took
 * most of it, it catches up from the store as a resuming one does. A
 * client that has not taken most of it http_timeout_ms after the pause is
 * cut off (it can resume, and loses nothing). Everything here runs on the loop but the
 * reads. */
#include "api.h"
#include "vigil.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SSE_MAX_SUBS 1000          /* subscribers at once; more are answered 503 */
#define SSE_MAX_QUEUED (1u << 20)  /* bytes a client may leave unread; then it is paused */
#define SSE_PAGE 256               /* changes one read takes */
#define SSE_RETRY_MS 2000          /* how soon a client should reconnect */
#define SSE_PUMP_MS 50             /* how often a paused catch-up looks at its client again */
#define SSE_HEARTBEAT_MS 15000     /* sse_heartbeat_ms when it is 0 */
#define SSE_REFETCH_MS 1000        /* a read that failed is tried again after this */

/* One change, its event made; shared by the subscribers that hold it. */
typedef struct {
  int refs;
  int64_t seq;
  char rule[128], severity[8]; /* for the filters; "" when the alert is gone */
  size_t len;                  /* 0: the alert is gone: nothing to send */
  char text[];
} ev;

typedef struct {
  ev **v;
  size_t n, cap;
} ev_list;

enum {
  SUB_WAITING, /* for the hub to know its `last` */
  SUB_READING, /* a catch-up read is in flight */
  SUB_PAUSED,  /* its client has much unread: it reads from the store once it took it */
  SUB_LIVE,    /* caught up: gets what the hub broadcasts */
};

typedef struct sub sub;
struct sub {
  vg_http_req *r;    /* NULL once its client left */
  int state;
  int resume;        /* it gave a seq to start after */
  int64_t sent;      /* the seq of the last change sent (or passed over) */
  ev_list held;      /* broadcast while it caught up */
  char rule[128];    /* filters; "" for any */
  char severity[8];
  uint64_t paused_at; /* loop time it was paused */
  int busy;          /* a read or a send holds it: freed after, not when its client leaves */
  int unlinked;      /* off the hub's list (its client left) */
  sub *prev, *next;
};

/* A read: the hub's (s NULL) or a subscriber's catch-up. */
typedef struct {
  sub *s;
  int init;          /* the hub's first read: only the last seq */
  int64_t after;
  int64_t last;      /* init: the last seq */
  int failed;
  int more;          /* a full page: more may follow */
  int first;         /* a subscriber's first read */
  int restart;       /* its seq was past the last change (a database made anew): from 0 */
  ev_list got;
} read_ctx;

static struct {
  server *srv;
  int started, stopped;
  sub *subs;
  size_t nsubs;
  int ready;         /* `last` is known */
  int64_t last;
  int fetching;      /* the hub's read is in flight */
  int again;         /* fetch once more after it */
  uv_timer_t beat, pump, retry; /* retry: a fetch that failed, again after SSE_REFETCH_MS */
  int pumping;
} hub;

/* ---- events ---- */

static void ev_unref(ev *e) {
  if (e && --e->refs == 0) free(e);
}

static int ev_push(ev_list *l, ev *e) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    ev **v = realloc(l->v, cap * sizeof *v);
    if (!v) return -1;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = e;
  e->refs++;
  return 0;
}

static void ev_clear(ev_list *l) {
  for (size_t i = 0; i < l->n; i++) ev_unref(l->v[i]);
  free(l->v);
  *l = (ev_list){0};
}

/* On the worker: one change as its event. */
static int on_change(void *ud, int64_t seq, const char *kind, const vg_alert_row *row) {
  read_ctx *x = ud;
  char *json = NULL;
  if (row) {
    cJSON *o = vg_api_alert_json(row);
    json = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!json) return VG_ENOMEM;
  }
  size_t cap = json ? strlen(json) + 64 : 1;
  ev *e = calloc(1, sizeof *e + cap);
  if (!e) {
    free(json);
    return VG_ENOMEM;
  }
  e->seq = seq;
  if (row) {
    snprintf(e->rule, sizeof e->rule, "%s", row->rule ? row->rule : "");
    snprintf(e->severity, sizeof e->severity, "%s", row->severity ? row->severity : "");
    int n = snprintf(e->text, cap, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", seq,
                     strcmp(kind, "amend") == 0     ? "amend"
                     : strcmp(kind, "retract") == 0 ? "retract"
                                                    : "alert",
                     json);
    e->len = n > 0 && (size_t)n < cap ? (size_t)n : 0;
  }
  free(json);
  if (ev_push(&x->got, e)) {
    free(e);
    return VG_ENOMEM;
  }
  return 0;
}

static void read_work(vg_store *st, void *ud) {
  read_ctx *x = ud;
  if (x->init) {
    x->last = vg_store_alert_log_last(st);
    x->failed = x->last < 0;
    return;
  }
  if (x->first && x->after > 0) {
    int64_t last = vg_store_alert_log_last(st);
    if (last >= 0 && x->after > last) x->restart = 1, x->after = 0;
  }
  long page = x->s ? SSE_PAGE : 4 * SSE_PAGE;
  int rc = vg_store_alert_log(st, x->after, page, on_change, x);
  x->failed = rc != 0;
  x->more = !rc && x->got.n == (size_t)page;
}

/* ---- subscribers ---- */

static void sub_free(sub *s) {
  ev_clear(&s->held);
  free(s);
}

static void sub_unlink(sub *s) {
  if (s->unlinked) return;
  s->unlinked = 1;
  if (s->prev) s->prev->next = s->next;
  else hub.subs = s->next;
  if (s->next) s->next->prev = s->prev;
  hub.nsubs--;
  if (!hub.nsubs) hub.ready = 0; /* the next one starts with a fresh `last` */
}

/* The client left (or the server stops): r is gone after this. */
static void on_gone(vg_http_req *r, void *ud) {
  (void)r;
  sub *s = ud;
  s->r = NULL;
  sub_unlink(s);
  if (!s->busy) sub_free(s); /* else once what holds it is over */
}

/* Sends e to s when s has not had it and it passes s's filters: 0; 1 when
 * its client has too much unread to take it now (not sent); -1 when s is
 * gone (cut off or left). */
static int sub_send(sub *s, const ev *e) {
  if (!s->r) return -1;
  if (e->seq <= s->sent) return 0;
  if (!e->len || (s->rule[0] && strcmp(s->rule, e->rule) != 0) ||
      (s->severity[0] && strcmp(s->severity, e->severity) != 0)) {
    s->sent = e->seq;
    return 0;
  }
  size_t queued = vg_http_stream_queued(s->r);
  if (queued && queued + e->len > SSE_MAX_QUEUED) return 1;
  if (vg_http_stream_write(s->r, e->text, e->len, SIZE_MAX)) return -1;
  s->sent = e->seq;
  return 0;
}

static void catch_up(sub *s);
static void fetch(void);
static void pump_start(void);

/* s's client has too much unread: what comes meanwhile is not held; once
 * it took most of it, s reads from the store what it has not had. */
static void sub_pause(sub *s) {
  s->paused_at = uv_now(hub.srv->loop);
  s->state = SUB_PAUSED;
  ev_clear(&s->held);
  pump_start();
}

/* Reads on when s's client has taken most of what it had. */
static void sub_resume(sub *s) {
  if (vg_http_stream_queued(s->r) <= SSE_MAX_QUEUED / 4) catch_up(s);
  else pump_start();
}

static void on_catch_up_done(void *ud, int ran) {
  read_ctx *x = ud;
  sub *s = x->s;
  int ok = ran && !x->failed, more = x->more, full = 0;
  if (ok && x->restart) s->sent = 0;
  for (size_t i = 0; ok && !full && s->r && i < x->got.n; i++)
    full = sub_send(s, x->got.v[i]) == 1;
  if (s->r && !ok) {
    vg_warn("http %s: the alert stream cannot read the database; ended (the client may resume)",
            s->r->peer);
    vg_http_stream_end(s->r);
  }
  ev_clear(&x->got);
  free(x);
  if (s->r && !full && !more) { /* caught up: what was held meanwhile, then live */
    s->state = SUB_LIVE;
    for (size_t i = 0; !full && s->r && i < s->held.n; i++) full = sub_send(s, s->held.v[i]) == 1;
    ev_clear(&s->held);
  }
  s->busy = 0;
  if (!s->r) {
    sub_free(s);
    return;
  }
  if (full) {
    sub_pause(s);
  } else if (more) { /* the next page, now or once its client took most of what it has */
    s->paused_at = uv_now(hub.srv->loop);
    s->state = SUB_PAUSED;
    ev_clear(&s->held);
    sub_resume(s);
  }
}

/* Reads the next page of changes s has not had. s may be gone after. */
static void catch_up(sub *s) {
  read_ctx *x = calloc(1, sizeof *x);
  int first = s->state == SUB_WAITING;
  s->state = SUB_READING;
  s->busy = 1;
  if (x) *x = (read_ctx){.s = s, .after = s->sent, .first = first};
  if (!x || vg_api_work(hub.srv, read_work, on_catch_up_done, x)) {
    free(x);
    s->busy = 0;
    vg_warn("http %s: the alert stream cannot start a read; ended", s->r->peer);
    vg_http_stream_end(s->r);
  }
}

/* The hub knows `last`: s starts. */
static void sub_begin(sub *s) {
  if (!s->resume) {
    s->sent = hub.last;
    s->state = SUB_LIVE;
    return;
  }
  catch_up(s);
}

/* Paused subscribers read on once their clients took most of what they
 * had; one that took nothing for http_timeout_ms is cut off (it may
 * resume, and loses nothing). */
static void on_pump(uv_timer_t *t) {
  (void)t;
  int paused = 0;
  uint64_t now = uv_now(hub.srv->loop);
  for (sub *s = hub.subs, *next; s; s = next) {
    next = s->next;
    if (s->state != SUB_PAUSED) continue;
    size_t queued = vg_http_stream_queued(s->r);
    if (queued <= SSE_MAX_QUEUED / 4) {
      catch_up(s);
    } else if (now - s->paused_at >= hub.srv->cfg.http_timeout_ms) {
      vg_warn("http %s: the alert stream's client leaves %zu bytes unread for %u ms; cut off"
              " (it may resume with Last-Event-ID)",
              s->r->peer, queued, hub.srv->cfg.http_timeout_ms);
      vg_http_stream_cut(s->r);
    } else {
      paused = 1;
    }
  }
  if (!paused) {
    uv_timer_stop(&hub.pump);
    hub.pumping = 0;
  }
}

static void pump_start(void) {
  if (hub.pumping || hub.stopped) return;
  hub.pumping = 1;
  uv_timer_start(&hub.pump, on_pump, SSE_PUMP_MS, SSE_PUMP_MS);
}

/* ---- the hub ---- */


static void on_retry(uv_timer_t *t) {
  (void)t;
  fetch();
}

static void on_fetch_done(void *ud, int ran) {
  read_ctx *x = ud;
  hub.fetching = 0;
  int ok = ran && !x->failed;
  if (hub.stopped) {
    ev_clear(&x->got);
    free(x);
    return;
  }
  if (!ok) vg_warn("http: the alert stream cannot read the database; it tries again");
  if (ok && x->init && !hub.ready) {
    hub.ready = 1;
    hub.last = x->last;
    for (sub *s = hub.subs, *next; s; s = next) {
      next = s->next;
      if (s->state == SUB_WAITING) sub_begin(s);
    }
  } else if (ok && !x->init && hub.ready && x->after == hub.last) {
    for (size_t i = 0; i < x->got.n; i++) {
      ev *e = x->got.v[i];
      for (sub *s = hub.subs, *next; s; s = next) {
        next = s->next;
        if (s->state == SUB_LIVE) {
          if (sub_send(s, e) == 1) sub_pause(s);
        } else if (s->state == SUB_READING && ev_push(&s->held, e)) {
          vg_warn("http %s: out of memory for the alert stream; ended", s->r->peer);
          vg_http_stream_end(s->r);
        }
      }
      hub.last = e->seq;
    }
  }
  int more = ok && x->more;
  ev_clear(&x->got);
  free(x);
  if (hub.again || more || (hub.nsubs && !hub.ready && ok)) fetch();
  else if (!ok && hub.nsubs && !hub.stopped)
    uv_timer_start(&hub.retry, on_retry, SSE_REFETCH_MS, 0);
}

/* Reads what changed after `last` (or, first, what `last` is), unless a
 * read is in flight: then once more after it. */
static void fetch(void) {
  if (hub.stopped || !hub.nsubs) return;
  if (hub.fetching) {
    hub.again = 1;
    return;
  }
  hub.again = 0;
  read_ctx *x = calloc(1, sizeof *x);
  if (x) *x = (read_ctx){.init = !hub.ready, .after = hub.last};
  if (!x || vg_api_work(hub.srv, read_work, on_fetch_done, x)) {
    free(x);
    vg_warn("http: the alert stream cannot start a read; it tries again");
    return;
  }
  hub.fetching = 1;
}

static void on_beat(uv_timer_t *t) {
  (void)t;
  static const char beat[] = ": heartbeat\n\n";
  for (sub *s = hub.subs, *next; s; s = next) {
    next = s->next;
    vg_http_stream_write(s->r, beat, sizeof beat - 1, SIZE_MAX);
  }
  fetch(); /* what other processes stored */
  unsigned ms = hub.srv->cfg.sse_heartbeat_ms ? hub.srv->cfg.sse_heartbeat_ms : SSE_HEARTBEAT_MS;
  if (uv_timer_get_repeat(&hub.beat) != ms) uv_timer_set_repeat(&hub.beat, ms); /* a reload */
}

void vg_api_stream_start(server *srv) {
  hub.srv = srv;
  hub.started = 1;
  uv_timer_init(srv->loop, &hub.beat);
  uv_timer_init(srv->loop, &hub.pump);
  uv_timer_init(srv->loop, &hub.retry);
  unsigned ms = srv->cfg.sse_heartbeat_ms ? srv->cfg.sse_heartbeat_ms : SSE_HEARTBEAT_MS;
  uv_timer_start(&hub.beat, on_beat, ms, ms);
}

void vg_api_stream_poke(server *srv) {
  (void)srv;
  if (hub.started && hub.ready) fetch();
}

void vg_api_stream_stop(server *srv) {
  (void)srv;
  if (!hub.started || hub.stopped) return;
  hub.stopped = 1;
  uv_close((uv_handle_t *)&hub.beat, NULL);
  uv_close((uv_handle_t *)&hub.pump, NULL);
  uv_close((uv_handle_t *)&hub.retry, NULL);
}

/* ---- the endpoint ---- */

/* A seq: digits only. 0, or -1 when s is none. */
static int parse_seq(const char *s, int64_t *out) {
  if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18) return -1;
  *out = strtoll(s, NULL, 10);
  return 0;
}

void vg_api_stream(server *srv, vg_http_req *r, char *const *args) {
  (void)args;
  static const char *const names[] = {"since", "rule", "severity", NULL};
  if (vg_api_unknown_params(r, names)) return;
  sub probe = {0};
  char since[32] = "";
  if (vg_http_query(r->query, "since", since, sizeof since) < 0 ||
      (since[0] && parse_seq(since, &probe.sent))) {
    vg_api_error(r, 400, "since must be the id of an event (a whole number from 0)");
    return;
  }
  probe.resume = since[0] != '\0';
  if (r->last_event_id[0]) { /* what EventSource sends on reconnecting: before since */
    if (parse_seq(r->last_event_id, &probe.sent)) {
      vg_api_error(r, 400, "Last-Event-ID must be the id of an event (a whole number from 0)");
      return;
    }
    probe.resume = 1;
  }
  if (vg_api_param(r, "rule", probe.rule, sizeof probe.rule) < 0) return;
  if (vg_http_query(r->query, "severity", probe.severity, sizeof probe.severity) < 0 ||
      (probe.severity[0] && strcmp(probe.severity, "info") != 0 &&
       strcmp(probe.severity, "warn") != 0 && strcmp(probe.severity, "crit") != 0)) {
    vg_api_error(r, 400, "severity must be info, warn or crit");
    return;
  }
  if (!hub.started || hub.stopped || srv->stopping) {
    vg_api_error(r, 503, "the daemon is stopping");
    return;
  }
  if (hub.nsubs >= SSE_MAX_SUBS) {
    vg_api_out out = {0};
    vg_api_out_error(&out, 503, "too many clients on the alert stream (%d)", SSE_MAX_SUBS);
    vg_http_reply(r, 503, "application/json", out.body, out.len, "Retry-After: 5\r\n");
    free(out.body);
    return;
  }
  if (r->head) {
    vg_http_reply(r, 200, "text/event-stream; charset=utf-8", "", 0, NULL);
    return;
  }
  sub *s = malloc(sizeof *s);
  if (!s) {
    vg_api_error(r, 500, "out of memory");
    return;
  }
  *s = probe;
  s->r = r;
  s->state = SUB_WAITING;
  s->busy = 1; /* a client that left already is gone at once */
  s->next = hub.subs;
  if (hub.subs) hub.subs->prev = s;
  hub.subs = s;
  hub.nsubs++;
  vg_http_stream_start(r, "text/event-stream; charset=utf-8", "X-Accel-Buffering: no\r\n",
                       on_gone, s);
  char retry[32];
  int n = snprintf(retry, sizeof retry, "retry: %d\n\n", SSE_RETRY_MS);
  if (s->r) vg_http_stream_write(r, retry, (size_t)n, SIZE_MAX);
  s->busy = 0;
  if (!s->r) {
    sub_free(s);
    return;
  }
  if (hub.ready) sub_begin(s);
  else fetch();
}

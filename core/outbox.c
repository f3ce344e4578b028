/* outbox.c — alerts' deliveries through the outbox table; see outbox.h. */
#include "outbox.h"
#include "sinks.h"

#include "vigil.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/* One result reported by a sink, waiting to be recorded. */
typedef struct {
  int64_t id;
  unsigned attempts; /* tries failed before this one */
  int result;        /* VG_OUTBOX_* */
  char *error;       /* why it failed (owned), or NULL */
} result;

struct vg_outbox {
  char **names;    /* the sinks rows are written for */
  int *is_default; /* names[i] takes every alert */
  size_t n;
  char *base;       /* the links' base in the payloads, "" for none */
  char owner[64];   /* a one-shot's owner name; "" for the daemon */
  int started;      /* the first step ran */
  size_t in_flight; /* rows handed out, results not recorded (the store's thread) */
  uv_mutex_t lock;  /* guards results */
  result *res;      /* reported, not yet recorded */
  size_t nres, capres;
  void (*on_result)(void *ud);
  void *ud;
};

int64_t vg_outbox_backoff_ms(unsigned attempts) {
  int64_t ms = VG_OUTBOX_FIRST_MS;
  for (unsigned i = 1; i < attempts && ms < VG_OUTBOX_MAX_MS; i++)
    ms *= 2;
  return ms < VG_OUTBOX_MAX_MS ? ms : VG_OUTBOX_MAX_MS;
}

int64_t vg_outbox_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

vg_outbox *vg_outbox_new(const char *const *names, const int *is_default, size_t n,
                         const char *base, int one_shot) {
  vg_outbox *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->names = calloc(n + 1, sizeof *o->names);
  o->is_default = calloc(n + 1, sizeof *o->is_default);
  o->base = strdup(base ? base : "");
  int ok = o->names && o->is_default && o->base && uv_mutex_init(&o->lock) == 0;
  for (size_t i = 0; ok && i < n; i++, o->n++) {
    ok = (o->names[i] = strdup(names[i])) != NULL;
    o->is_default[i] = is_default[i];
  }
  if (!ok) {
    for (size_t i = 0; o->names && i < o->n; i++)
      free(o->names[i]);
    free(o->names);
    free(o->is_default);
    free(o->base);
    free(o);
    return NULL;
  }
  if (one_shot) { /* unique among the processes on the database's host, and over time */
    unsigned salt = (unsigned)vg_outbox_now_ms() ^ (unsigned)(uintptr_t)o;
    snprintf(o->owner, sizeof o->owner, "pid-%ld-%08x", (long)getpid(), salt);
  }
  return o;
}

void vg_outbox_free(vg_outbox *o) {
  if (!o) return;
  for (size_t i = 0; i < o->n; i++)
    free(o->names[i]);
  for (size_t i = 0; i < o->nres; i++)
    free(o->res[i].error);
  free(o->res);
  free(o->names);
  free(o->is_default);
  free(o->base);
  uv_mutex_destroy(&o->lock);
  free(o);
}

const char *vg_outbox_owner(const vg_outbox *o) { return o->owner[0] ? o->owner : NULL; }

void vg_outbox_on_result(vg_outbox *o, void (*fn)(void *ud), void *ud) {
  o->on_result = fn;
  o->ud = ud;
}

int vg_outbox_named(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

int vg_outbox_routes(const vg_outbox *o, size_t i, const vg_alert *a) {
  if (a->silence_id || i >= o->n) return 0;
  return o->is_default[i] || vg_outbox_named(a->sinks, o->names[i]);
}

int vg_outbox_routed(const vg_outbox *o, const vg_alert_list *l) {
  for (size_t k = 0; o && k < l->n; k++)
    for (size_t i = 0; i < o->n; i++)
      if (vg_outbox_routes(o, i, &l->v[k])) return 1;
  return 0;
}

int vg_outbox_write(vg_outbox *o, vg_store *st, const vg_alert_list *l) {
  int64_t now = vg_outbox_now_ms();
  for (size_t k = 0; k < l->n; k++) {
    const vg_alert *a = &l->v[k];
    char *json = NULL;
    for (size_t i = 0; i < o->n; i++) {
      if (!vg_outbox_routes(o, i, a)) continue;
      if (!json && !(json = vg_alert_json(a, o->base))) return VG_ENOMEM;
      vg_outbox_row r = {.sink = o->names[i],
                         .alert_id = a->id,
                         .version = a->version,
                         .rule = a->rule,
                         .payload = json};
      int rc = vg_store_outbox_add(st, &r, now, vg_outbox_owner(o), now + VG_OUTBOX_LEASE_MS);
      if (rc) {
        cJSON_free(json);
        return rc;
      }
    }
    cJSON_free(json);
  }
  return 0;
}

void vg_outbox_result(vg_outbox *o, const vg_outbox_item *item, int result_, const char *error) {
  uv_mutex_lock(&o->lock);
  if (o->nres == o->capres) {
    size_t cap = o->capres ? o->capres * 2 : 64;
    result *v = realloc(o->res, cap * sizeof *v);
    if (!v) { /* the row stays taken: tried again at the daemon's next start */
      uv_mutex_unlock(&o->lock);
      vg_error("outbox: out of memory for the result of delivery %lld", (long long)item->id);
      return;
    }
    o->res = v;
    o->capres = cap;
  }
  o->res[o->nres++] = (result){item->id, item->attempts, result_,
                               error && result_ == VG_OUTBOX_FAILED ? strdup(error) : NULL};
  uv_mutex_unlock(&o->lock);
  if (o->on_result) o->on_result(o->ud);
}

int vg_outbox_has_results(vg_outbox *o) {
  uv_mutex_lock(&o->lock);
  int has = o->nres > 0;
  uv_mutex_unlock(&o->lock);
  return has;
}

size_t vg_outbox_in_flight(const vg_outbox *o) { return o->in_flight; }

void vg_outbox_batch_clear(vg_outbox_batch *b) {
  for (size_t i = 0; i < b->n; i++) {
    free(b->v[i].sink);
    free(b->v[i].rule);
    free(b->v[i].payload);
  }
  b->n = 0;
}

void vg_outbox_batch_free(vg_outbox_batch *b) {
  if (!b) return;
  vg_outbox_batch_clear(b);
  free(b->v);
  b->v = NULL;
  b->cap = 0;
}

static int copy_row(void *ud, const vg_outbox_row *r) {
  vg_outbox_batch *b = ud;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    vg_outbox_item *v = realloc(b->v, cap * sizeof *v);
    if (!v) return VG_ENOMEM;
    b->v = v;
    b->cap = cap;
  }
  vg_outbox_item it = {.id = r->id,
                       .sink = strdup(r->sink),
                       .rule = strdup(r->rule),
                       .payload = strdup(r->payload),
                       .alert_id = r->alert_id,
                       .version = r->version,
                       .attempts = r->attempts};
  if (!it.sink || !it.rule || !it.payload) {
    free(it.sink);
    free(it.rule);
    free(it.payload);
    return VG_ENOMEM;
  }
  b->v[b->n++] = it;
  return 0;
}

/* Takes the results reported so far out of o (the caller owns *v). */
static void take_results(vg_outbox *o, result **v, size_t *n) {
  uv_mutex_lock(&o->lock);
  *v = o->res;
  *n = o->nres;
  o->res = NULL;
  o->nres = o->capres = 0;
  uv_mutex_unlock(&o->lock);
}

/* Puts results whose recording was rolled back in front of those that came
 * meanwhile; when that cannot be done they are lost, and their rows stay
 * taken until the daemon's next start. */
static void put_back(vg_outbox *o, result *v, size_t n) {
  if (!n) {
    free(v);
    return;
  }
  uv_mutex_lock(&o->lock);
  result *w = malloc((n + o->nres) * sizeof *w);
  if (w) {
    memcpy(w, v, n * sizeof *w);
    if (o->nres) memcpy(w + n, o->res, o->nres * sizeof *w);
    free(o->res);
    o->res = w;
    o->nres = o->capres = n + o->nres;
  } else {
    for (size_t k = 0; k < n; k++)
      free(v[k].error);
    vg_error("outbox: out of memory: %zu results not recorded", n);
  }
  uv_mutex_unlock(&o->lock);
  free(v);
}

/* Records results inside the open transaction; 0 or VG_EDB. */
static int record(vg_store *st, const char *owner, const result *v, size_t n, int64_t now) {
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const result *r = &v[i];
    if (r->result == VG_OUTBOX_OK)
      rc = vg_store_outbox_done(st, r->id, owner);
    else if (r->result == VG_OUTBOX_FAILED)
      rc = vg_store_outbox_failed(st, r->id, now + vg_outbox_backoff_ms(r->attempts + 1), r->error,
                                  owner);
    else
      rc = vg_store_outbox_later(st, r->id, now + VG_OUTBOX_BUSY_MS, owner);
  }
  return rc;
}

int vg_outbox_step(vg_outbox *o, vg_store *st, int take, vg_outbox_batch *out) {
  if (out) {
    vg_outbox_batch_clear(out);
    out->next_due = -1;
  }
  int64_t now = vg_outbox_now_ms();
  int rc = vg_store_begin(st);
  if (rc) return rc;
  if (!o->owner[0]) {
    if (!o->started && vg_store_outbox_reset(st) < 0) rc = VG_EDB;
    int64_t adopted = rc ? 0 : vg_store_outbox_adopt(st, now);
    if (adopted < 0)
      rc = VG_EDB;
    else if (adopted)
      vg_info("outbox: %lld deliveries of a command that ended without them are the daemon's now",
              (long long)adopted);
  }
  result *res = NULL;
  size_t nres = 0;
  take_results(o, &res, &nres);
  if (rc == 0) rc = record(st, vg_outbox_owner(o), res, nres, now);
  /* A one-shot still at work keeps its rows, whatever its deliveries take. */
  if (rc == 0 && o->owner[0]) rc = vg_store_outbox_renew(st, o->owner, now + VG_OUTBOX_LEASE_MS);
  size_t flying = o->in_flight - (nres < o->in_flight ? nres : o->in_flight);
  size_t took = 0;
  if (rc == 0 && take && out && flying < VG_OUTBOX_INFLIGHT) {
    int got = vg_store_outbox_take(st, vg_outbox_owner(o), now, now + VG_OUTBOX_LEASE_MS,
                                   VG_OUTBOX_INFLIGHT - flying, copy_row, out);
    if (got < 0)
      rc = got;
    else
      took = (size_t)got;
  }
  if (rc == 0 && out) {
    out->next_due = vg_store_outbox_next(st, vg_outbox_owner(o));
    out->pending = vg_store_outbox_count(st);
    if (out->next_due < -1 || out->pending < 0) rc = VG_EDB;
  }
  if (rc == 0) rc = vg_store_commit(st);
  if (rc) { /* nothing of it happened: the results wait for the next step */
    vg_store_rollback(st);
    if (out) vg_outbox_batch_clear(out);
    put_back(o, res, nres);
    return rc;
  }
  for (size_t k = 0; k < nres; k++)
    free(res[k].error);
  free(res);
  o->started = 1;
  o->in_flight = flying + took;
  return 0;
}

int64_t vg_outbox_finish(vg_outbox *o, vg_store *st) {
  if (vg_outbox_step(o, st, 0, NULL)) return VG_EDB;
  if (o->owner[0]) return vg_store_outbox_release(st, o->owner);
  return vg_store_outbox_count(st);
}

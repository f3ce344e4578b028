/* sinks.c — log, JSON Lines file and command sinks for alerts; see sinks.h. */
#include "sinks.h"
#include "metrics.h"

#include "paths.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RUNNING 8        /* commands running at once; the rest wait */
#define RETRY_FIRST_MS 1000  /* backoff before the first retry, doubled after */

typedef struct sink sink;

/* One kind of sink: how it opens, takes an alert, and closes. */
typedef struct {
  const char *name;
  int (*open)(sink *k, char *err, size_t cap);
  void (*send)(sink *k, const vg_alert *a, const char *json);
  void (*close)(sink *k);
} vg_sink_kind;

struct sink {
  const vg_sink_kind *kind;
  char *name;            /* as rules name it */
  char *path;            /* file sinks: the file */
  int fd;                /* file sinks: open for appending, or -1 */
  char **argv;           /* command sinks: the program and arguments */
  unsigned timeout_ms, retries;
  int is_default;        /* takes every alert */
  vg_sinks *owner;
  /* Command sinks: a bounded queue, and what it had to drop. */
  size_t queued;         /* deliveries not over: running, waiting, or waiting to retry */
  size_t queue_max;      /* past this many, new alerts are dropped (counted, logged once) */
  int dropping;          /* it reached queue_max and has not drained to half since */
  uint64_t dropped;      /* alerts dropped in this burst */
  int64_t first_dropped, last_dropped; /* their ids, lowest and highest */
};

/* One alert on its way through a command sink. */
typedef struct delivery {
  sink *k;
  char *json;            /* the line written to the command's stdin */
  int64_t alert_id;
  unsigned attempt;      /* 0 for the first try */
  uv_process_t proc;
  uv_pipe_t in;
  uv_timer_t timer;      /* the timeout, then the retry delay */
  uv_write_t write;
  int open_handles;      /* handles not yet closed */
  int timed_out;
  int64_t exit_status;
  int term_signal;
  int delaying;          /* waiting on the timer for a retry */
  struct delivery *next; /* in the waiting queue */
  struct delivery *all_prev, *all_next; /* every delivery not yet over */
} delivery;

struct vg_sinks {
  uv_loop_t *loop;
  sink *v;
  size_t n;
  size_t running;        /* commands running */
  size_t busy;           /* deliveries running or waiting */
  delivery *wait_head, *wait_tail; /* waiting for a free slot */
  delivery *all;         /* every delivery not yet over */
  int closing;
  char base[512];        /* the base URL of the alerts' links, or "" for none */
};

static void destroy(vg_sinks *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].name);
    free(s->v[i].path);
    for (size_t k = 0; s->v[i].argv && s->v[i].argv[k]; k++) free(s->v[i].argv[k]);
    free(s->v[i].argv);
  }
  free(s->v);
  free(s);
}

char *vg_alert_json(const vg_alert *a, const char *base) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "id", (double)a->id);
  cJSON_AddStringToObject(o, "rule", a->rule);
  cJSON_AddStringToObject(o, "severity", a->severity);
  cJSON_AddStringToObject(o, "message", a->message);
  cJSON_AddStringToObject(o, "date", a->date);
  cJSON_AddStringToObject(o, "key", a->key);
  cJSON_AddNumberToObject(o, "version", a->version);
  if (a->version > 1) cJSON_AddTrueToObject(o, "amended");
  if (a->count >= 0) cJSON_AddNumberToObject(o, "count", (double)a->count);
  cJSON *e = cJSON_AddArrayToObject(o, "entries");
  for (size_t i = 0; i < a->nentries; i++)
    cJSON_AddItemToArray(e, cJSON_CreateNumber((double)a->entries[i]));
  if (base && base[0]) {
    char url[600];
    snprintf(url, sizeof url, "%s/v1/alerts/%lld", base, (long long)a->id);
    cJSON_AddStringToObject(o, "url", url);
    snprintf(url, sizeof url, "%s/#alert/%lld", base, (long long)a->id);
    cJSON_AddStringToObject(o, "dashboard_url", url);
  }
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

/* ---- log ---- */

static void log_send(sink *k, const vg_alert *a, const char *json) {
  (void)json;
  vg_metrics_sink(k->name, "ok");
  int level = strcmp(a->severity, "crit") == 0   ? VG_LOG_ERROR
              : strcmp(a->severity, "warn") == 0 ? VG_LOG_WARN
                                                 : VG_LOG_NOTICE;
  if (a->version > 1)
    vg_log(level, "alert %lld amended (version %d) [%s] %s: %s (%s)", (long long)a->id,
           a->version, a->severity, a->rule, a->message, a->date);
  else
    vg_log(level, "alert %lld [%s] %s: %s (%s)", (long long)a->id, a->severity, a->rule,
           a->message, a->date);
}

static const vg_sink_kind log_kind = {.name = "log", .send = log_send};

/* ---- JSON Lines file ---- */

static int file_open(sink *k, char *err, size_t cap) {
  vg_make_dirs(k->path, 0);
  k->fd = open(k->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (k->fd < 0) {
    snprintf(err, cap, "alert file %s: %s", k->path, strerror(errno));
    return VG_EIO;
  }
  return 0;
}

static void file_send(sink *k, const vg_alert *a, const char *json) {
  size_t n = strlen(json);
  char *line = malloc(n + 1);
  if (!line) {
    vg_metrics_sink(k->name, "failed");
    return;
  }
  memcpy(line, json, n);
  line[n] = '\n';
  /* One write per line: appends from several processes do not interleave. */
  ssize_t w = k->fd >= 0 ? write(k->fd, line, n + 1) : -1;
  vg_metrics_sink(k->name, w == (ssize_t)(n + 1) ? "ok" : "failed");
  if (w != (ssize_t)(n + 1))
    vg_error("sink '%s': alert %lld not written to %s: %s", k->name, (long long)a->id, k->path,
             w < 0 ? strerror(errno) : "short write");
  free(line);
}

static void file_close(sink *k) {
  if (k->fd >= 0) close(k->fd);
  k->fd = -1;
}

static const vg_sink_kind file_kind = {
    .name = "file", .open = file_open, .send = file_send, .close = file_close};

/* ---- command ---- */

static void start(delivery *d);

/* The burst of drops of k is over (or the sinks close): one line says how
 * many alerts it dropped, and which. */
static void drops_said(sink *k, const char *now) {
  if (!k->dropping) return;
  vg_error("sink '%s': %llu alerts were not delivered while its queue was full (ids %lld to"
           " %lld; vigil alerts lists them); %s",
           k->name, (unsigned long long)k->dropped, (long long)k->first_dropped,
           (long long)k->last_dropped, now);
  k->dropping = 0;
  k->dropped = 0;
}

static void delivery_free(delivery *d) {
  vg_sinks *s = d->k->owner;
  sink *k = d->k;
  k->queued--;
  if (k->dropping && k->queued <= k->queue_max / 2 && !s->closing)
    drops_said(k, "it takes alerts again");
  if (d->all_prev) d->all_prev->all_next = d->all_next;
  else s->all = d->all_next;
  if (d->all_next) d->all_next->all_prev = d->all_prev;
  s->busy--;
  free(d->json);
  free(d);
  if (s->closing && s->busy == 0) destroy(s);
}

static void next_waiting(vg_sinks *s) {
  while (s->wait_head && s->running < MAX_RUNNING && !s->closing) {
    delivery *d = s->wait_head;
    s->wait_head = d->next;
    if (!s->wait_head) s->wait_tail = NULL;
    start(d);
  }
}

static void on_retry_closed(uv_handle_t *h) {
  delivery *d = h->data;
  vg_sinks *s = d->k->owner;
  d->delaying = 0;
  if (s->closing) {
    vg_error("sink '%s': alert %lld not delivered: stopping before its retry", d->k->name,
             (long long)d->alert_id);
    vg_metrics_sink(d->k->name, "dropped");
    delivery_free(d);
    return;
  }
  d->next = NULL;
  if (s->wait_tail) s->wait_tail->next = d;
  else s->wait_head = d;
  s->wait_tail = d;
  next_waiting(s);
}

static void on_retry(uv_timer_t *t) { uv_close((uv_handle_t *)t, on_retry_closed); }

/* All of an attempt's handles are closed: judge it, retry or finish. */
static void attempt_over(delivery *d) {
  vg_sinks *s = d->k->owner;
  s->running--;
  int ok = !d->timed_out && d->exit_status == 0 && d->term_signal == 0;
  if (ok) {
    vg_debug("sink '%s': alert %lld delivered", d->k->name, (long long)d->alert_id);
    vg_metrics_sink(d->k->name, "ok");
    delivery_free(d);
  } else {
    char why[96];
    if (d->timed_out) snprintf(why, sizeof why, "timed out after %u ms", d->k->timeout_ms);
    else if (d->term_signal) snprintf(why, sizeof why, "killed by signal %d", d->term_signal);
    else snprintf(why, sizeof why, "exit status %lld", (long long)d->exit_status);
    if (d->attempt < d->k->retries && !s->closing) {
      unsigned delay = RETRY_FIRST_MS << (d->attempt < 10 ? d->attempt : 10);
      d->attempt++;
      vg_warn("sink '%s': alert %lld: command %s; retry %u of %u in %u ms", d->k->name,
              (long long)d->alert_id, why, d->attempt, d->k->retries, delay);
      uv_timer_init(s->loop, &d->timer);
      d->timer.data = d;
      d->delaying = 1;
      uv_timer_start(&d->timer, on_retry, delay, 0);
    } else {
      vg_error("sink '%s': alert %lld not delivered: command %s after %u tries", d->k->name,
               (long long)d->alert_id, why, d->attempt + 1);
      vg_metrics_sink(d->k->name, "failed");
      delivery_free(d);
    }
  }
  next_waiting(s);
}

static void on_handle_closed(uv_handle_t *h) {
  delivery *d = h->data;
  if (--d->open_handles == 0) attempt_over(d);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int signal) {
  delivery *d = p->data;
  d->exit_status = status;
  d->term_signal = d->timed_out ? 0 : signal;
  uv_timer_stop(&d->timer);
  uv_close((uv_handle_t *)&d->proc, on_handle_closed);
  uv_close((uv_handle_t *)&d->timer, on_handle_closed);
  if (!uv_is_closing((uv_handle_t *)&d->in)) uv_close((uv_handle_t *)&d->in, on_handle_closed);
}

static void on_timeout(uv_timer_t *t) {
  delivery *d = t->data;
  d->timed_out = 1;
  uv_process_kill(&d->proc, SIGKILL);
}

static void on_written(uv_write_t *w, int status) {
  delivery *d = w->data;
  if (status < 0 && status != UV_ECANCELED && status != UV_EPIPE)
    vg_warn("sink '%s': alert %lld: writing to the command: %s", d->k->name,
            (long long)d->alert_id, uv_strerror(status));
  if (!uv_is_closing((uv_handle_t *)&d->in)) uv_close((uv_handle_t *)&d->in, on_handle_closed);
}

static void start(delivery *d) {
  vg_sinks *s = d->k->owner;
  d->timed_out = 0;
  d->exit_status = 0;
  d->term_signal = 0;
  uv_pipe_init(s->loop, &d->in, 0);
  uv_timer_init(s->loop, &d->timer);
  d->in.data = d->timer.data = d->proc.data = d->write.data = d;
  uv_stdio_container_t io[3] = {
      {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&d->in},
      {.flags = UV_IGNORE},
      {.flags = UV_INHERIT_FD, .data.fd = 2}};
  uv_process_options_t o = {.exit_cb = on_exit_cb, .file = d->k->argv[0], .args = d->k->argv,
                            .stdio_count = 3, .stdio = io};
  s->running++;
  int rc = uv_spawn(s->loop, &d->proc, &o);
  if (rc) {
    /* As if it had exited with 127: judged, and retried, the same way. */
    vg_warn("sink '%s': cannot run %s: %s", d->k->name, d->k->argv[0], uv_strerror(rc));
    d->exit_status = 127;
    d->open_handles = 3;
    uv_close((uv_handle_t *)&d->proc, on_handle_closed);
    uv_close((uv_handle_t *)&d->in, on_handle_closed);
    uv_close((uv_handle_t *)&d->timer, on_handle_closed);
    return;
  }
  d->open_handles = 3;
  uv_timer_start(&d->timer, on_timeout, d->k->timeout_ms, 0);
  uv_buf_t b = uv_buf_init(d->json, (unsigned)strlen(d->json));
  if (uv_write(&d->write, (uv_stream_t *)&d->in, &b, 1, on_written) < 0)
    uv_close((uv_handle_t *)&d->in, on_handle_closed);
}

static void command_send(sink *k, const vg_alert *a, const char *json) {
  vg_sinks *s = k->owner;
  /* A command slower than the alerts come would have them pile up without
   * end: past queue_max the new ones are dropped, counted, and said once a
   * burst (the store keeps every alert). Taken again once half are out. */
  if (k->dropping || k->queued >= k->queue_max) {
    if (!k->dropping) {
      vg_error("sink '%s': %zu alerts wait for it (queue_max): new alerts are not delivered to it"
               " until half of them are",
               k->name, k->queued);
      k->dropping = 1;
    }
    if (k->dropped == 0) k->first_dropped = k->last_dropped = a->id; /* a new count */
    k->dropped++;
    if (a->id < k->first_dropped) k->first_dropped = a->id;
    if (a->id > k->last_dropped) k->last_dropped = a->id;
    vg_metrics_sink(k->name, "dropped");
    return;
  }
  delivery *d = calloc(1, sizeof *d);
  size_t n = strlen(json);
  if (d) d->json = malloc(n + 2);
  if (!d || !d->json) {
    vg_error("sink '%s': alert %lld not delivered: out of memory", k->name, (long long)a->id);
    vg_metrics_sink(k->name, "failed");
    free(d);
    return;
  }
  memcpy(d->json, json, n);
  memcpy(d->json + n, "\n", 2);
  d->k = k;
  d->alert_id = a->id;
  s->busy++;
  k->queued++;
  d->all_next = s->all;
  if (s->all) s->all->all_prev = d;
  s->all = d;
  if (s->wait_tail) s->wait_tail->next = d;
  else s->wait_head = d;
  s->wait_tail = d;
  next_waiting(s);
}

static const vg_sink_kind command_kind = {.name = "command", .send = command_send};

/* ---- the set ---- */

vg_sinks *vg_sinks_new(uv_loop_t *loop, const vg_config *cfg, char *err, size_t cap) {
  vg_sinks *s = calloc(1, sizeof *s);
  size_t max = cfg->nsinks + 2;
  if (!s || !(s->v = calloc(max, sizeof *s->v))) {
    free(s);
    snprintf(err, cap, "out of memory");
    return NULL;
  }
  s->loop = loop;
  vg_config_link_base(cfg, s->base, sizeof s->base);
  sink *k = &s->v[s->n++];
  *k = (sink){.kind = &log_kind, .name = strdup("log"), .fd = -1, .is_default = 1, .owner = s};
  if (cfg->alerts_file && cfg->alerts_file[0]) {
    k = &s->v[s->n++];
    *k = (sink){.kind = &file_kind, .name = strdup("alerts_file"),
                .path = strdup(cfg->alerts_file), .fd = -1, .is_default = 1, .owner = s};
  }
  for (size_t i = 0; i < cfg->nsinks; i++) {
    const vg_sink_conf *c = &cfg->sinks[i];
    char **argv = NULL;
    if (c->command) {
      size_t n = 0;
      while (c->command[n]) n++;
      argv = calloc(n + 1, sizeof *argv);
      for (size_t a = 0; argv && a < n; a++) argv[a] = strdup(c->command[a]);
    }
    k = &s->v[s->n++];
    *k = (sink){.kind = c->file ? &file_kind : &command_kind, .name = strdup(c->name),
                .path = c->file ? strdup(c->file) : NULL, .fd = -1, .argv = argv,
                .timeout_ms = c->timeout_ms, .retries = c->retries,
                .is_default = c->is_default, .owner = s,
                .queue_max = c->queue_max ? c->queue_max : VG_SINK_QUEUE_MAX};
  }
  for (size_t i = 0; i < s->n; i++) vg_metrics_sink_declare(s->v[i].name);
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->open && s->v[i].kind->open(&s->v[i], err, cap)) {
      vg_sinks_close(s);
      return NULL;
    }
  return s;
}

/* Whether name is in the ','-joined list. */
static int named(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0) return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

void vg_sinks_send(vg_sinks *s, const vg_alert *a) {
  if (a->silence_id) { /* stored and listed, as silenced; not sent */
    if (a->version > 1)
      vg_info("alert %lld amended (version %d) silenced by silence %lld", (long long)a->id,
              a->version, (long long)a->silence_id);
    else
      vg_info("alert %lld silenced by silence %lld", (long long)a->id, (long long)a->silence_id);
    return;
  }
  char *json = vg_alert_json(a, s->base);
  if (!json) {
    vg_error("alert %lld: out of memory for its sinks", (long long)a->id);
    return;
  }
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].is_default || named(a->sinks, s->v[i].name)) s->v[i].kind->send(&s->v[i], a, json);
  for (const char *p = a->sinks; p && *p;) { /* names no sink: say so */
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int known = 0;
    for (size_t i = 0; i < s->n && !known; i++)
      known = strlen(s->v[i].name) == len && strncmp(s->v[i].name, p, len) == 0;
    if (!known) vg_warn("rule '%s' names sink '%.*s', which is not configured", a->rule, (int)len, p);
    p = end ? end + 1 : NULL;
  }
  cJSON_free(json);
}

void vg_sinks_links(vg_sinks *s, const char *base) {
  if (s) snprintf(s->base, sizeof s->base, "%s", base);
}

void vg_sinks_send_all(vg_sinks *s, vg_alert_list *l) {
  for (size_t i = 0; s && i < l->n; i++) vg_sinks_send(s, &l->v[i]);
  vg_alert_list_clear(l);
}

void vg_sinks_reopen(vg_sinks *s) {
  char err[256];
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind == &file_kind) {
      file_close(&s->v[i]);
      if (file_open(&s->v[i], err, sizeof err)) vg_error("sink '%s': %s", s->v[i].name, err);
    }
}

void vg_sinks_close(vg_sinks *s) {
  if (!s) return;
  s->closing = 1;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->close) s->v[i].kind->close(&s->v[i]);
  s->busy++; /* keep s while the deliveries below are let go */
  for (size_t i = 0; i < s->n; i++) drops_said(&s->v[i], "stopping");
  /* What waits is dropped: one line a sink, with how many and which. */
  for (size_t i = 0; i < s->n; i++) {
    uint64_t n = 0;
    int64_t lo = 0, hi = 0;
    for (delivery *d = s->wait_head; d; d = d->next)
      if (d->k == &s->v[i]) {
        if (!n || d->alert_id < lo) lo = d->alert_id;
        if (!n || d->alert_id > hi) hi = d->alert_id;
        n++;
      }
    if (n == 1)
      vg_error("sink '%s': alert %lld not delivered: stopping", s->v[i].name, (long long)lo);
    else if (n)
      vg_error("sink '%s': %llu alerts not delivered: stopping (ids %lld to %lld)", s->v[i].name,
               (unsigned long long)n, (long long)lo, (long long)hi);
  }
  while (s->wait_head) {
    delivery *d = s->wait_head;
    s->wait_head = d->next;
    vg_metrics_sink(d->k->name, "dropped");
    delivery_free(d);
  }
  for (delivery *d = s->all; d; d = d->all_next)
    if (d->delaying) uv_timer_start(&d->timer, on_retry, 0, 0); /* ends it at once */
  /* Running commands finish (each within its timeout); the caller runs the
   * loop until they have. The last one to end frees s. */
  if (--s->busy == 0) destroy(s);
}

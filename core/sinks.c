/* sinks.c — log, JSON Lines file, command and JetStream sinks for alerts;
 * see sinks.h. The server and the one-shot commands call it on their loop. */
#include "sinks.h"
#include "bus.h"
#include "interrupt.h"
#include "metrics.h"

#include "paths.h"
#include "vigil.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RUNNING 4        /* a sink's commands running at once; its others wait */
#define STOP_GRACE_MS 5000   /* how long a stop lets running commands finish */
#define RETRY_FIRST_MS 1000  /* backoff before the first retry, doubled after */
#define NATS_CONNECT_MS 2000 /* how long a JetStream sink waits for its server to answer */
#define NATS_ACK_MS 5000     /* how long it waits for JetStream's ack of a publish */

typedef struct sink sink;

typedef struct natsink natsink;

/* One kind of sink: how it opens, takes an alert, and closes. The log
 * takes alerts as they commit (send); the others take deliveries from the
 * outbox (deliver) and report each result to it, once. */
typedef struct {
  const char *name;
  int (*open)(sink *k, char *err, size_t cap);
  void (*send)(sink *k, const vg_alert *a, const char *json);
  void (*deliver)(sink *k, vg_outbox *o, const vg_outbox_item *it);
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
  /* Command sinks: a bounded queue; what finds it full waits in the outbox. */
  size_t queued;         /* deliveries not over: running, waiting, or waiting to retry */
  size_t queue_max;      /* past this many, deliveries are put back to the outbox */
  int full;              /* it reached queue_max and has not drained to half since */
  char *nats_url;        /* JetStream sinks: the server(s) */
  char *subject;         /* the subjects' prefix */
  char *stream;          /* the stream */
  natsink *nk;           /* the publishing thread, once open */
  int failing;           /* file and command sinks: the last try failed (said once) */
  /* Command sinks: each has its own slots, so that one hanging command
   * holds up its own deliveries only. */
  size_t running;        /* its commands running */
  struct delivery *wait_head, *wait_tail; /* waiting for one of its slots */
};

/* One alert on its way through a command sink. */
typedef struct delivery {
  sink *k;
  char *json;            /* the line written to the command's stdin */
  int64_t alert_id;
  int version;           /* the alert's version */
  vg_outbox *ob;         /* where its result goes */
  vg_outbox_item row;    /* its row: id and attempts (no strings) */
  unsigned attempt;      /* 0 for the first try */
  uv_process_t proc;
  uv_pipe_t in;
  uv_timer_t timer;      /* the timeout, then the retry delay */
  uv_write_t write;
  int open_handles;      /* handles not yet closed */
  int timed_out;
  int stopped;           /* killed because the sinks close */
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
  size_t busy;           /* deliveries running or waiting */
  delivery *all;         /* every delivery not yet over */
  int closing;
  char base[512];        /* the base URL of the alerts' links, or "" for none */
  char db_id[64];        /* the database's name (meta db_id), in JetStream message ids */
  char **unknown;        /* sinks named in the outbox but not here, said once each */
  size_t nunknown;
};

static void destroy(vg_sinks *s) {
  for (size_t i = 0; i < s->n; i++) {
    free(s->v[i].name);
    free(s->v[i].path);
    free(s->v[i].nats_url);
    free(s->v[i].subject);
    free(s->v[i].stream);
    for (size_t k = 0; s->v[i].argv && s->v[i].argv[k]; k++) free(s->v[i].argv[k]);
    free(s->v[i].argv);
  }
  for (size_t i = 0; i < s->nunknown; i++) free(s->unknown[i]);
  free(s->unknown);
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
  cJSON_AddStringToObject(o, "state", a->retracted ? "retracted" : "active");
  if (a->retracted) cJSON_AddStringToObject(o, "reason", a->reason ? a->reason : "");
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
  if (a->retracted)
    vg_log(level, "alert %lld retracted (version %d) [%s] %s: %s (%s): %s", (long long)a->id,
           a->version, a->severity, a->rule, a->message, a->date, a->reason ? a->reason : "");
  else if (a->version > 1)
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

static void file_deliver(sink *k, vg_outbox *o, const vg_outbox_item *it) {
  size_t n = strlen(it->payload);
  char *line = malloc(n + 1);
  if (!line) {
    vg_metrics_sink(k->name, "failed");
    vg_outbox_result(o, it, VG_OUTBOX_FAILED, "out of memory");
    return;
  }
  memcpy(line, it->payload, n);
  line[n] = '\n';
  /* One write per line: appends from several processes do not interleave. */
  ssize_t w = k->fd >= 0 ? write(k->fd, line, n + 1) : -1;
  const char *why = w < 0 ? strerror(errno) : "short write";
  free(line);
  if (w == (ssize_t)(n + 1)) {
    if (k->failing) vg_info("sink '%s': writing to %s again", k->name, k->path);
    k->failing = 0;
    vg_metrics_sink(k->name, "ok");
    vg_outbox_result(o, it, VG_OUTBOX_OK, NULL);
    return;
  }
  vg_metrics_sink(k->name, "failed");
  vg_log(k->failing ? VG_LOG_DEBUG : VG_LOG_ERROR,
         "sink '%s': alert %lld (version %d) not written to %s yet: %s; it waits in the outbox%s",
         k->name, (long long)it->alert_id, it->version, k->path, why,
         k->failing ? "" : "; the next failures are logged at debug until one succeeds");
  k->failing = 1;
  char error[300];
  snprintf(error, sizeof error, "writing to %s: %s", k->path, why);
  vg_outbox_result(o, it, VG_OUTBOX_FAILED, error);
}

static void file_close(sink *k) {
  if (k->fd >= 0) close(k->fd);
  k->fd = -1;
}

static const vg_sink_kind file_kind = {
    .name = "file", .open = file_open, .deliver = file_deliver, .close = file_close};

/* ---- command ---- */

static void start(delivery *d);

static void delivery_free(delivery *d) {
  vg_sinks *s = d->k->owner;
  sink *k = d->k;
  k->queued--;
  if (k->full && k->queued <= k->queue_max / 2 && !s->closing) {
    vg_info("sink '%s': its queue has room again; the deliveries waiting in the outbox follow",
            k->name);
    k->full = 0;
  }
  if (d->all_prev) d->all_prev->all_next = d->all_next;
  else s->all = d->all_next;
  if (d->all_next) d->all_next->all_prev = d->all_prev;
  s->busy--;
  free(d->json);
  free(d);
  if (s->closing && s->busy == 0) destroy(s);
}

/* Starts what waits for sink k while it has a free slot. */
static void next_waiting(sink *k) {
  while (k->wait_head && k->running < MAX_RUNNING && !k->owner->closing) {
    delivery *d = k->wait_head;
    k->wait_head = d->next;
    if (!k->wait_head) k->wait_tail = NULL;
    start(d);
  }
}

/* Puts d at the end of its sink's waiting queue and starts what can. */
static void enqueue(delivery *d) {
  sink *k = d->k;
  d->next = NULL;
  if (k->wait_tail) k->wait_tail->next = d;
  else k->wait_head = d;
  k->wait_tail = d;
  next_waiting(k);
}

static void on_retry_closed(uv_handle_t *h) {
  delivery *d = h->data;
  vg_sinks *s = d->k->owner;
  d->delaying = 0;
  if (s->closing) { /* counted in the closing's line of what is left in the outbox */
    vg_outbox_result(d->ob, &d->row, VG_OUTBOX_LATER, NULL);
    delivery_free(d);
    return;
  }
  enqueue(d);
}

static void on_retry(uv_timer_t *t) { uv_close((uv_handle_t *)t, on_retry_closed); }

/* All of an attempt's handles are closed: judge it, retry or finish. s is
 * held (busy) throughout: freeing the last delivery of a closing set frees
 * the set, which the end of this function still reads. */
static void attempt_over(delivery *d) {
  sink *k = d->k;
  vg_sinks *s = k->owner;
  s->busy++;
  k->running--;
  int ok = !d->timed_out && d->exit_status == 0 && d->term_signal == 0;
  if (ok) {
    if (d->k->failing) vg_info("sink '%s': its command delivers again", d->k->name);
    d->k->failing = 0;
    vg_debug("sink '%s': alert %lld (version %d) delivered", d->k->name, (long long)d->alert_id,
             d->version);
    vg_metrics_sink(d->k->name, "ok");
    vg_outbox_result(d->ob, &d->row, VG_OUTBOX_OK, NULL);
    delivery_free(d);
  } else {
    char why[96];
    int stopped = d->stopped && d->timed_out;
    if (stopped) snprintf(why, sizeof why, "stopped with the daemon after %u ms", STOP_GRACE_MS);
    else if (d->timed_out) snprintf(why, sizeof why, "timed out after %u ms", d->k->timeout_ms);
    else if (d->term_signal) snprintf(why, sizeof why, "killed by signal %d", d->term_signal);
    else snprintf(why, sizeof why, "exit status %lld", (long long)d->exit_status);
    if (d->attempt < d->k->retries && !s->closing) {
      unsigned delay = RETRY_FIRST_MS << (d->attempt < 10 ? d->attempt : 10);
      d->attempt++;
      /* Said at warn while the sink is not known to be failing; a sink
       * down for an hour would otherwise say it at every alert's try. */
      vg_log(d->k->failing ? VG_LOG_DEBUG : VG_LOG_WARN,
             "sink '%s': alert %lld: command %s; retry %u of %u in %u ms", d->k->name,
             (long long)d->alert_id, why, d->attempt, d->k->retries, delay);
      uv_timer_init(s->loop, &d->timer);
      d->timer.data = d;
      d->delaying = 1;
      uv_timer_start(&d->timer, on_retry, delay, 0);
    } else {
      /* Said at error once until a delivery goes through: a sink down
       * for an hour would otherwise log every alert at each try. */
      unsigned tries = d->row.attempts + 1;
      if (stopped) {
        vg_info("sink '%s': alert %lld (version %d): its command was %s; the delivery stays in"
                " the outbox", d->k->name, (long long)d->alert_id, d->version, why);
      } else {
        vg_log(d->k->failing ? VG_LOG_DEBUG : VG_LOG_ERROR,
               "sink '%s': alert %lld (version %d) not delivered yet: command %s; it waits in the"
               " outbox, tried again in %lld s (try %u failed)%s",
               d->k->name, (long long)d->alert_id, d->version, why,
               (long long)(vg_outbox_backoff_ms(tries) / 1000), tries,
               d->k->failing ? "" : "; the next failures are logged at debug until one succeeds");
        d->k->failing = 1;
        vg_metrics_sink(d->k->name, "failed");
      }
      char error[160];
      snprintf(error, sizeof error, "command %s", why);
      vg_outbox_result(d->ob, &d->row, s->closing ? VG_OUTBOX_LATER : VG_OUTBOX_FAILED, error);
      delivery_free(d);
    }
  }
  if (--s->busy == 0 && s->closing) destroy(s);
  else next_waiting(k);
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

/* Kills the command and what it started (its process group: it runs in a
 * session of its own), so that no child of a shell outlives it. */
static void on_timeout(uv_timer_t *t) {
  delivery *d = t->data;
  d->timed_out = 1;
  if (kill(-d->proc.pid, SIGKILL) != 0) uv_process_kill(&d->proc, SIGKILL);
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
                            .stdio_count = 3, .stdio = io, .flags = UV_PROCESS_DETACHED};
  d->k->running++;
  int rc = uv_spawn(s->loop, &d->proc, &o);
  if (rc) {
    /* As if it had exited with 127: judged, and retried, the same way. */
    vg_log(d->k->failing ? VG_LOG_DEBUG : VG_LOG_WARN, "sink '%s': cannot run %s: %s",
           d->k->name, d->k->argv[0], uv_strerror(rc));
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

static void command_deliver(sink *k, vg_outbox *o, const vg_outbox_item *it) {
  vg_sinks *s = k->owner;
  /* A command slower than the alerts come would have them pile up in
   * memory: past queue_max the deliveries stay in the outbox (said once a
   * burst) and are handed to it again later. */
  if (k->full || k->queued >= k->queue_max) {
    if (!k->full)
      vg_warn("sink '%s': %zu alerts wait for it (queue_max): the next ones wait in the outbox"
              " until half of them are delivered",
              k->name, k->queued);
    k->full = 1;
    vg_outbox_result(o, it, VG_OUTBOX_LATER, NULL);
    return;
  }
  delivery *d = calloc(1, sizeof *d);
  size_t n = strlen(it->payload);
  if (d) d->json = malloc(n + 2);
  if (!d || !d->json) {
    free(d);
    vg_outbox_result(o, it, VG_OUTBOX_FAILED, "out of memory");
    return;
  }
  memcpy(d->json, it->payload, n);
  memcpy(d->json + n, "\n", 2);
  d->k = k;
  d->alert_id = it->alert_id;
  d->version = it->version;
  d->ob = o;
  d->row = (vg_outbox_item){.id = it->id, .attempts = it->attempts};
  s->busy++;
  k->queued++;
  d->all_next = s->all;
  if (s->all) s->all->all_prev = d;
  s->all = d;
  enqueue(d);
}

static const vg_sink_kind command_kind = {.name = "command", .deliver = command_deliver};

/* ---- JetStream ----
 *
 * Publishing waits for JetStream's ack, so it runs on a thread of the
 * sink's own: the loop hands it jobs, it publishes them one by one and
 * hands the results back through an async handle. The thread connects
 * when it has work and is not connected (a server down at the start is
 * tried again at the next delivery), and makes sure the stream exists once
 * a connection. A delivery's Nats-Msg-Id is DBID-ALERT-VERSION: the same
 * alert change published twice (its row's delete was lost to a crash) is
 * dropped by JetStream within its duplicate window. */

typedef struct nats_job {
  vg_outbox *ob;          /* where its result goes */
  vg_outbox_item row;     /* id and attempts (no strings) */
  int64_t alert_id;
  int version;
  char *subject;          /* PREFIX.RULE */
  char msg_id[160];       /* DBID-ALERT-VERSION */
  char *payload;
  int result;             /* VG_OUTBOX_*, once done */
  char error[256];        /* why it failed */
  struct nats_job *next;
} nats_job;

struct natsink {
  sink *k;
  pthread_t thread;
  pthread_mutex_t lock;   /* guards the lists and stop */
  pthread_cond_t wake;    /* a job came, or stop */
  nats_job *todo, *todo_tail; /* for the thread */
  nats_job *done;         /* for the loop */
  int stop;
  uv_async_t async;       /* the thread's results are ready */
  int failing;            /* the last publish failed: said once until one succeeds */
  vg_bus *bus;            /* the thread's connection, or NULL */
  int stream_ok;          /* the stream is known to exist on this connection */
};

/* A subject token of a rule's name: what NATS gives a meaning to ('.', '*',
 * '>', spaces and control characters) becomes '_'. */
static void subject_safe(char *s) {
  for (; *s; s++)
    if (*s == '.' || *s == '*' || *s == '>' || (unsigned char)*s <= ' ' || *s == 0x7f) *s = '_';
}

static void nats_job_free(nats_job *j) {
  if (!j) return;
  free(j->subject);
  free(j->payload);
  free(j);
}

/* On the thread: publishes one job and waits for its ack. */
static void nats_publish(natsink *n, nats_job *j) {
  sink *k = n->k;
  char err[256] = "";
  if (!n->bus) {
    n->bus = vg_bus_connect(k->nats_url, "vigil-alerts", NATS_CONNECT_MS, err, sizeof err);
    n->stream_ok = 0;
  }
  if (n->bus && !n->stream_ok) {
    char subj[300];
    snprintf(subj, sizeof subj, "%s.>", k->subject);
    const char *const subjects[] = {subj, NULL};
    n->stream_ok = vg_bus_stream(n->bus, k->stream, subjects, VG_BUS_DUPLICATE_WINDOW_MS, err,
                                 sizeof err) == 0;
  }
  if (n->bus && n->stream_ok) {
    natsMsg *m = NULL;
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = NATS_ACK_MS;
    natsStatus st = natsMsg_Create(&m, j->subject, NULL, j->payload, (int)strlen(j->payload));
    if (st == NATS_OK) st = natsMsgHeader_Set(m, "Nats-Msg-Id", j->msg_id);
    if (st == NATS_OK) st = js_PublishMsg(&ack, n->bus->js, m, &po, &jerr);
    if (st == NATS_OK) { /* a duplicate's ack counts: the stream has it */
      j->result = VG_OUTBOX_OK;
    } else {
      vg_bus_why(err, sizeof err, "publishing", st, jerr);
      if (jerr == JSStreamNotFoundErr || st == NATS_NO_RESPONDERS) n->stream_ok = 0;
    }
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
    if (st == NATS_OK) return;
  }
  j->result = VG_OUTBOX_FAILED;
  snprintf(j->error, sizeof j->error, "%s", err[0] ? err : "no connection");
}

static void *nats_main(void *ud) {
  natsink *n = ud;
  pthread_mutex_lock(&n->lock);
  for (;;) {
    while (!n->todo && !n->stop) pthread_cond_wait(&n->wake, &n->lock);
    if (n->stop) break;
    nats_job *j = n->todo;
    n->todo = j->next;
    if (!n->todo) n->todo_tail = NULL;
    pthread_mutex_unlock(&n->lock);
    nats_publish(n, j);
    pthread_mutex_lock(&n->lock);
    j->next = n->done;
    n->done = j;
    /* The server is down or frozen: the jobs waiting would each wait as
     * long for nothing. They fail at once with the same reason, and the
     * outbox tries them again after its backoff. */
    while (j->result == VG_OUTBOX_FAILED && n->todo) {
      nats_job *o = n->todo;
      n->todo = o->next;
      o->result = VG_OUTBOX_FAILED;
      snprintf(o->error, sizeof o->error, "%s", j->error);
      o->next = n->done;
      n->done = o;
    }
    if (!n->todo) n->todo_tail = NULL;
    uv_async_send(&n->async);
  }
  pthread_mutex_unlock(&n->lock);
  vg_bus_close(n->bus);
  n->bus = NULL;
  return NULL;
}

/* On the loop: hands the results of the thread to the outbox. */
static void nats_results(natsink *n) {
  pthread_mutex_lock(&n->lock);
  nats_job *j = n->done;
  n->done = NULL;
  pthread_mutex_unlock(&n->lock);
  nats_job *rev = NULL; /* oldest first */
  while (j) {
    nats_job *next = j->next;
    j->next = rev;
    rev = j;
    j = next;
  }
  for (j = rev; j;) {
    nats_job *next = j->next;
    sink *k = n->k;
    if (j->result == VG_OUTBOX_OK) {
      if (n->failing) vg_info("sink '%s': publishing to JetStream again", k->name);
      n->failing = 0;
      vg_debug("sink '%s': alert %lld (version %d) published to %s", k->name,
               (long long)j->alert_id, j->version, j->subject);
      vg_metrics_sink(k->name, "ok");
    } else if (j->result == VG_OUTBOX_FAILED) {
      if (!n->failing)
        vg_error("sink '%s': alert %lld (version %d) not published yet: %s; deliveries wait in"
                 " the outbox and are tried again with growing pauses",
                 k->name, (long long)j->alert_id, j->version, j->error);
      n->failing = 1;
      vg_metrics_sink(k->name, "failed");
    }
    vg_outbox_result(j->ob, &j->row, j->result, j->error[0] ? j->error : NULL);
    nats_job_free(j);
    j = next;
  }
}

static void on_nats_async(uv_async_t *a) { nats_results(a->data); }

static void nats_deliver(sink *k, vg_outbox *o, const vg_outbox_item *it) {
  natsink *n = k->nk;
  nats_job *j = calloc(1, sizeof *j);
  size_t len = strlen(k->subject) + 1 + strlen(it->rule) + 2; /* room for "_" if it is "" */
  if (j) {
    j->subject = malloc(len);
    j->payload = strdup(it->payload);
  }
  if (!j || !j->subject || !j->payload) {
    nats_job_free(j);
    vg_outbox_result(o, it, VG_OUTBOX_FAILED, "out of memory");
    return;
  }
  char *rule = j->subject + strlen(k->subject) + 1;
  snprintf(j->subject, len, "%s.%s", k->subject, it->rule);
  subject_safe(rule);
  if (!*rule) snprintf(rule, 2, "_");
  snprintf(j->msg_id, sizeof j->msg_id, "%s-%lld-%d", k->owner->db_id, (long long)it->alert_id,
           it->version);
  j->ob = o;
  j->row = (vg_outbox_item){.id = it->id, .attempts = it->attempts};
  j->alert_id = it->alert_id;
  j->version = it->version;
  j->result = VG_OUTBOX_LATER; /* what it is unless the thread gets to it */
  pthread_mutex_lock(&n->lock);
  if (n->todo_tail) n->todo_tail->next = j;
  else n->todo = j;
  n->todo_tail = j;
  pthread_cond_signal(&n->wake);
  pthread_mutex_unlock(&n->lock);
}

static int nats_open(sink *k, char *err, size_t cap) {
  natsink *n = calloc(1, sizeof *n);
  if (!n) {
    snprintf(err, cap, "sink '%s': out of memory", k->name);
    return VG_ENOMEM;
  }
  n->k = k;
  int made = 0; /* how far the setting up went */
  if (pthread_mutex_init(&n->lock, NULL) == 0) made++;
  if (made == 1 && pthread_cond_init(&n->wake, NULL) == 0) made++;
  /* The thread sends results only for jobs, which come after open: it may
   * start before the async handle is made. */
  /* With every signal blocked, so that the thread (and those libnats
   * starts from it) never takes one: SIGCHLD of a command sink's child
   * would interrupt libnats's poll, which it takes for an I/O error. */
  sigset_t all, was;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &was);
  if (made == 2 && pthread_create(&n->thread, NULL, nats_main, n) == 0) made++;
  pthread_sigmask(SIG_SETMASK, &was, NULL);
  if (made == 3 && uv_async_init(k->owner->loop, &n->async, on_nats_async) == 0) made++;
  if (made == 4) {
    n->async.data = n;
    k->nk = n;
    return 0;
  }
  if (made == 3) {
    pthread_mutex_lock(&n->lock);
    n->stop = 1;
    pthread_cond_signal(&n->wake);
    pthread_mutex_unlock(&n->lock);
    pthread_join(n->thread, NULL);
  }
  if (made >= 2) pthread_cond_destroy(&n->wake);
  if (made >= 1) pthread_mutex_destroy(&n->lock);
  free(n);
  snprintf(err, cap, "sink '%s': cannot start its publishing thread", k->name);
  return VG_ENOMEM;
}

static void on_nats_closed(uv_handle_t *h) {
  natsink *n = h->data;
  vg_sinks *s = n->k->owner;
  n->k->nk = NULL;
  pthread_cond_destroy(&n->wake);
  pthread_mutex_destroy(&n->lock);
  free(n);
  if (--s->busy == 0) destroy(s);
}

/* Stops the thread once its publish in hand is over (bounded by
 * NATS_ACK_MS), reports what it did, and puts back what it did not. */
static void nats_close(sink *k) {
  natsink *n = k->nk;
  if (!n) return;
  pthread_mutex_lock(&n->lock);
  n->stop = 1;
  pthread_cond_signal(&n->wake);
  pthread_mutex_unlock(&n->lock);
  pthread_join(n->thread, NULL);
  nats_results(n);
  for (nats_job *j = n->todo, *next; j; j = next) { /* never tried: as they were */
    next = j->next;
    vg_outbox_result(j->ob, &j->row, VG_OUTBOX_LATER, NULL);
    nats_job_free(j);
  }
  n->todo = n->todo_tail = NULL;
  k->owner->busy++; /* s stays until the handle is closed */
  uv_close((uv_handle_t *)&n->async, on_nats_closed);
}

static const vg_sink_kind nats_kind = {
    .name = "nats", .open = nats_open, .deliver = nats_deliver, .close = nats_close};

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
  /* A command that exits without reading its alert must not take the
   * process with it: the write to its pipe fails (EPIPE) instead. */
  signal(SIGPIPE, SIG_IGN);
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
    *k = (sink){.kind = c->file ? &file_kind : c->nats ? &nats_kind : &command_kind,
                .name = strdup(c->name), .path = c->file ? strdup(c->file) : NULL, .fd = -1,
                .argv = argv, .timeout_ms = c->timeout_ms, .retries = c->retries,
                .is_default = c->is_default, .owner = s,
                .queue_max = c->queue_max ? c->queue_max : VG_SINK_QUEUE_MAX};
    if (c->nats) {
      const char *url = c->nats[0] ? c->nats : cfg->nats_url;
      if (!url || !url[0]) {
        snprintf(err, cap, "sink '%s': nats = true needs the nats_url setting (or give the URL:"
                 " nats = \"nats://HOST:PORT\")", c->name);
        vg_sinks_close(s);
        return NULL;
      }
      k->nats_url = strdup(url);
      k->subject = strdup(c->subject ? c->subject : VG_BUS_ALERTS_PREFIX);
      k->stream = strdup(c->stream ? c->stream : VG_BUS_ALERTS_STREAM);
    }
  }
  snprintf(s->db_id, sizeof s->db_id, "vigil");
  for (size_t i = 0; i < s->n; i++) vg_metrics_sink_declare(s->v[i].name);
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->open && s->v[i].kind->open(&s->v[i], err, cap)) {
      vg_sinks_close(s);
      return NULL;
    }
  return s;
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
  /* The log takes it now; the others' deliveries were written to the
   * outbox with the alert, and go from there. */
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->send && (s->v[i].is_default || vg_outbox_named(a->sinks, s->v[i].name)))
      s->v[i].kind->send(&s->v[i], a, json);
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
  s->busy++; /* keep s while the deliveries below are let go */
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->close) s->v[i].kind->close(&s->v[i]);
  /* What waits goes back to the outbox: one line a sink, with how many. */
  for (size_t i = 0; i < s->n; i++) {
    uint64_t n = 0;
    for (delivery *d = s->v[i].wait_head; d; d = d->next) n++;
    for (delivery *d = s->all; d; d = d->all_next) n += d->k == &s->v[i] && d->delaying;
    if (n)
      vg_info("sink '%s': %llu deliveries not started before the stop are left in the outbox",
              s->v[i].name, (unsigned long long)n);
  }
  for (size_t i = 0; i < s->n; i++)
    while (s->v[i].wait_head) {
      delivery *d = s->v[i].wait_head;
      s->v[i].wait_head = d->next;
      vg_outbox_result(d->ob, &d->row, VG_OUTBOX_LATER, NULL);
      delivery_free(d);
    }
  /* Running commands have STOP_GRACE_MS to finish (or their timeout, when
   * shorter), then are killed; the caller runs the loop until they have
   * ended. What they did not deliver stays in the outbox. The last one to
   * end frees s. */
  for (delivery *d = s->all; d; d = d->all_next)
    if (d->delaying) uv_timer_start(&d->timer, on_retry, 0, 0); /* ends it at once */
    else if (!uv_is_closing((uv_handle_t *)&d->timer) &&
             uv_timer_get_due_in(&d->timer) > STOP_GRACE_MS) {
      d->stopped = 1;
      uv_timer_start(&d->timer, on_timeout, STOP_GRACE_MS, 0);
    }
  if (--s->busy == 0) destroy(s);
}

vg_outbox *vg_sinks_outbox(vg_sinks *s, vg_store *st, int one_shot) {
  char id[64];
  if (vg_store_meta(st, "db_id", id, sizeof id) == 1) snprintf(s->db_id, sizeof s->db_id, "%s", id);
  const char *names[s->n ? s->n : 1];
  int defaults[s->n ? s->n : 1];
  size_t n = 0;
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->deliver) {
      names[n] = s->v[i].name;
      defaults[n++] = s->v[i].is_default;
    }
  return vg_outbox_new(names, defaults, n, s->base, one_shot);
}

void vg_sinks_deliver(vg_sinks *s, vg_outbox *o, const vg_outbox_item *it) {
  if (s->closing) {
    vg_outbox_result(o, it, VG_OUTBOX_LATER, NULL);
    return;
  }
  for (size_t i = 0; i < s->n; i++)
    if (s->v[i].kind->deliver && strcmp(s->v[i].name, it->sink) == 0) {
      s->v[i].kind->deliver(&s->v[i], o, it);
      return;
    }
  /* Written by a process with other sinks (a one-shot run with another
   * configuration): kept until a process that has it comes; said once a
   * sink name, as the rows are offered again at every try. */
  size_t u = 0;
  while (u < s->nunknown && strcmp(s->unknown[u], it->sink) != 0) u++;
  if (u == s->nunknown) {
    char **v = realloc(s->unknown, (s->nunknown + 1) * sizeof *v);
    if (v) {
      s->unknown = v;
      if ((v[s->nunknown] = strdup(it->sink))) s->nunknown++;
    }
    vg_warn("outbox: alert %lld (version %d) waits for sink '%s', which is not configured here;"
            " it and the others for that sink stay in the outbox (said once)",
            (long long)it->alert_id, it->version, it->sink);
  }
  vg_outbox_result(o, it, VG_OUTBOX_FAILED, "no such sink in this configuration");
}

int vg_sinks_pump(vg_sinks *s, vg_outbox *o, vg_store *st) {
  vg_outbox_batch b = {0};
  int rc = vg_outbox_step(o, st, 1, &b);
  for (size_t i = 0; rc == 0 && i < b.n; i++) vg_sinks_deliver(s, o, &b.v[i]);
  vg_outbox_batch_free(&b);
  return rc;
}

void vg_sinks_finish(vg_sinks *s, vg_outbox *o, vg_store *st, uv_loop_t *loop) {
  if (s && o && st) vg_sinks_drain(s, o, st, loop);
  vg_sinks_close(s);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
  vg_outbox_free(o);
}

static void on_renew(uv_timer_t *t) { (void)t; } /* wakes the loop: the next step renews */

int64_t vg_sinks_drain(vg_sinks *s, vg_outbox *o, vg_store *st, uv_loop_t *loop) {
  /* A step at least every third of the lease, so that a slow command does
   * not let the daemon take over rows still being delivered. */
  uv_timer_t renew;
  uv_timer_init(loop, &renew);
  uv_timer_start(&renew, on_renew, VG_OUTBOX_LEASE_MS / 3, VG_OUTBOX_LEASE_MS / 3);
  for (;;) {
    if (vg_interrupt_signal()) break; /* what is in flight stays in the outbox */
    if (vg_sinks_pump(s, o, st)) break;
    if (vg_outbox_in_flight(o) == 0) break;
    if (!vg_outbox_has_results(o)) uv_run(loop, UV_RUN_ONCE);
  }
  uv_close((uv_handle_t *)&renew, NULL);
  uv_run(loop, UV_RUN_NOWAIT); /* closes it before it goes out of scope */
  int64_t left = vg_outbox_finish(o, st);
  if (left > 0)
    vg_warn("%lld alert deliveries are left in the outbox (their sinks failed); the daemon"
            " delivers them when it runs",
            (long long)left);
  else if (left < 0)
    vg_error("outbox: the last results could not be recorded (%s): those deliveries are made"
             " again by the daemon",
             vg_strerror((int)left));
  return left;
}
